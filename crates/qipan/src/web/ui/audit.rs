//! The audit administrator's pages: search the log, export it to CSV (the export is itself
//! audited, and streamed in batches so that a long log never sits in memory).

use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use domain::OrgCode;
use domain::csv::field as csv_field;
use serde::Deserialize;
use store::{AuditFilter, Page};

use super::Chrome;
use super::account::AuditRow;
use super::orgs::Pager;
use crate::i18n::Messages;
use crate::service::{App, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::render;
use crate::web::{Lang, PageError};

const PAGE_SIZE: u32 = 50;
const EXPORT_BATCH: u32 = 2000;

#[derive(Debug, Default, Deserialize)]
pub struct AuditParams {
    actor: Option<String>,
    action: Option<String>,
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date typed as YYYY-MM-DD, taken as the start of that day in China Standard Time.
fn day_start(field: &'static str, raw: &str) -> Result<DateTime<Utc>, ServiceError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(domain::clock::china_standard_time()).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ServiceError::invalid(field, "rule.date", raw))
}

impl AuditParams {
    fn filter(&self) -> Result<(AuditFilter, Option<OrgCode>), ServiceError> {
        let unit = blank(&self.unit)
            .map(|u| OrgCode::parse(u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u)))
            .transpose()?;
        let from = blank(&self.from).map(|d| day_start("field.from", d)).transpose()?;
        // "To" a day includes that whole day.
        let until =
            blank(&self.to).map(|d| day_start("field.to", d).map(|t| t + chrono::Duration::days(1))).transpose()?;
        let filter = AuditFilter {
            actor: blank(&self.actor).map(|a| a.to_lowercase()),
            action_prefix: blank(&self.action).map(str::to_owned),
            within: None,
            include_unscoped: false,
            from,
            until,
        };
        Ok((filter, unit))
    }

    fn query_pairs(&self) -> Vec<(&'static str, Option<&str>)> {
        vec![
            ("actor", blank(&self.actor)),
            ("action", blank(&self.action)),
            ("unit", blank(&self.unit)),
            ("from", blank(&self.from)),
            ("to", blank(&self.to)),
        ]
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Messages,
    chrome: Chrome,
    p: AuditParamsView,
    rows: Vec<AuditRow>,
    pager: Pager,
    export_href: String,
}

struct AuditParamsView {
    actor: String,
    action: String,
    unit: String,
    from: String,
    to: String,
}

pub async fn search(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<AuditParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let (filter, unit) = p.filter()?;
        let number = match blank(&p.page) {
            None => 1,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ServiceError::invalid("field.page", "rule.page", s))?,
        };
        app.search_audit(&actor, filter, unit.as_ref(), Page { number, size: PAGE_SIZE }).await
    }
    .await;
    let listing = match result {
        Ok(l) => l,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let pairs = p.query_pairs();
    let export_query: Vec<String> =
        pairs.iter().filter_map(|(k, v)| v.map(|v| format!("{k}={}", super::percent_encode(v)))).collect();
    let page = AuditPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/audit", &uri),
        p: AuditParamsView {
            actor: p.actor.clone().unwrap_or_default(),
            action: p.action.clone().unwrap_or_default(),
            unit: p.unit.clone().unwrap_or_default(),
            from: p.from.clone().unwrap_or_default(),
            to: p.to.clone().unwrap_or_default(),
        },
        rows: listing.items.iter().map(AuditRow::from_stored).collect(),
        pager: Pager::new(&listing, "/audit", &pairs),
        export_href: format!("/audit/export.csv?{}", export_query.join("&")),
    };
    render(&page, t)
}

fn csv_line(row: &AuditRow, hash: &str) -> String {
    let fields = [
        row.seq.to_string(),
        row.at.clone(),
        row.actor.clone(),
        row.action.clone(),
        row.org.clone(),
        row.target.clone(),
        row.address.clone(),
        row.detail.clone(),
        hash.to_owned(),
    ];
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

pub async fn export(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    Query(p): Query<AuditParams>,
) -> Response {
    let scoped = async {
        let (filter, unit) = p.filter()?;
        app.begin_audit_export(&actor, &filter, unit.as_ref()).await
    }
    .await;
    let scoped = match scoped {
        Ok(f) => f,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    // A UTF-8 byte-order mark, so that spreadsheet programs read the Chinese text correctly.
    let header_line = "\u{feff}seq,time_cst,actor,action,unit,target,address,detail,hash\r\n".to_owned();
    let stream = futures_util::stream::unfold(Some((app, scoped, 0i64, Some(header_line))), |state| async move {
        let (app, scoped, after, header) = state?;
        if let Some(h) = header {
            return Some((Ok::<_, std::io::Error>(h), Some((app, scoped, after, None))));
        }
        match app.audit_batch(&scoped, after, EXPORT_BATCH).await {
            Ok(batch) if batch.is_empty() => None,
            Ok(batch) => {
                let last = batch.last().map(|s| s.entry.seq).unwrap_or(after);
                let chunk: String = batch.iter().map(|s| csv_line(&AuditRow::from_stored(s), &s.hash)).collect();
                Some((Ok(chunk), Some((app, scoped, last, None))))
            }
            Err(e) => {
                tracing::error!(error = %e, "audit export failed part-way");
                Some((Err(std::io::Error::other("audit export failed")), None))
            }
        }
    });
    let filename = format!("audit-{}.csv", actor.org);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
