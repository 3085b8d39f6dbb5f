//! `/api/v1/exchange`: items between residence and origin, their timeline, and the statistics
//! of a unit in a cycle. The JSON names are a contract with department systems and other
//! provinces: `kind`, `person_id`, `categories`, `remarks`, `submit`; `id`, `kind`, `urgency`,
//! `status`, `from_unit`, `to_unit`, `submitted_at`, `due_on`, `cycle`, `received_at`,
//! `answered_at`; `found`; `sent`, `received`, `answered`, `answered_on_time`, `receipt_rate`,
//! `feedback_rate`, `timeliness`.

use std::collections::BTreeMap;

use super::extract::Json;
use axum::extract::State;

use super::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::OrgCode;
use domain::exchange::{Counts, Cycle, Quarter};
use domain::ids::{ItemId, TypedId};
use serde::{Deserialize, Serialize};
use store::Item;

use crate::service::exchange::{AnswerRequest, Box as Mailbox, ItemQuery, ItemRequest, ItemView, status_label};
use crate::service::{App, ServiceError};
use crate::web::ApiError;
use crate::web::api::case::TimelineJson;
use crate::web::auth::ApiActor;

/// An item in the API. In lists the ID number is masked; reading one item shows it whole (and
/// is audited).
#[derive(Debug, Serialize)]
pub struct ItemJson {
    pub id: i64,
    pub kind: String,
    pub categories: Vec<String>,
    pub reason: Option<String>,
    pub urgency: String,
    pub status: String,
    pub overdue: bool,
    pub person_id: i64,
    pub person_name: String,
    pub person_id_number: Option<String>,
    pub origin_area: String,
    pub from_unit: String,
    pub to_unit: String,
    pub source: String,
    pub remarks: String,
    pub answer_required: bool,
    pub created_at: String,
    pub submitted_at: Option<String>,
    /// The last day (China date) of what the receiving side owes next.
    pub due_on: Option<String>,
    pub receipt_due_on: Option<String>,
    /// True when a deadline crossed a year the working-day calendar does not hold yet, so
    /// Monday–Friday were assumed.
    pub calendar_assumed: bool,
    pub event_on: Option<String>,
    pub send_due_on: Option<String>,
    pub cycle: Option<String>,
    pub received_at: Option<String>,
    pub answered_at: Option<String>,
    pub found: Option<bool>,
    pub answer_remarks: Option<String>,
    pub search_steps: Vec<String>,
    pub answered_on_time: Option<bool>,
}

