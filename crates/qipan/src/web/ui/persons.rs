//! The clerk's pages for personal records: search (also as the origin), registration of inflow
//! and outflow, the record page with its history, editing, and the end of a move.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use domain::codes::{CodeBook, CodeTable};
use domain::record::PersonInput;
use serde::Deserialize;
use store::Person;

use super::Chrome;
use super::orgs::Pager;
use crate::i18n::Messages;
use crate::service::{Actor, App, PersonRefusal, ServiceError};
use crate::web::api::persons::SearchParams;
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::ids::PathId;
use crate::web::{Lang, PageError};
use domain::ids::{PersonId, TypedId};

/// A record as a list row: ID number and phone masked.
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub id_number: String,
    pub gender: String,
    pub birth_date: String,
    pub direction: &'static str,
    pub moved_on: String,
    pub unit: String,
    pub hukou_area: String,
    pub status: &'static str,
}

fn label(codes: &CodeBook, t: &Messages, table: CodeTable, code: &str) -> String {
    codes.label(table, code, t.lang() == "en").unwrap_or(code).to_owned()
}

fn status_label(t: &Messages, status: &str) -> &'static str {
    t.get(match status {
        "returned" => "person.status_returned",
        "moved_on" => "person.status_moved_on",
        "removed" => "person.status_removed",
        _ => "person.status_active",
    })
}

fn direction_label(t: &Messages, d: &str) -> &'static str {
    t.get(if d == "out" { "person.direction_out" } else { "person.direction_in" })
}

impl PersonRow {
    fn new(p: &Person, t: &Messages, codes: &CodeBook) -> Self {
        let masked =
            p.id_number.as_deref().map(domain::person::mask_id).unwrap_or_else(|| t.get("person.no_id").to_owned());
        PersonRow {
            id: p.id,
            name: p.name.clone(),
            id_number: masked,
            gender: label(codes, t, CodeTable::Gender, &p.gender),
            // The year only: with the full date beside it a masked number could be rebuilt.
            birth_date: p.birth_date.format("%Y").to_string(),
            direction: direction_label(t, &p.direction),
            moved_on: p.moved_on.to_string(),
            unit: p.managing_name.clone(),
            hukou_area: p.hukou_area.clone(),
            status: status_label(t, &p.status),
        }
    }
}

#[derive(Template)]
#[template(path = "persons.html")]
struct SearchPage {
    t: Messages,
    chrome: Chrome,
    q: String,
    direction: String,
    origin: bool,
    key_person: bool,
    moved_from: String,
    moved_to: String,
    residence: String,
    sort: String,
    rows: Vec<PersonRow>,
    pager: Pager,
}

pub async fn search(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<SearchParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let query = p.to_query()?;
        Ok::<_, ServiceError>((app.search_persons(&actor, &query).await?, app.codes().await?))
    }
    .await;
    let (listing, codes) = match result {
        Ok(l) => l,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let pairs = [
        ("q", p.q.as_deref()),
        ("direction", p.direction.as_deref()),
        ("origin", p.origin.as_deref()),
        ("unit", p.unit.as_deref()),
        ("sort", p.sort.as_deref()),
        ("key_person", p.key_person.as_deref()),
        ("moved_from", p.moved_from.as_deref()),
        ("moved_to", p.moved_to.as_deref()),
        ("residence", p.residence.as_deref()),
    ];
    let page = SearchPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/persons", &uri),
        q: p.q.clone().unwrap_or_default(),
        direction: p.direction.clone().unwrap_or_default(),
        origin: matches!(p.origin.as_deref(), Some("1" | "on" | "true")),
        key_person: matches!(p.key_person.as_deref(), Some("1" | "on" | "true")),
        moved_from: p.moved_from.clone().unwrap_or_default(),
        moved_to: p.moved_to.clone().unwrap_or_default(),
        residence: p.residence.clone().unwrap_or_default(),
        sort: p.sort.clone().unwrap_or_default(),
        rows: listing.items.iter().map(|r| PersonRow::new(r, &t, &codes)).collect(),
        pager: Pager::new(&listing, "/persons", &pairs),
    };
    render(&page, t)
}

