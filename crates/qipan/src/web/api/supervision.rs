//! `/api/v1/supervision` and `/api/v1/orders` (督办). The JSON names are a contract with the
//! province's other systems: `unit`, `backlog`, `overdue`, `drafts`, `drafts_late`,
//! `orders_open`, `orders_overdue`, `receipt_rate`, `feedback_rate`, `timeliness`,
//! `registration_timeliness`, `quality_per_thousand`; an order's `id`, `issuer_unit`,
//! `target_unit`, `subject_kind`, `subject_ref`, `title`, `body`, `due_on`, `status`, `overdue`,
//! `answer`, `timeline`. The query-parameter parsers here are shared with the pages.

use super::extract::Json;
use axum::extract::State;

use super::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use domain::OrgCode;
use domain::exchange::{Counts, Cycle, Quarter};
use domain::ids::{OrderId, TypedId};
use domain::supervision::{Quality, Registrations};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::supervision::{Backlog, Order};

use crate::service::supervision::{OrderBox, OrderQuery, OrderRequest, OrderView, order_overdue};
use crate::service::{Actor, App, ServiceError};
use crate::web::ApiError;
use crate::web::api::case::TimelineJson;
use crate::web::api::exchange::FiguresJson;
pub use crate::web::api::parse_page;
use crate::web::auth::ApiActor;

/// The routes of this part: method, path, handler.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![
        (Method::GET, "/api/v1/supervision/units", get(units)),
        (Method::GET, "/api/v1/orders", get(list)),
        (Method::POST, "/api/v1/orders", post(create)),
        (Method::GET, "/api/v1/orders/{id}", get(one)),
        (Method::POST, "/api/v1/orders/{id}/answer", post(answer)),
        (Method::POST, "/api/v1/orders/{id}/close", post(close)),
        (Method::POST, "/api/v1/orders/{id}/reopen", post(reopen)),
    ]
}

// ---- parameters (shared with the pages) ---------------------------------------------------------

fn blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// A unit code parameter; `None` when absent (the actor's own unit).
pub fn parse_unit(raw: Option<&str>) -> Result<Option<OrgCode>, ServiceError> {
    blank(raw)
        .map(|u| OrgCode::parse(u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u)))
        .transpose()
}

/// A cycle parameter (`YYYY-MM`), the current submission cycle when absent.
pub fn parse_cycle(raw: Option<&str>, app: &App) -> Result<Cycle, ServiceError> {
    match blank(raw) {
        Some(c) => Cycle::parse(c).ok_or_else(|| ServiceError::invalid("field.cycle", "exchange.rule.cycle_format", c)),
        None => Ok(Cycle::of_submission(app.clock.today())),
    }
}

/// A quarter parameter (`YYYY-Qn`), the current quarter when absent.
pub fn parse_quarter(raw: Option<&str>, app: &App) -> Result<Quarter, ServiceError> {
    match blank(raw) {
        Some(q) => {
            Quarter::parse(q).ok_or_else(|| ServiceError::invalid("field.quarter", "exchange.rule.quarter_format", q))
        }
        None => Ok(Cycle::of_submission(app.clock.today()).quarter()),
    }
}

