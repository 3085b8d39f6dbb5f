//! The data-quality page (差错校验): findings in the actor's scope, by rule, each linking to the
//! record and naming the unit that must fix it. The findings are kept as records change, so the
//! page reads them instead of checking the scope's records.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use domain::OrgCode;
use serde::Deserialize;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::{App, QualityFinding, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::render;
use crate::web::{Lang, PageError};

const SHOWN: u32 = 500;

#[derive(Deserialize)]
pub struct QualityParams {
    unit: Option<String>,
    rule: Option<String>,
}

#[derive(Template)]
#[template(path = "quality.html")]
struct QualityPage {
    t: Messages,
    chrome: Chrome,
    per_rule: Vec<(&'static str, &'static str, u64)>,
    rows: Vec<QualityFinding>,
    total: u64,
    shown: u64,
    waiting: u64,
    rule: String,
    unit: String,
}

pub async fn page(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<QualityParams>,
) -> Response {
    let t = lang.0;
    let unit = p.unit.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let rule = p.rule.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let result = async {
        let unit = unit
            .map(|u| OrgCode::parse(u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u)))
            .transpose()?;
        app.quality_report(&actor, unit.as_ref(), rule, SHOWN).await
    }
    .await;
    let report = match result {
        Ok(r) => r,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let page = QualityPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/quality", &uri),
        per_rule: report.per_rule.iter().map(|(r, n)| (*r, t.get(r), *n)).collect(),
        shown: report.findings.len() as u64,
        rows: report.findings,
        total: report.total,
        waiting: report.waiting,
        rule: rule.unwrap_or_default().to_owned(),
        unit: unit.unwrap_or_default().to_owned(),
    };
    render(&page, t)
}