/// The form's fields, as typed, and the errors by field.
#[derive(Default)]
pub struct FormState {
    pub v: PersonInput,
    pub errors: Vec<(&'static str, String)>,
    pub version: i32,
}

impl FormState {
    pub fn error(&self, field: &str) -> String {
        self.errors.iter().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("；")
    }
}

/// The options of a code-table select: active codes, plus the selected one even if it was
/// deactivated since (so that editing an old record does not lose its value).
fn options(codes: &CodeBook, t: &Messages, table: CodeTable, selected: &str) -> Vec<(String, String, bool)> {
    let en = t.lang() == "en";
    codes
        .items(table)
        .iter()
        .filter(|i| i.active || i.code == selected)
        .map(|i| (i.code.clone(), if en { i.en.clone() } else { i.zh.clone() }, i.code == selected))
        .collect()
}

#[derive(Template)]
#[template(path = "person_form.html")]
struct FormPage {
    t: Messages,
    chrome: Chrome,
    title: &'static str,
    action: String,
    f: FormState,
    genders: Vec<(String, String, bool)>,
    ethnicities: Vec<(String, String, bool)>,
    educations: Vec<(String, String, bool)>,
    maritals: Vec<(String, String, bool)>,
    hukou_types: Vec<(String, String, bool)>,
    reasons: Vec<(String, String, bool)>,
    general_error: Option<String>,
}

/// The page title and where the form posts.
type Target = (&'static str, String);

fn form_page(
    app: &App,
    (t, codes): (Messages, &CodeBook),
    actor: &Actor,
    uri: &Uri,
    (title, action): Target,
    f: FormState,
    general_error: Option<String>,
) -> FormPage {
    FormPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/persons", uri),
        title,
        action,
        genders: options(codes, &t, CodeTable::Gender, &f.v.gender),
        ethnicities: options(codes, &t, CodeTable::Ethnicity, &f.v.ethnicity),
        educations: options(codes, &t, CodeTable::Education, &f.v.education),
        maritals: options(codes, &t, CodeTable::MaritalStatus, &f.v.marital_status),
        hukou_types: options(codes, &t, CodeTable::HukouType, &f.v.hukou_type),
        reasons: options(codes, &t, CodeTable::MoveReason, &f.v.move_reason),
        f,
        general_error,
    }
}

#[derive(Deserialize)]
pub struct NewParams {
    direction: Option<String>,
}

pub async fn new_form(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<NewParams>,
) -> Response {
    if let Err(e) = app.guard(&actor, domain::authz::Capability::PersonWrite).await {
        return PageError::new(lang, e).into_response();
    }
    let t = lang.0;
    let direction = if p.direction.as_deref() == Some("out") { "out" } else { "in" };
    let mut f = FormState::default();
    f.v.direction = direction.to_owned();
    f.v.managing_unit = actor.org.to_string();
    f.v.moved_on = app.clock.today().to_string();
    if direction == "in" {
        f.v.residence_area = actor.org.to_string();
    } else {
        f.v.hukou_area = actor.org.to_string();
    }
    let title = t.get(if direction == "out" { "person.new_out" } else { "person.new_in" });
    let codes = match app.codes().await {
        Ok(c) => c,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    render(&form_page(&app, (t, &codes), &actor, &uri, (title, "/persons".to_owned()), f, None), t)
}

fn input_of(body: &Bytes) -> PersonInput {
    let mut v = PersonInput::default();
    for (k, val) in url::form_urlencoded::parse(body) {
        let val = val.into_owned();
        match k.as_ref() {
            "id_number" => v.id_number = val,
            "name" => v.name = val,
            "gender" => v.gender = val,
            "birth_date" => v.birth_date = val,
            "ethnicity" => v.ethnicity = val,
            "education" => v.education = val,
            "phone" => v.phone = val,
            "marital_status" => v.marital_status = val,
            "hukou_area" => v.hukou_area = val,
            "hukou_address" => v.hukou_address = val,
            "hukou_type" => v.hukou_type = val,
            "residence_area" => v.residence_area = val,
            "residence_address" => v.residence_address = val,
            "managing_unit" => v.managing_unit = val,
            "direction" => v.direction = val,
            "moved_on" => v.moved_on = val,
            "move_reason" => v.move_reason = val,
            _ => {}
        }
    }
    v
}

fn version_of(body: &Bytes) -> i32 {
    url::form_urlencoded::parse(body).find(|(k, _)| k == "version").and_then(|(_, v)| v.parse().ok()).unwrap_or(-1)
}

/// Re-shows a refused form with each field's error, or the error page for anything else.
async fn refused(
    app: &App,
    lang: Lang,
    actor: &Actor,
    uri: &Uri,
    target: Target,
    mut f: FormState,
    r: PersonRefusal,
) -> Response {
    let t = lang.0;
    let codes = match app.codes().await {
        Ok(c) => c,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    match r {
        PersonRefusal::Fields(errors) => {
            f.errors = errors.iter().map(|e| (e.field, t.get(e.rule).to_owned())).collect();
            let mut response = render(
                &form_page(app, (t, &codes), actor, uri, target, f, Some(t.get("person.fix_fields").to_owned())),
                t,
            );
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        PersonRefusal::Other(
            e @ (ServiceError::Duplicate { .. } | ServiceError::Stale { .. } | ServiceError::Invalid { .. }),
        ) => {
            let (status, message) = message_of(&e, &t);
            let mut response = render(&form_page(app, (t, &codes), actor, uri, target, f, Some(message)), t);
            *response.status_mut() = status;
            response
        }
        PersonRefusal::Other(e) => PageError::new(lang, e).into_response(),
    }
}

pub async fn create(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn, body: Bytes) -> Response {
    let input = input_of(&body);
    match app.register_person(&actor, &input).await {
        Ok(id) => Redirect::to(&format!("/persons/{id}?done=1")).into_response(),
        Err(r) => {
            let title = lang.0.get(if input.direction == "out" { "person.new_out" } else { "person.new_in" });
            let f = FormState { v: input, ..Default::default() };
            refused(&app, lang, &actor, &uri, (title, "/persons".to_owned()), f, r).await
        }
    }
}

#[derive(Template)]
#[template(path = "id_check.html")]
struct IdCheck {
    t: Messages,
    facts: Option<String>,
    error: Option<&'static str>,
    existing: Vec<(i64, String, String)>,
}

#[derive(Deserialize)]
pub struct IdParam {
    id_number: Option<String>,
}

/// `GET /persons/check-id?id_number=…`: as the clerk types, what the number says (birth date,
/// gender) or which rule it breaks, and any record already on file with it.
pub async fn check_id(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    Query(p): Query<IdParam>,
) -> Response {
    let t = lang.0;
    let raw = p.id_number.unwrap_or_default();
    let raw = raw.trim();
    let mut page = IdCheck { t, facts: None, error: None, existing: Vec::new() };
    if raw.is_empty() {
        return render(&page, t);
    }
    match domain::id_number::IdNumber::parse(raw, app.clock.today()) {
        Ok(id) => {
            let codes = app.codes().await.unwrap_or_else(|_| CodeBook::shipped());
            page.facts =
                Some(format!("{} · {}", id.birth_date(), label(&codes, &t, CodeTable::Gender, id.gender().code())));
            match app.find_id_number(&actor, id.as_str()).await {
                Ok(found) => {
                    page.existing = found.iter().map(|p| (p.id, p.name.clone(), p.managing_name.clone())).collect()
                }
                Err(e) => return PageError::new(lang, e).into_response(),
            }
        }
        Err(e) => page.error = Some(t.get(e.rule_key())),
    }
    render(&page, t)
}

#[derive(Template)]
#[template(path = "person.html")]
struct RecordPage {
    t: Messages,
    chrome: Chrome,
    p: Person,
    read_only: bool,
    days_late: i64,
    birth_date: String,
    /// Reads of this record granted outside its scope (breaking the glass): who, unit, why, until.
    grants: Vec<(String, String, String, String)>,
    gender: String,
    ethnicity: String,
    education: String,
    marital: String,
    hukou_type: String,
    reason: String,
    direction: &'static str,
    status: &'static str,
    history: Vec<HistoryRow>,
    done: bool,
    error: Option<String>,
    today: String,
    sections: Vec<SectionView>,
    key_reasons: Vec<&'static str>,
    /// The actor sends exchange items (a county operator).
    exchange_operator: bool,
}

/// A section of the record page: its entries and the form that adds one.
pub struct SectionView {
    pub key: &'static str,
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    /// Entry id, its values for display, and whether it is an open pregnancy.
    pub rows: Vec<(i64, Vec<String>, bool)>,
    pub inputs: Vec<InputView>,
}

pub struct InputView {
    pub name: &'static str,
    pub label: &'static str,
    /// `date`, `number`, `select` or `text`.
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<(String, String)>,
}

fn section_view(
    t: &Messages,
    codes: &CodeBook,
    section: domain::sections::Section,
    rows: &[store::SectionRow],
) -> SectionView {
    use domain::sections::FieldKind;
    let fields = section.fields();
    let choice_label = |v: &str| t.get(&format!("choice.{v}"));
    let shown = |kind: FieldKind, raw: String| -> String {
        match kind {
            FieldKind::Code(table) => codes.label(table, &raw, t.lang() == "en").map(str::to_owned).unwrap_or(raw),
            FieldKind::Choice(_) if !raw.is_empty() => choice_label(&raw).to_owned(),
            _ => raw,
        }
    };
    SectionView {
        key: section.as_str(),
        title: t.get(&format!("section.{}", section.as_str())),
        headers: fields.iter().map(|f| t.get(&format!("entry.{}", f.name))).collect(),
        rows: rows
            .iter()
            .map(|r| {
                let values = fields
                    .iter()
                    .map(|f| shown(f.kind, r.values.get(f.name).map(|v| v.display()).unwrap_or_default()))
                    .collect();
                let open = section == domain::sections::Section::Pregnancies
                    && r.values.get("outcome").is_some_and(|o| o.display().is_empty());
                (r.id, values, open)
            })
            .collect(),
        inputs: fields
            .iter()
            .map(|f| {
                let (kind, options) = match f.kind {
                    FieldKind::Date => ("date", Vec::new()),
                    FieldKind::Number { .. } => ("number", Vec::new()),
                    FieldKind::Code(table) => (
                        "select",
                        codes
                            .items(table)
                            .iter()
                            .filter(|i| i.active)
                            .map(|i| (i.code.clone(), if t.lang() == "en" { i.en.clone() } else { i.zh.clone() }))
                            .collect(),
                    ),
                    FieldKind::Choice(values) => {
                        ("select", values.iter().map(|v| ((*v).to_owned(), choice_label(v).to_owned())).collect())
                    }
                    _ => ("text", Vec::new()),
                };
                InputView {
                    name: f.name,
                    label: t.get(&format!("entry.{}", f.name)),
                    kind,
                    required: f.required,
                    options,
                }
            })
            .collect(),
    }
}

pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub changes: Vec<(String, String, String)>,
}

fn history_rows(h: &[store::PersonChange]) -> Vec<HistoryRow> {
    h.iter()
        .map(|c| {
            let v: serde_json::Value = serde_json::from_str(&c.changes).unwrap_or_default();
            let show = |x: &serde_json::Value| match x {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "—".to_owned(),
                other => other.to_string(),
            };
            let changes = v
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, d)| {
                            d.get("before")
                                .map(|b| (k.clone(), show(b), show(d.get("after").unwrap_or(&serde_json::Value::Null))))
                        })
                        .collect()
                })
                .unwrap_or_default();
            HistoryRow {
                at: c.at.with_timezone(&domain::clock::china_standard_time()).format("%Y-%m-%d %H:%M").to_string(),
                actor: c.actor_name.clone(),
                action: c.action.clone(),
                changes,
            }
        })
        .collect()
}