/// A threshold in percent, the feedback target (95%) when absent.
pub fn parse_threshold(raw: Option<&str>) -> Result<f64, ServiceError> {
    match blank(raw) {
        Some(s) => domain::supervision::parse_threshold(s)
            .ok_or_else(|| ServiceError::invalid("field.threshold", "supervision.rule.threshold", s)),
        None => Ok(domain::supervision::DEFAULT_THRESHOLD),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct OrderListParams {
    #[serde(rename = "box")]
    pub mailbox: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

impl OrderListParams {
    pub fn to_query(&self) -> Result<OrderQuery, ServiceError> {
        let mailbox = match blank(self.mailbox.as_deref()) {
            None | Some("all") => OrderBox::All,
            Some("to_me") => OrderBox::ToMe,
            Some("issued") => OrderBox::Issued,
            Some(other) => return Err(ServiceError::invalid("field.box", "rule.code_unknown", other)),
        };
        Ok(OrderQuery {
            mailbox,
            status: blank(self.status.as_deref()).map(str::to_owned),
            kind: blank(self.kind.as_deref()).map(str::to_owned),
            page: parse_page(self.page.as_deref(), self.per_page.as_deref())?,
        })
    }
}

// ---- units ----------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct UnitsParams {
    parent: Option<String>,
    cycle: Option<String>,
}

#[derive(Serialize)]
struct BacklogJson {
    backlog: u64,
    overdue: u64,
    drafts: u64,
    drafts_late: u64,
    orders_open: u64,
    orders_overdue: u64,
}

impl From<Backlog> for BacklogJson {
    fn from(b: Backlog) -> Self {
        BacklogJson {
            backlog: b.waiting,
            overdue: b.overdue,
            drafts: b.drafts,
            drafts_late: b.drafts_late,
            orders_open: b.orders_open,
            orders_overdue: b.orders_overdue,
        }
    }
}

#[derive(Serialize)]
struct UnitJson {
    unit: String,
    name: String,
    level: &'static str,
    #[serde(flatten)]
    backlog: BacklogJson,
    /// `null` below a county: the county answers for its townships and villages.
    exchange: Option<FiguresJson>,
    registered: u64,
    registered_on_time: u64,
    registration_timeliness: Option<f64>,
    quality_findings: Option<u64>,
    active_records: Option<u64>,
    quality_per_thousand: Option<f64>,
}

fn unit_json(
    code: &OrgCode,
    name: &str,
    level: domain::OrgLevel,
    b: Backlog,
    c: Option<Counts>,
    r: Registrations,
    q: Option<Quality>,
) -> UnitJson {
    UnitJson {
        unit: code.to_string(),
        name: name.to_owned(),
        level: level.as_str(),
        backlog: b.into(),
        exchange: c.map(FiguresJson::from),
        registered: r.registered,
        registered_on_time: r.on_time,
        registration_timeliness: r.rate(),
        quality_findings: q.map(|q| q.findings),
        active_records: q.map(|q| q.active),
        quality_per_thousand: q.and_then(|q| q.per_thousand()),
    }
}

#[derive(Serialize)]
struct UnitsJson {
    parent: UnitJson,
    cycle: String,
    closed: bool,
    items: Vec<UnitJson>,
}

async fn units(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Query(p): Query<UnitsParams>,
) -> Result<Response, ApiError> {
    let parent = parse_unit(p.parent.as_deref())?;
    let cycle = parse_cycle(p.cycle.as_deref(), &app)?;
    let m = app.monitoring(&actor, parent.as_ref()).await?;
    let scores = app.unit_scores(&actor, Some(&m.unit.code), cycle).await?;
    let by_code: std::collections::HashMap<&str, &crate::service::supervision::Score> =
        scores.rows.iter().map(|s| (s.unit.code.as_str(), s)).collect();
    let items = m
        .rows
        .iter()
        .map(|row| {
            let s = by_code.get(row.unit.code.as_str());
            unit_json(
                &row.unit.code,
                &row.unit.name,
                row.unit.level,
                row.backlog,
                s.and_then(|s| s.counts),
                s.map(|s| s.registrations).unwrap_or_default(),
                s.and_then(|s| s.quality),
            )
        })
        .collect();
    let t = &scores.total;
    Ok(Json(UnitsJson {
        parent: unit_json(&m.unit.code, &m.unit.name, m.unit.level, m.total, t.counts, t.registrations, t.quality),
        cycle: scores.cycle.to_string(),
        closed: scores.closed,
        items,
    })
    .into_response())
}

// ---- orders ---------------------------------------------------------------------------------------

#[derive(Serialize)]
pub struct OrderJson {
    id: i64,
    issuer_unit: String,
    target_unit: String,
    subject_kind: String,
    subject_ref: String,
    cycle: Option<String>,
    title: String,
    body: String,
    due_on: String,
    status: String,
    overdue: bool,
    answer: Option<String>,
    created_at: String,
    created_by: String,
    answered_at: Option<String>,
    answered_by: Option<String>,
    closed_at: Option<String>,
    closed_by: Option<String>,
}

fn rfc(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

impl OrderJson {
    fn new(o: &Order, today: chrono::NaiveDate) -> Self {
        OrderJson {
            id: o.id,
            issuer_unit: o.issuer_unit.to_string(),
            target_unit: o.target_unit.to_string(),
            subject_kind: o.subject_kind.as_str().to_owned(),
            subject_ref: o.subject_ref.clone(),
            cycle: o.cycle.clone(),
            title: o.title.clone(),
            body: o.body.clone(),
            due_on: o.due_on.to_string(),
            status: o.status.as_str().to_owned(),
            overdue: order_overdue(o, today),
            answer: o.answer.clone(),
            created_at: o.created_at.to_rfc3339(),
            created_by: o.created_by.clone(),
            answered_at: rfc(o.answered_at),
            answered_by: o.answered_by.clone(),
            closed_at: rfc(o.closed_at),
            closed_by: o.closed_by.clone(),
        }
    }
}

#[derive(Serialize)]
struct RightsJson {
    answer: bool,
    close: bool,
    reopen: bool,
}

#[derive(Serialize)]
struct OrderDetailJson {
    #[serde(flatten)]
    order: OrderJson,
    issuer_name: String,
    target_name: String,
    may: RightsJson,
    #[serde(flatten)]
    timeline: TimelineJson,
}

fn detail(v: &OrderView, today: chrono::NaiveDate) -> OrderDetailJson {
    OrderDetailJson {
        order: OrderJson::new(&v.order, today),
        issuer_name: v.issuer_name.clone(),
        target_name: v.target_name.clone(),
        may: RightsJson { answer: v.rights.answer, close: v.rights.close, reopen: v.rights.reopen },
        timeline: TimelineJson::from(&v.timeline),
    }
}

async fn list(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Query(p): Query<OrderListParams>,
) -> Result<Json<super::Paged<OrderJson>>, ApiError> {
    let l = app.supervision_orders(&actor, &p.to_query()?).await?;
    Ok(Json(super::Paged::of(&l.listing, |o| OrderJson::new(o, l.today))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateBody {
    target_unit: String,
    subject_kind: String,
    subject_ref: Value,
    title: String,
    body: String,
    due_on: String,
}

/// An order as it stands, after an action that succeeded.
async fn show(app: &App, actor: &Actor, id: i64, status: StatusCode) -> Result<Response, ApiError> {
    let v = app.supervision_order(actor, id).await?;
    Ok((status, Json(detail(&v, app.clock.today()))).into_response())
}

async fn create(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Json(b): Json<CreateBody>,
) -> Result<Response, ApiError> {
    // The subject may be given as a number (an item or record id) or as text.
    let subject_ref = match b.subject_ref {
        Value::Null => String::new(),
        Value::String(s) => s,
        other => other.to_string(),
    };
    let req = OrderRequest {
        target: b.target_unit,
        subject_kind: if b.subject_kind.is_empty() { "free".to_owned() } else { b.subject_kind },
        subject_ref,
        title: b.title,
        body: b.body,
        due_on: b.due_on,
    };
    let id = app.open_order(&actor, &req).await?;
    show(&app, &actor, id, StatusCode::CREATED).await
}

async fn one(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(order): Path<OrderId>,
) -> Result<Response, ApiError> {
    let id = order.get();
    show(&app, &actor, id, StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerBody {
    answer: String,
}

async fn answer(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(order): Path<OrderId>,
    Json(b): Json<AnswerBody>,
) -> Result<Response, ApiError> {
    let id = order.get();
    app.answer_order(&actor, id, &b.answer).await?;
    show(&app, &actor, id, StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteBody {
    note: String,
    due_on: String,
}

async fn close(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(order): Path<OrderId>,
    Json(b): Json<NoteBody>,
) -> Result<Response, ApiError> {
    let id = order.get();
    app.close_order(&actor, id, &b.note).await?;
    show(&app, &actor, id, StatusCode::OK).await
}

async fn reopen(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(order): Path<OrderId>,
    Json(b): Json<NoteBody>,
) -> Result<Response, ApiError> {
    let id = order.get();
    app.reopen_order(&actor, id, &b.note, &b.due_on).await?;
    show(&app, &actor, id, StatusCode::OK).await
}

// ---- OpenAPI --------------------------------------------------------------------------------------

/// Adds this part's paths and schemas to the OpenAPI document.
pub fn add_openapi(doc: &mut Value) {
    let error = json!({"$ref": "#/components/responses/Error"});
    let conflict = json!({"description": "Not in a state that allows it (answering a closed order, closing twice), or the other side's action (the issuer answering, the target closing).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    let order = json!({"$ref": "#/components/schemas/SupervisionOrder"});
    let rate = json!({"type": ["number", "null"], "minimum": 0, "maximum": 1});
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let date = json!({"type": "string", "format": "date"});
    let count = json!({"type": "integer", "minimum": 0});
    doc["components"]["schemas"]["SupervisionOrder"] = json!({
        "type": "object",
        "description": "A supervision order (督办) that a higher level opened on a unit below it, or a reminder (催办) opened in bulk. `due_on` is the last day (China time) to answer; `overdue` is true while an open order is past it. Every state change is in `timeline` (only when reading one order); nothing is deleted.",
        "required": ["id", "issuer_unit", "target_unit", "subject_kind", "title", "body", "due_on", "status", "overdue"],
        "properties": {
            "id": {"type": "integer"},
            "issuer_unit": {"type": "string", "description": "The unit that opened it; it (or a unit above it) closes or reopens it."},
            "target_unit": {"type": "string", "description": "The unit that answers it (its accounts, or those of units below it)."},
            "issuer_name": {"type": "string"},
            "target_name": {"type": "string"},
            "subject_kind": {"type": "string", "enum": ["item", "finding", "free", "reminder"], "description": "item: an exchange item (subject_ref = its id); finding: a data-quality finding on a personal record (subject_ref = the record id); free: free text; reminder: a bulk reminder about a cycle (subject_ref = the cycle)."},
            "subject_ref": {"type": "string"},
            "cycle": {"type": ["string", "null"], "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "title": {"type": "string", "maxLength": domain::supervision::TITLE_MAX},
            "body": {"type": "string", "maxLength": domain::supervision::BODY_MAX},
            "due_on": date.clone(),
            "status": {"type": "string", "enum": ["open", "answered", "closed"]},
            "overdue": {"type": "boolean"},
            "answer": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": "string"},
            "answered_at": time.clone(),
            "answered_by": {"type": ["string", "null"]},
            "closed_at": time.clone(),
            "closed_by": {"type": ["string", "null"]},
            "may": {"type": "object", "description": "Only when reading one order: what the caller may do now.", "properties": {"answer": {"type": "boolean"}, "close": {"type": "boolean"}, "reopen": {"type": "boolean"}}},
            "timeline": {"type": "array", "description": "Only when reading one order.", "items": {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}, "event": {"type": "string", "enum": ["opened", "answered", "closed", "reopened"]}, "actor": {"type": "string"}, "unit": {"type": "string"}, "note": {"type": "string"}}}},
            "notifications": {"type": "array", "description": "Only when reading one order: the SMS it queued for the target unit and their delivery state.", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "recipient": {"type": "string"}, "channel": {"type": "string"}, "state": {"type": "string", "enum": ["pending", "sent", "failed"]}, "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]}, "sent_at": time.clone()}}}
        }
    });
    let exchange = json!({"type": ["object", "null"], "description": "The exchange figures of the cycle (a city or province sums its counties); null below a county, whose county answers for it.", "properties": {
        "received": count.clone(), "feedback_due": count.clone(), "answered": count.clone(), "answered_on_time": count.clone(),
        "receipt_rate": rate.clone(), "feedback_rate": rate.clone(), "timeliness": rate.clone(), "meets_feedback_target": {"type": "boolean"}
    }});
    let unit = json!({"type": "object", "properties": {
        "unit": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string", "enum": ["province", "city", "county", "township", "village", "unit"]},
        "backlog": {"type": "integer", "description": "Exchange items waiting at the unit's subtree now: submitted and not received, or received and not answered though they ask for an answer."},
        "overdue": {"type": "integer", "description": "Of `backlog`, past their last day."},
        "drafts": {"type": "integer", "description": "Drafts and suggested notifications of the subtree not sent yet."},
        "drafts_late": {"type": "integer", "description": "Of `drafts`, past their sending limit (5 working days after the event)."},
        "orders_open": {"type": "integer", "description": "Orders addressed to the subtree and not answered."},
        "orders_overdue": {"type": "integer", "description": "Of `orders_open`, past their last day."},
        "exchange": exchange,
        "registered": {"type": "integer", "description": "Records registered in the cycle's submission period (previous 21st to the 20th)."},
        "registered_on_time": {"type": "integer", "description": "Of them, registered no later than the day of the move (seed 000: the same day)."},
        "registration_timeliness": rate.clone(),
        "quality_findings": {"type": ["integer", "null"], "description": "Data-quality findings as kept, now (null when the caller may not read records)."},
        "active_records": {"type": ["integer", "null"]},
        "quality_per_thousand": {"type": ["number", "null"], "description": "Findings per 1,000 active records; lower is better."}
    }});
    doc["paths"]["/supervision/units"] = json!({
        "get": {
            "operationId": "supervisionUnits",
            "summary": "Monitoring and performance of the units directly below a unit (supervisors and county operators, in their subtree)",
            "description": "One entry per child unit of `parent` (default: the caller's unit) with its live backlog and its figures in `cycle`; `parent` holds the totals of the whole subtree (items attached to the parent itself included). A unit outside the caller's subtree is 404 (audited). The quality figures are the findings kept per unit (records changed in the last minute are checked first).",
            "parameters": [
                {"name": "parent", "in": "query", "schema": {"$ref": "#/components/schemas/OrgCode"}},
                {"name": "cycle", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "description": "Default: the current submission cycle (live until its close on the 27th)."}
            ],
            "responses": {"200": {"description": "{\"parent\": Unit, \"cycle\", \"closed\", \"items\": [Unit]}", "content": {"application/json": {"schema": {"type": "object", "properties": {"parent": unit.clone(), "cycle": {"type": "string"}, "closed": {"type": "boolean"}, "items": {"type": "array", "items": unit}}}}}}, "400": error, "401": error, "403": error, "404": error}
        }
    });
    doc["paths"]["/orders"] = json!({
        "get": {
            "operationId": "listOrders",
            "summary": "The orders the caller may see: addressed to or issued from its subtree, or addressed to a unit above it",
            "description": "Open orders first, then answered, then closed; by last day.",
            "parameters": [
                {"name": "box", "in": "query", "schema": {"type": "string", "enum": ["all", "to_me", "issued"], "default": "all"}, "description": "to_me: addressed to the caller's unit or a unit above it (the caller may answer them); issued: issued from the caller's subtree."},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "answered", "closed", "overdue"]}},
                {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["item", "finding", "free", "reminder"]}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}
            ],
            "responses": {"200": {"description": "{\"items\": [SupervisionOrder], \"total\", \"page\", \"per_page\"}", "content": {"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": order.clone()}, "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}}}}}, "400": error, "401": error, "403": error}
        },
        "post": {
            "operationId": "openOrder",
            "summary": "Open an order on a unit strictly below the caller's (supervisors; county operators on their townships and villages)",
            "description": "The target unit's accounts are notified by SMS through the outbox. `due_on` lies between today and 366 days ahead. A subject `item` must be an exchange item sent from or waiting at the target's subtree; a `finding` names a record managed there.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["target_unit", "title", "body", "due_on"], "properties": {
                "target_unit": {"type": "string"},
                "subject_kind": {"type": "string", "enum": ["item", "finding", "free"], "default": "free"},
                "subject_ref": {"type": ["string", "integer"]},
                "title": {"type": "string", "maxLength": domain::supervision::TITLE_MAX},
                "body": {"type": "string", "maxLength": domain::supervision::BODY_MAX},
                "due_on": date.clone()
            }}}}},
            "responses": {"201": {"description": "Opened.", "content": {"application/json": {"schema": order.clone()}}}, "400": error, "401": error, "403": error, "404": error}
        }
    });
    doc["paths"]["/orders/{id}"] = json!({
        "parameters": id.clone(),
        "get": {"operationId": "getOrder", "summary": "One order with its timeline and notifications", "responses": {"200": {"description": "The order.", "content": {"application/json": {"schema": order.clone()}}}, "401": error, "403": error, "404": error}}
    });
    let action = |op: &str, summary: &str, body: Value| {
        json!({"parameters": id.clone(), "post": {"operationId": op, "summary": summary,
            "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
            "responses": {"200": {"description": "The order after the change.", "content": {"application/json": {"schema": order.clone()}}}, "400": error, "401": error, "403": error, "404": error, "409": conflict.clone()}}})
    };
    doc["paths"]["/orders/{id}/answer"] = action(
        "answerOrder",
        "Answer an open order (accounts of the target unit or below it with person.write or exchange.answer)",
        json!({"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string", "maxLength": domain::supervision::ANSWER_MAX}}}),
    );
    doc["paths"]["/orders/{id}/close"] = action(
        "closeOrder",
        "Close an open or answered order (the issuing unit or above, with supervise or exchange.answer)",
        json!({"type": "object", "properties": {"note": {"type": "string", "maxLength": domain::supervision::NOTE_MAX}}}),
    );
    doc["paths"]["/orders/{id}/reopen"] = action(
        "reopenOrder",
        "Reopen an answered or closed order with a note, optionally with a new last day (the issuing side); the target is notified again",
        json!({"type": "object", "required": ["note"], "properties": {"note": {"type": "string", "maxLength": domain::supervision::NOTE_MAX}, "due_on": date}}),
    );
}
