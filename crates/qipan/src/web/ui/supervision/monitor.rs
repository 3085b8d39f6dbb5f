use askama::Template;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use store::supervision::{Backlog, BacklogItems};

use super::UnitView;
use crate::i18n::Messages;
use crate::service::{App, ServiceError};
use crate::web::api::supervision::{parse_page, parse_unit};
use crate::web::auth::SignedIn;
use crate::web::error::render;
use domain::exchange::Status;

use crate::web::ui::Chrome;
use crate::web::ui::exchange::{Row, row};
use crate::web::ui::orgs::Pager;
use crate::web::{Lang, PageError};

// ---- monitoring -------------------------------------------------------------------------------------

pub struct MonitorLine {
    pub unit: UnitView,
    pub b: Backlog,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct MonitorPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    unit: UnitView,
    trail: Vec<UnitView>,
    rows: Vec<MonitorLine>,
    own: Backlog,
    show_own: bool,
    total: Backlog,
    today: String,
    can_order: bool,
}

#[derive(Deserialize)]
pub struct UnitParams {
    unit: Option<String>,
}

pub(super) async fn monitor(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<UnitParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let unit = parse_unit(p.unit.as_deref())?;
        app.monitoring(&actor, unit.as_ref()).await
    }
    .await;
    let m = match result {
        Ok(m) => m,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let page = MonitorPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "monitor",
        unit: UnitView::new(&m.unit, &t),
        trail: m.trail.iter().map(|u| UnitView::new(u, &t)).collect(),
        rows: m.rows.iter().map(|r| MonitorLine { unit: UnitView::new(&r.unit, &t), b: r.backlog }).collect(),
        show_own: m.own != Backlog::default(),
        own: m.own,
        total: m.total,
        today: m.today.to_string(),
        can_order: actor.can(domain::authz::Capability::Supervise)
            || actor.can(domain::authz::Capability::ExchangeAnswer),
    };
    render(&page, t)
}

#[derive(Template)]
#[template(path = "supervision_items.html")]
struct ItemsPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    unit: UnitView,
    part: &'static str,
    rows: Vec<Row>,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct ItemsParams {
    unit: Option<String>,
    part: Option<String>,
    page: Option<String>,
}

pub(super) async fn items(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<ItemsParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let unit = parse_unit(p.unit.as_deref())?.unwrap_or_else(|| actor.org.clone());
        let raw = p.part.as_deref().unwrap_or("waiting");
        let part =
            BacklogItems::parse(raw).ok_or_else(|| ServiceError::invalid("field.part", "rule.code_unknown", raw))?;
        let page = parse_page(p.page.as_deref(), None)?;
        let (unit, listing) = app.backlog_items(&actor, &unit, part, page).await?;
        Ok::<_, ServiceError>((unit, part, listing))
    }
    .await;
    let (unit, part, listing) = match result {
        Ok(x) => x,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let today = app.clock.today();
    let rows = listing
        .items
        .iter()
        .map(|i| {
            let mut line = row(&t, i);
            // A count of the backlog holds what is late today, before the overdue job marks it.
            line.overdue = line.overdue
                || i.due_on.is_some_and(|d| today > d && i.status != Status::Draft)
                || (i.status == Status::Draft && i.send_due_on.is_some_and(|d| today > d));
            line
        })
        .collect();
    let code = unit.code.to_string();
    let pager = Pager::new(&listing, "/supervision/items", &[("unit", Some(&code)), ("part", Some(part.as_str()))]);
    let page = ItemsPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "monitor",
        unit: UnitView::new(&unit, &t),
        part: match part {
            BacklogItems::Waiting => "supervision.waiting",
            BacklogItems::Overdue => "supervision.overdue",
            BacklogItems::Drafts => "supervision.drafts",
            BacklogItems::DraftsLate => "supervision.drafts_late",
        },
        rows,
        pager,
    };
    render(&page, t)
}