async fn record_page(
    app: &App,
    lang: Lang,
    actor: &Actor,
    uri: &Uri,
    id: i64,
    done: bool,
    error: Option<String>,
) -> Response {
    let t = lang.0;
    let result = async { Ok::<_, ServiceError>((app.full_record(actor, id).await?, app.codes().await?)) }.await;
    let (crate::service::FullRecord { view, history, sections, grants }, codes) = match result {
        Ok(v) => v,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let p = view.person;
    let page = RecordPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/persons", uri),
        read_only: view.access != domain::authz::RecordAccess::Manage,
        days_late: view.days_late,
        birth_date: view.disclosure.birth_date(p.birth_date),
        grants: grants
            .iter()
            .map(|g| {
                let until = g.expires_at.with_timezone(&domain::clock::china_standard_time());
                (
                    g.actor_name.clone(),
                    g.actor_unit.clone(),
                    g.reason.clone(),
                    until.format("%Y-%m-%d %H:%M").to_string(),
                )
            })
            .collect(),
        gender: label(&codes, &t, CodeTable::Gender, &p.gender),
        ethnicity: label(&codes, &t, CodeTable::Ethnicity, p.ethnicity.as_deref().unwrap_or("")),
        education: label(&codes, &t, CodeTable::Education, p.education.as_deref().unwrap_or("")),
        marital: label(&codes, &t, CodeTable::MaritalStatus, p.marital_status.as_deref().unwrap_or("")),
        hukou_type: label(&codes, &t, CodeTable::HukouType, p.hukou_type.as_deref().unwrap_or("")),
        reason: label(&codes, &t, CodeTable::MoveReason, p.move_reason.as_deref().unwrap_or("")),
        direction: direction_label(&t, &p.direction),
        status: status_label(&t, &p.status),
        history: history_rows(&history),
        done,
        error,
        today: app.clock.today().to_string(),
        sections: sections.iter().map(|(s, rows)| section_view(&t, &codes, *s, rows)).collect(),
        key_reasons: p.key_reasons.split(',').filter(|r| !r.is_empty()).map(|r| t.get(r)).collect(),
        exchange_operator: actor.can(domain::authz::Capability::ExchangeAnswer),
        p,
    };
    render(&page, t)
}

