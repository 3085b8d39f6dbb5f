//! `/api/v1/persons`: registration, search, one record, editing with the version, history,
//! and the end of a move. Validation errors are 422 with one entry per field.

use super::extract::Json;
use axum::extract::State;

use super::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::OrgCode;
use domain::authz::RecordAccess;
use domain::ids::{PersonId, TypedId};
use domain::privacy::Disclosure;
use domain::record::PersonInput;
use serde::{Deserialize, Serialize};
use store::{Page, Person, PersonSort};

use crate::i18n::Locale;
use crate::service::privacy::LIST_DISCLOSURE;
use crate::service::{App, PersonQuery, PersonRefusal, ServiceError};
use crate::web::ApiError;
use crate::web::auth::ApiActor;
use crate::web::error::{FieldProblem, problem};

/// A record in the API. The core names are a public contract: `id`, `id_number`, `name`,
/// `gender`, `birth_date`, `phone`, `hukou_area`, `hukou_address`, `residence_area`,
/// `residence_address`, `managing_unit`, `direction`, `moved_on`, `version`.
#[derive(Debug, Serialize)]
pub struct PersonJson {
    pub id: i64,
    pub id_number: Option<String>,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub phone: Option<String>,
    pub marital_status: Option<String>,
    pub hukou_area: String,
    pub hukou_address: String,
    pub hukou_type: Option<String>,
    pub residence_area: String,
    pub residence_address: String,
    pub managing_unit: String,
    pub managing_unit_name: String,
    pub direction: String,
    pub moved_on: String,
    pub move_reason: Option<String>,
    pub registered_on: String,
    pub status: String,
    pub ended_on: Option<String>,
    pub version: i32,
    /// 重点对象: pregnant, gave birth this year, or (a woman aged 15–49) without a valid
    /// certificate; the reasons say which.
    pub key_person: bool,
    pub key_reasons: Vec<String>,
}

impl PersonJson {
    /// A record as the service projected it for the reader (`disclosure`): a masked birth date
    /// is its year only.
    pub fn new(p: &Person, disclosure: Disclosure) -> Self {
        PersonJson {
            id: p.id,
            id_number: p.id_number.clone(),
            name: p.name.clone(),
            gender: p.gender.clone(),
            birth_date: disclosure.birth_date(p.birth_date),
            ethnicity: p.ethnicity.clone(),
            education: p.education.clone(),
            phone: p.phone.clone(),
            marital_status: p.marital_status.clone(),
            hukou_area: p.hukou_area.clone(),
            hukou_address: p.hukou_address.clone(),
            hukou_type: p.hukou_type.clone(),
            residence_area: p.residence_area.clone(),
            residence_address: p.residence_address.clone(),
            managing_unit: p.managing_unit.clone(),
            managing_unit_name: p.managing_name.clone(),
            direction: p.direction.clone(),
            moved_on: p.moved_on.to_string(),
            move_reason: p.move_reason.clone(),
            registered_on: p.registered_on.to_string(),
            status: p.status.clone(),
            ended_on: p.ended_on.map(|d| d.to_string()),
            version: p.version,
            key_person: p.key_person,
            key_reasons: p
                .key_reasons
                .split(',')
                .filter(|r| !r.is_empty())
                .map(|r| r.strip_prefix("key.").unwrap_or(r).to_owned())
                .collect(),
        }
    }
}

/// The fields a client sends to register or edit (all optional as JSON; the rules decide).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersonBody {
    id_number: Option<String>,
    name: Option<String>,
    gender: Option<String>,
    birth_date: Option<String>,
    ethnicity: Option<String>,
    education: Option<String>,
    phone: Option<String>,
    marital_status: Option<String>,
    hukou_area: Option<String>,
    hukou_address: Option<String>,
    hukou_type: Option<String>,
    residence_area: Option<String>,
    residence_address: Option<String>,
    managing_unit: Option<String>,
    direction: Option<String>,
    moved_on: Option<String>,
    move_reason: Option<String>,
    version: Option<i32>,
}

impl PersonBody {
    fn input(self) -> PersonInput {
        let s = |v: Option<String>| v.unwrap_or_default();
        PersonInput {
            id_number: s(self.id_number),
            name: s(self.name),
            gender: s(self.gender),
            birth_date: s(self.birth_date),
            ethnicity: s(self.ethnicity),
            education: s(self.education),
            phone: s(self.phone),
            marital_status: s(self.marital_status),
            hukou_area: s(self.hukou_area),
            hukou_address: s(self.hukou_address),
            hukou_type: s(self.hukou_type),
            residence_area: s(self.residence_area),
            residence_address: s(self.residence_address),
            managing_unit: s(self.managing_unit),
            direction: s(self.direction),
            moved_on: s(self.moved_on),
            move_reason: s(self.move_reason),
        }
    }
}

