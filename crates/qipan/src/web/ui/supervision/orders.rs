use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use domain::case::CaseKind;
use domain::ids::OrderId;
use domain::supervision::{OrderAction, SubjectKind};
use serde::Deserialize;

use super::{field, local};
use crate::i18n::Messages;
use crate::service::supervision::{OrderRequest, OrderView, order_overdue};
use crate::service::{Actor, App, ServiceError, ServiceResult};
use crate::web::api::supervision::OrderListParams;
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::ui::Chrome;
use crate::web::ui::case::{CasePage, TimelineView, Viewer};
use crate::web::ui::orgs::Pager;
use crate::web::{Lang, PageError};

// ---- orders -----------------------------------------------------------------------------------------

pub struct OrderLine {
    pub id: i64,
    pub title: String,
    pub kind_key: String,
    pub target: String,
    pub target_name: String,
    pub issuer: String,
    pub issuer_name: String,
    pub due: String,
    pub status_key: String,
    pub status: String,
    pub overdue: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    rows: Vec<OrderLine>,
    pager: Pager,
    mailbox: String,
    status: String,
    can_open: bool,
}

pub(super) async fn orders(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<OrderListParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let q = p.to_query()?;
        app.supervision_orders(&actor, &q).await
    }
    .await;
    let list = match result {
        Ok(l) => l,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let name = |c: &str| list.names.get(c).cloned().unwrap_or_default();
    let rows = list
        .listing
        .items
        .iter()
        .map(|o| OrderLine {
            id: o.id,
            title: o.title.clone(),
            kind_key: format!("order.kind.{}", o.subject_kind),
            target: o.target_unit.to_string(),
            target_name: name(o.target_unit.as_str()),
            issuer: o.issuer_unit.to_string(),
            issuer_name: name(o.issuer_unit.as_str()),
            due: o.due_on.to_string(),
            status_key: format!("order.status.{}", o.status),
            status: o.status.as_str().to_owned(),
            overdue: order_overdue(o, list.today),
            created: local(Some(o.created_at)),
        })
        .collect();
    let mailbox = p.mailbox.clone().unwrap_or_default();
    let status = p.status.clone().unwrap_or_default();
    let pager = Pager::new(&list.listing, "/orders", &[("box", Some(&mailbox)), ("status", Some(&status))]);
    let page = OrdersPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/supervision", &uri),
        tab: "orders",
        rows,
        pager,
        mailbox,
        status,
        can_open: actor.can(domain::authz::Capability::Supervise)
            || actor.can(domain::authz::Capability::ExchangeAnswer),
    };
    render(&page, t)
}

#[derive(Template)]
#[template(path = "order_new.html")]
struct NewOrderPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    error: Option<String>,
    target: String,
    kinds: Vec<(&'static str, String, bool)>,
    subject_ref: String,
    title: String,
    body: String,
    due_on: String,
}

#[derive(Deserialize)]
pub struct NewOrderParams {
    target: Option<String>,
    kind: Option<String>,
    #[serde(rename = "ref")]
    subject_ref: Option<String>,
}

fn new_order_page(
    app: &App,
    t: Messages,
    actor: &Actor,
    uri: &Uri,
    req: &OrderRequest,
    error: Option<String>,
) -> NewOrderPage {
    let kind = if req.subject_kind.is_empty() { "free" } else { req.subject_kind.as_str() };
    NewOrderPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/supervision", uri),
        tab: "orders",
        error,
        target: req.target.clone(),
        kinds: SubjectKind::ALL
            .into_iter()
            .filter(|k| k.opened_by_hand())
            .map(|k| (k.as_str(), format!("order.kind.{}", k.as_str()), k.as_str() == kind))
            .collect(),
        subject_ref: req.subject_ref.clone(),
        title: req.title.clone(),
        body: req.body.clone(),
        due_on: if req.due_on.is_empty() {
            (app.clock.today() + chrono::Duration::days(domain::supervision::REMINDER_DAYS)).to_string()
        } else {
            req.due_on.clone()
        },
    }
}

pub(super) async fn new_order(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<NewOrderParams>,
) -> Response {
    use domain::authz::Capability;
    if let Err(e) = app.guard_any(&actor, &[Capability::Supervise, Capability::ExchangeAnswer]).await {
        return PageError::new(lang, e).into_response();
    }
    let req = OrderRequest {
        target: p.target.unwrap_or_default(),
        subject_kind: p.kind.unwrap_or_default(),
        subject_ref: p.subject_ref.unwrap_or_default(),
        ..Default::default()
    };
    render(&new_order_page(&app, lang.0, &actor, &uri, &req, None), lang.0)
}

pub(super) async fn create_order(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    body: Bytes,
) -> Response {
    let t = lang.0;
    let req = OrderRequest {
        target: field(&body, "target"),
        subject_kind: field(&body, "kind"),
        subject_ref: field(&body, "ref"),
        title: field(&body, "title"),
        body: field(&body, "body"),
        due_on: field(&body, "due_on"),
    };
    match app.open_order(&actor, &req).await {
        Ok(id) => Redirect::to(&format!("/orders/{id}?done=1")).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict { .. })) => {
            let (status, message) = message_of(&e, &t);
            let mut response = render(&new_order_page(&app, t, &actor, &uri, &req, Some(message)), t);
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    t: Messages,
    chrome: Chrome,
    tab: &'static str,
    done: bool,
    error: Option<String>,
    v: OrderView,
    kind_key: String,
    status_key: String,
    subject_link: Option<String>,
    created: String,
    answered: String,
    closed: String,
    timeline: TimelineView,
}

fn order_page(cx: Viewer<'_>, v: OrderView, done: bool, error: Option<String>) -> Response {
    let (app, lang, actor, uri) = (cx.app, cx.lang, cx.actor, cx.uri);
    let t = lang.0;
    let o = &v.order;
    let subject_link = match o.subject_kind {
        SubjectKind::Item => Some(format!("/exchange/{}", o.subject_ref)),
        SubjectKind::Finding => Some(format!("/persons/{}", o.subject_ref)),
        SubjectKind::Reminder => o.cycle.as_ref().map(|c| format!("/exchange?cycle={c}")),
        SubjectKind::Free => None,
    };
    let page = OrderPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/supervision", uri),
        tab: "orders",
        done,
        error,
        kind_key: format!("order.kind.{}", o.subject_kind),
        status_key: format!("order.status.{}", o.status),
        subject_link,
        created: local(Some(o.created_at)),
        answered: local(o.answered_at),
        closed: local(o.closed_at),
        timeline: TimelineView::new(&t, CaseKind::Order, &v.timeline),
        v,
    };
    render(&page, t)
}

/// A supervision order's page and actions.
pub struct OrderCase;

impl CasePage for OrderCase {
    type Id = OrderId;
    type Act = OrderAction;
    type View = OrderView;

    async fn load(app: &App, actor: &Actor, id: i64) -> ServiceResult<OrderView> {
        app.supervision_order(actor, id).await
    }

    fn render(cx: Viewer<'_>, view: OrderView, done: bool, error: Option<String>) -> Response {
        order_page(cx, view, done, error)
    }

    async fn act(app: &App, actor: &Actor, id: i64, body: &[u8], what: OrderAction) -> ServiceResult<()> {
        match what {
            OrderAction::Answer => app.answer_order(actor, id, &field(body, "answer")).await,
            OrderAction::Close => app.close_order(actor, id, &field(body, "note")).await,
            OrderAction::Reopen => app.reopen_order(actor, id, &field(body, "note"), &field(body, "due_on")).await,
        }
    }
}