#[derive(Deserialize)]
pub struct DoneParam {
    done: Option<String>,
}

pub async fn record(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<PersonId>,
    Query(d): Query<DoneParam>,
) -> Response {
    let id = id.get();
    record_page(&app, lang, &actor, &uri, id, d.done.is_some(), None).await
}

fn input_from(p: &Person) -> PersonInput {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    PersonInput {
        id_number: o(&p.id_number),
        name: p.name.clone(),
        gender: p.gender.clone(),
        birth_date: p.birth_date.to_string(),
        ethnicity: o(&p.ethnicity),
        education: o(&p.education),
        phone: o(&p.phone),
        marital_status: o(&p.marital_status),
        hukou_area: p.hukou_area.clone(),
        hukou_address: p.hukou_address.clone(),
        hukou_type: o(&p.hukou_type),
        residence_area: p.residence_area.clone(),
        residence_address: p.residence_address.clone(),
        managing_unit: p.managing_unit.clone(),
        direction: p.direction.clone(),
        moved_on: p.moved_on.to_string(),
        move_reason: o(&p.move_reason),
    }
}

pub async fn edit_form(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<PersonId>,
) -> Response {
    let t = lang.0;
    let result =
        async { Ok::<_, ServiceError>((app.person_for_edit(&actor, id.get()).await?, app.codes().await?)) }.await;
    match result {
        Ok((p, codes)) => {
            let f = FormState { v: input_from(&p), errors: Vec::new(), version: p.version };
            render(
                &form_page(
                    &app,
                    (t, &codes),
                    &actor,
                    &uri,
                    (t.get("person.edit"), format!("/persons/{}/edit", p.id)),
                    f,
                    None,
                ),
                t,
            )
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

pub async fn edit(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<PersonId>,
    body: Bytes,
) -> Response {
    let id = id.get();
    let input = input_of(&body);
    let version = version_of(&body);
    match app.edit_person(&actor, id, Some(version), &input).await {
        Ok(()) => Redirect::to(&format!("/persons/{id}?done=1")).into_response(),
        Err(PersonRefusal::Other(ServiceError::Stale { .. })) => {
            // Show the record as it is now, with what the other person changed on top.
            let message = lang.0.get("person.stale");
            let mut response = record_page(&app, lang, &actor, &uri, id, false, Some(message.to_owned())).await;
            *response.status_mut() = StatusCode::CONFLICT;
            response
        }
        Err(r) => {
            let f = FormState { v: input, errors: Vec::new(), version };
            refused(&app, lang, &actor, &uri, (lang.0.get("person.edit"), format!("/persons/{id}/edit")), f, r).await
        }
    }
}

pub async fn end(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<PersonId>,
    body: Bytes,
) -> Response {
    let id = id.get();
    let field = |name: &str| {
        url::form_urlencoded::parse(&body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    match app.end_person(&actor, id, version_of(&body), &field("status"), &field("ended_on"), &field("note")).await {
        Ok(()) if field("status") == "removed" => Redirect::to("/persons").into_response(),
        Ok(()) => Redirect::to(&format!("/persons/{id}?done=1")).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Stale { .. })) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = record_page(&app, lang, &actor, &uri, id, false, Some(message)).await;
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

/// `POST /persons/{id}/entries`: adds an entry to the section the form names.
pub async fn add_entry(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<PersonId>,
    body: Bytes,
) -> Response {
    let id = id.get();
    let input: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().filter(|(k, _)| k != "_csrf").collect();
    let Some(section) = input.get("section").and_then(|s| domain::sections::Section::parse(s)) else {
        return PageError::new(lang, ServiceError::invalid("field.section", "rule.choice", "")).into_response();
    };
    match app.add_entry(&actor, id, section, &input).await {
        Ok(_) => Redirect::to(&format!("/persons/{id}?done=1#{}", section.as_str())).into_response(),
        Err(PersonRefusal::Fields(errors)) => {
            let t = lang.0;
            let message = errors
                .iter()
                .map(|e| format!("{}：{}", t.get(&format!("entry.{}", e.field)), t.get(e.rule)))
                .collect::<Vec<_>>()
                .join("；");
            let mut response = record_page(&app, lang, &actor, &uri, id, false, Some(message)).await;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
        Err(PersonRefusal::Other(e)) => PageError::new(lang, e).into_response(),
    }
}

/// `POST /persons/{id}/pregnancies/{pregnancy}/close`.
pub async fn close_pregnancy(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Path((id, pregnancy)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (id, pregnancy) = match (PersonId::parse(&id), pregnancy.parse::<i64>()) {
        (Some(id), Ok(p)) => (id.get(), p),
        _ => {
            return PageError::new(lang, ServiceError::NotFound { what: "thing.pregnancy", key: pregnancy })
                .into_response();
        }
    };
    let field = |name: &str| {
        url::form_urlencoded::parse(&body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    match app.close_pregnancy(&actor, id, pregnancy, &field("outcome"), &field("ended_on")).await {
        Ok(()) => Redirect::to(&format!("/persons/{id}?done=1#pregnancies")).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Stale { .. })) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = record_page(&app, lang, &actor, &uri, id, false, Some(message)).await;
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct GlassForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    reason: String,
}

/// `POST /persons/glass`: breaks the glass for a record outside the actor's scope, then opens it.
pub async fn glass(
    State(app): State<App>,
    lang: Lang,
    SignedIn(actor): SignedIn,
    axum::Form(f): axum::Form<GlassForm>,
) -> Response {
    match app.break_glass(&actor, &f.id_number, &f.reason).await {
        Ok(ids) => Redirect::to(&format!("/persons/{}", ids[0])).into_response(),
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