/// A refusal as JSON: 422 with one entry per field, or the usual error body.
fn refusal(r: PersonRefusal) -> Response {
    match r {
        PersonRefusal::Fields(errors) => {
            let t = Locale::En.messages();
            let errors: Vec<FieldProblem> = errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: e.field.to_owned(),
                    rule: e.rule.strip_prefix("rule.").unwrap_or(e.rule).to_owned(),
                    message: format!("{}: {}", t.get(&format!("field.{}", e.field)), t.get(e.rule)),
                })
                .collect();
            let detail = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
            problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail, errors)
        }
        PersonRefusal::Other(e) => ApiError(e).into_response(),
    }
}

pub async fn create(State(app): State<App>, ApiActor(actor): ApiActor, Json(body): Json<PersonBody>) -> Response {
    match app.register_person(&actor, &body.input()).await {
        Ok(id) => match app.view_person(&actor, id).await {
            Ok(view) => (StatusCode::CREATED, Json(PersonJson::new(&view.person, view.disclosure))).into_response(),
            Err(e) => ApiError(e).into_response(),
        },
        Err(r) => refusal(r),
    }
}

/// The search parameters of the API and the pages.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
    pub unit: Option<String>,
    pub direction: Option<String>,
    pub origin: Option<String>,
    pub include_ended: Option<String>,
    pub key_person: Option<String>,
    pub moved_from: Option<String>,
    pub moved_to: Option<String>,
    pub residence: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
    /// The id of the last record of the page before (a listing's `next_after`).
    pub after: Option<String>,
}

pub type PersonList = super::Paged<PersonJson>;

fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl SearchParams {
    pub fn to_query(&self) -> Result<PersonQuery, ServiceError> {
        let unit = blank(&self.unit)
            .map(|u| OrgCode::parse(&u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u)))
            .transpose()?;
        let direction = blank(&self.direction);
        if let Some(d) = &direction
            && d != "in"
            && d != "out"
        {
            return Err(ServiceError::invalid("field.direction", "rule.direction", d.clone()));
        }
        let flag = |s: &Option<String>| matches!(s.as_deref().map(str::trim), Some("1" | "true" | "on"));
        let sort = match blank(&self.sort).as_deref() {
            None | Some("moved_on") => PersonSort::NewestMove,
            Some("name") => PersonSort::Name,
            Some("birth_date") => PersonSort::BirthDate,
            Some(other) => return Err(ServiceError::invalid("field.sort", "rule.sort", other)),
        };
        let number = match blank(&self.page) {
            None => 1,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ServiceError::invalid("field.page", "rule.page", s))?,
        };
        let size = match blank(&self.per_page) {
            None => 50,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=500).contains(n))
                .ok_or_else(|| ServiceError::invalid("field.per_page", "rule.per_page", s))?,
        };
        let date = |field: &'static str, v: &Option<String>| -> Result<Option<chrono::NaiveDate>, ServiceError> {
            blank(v)
                .map(|d| {
                    chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                        .map_err(|_| ServiceError::invalid(field, "rule.date", d))
                })
                .transpose()
        };
        let after = blank(&self.after)
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| ServiceError::invalid("field.after", "rule.after", s))
            })
            .transpose()?;
        let moved_from = date("field.moved_from", &self.moved_from)?;
        let moved_to = date("field.moved_to", &self.moved_to)?;
        if let (Some(a), Some(b)) = (moved_from, moved_to)
            && b < a
        {
            return Err(ServiceError::invalid("field.moved_to", "rule.date_order", b.to_string()));
        }
        Ok(PersonQuery {
            moved_from,
            moved_to,
            residence: blank(&self.residence),
            text: blank(&self.q),
            unit,
            direction,
            origin: flag(&self.origin),
            include_ended: flag(&self.include_ended),
            key_person: flag(&self.key_person),
            sort,
            page: Page { number, size },
            after,
        })
    }
}

pub async fn search(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Query(p): Query<SearchParams>,
) -> Result<Json<PersonList>, ApiError> {
    let query = p.to_query()?;
    let listing = app.search_persons(&actor, &query).await?;
    Ok(Json(PersonList::of(&listing, |p| PersonJson::new(p, LIST_DISCLOSURE))))
}

#[derive(Serialize)]
pub struct PersonDetail {
    #[serde(flatten)]
    person: PersonJson,
    /// `manage` (read and write) or `origin` (read only: the household-registration side).
    access: &'static str,
    /// Days the registration came after the move (the rule is the same day).
    days_late: i64,
}

pub async fn one(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<PersonId>,
) -> Result<Json<PersonDetail>, ApiError> {
    let view = app.view_person(&actor, id.get()).await?;
    let access = match view.access {
        RecordAccess::Manage => "manage",
        RecordAccess::ReadAsOrigin => "origin",
        RecordAccess::ByGrant => "grant",
    };
    Ok(Json(PersonDetail { person: PersonJson::new(&view.person, view.disclosure), access, days_late: view.days_late }))
}