fn rfc(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

fn list_of(s: &Option<String>) -> Vec<String> {
    s.as_deref().unwrap_or("").split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

impl ItemJson {
    pub fn new(i: &Item) -> Self {
        ItemJson {
            id: i.id,
            kind: i.kind.as_str().to_owned(),
            categories: i.categories.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            reason: i.reason.clone(),
            urgency: i.urgency.as_str().to_owned(),
            status: status_label(i).to_owned(),
            overdue: status_label(i) == "overdue",
            person_id: i.person_id,
            person_name: i.person_name.clone(),
            person_id_number: i.person_id_number.clone(),
            origin_area: i.origin_area.clone(),
            from_unit: i.from_unit.to_string(),
            to_unit: i.to_unit.to_string(),
            source: i.source.clone(),
            remarks: i.remarks.clone(),
            answer_required: i.answer_required,
            created_at: i.created_at.to_rfc3339(),
            submitted_at: rfc(i.submitted_at),
            due_on: i.due_on.map(|d| d.to_string()),
            receipt_due_on: i.receipt_due_on.map(|d| d.to_string()),
            calendar_assumed: i.calendar_assumed,
            event_on: i.event_on.map(|d| d.to_string()),
            send_due_on: i.send_due_on.map(|d| d.to_string()),
            cycle: i.cycle.clone(),
            received_at: rfc(i.received_at),
            answered_at: rfc(i.answered_at),
            found: i.found,
            answer_remarks: i.answer_remarks.clone(),
            search_steps: list_of(&i.search_steps),
            answered_on_time: i.answered_on_time,
        }
    }
}

#[derive(Serialize)]
pub struct ItemDetailJson {
    #[serde(flatten)]
    item: ItemJson,
    #[serde(flatten)]
    timeline: TimelineJson,
}

fn detail(v: &ItemView) -> ItemDetailJson {
    ItemDetailJson { item: ItemJson::new(&v.item), timeline: TimelineJson::from(&v.timeline) }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateBody {
    kind: String,
    person_id: Option<i64>,
    categories: Vec<String>,
    reason: Option<String>,
    remarks: String,
    submit: bool,
}

pub async fn create(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Json(b): Json<CreateBody>,
) -> Result<Response, ApiError> {
    let person_id = b.person_id.ok_or_else(|| ServiceError::invalid("field.person_id", "rule.required", ""))?;
    let req = ItemRequest {
        kind: b.kind,
        person_id,
        categories: b.categories,
        reason: b.reason,
        remarks: b.remarks,
        submit: b.submit,
    };
    let id = app.create_exchange_item(&actor, &req).await?;
    let v = app.exchange_item(&actor, id).await?;
    Ok((StatusCode::CREATED, Json(detail(&v))).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(rename = "box")]
    mailbox: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    cycle: Option<String>,
    overdue: Option<String>,
    person_id: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl ListParams {
    pub fn to_query(&self) -> Result<ItemQuery, ServiceError> {
        let mailbox = match blank(&self.mailbox).as_deref() {
            None | Some("inbox") => Mailbox::Inbox,
            Some("outbox") => Mailbox::Outbox,
            Some(other) => return Err(ServiceError::invalid("field.box", "rule.code_unknown", other)),
        };
        let page = super::parse_page(self.page.as_deref(), self.per_page.as_deref())?;
        let overdue = match blank(&self.overdue).as_deref() {
            None => None,
            Some("1" | "true") => Some(true),
            Some("0" | "false") => Some(false),
            Some(other) => return Err(ServiceError::invalid("field.overdue", "rule.code_unknown", other)),
        };
        let person_id = blank(&self.person_id)
            .map(|s| s.parse::<i64>().map_err(|_| ServiceError::invalid("field.person_id", "rule.number", s)))
            .transpose()?;
        Ok(ItemQuery {
            mailbox,
            status: blank(&self.status).filter(|s| s != "overdue"),
            kind: blank(&self.kind),
            cycle: blank(&self.cycle),
            overdue: if blank(&self.status).as_deref() == Some("overdue") { Some(true) } else { overdue },
            person_id,
            page,
        })
    }
}

pub async fn list(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Query(p): Query<ListParams>,
) -> Result<Json<super::Paged<ItemJson>>, ApiError> {
    let l = app.exchange_items(&actor, &p.to_query()?).await?;
    Ok(Json(super::Paged::of(&l, ItemJson::new)))
}

pub async fn one(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<ItemId>,
) -> Result<Json<ItemDetailJson>, ApiError> {
    Ok(Json(detail(&app.exchange_item(&actor, id.get()).await?)))
}

/// The item after an action that succeeded.
async fn then_show(
    app: &App,
    actor: &crate::service::Actor,
    id: i64,
    done: Result<(), ServiceError>,
) -> Result<Json<ItemDetailJson>, ApiError> {
    done?;
    Ok(Json(detail(&app.exchange_item(actor, id).await?)))
}

pub async fn submit(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<ItemId>,
) -> Result<Json<ItemDetailJson>, ApiError> {
    let id = id.get();
    let done = app.submit_exchange_item(&actor, id).await;
    then_show(&app, &actor, id, done).await
}

pub async fn receive(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<ItemId>,
) -> Result<Json<ItemDetailJson>, ApiError> {
    let id = id.get();
    let done = app.receive_exchange_item(&actor, id).await;
    then_show(&app, &actor, id, done).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerBody {
    found: Option<bool>,
    remarks: String,
    search_steps: Vec<String>,
    facts: BTreeMap<String, String>,
}

pub async fn answer(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<ItemId>,
    Json(b): Json<AnswerBody>,
) -> Result<Json<ItemDetailJson>, ApiError> {
    let id = id.get();
    let found = b.found.ok_or_else(|| ServiceError::invalid("field.found", "rule.required", ""))?;
    // Without steps named, the answer follows the prescribed search: the county's own records
    // for "found", every source in order for "not found" (the answering county vouches for it).
    let search_steps = match (b.search_steps.is_empty(), found) {
        (false, _) => b.search_steps,
        (true, true) => vec!["own_records".to_owned()],
        (true, false) => crate::service::exchange::SEARCH_STEPS.map(str::to_owned).to_vec(),
    };
    let req = AnswerRequest { found, remarks: b.remarks, search_steps, facts: b.facts };
    let done = app.answer_exchange_item(&actor, id, &req).await;
    then_show(&app, &actor, id, done).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoteBody {
    note: String,
}

pub async fn remind(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<ItemId>,
    Json(b): Json<NoteBody>,
) -> Result<Json<ItemDetailJson>, ApiError> {
    let id = id.get();
    let done = app.remind_exchange_item(&actor, id, &b.note).await;
    then_show(&app, &actor, id, done).await
}

#[derive(Debug, Default, Deserialize)]
pub struct StatsParams {
    unit: Option<String>,
    cycle: Option<String>,
}

/// The receipt and feedback figures of a unit in a cycle, in the exchange and the supervision
/// API alike.
#[derive(Serialize)]
pub(crate) struct FiguresJson {
    received: u64,
    feedback_due: u64,
    answered: u64,
    answered_on_time: u64,
    receipt_rate: Option<f64>,
    feedback_rate: Option<f64>,
    timeliness: Option<f64>,
    meets_feedback_target: bool,
}

impl From<Counts> for FiguresJson {
    fn from(c: Counts) -> Self {
        let r = c.rates();
        FiguresJson {
            received: c.received,
            feedback_due: c.feedback_due,
            answered: c.answered,
            answered_on_time: c.answered_on_time,
            receipt_rate: r.receipt_rate,
            feedback_rate: r.feedback_rate,
            timeliness: r.timeliness,
            meets_feedback_target: c.meets_feedback_target(),
        }
    }
}

#[derive(Serialize)]
pub struct StatsJson {
    unit: String,
    unit_name: String,
    cycle: String,
    closed: bool,
    sent: u64,
    incoming: u64,
    #[serde(flatten)]
    figures: FiguresJson,
}

pub async fn stats(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Query(p): Query<StatsParams>,
) -> Result<Json<StatsJson>, ApiError> {
    let unit = match blank(&p.unit) {
        Some(u) => OrgCode::parse(&u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u))?,
        None => actor.org.clone(),
    };
    let cycle = match blank(&p.cycle) {
        Some(c) => {
            Cycle::parse(&c).ok_or_else(|| ServiceError::invalid("field.cycle", "exchange.rule.cycle_format", c))?
        }
        None => Cycle::of_submission(app.clock.today()),
    };
    let s = app.exchange_stats(&actor, &unit, cycle).await?;
    Ok(Json(StatsJson {
        unit: s.unit.to_string(),
        unit_name: s.unit_name,
        cycle: s.cycle.to_string(),
        closed: s.closed,
        sent: s.counts.sent,
        incoming: s.counts.incoming,
        figures: FiguresJson::from(s.counts),
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct RankingParams {
    province: Option<String>,
    quarter: Option<String>,
}

#[derive(Serialize)]
struct RankedJson {
    rank: usize,
    unit: String,
    unit_name: String,
    received: u64,
    feedback_due: u64,
    answered: u64,
    receipt_rate: Option<f64>,
    feedback_rate: Option<f64>,
    timeliness: Option<f64>,
    bottom_three: bool,
    flagged: bool,
}

#[derive(Serialize)]
pub struct RankingJson {
    province: String,
    quarter: String,
    items: Vec<RankedJson>,
}

pub async fn ranking(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Query(p): Query<RankingParams>,
) -> Result<Json<RankingJson>, ApiError> {
    let province = match blank(&p.province) {
        Some(u) => OrgCode::parse(&u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u))?,
        None => OrgCode::parse(actor.org.province())
            .map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", ""))?,
    };
    let quarter = match blank(&p.quarter) {
        Some(q) => Quarter::parse(&q)
            .ok_or_else(|| ServiceError::invalid("field.quarter", "exchange.rule.quarter_format", q))?,
        None => Cycle::of_submission(app.clock.today()).quarter(),
    };
    let r = app.exchange_ranking(&actor, &province, quarter).await?;
    Ok(Json(RankingJson {
        province: r.province.to_string(),
        quarter: r.quarter.to_string(),
        items: r
            .rows
            .into_iter()
            .map(|(x, name)| RankedJson {
                rank: x.rank,
                unit: x.unit,
                unit_name: name,
                received: x.counts.received,
                feedback_due: x.counts.feedback_due,
                answered: x.counts.answered,
                receipt_rate: x.rates.receipt_rate,
                feedback_rate: x.rates.feedback_rate,
                timeliness: x.rates.timeliness,
                bottom_three: x.bottom_three,
                flagged: x.flagged,
            })
            .collect(),
    }))
}
