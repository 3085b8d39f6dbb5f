use askama::Template;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use domain::exchange::FEEDBACK_TARGET;
use serde::Deserialize;

use super::charts::BarChart;
use super::performance::{RankLine, rank_lines, ranking_chart};
use super::{local, pct};
use crate::i18n::Messages;
use crate::service::App;
use crate::service::exchange::Ranking;
use crate::web::api::supervision::{parse_quarter, parse_unit};
use crate::web::auth::SignedIn;
use crate::web::error::render;
use crate::web::ui::Chrome;
use crate::web::{Lang, PageError};

// ---- bulletin ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "supervision_bulletin.html")]
struct BulletinPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    province: String,
    province_name: String,
    quarter: String,
    generated: String,
    summary: Vec<String>,
    rows: Vec<RankLine>,
    bars: BarChart,
    target: String,
}

#[derive(Deserialize)]
pub struct BulletinParams {
    quarter: Option<String>,
    province: Option<String>,
}

/// Names of some counties of a ranking, joined for a sentence.
fn names_of(codes: &[String], r: &Ranking, t: &Messages) -> String {
    // The catalogue trims values: an ASCII separator gets its space back here.
    let sep = t.get("supervision.list_separator");
    let sep = if sep.is_ascii() { format!("{sep} ") } else { sep.to_owned() };
    codes
        .iter()
        .map(|c| r.rows.iter().find(|(x, _)| &x.unit == c).map(|(_, n)| n.clone()).unwrap_or_else(|| c.clone()))
        .collect::<Vec<_>>()
        .join(&sep)
}

pub(super) async fn bulletin(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<BulletinParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let province = parse_unit(p.province.as_deref())?;
        let quarter = parse_quarter(p.quarter.as_deref(), &app)?;
        app.bulletin(&actor, province.as_ref(), quarter).await
    }
    .await;
    let b = match result {
        Ok(b) => b,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let r = &b.ranking;
    let f = &b.facts;
    let target = pct(Some(FEEDBACK_TARGET));
    let mut summary = Vec::new();
    if f.ranked == 0 {
        summary.push(t.fmt("supervision.bulletin_none", &[("quarter", &r.quarter.to_string())]));
    } else {
        summary.push(t.fmt(
            "supervision.bulletin_summary",
            &[
                ("quarter", &r.quarter.to_string()),
                ("province", &b.province_name),
                ("ranked", &f.ranked.to_string()),
                ("meeting", &f.meeting_target.to_string()),
                ("target", &target),
                ("rate", &pct(f.feedback_rate)),
            ],
        ));
        if !f.below_target.is_empty() {
            summary.push(t.fmt("supervision.bulletin_below", &[("list", &names_of(&f.below_target, r, &t))]));
        }
        if f.bottom_three.is_empty() {
            summary.push(t.get("supervision.bulletin_few").to_owned());
        } else {
            summary.push(t.fmt("supervision.bulletin_bottom", &[("list", &names_of(&f.bottom_three, r, &t))]));
        }
        if f.flagged.is_empty() {
            summary.push(t.get("supervision.bulletin_no_flagged").to_owned());
        } else {
            summary.push(t.fmt("supervision.bulletin_flagged", &[("list", &names_of(&f.flagged, r, &t))]));
        }
    }
    let rows = rank_lines(r);
    let bars = ranking_chart(&t, &rows, r);
    let page = BulletinPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "bulletin",
        province: r.province.to_string(),
        province_name: b.province_name.clone(),
        quarter: r.quarter.to_string(),
        generated: local(Some(app.clock.now())),
        summary,
        rows,
        bars,
        target,
    };
    render(&page, t)
}