pub async fn update(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<PersonId>,
    Json(body): Json<PersonBody>,
) -> Response {
    let id = id.get();
    let version = body.version;
    match app.edit_person(&actor, id, version, &body.input()).await {
        Ok(()) => match app.view_person(&actor, id).await {
            Ok(view) => Json(PersonJson::new(&view.person, view.disclosure)).into_response(),
            Err(e) => ApiError(e).into_response(),
        },
        Err(r) => refusal(r),
    }
}

#[derive(Serialize)]
pub struct HistoryJson {
    at: String,
    actor: String,
    action: String,
    changes: serde_json::Value,
    version: i32,
}

pub async fn history(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<PersonId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items: Vec<HistoryJson> = app
        .person_history(&actor, id.get())
        .await?
        .into_iter()
        .map(|h| HistoryJson {
            at: h.at.to_rfc3339(),
            actor: h.actor_name,
            action: h.action,
            changes: serde_json::from_str(&h.changes).unwrap_or(serde_json::Value::Null),
            version: h.version,
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

#[derive(Debug, Deserialize)]
pub struct EndBody {
    status: String,
    #[serde(default)]
    ended_on: String,
    #[serde(default)]
    note: String,
    version: i32,
}

/// `POST /api/v1/persons/{id}/moves`: the end of the move (`returned`, `moved_on`) or removal
/// of a record registered by mistake (`removed`, with the reason in `note`).
pub async fn end_move(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<PersonId>,
    Json(b): Json<EndBody>,
) -> Result<Response, ApiError> {
    let id = id.get();
    app.end_person(&actor, id, b.version, &b.status, &b.ended_on, &b.note).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The section named by the last segment of the path (`/api/v1/persons/7/children`).
fn section_of(uri: &axum::http::Uri) -> Result<domain::sections::Section, ServiceError> {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    domain::sections::Section::parse(last)
        .ok_or_else(|| ServiceError::NotFound { what: "thing.api_route", key: uri.path().to_owned() })
}

/// An entry of a section in the API.
pub fn entry_json(e: &store::SectionRow) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert("id".into(), e.id.into());
    for (k, v) in &e.values {
        let value = match v {
            domain::sections::Value::Number(Some(n)) => serde_json::Value::from(*n),
            other if other.display().is_empty() => serde_json::Value::Null,
            other => serde_json::Value::from(other.display()),
        };
        map.insert((*k).to_owned(), value);
    }
    map.insert("created_at".into(), e.created_at.to_rfc3339().into());
    map.insert("created_by".into(), e.created_by.clone().into());
    serde_json::Value::Object(map)
}

/// `GET /api/v1/persons/{id}/{children|pregnancies|checks|services|certificates|marriages}`.
pub async fn list_entries(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<PersonId>,
    uri: axum::http::Uri,
) -> Result<Json<serde_json::Value>, ApiError> {
    let section = section_of(&uri)?;
    let entries = app.entries(&actor, id.get(), section).await?;
    Ok(Json(serde_json::json!({ "items": entries.iter().map(entry_json).collect::<Vec<_>>() })))
}

/// `POST` to a section: adds an entry (201 with its id, or 422 field by field).
pub async fn add_entry(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path(id): Path<PersonId>,
    uri: axum::http::Uri,
    Json(body): Json<serde_json::Map<String, serde_json::Value>>,
) -> Response {
    let result = async {
        let section = section_of(&uri)?;
        Ok::<_, ServiceError>((section, id.get()))
    }
    .await;
    let (section, id) = match result {
        Ok(v) => v,
        Err(e) => return ApiError(e).into_response(),
    };
    let input: std::collections::BTreeMap<String, String> = body
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    match app.add_entry(&actor, id, section, &input).await {
        Ok(entry) => (StatusCode::CREATED, Json(serde_json::json!({ "id": entry }))).into_response(),
        Err(r) => refusal(r),
    }
}

#[derive(Debug, Deserialize)]
pub struct CloseBody {
    outcome: String,
    ended_on: String,
}

/// `PUT /api/v1/persons/{id}/pregnancies/{pregnancy}`: closes a pregnancy with its outcome.
pub async fn close_pregnancy(
    State(app): State<App>,
    ApiActor(actor): ApiActor,
    Path((id, pregnancy)): Path<(PersonId, String)>,
    Json(b): Json<CloseBody>,
) -> Result<Response, ApiError> {
    let pregnancy = pregnancy
        .parse::<i64>()
        .map_err(|_| ServiceError::NotFound { what: "thing.pregnancy", key: pregnancy.clone() })?;
    app.close_pregnancy(&actor, id.get(), pregnancy, &b.outcome, &b.ended_on).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
