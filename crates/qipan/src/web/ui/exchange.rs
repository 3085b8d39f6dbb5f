//! The exchange pages: inbox and outbox, a new item, one item with its timeline and actions,
//! the statistics of a unit with the province's quarterly ranking, the notification outbox and
//! the working-day calendar (system administrators).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Utc};
use domain::OrgCode;
use domain::calendar::CalendarDay;
use domain::case::CaseKind;
use domain::clock::china_standard_time;
use domain::exchange::{CATEGORIES, Cycle, Kind, NOTIFICATION_REASONS, Quarter, Status, Urgency};
use domain::person::mask_id;
use serde::Deserialize;
use store::Item;

use super::Chrome;
use super::case::{CasePage, NotificationRow, TimelineView, Viewer, notification_row};
use super::orgs::Pager;
use crate::i18n::Messages;
use crate::service::exchange::{AnswerRequest, CycleStats, ItemRequest, ItemView, Ranking, SEARCH_STEPS, status_label};
use crate::service::{Actor, App, ServiceError, ServiceResult};
use crate::web::api::exchange::ListParams;
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::{Lang, PageError};
use domain::ids::ItemId;

fn local(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.with_timezone(&china_standard_time()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

fn field(body: &[u8], name: &str) -> String {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn fields(body: &[u8], name: &str) -> Vec<String> {
    url::form_urlencoded::parse(body).filter(|(k, _)| k == name).map(|(_, v)| v.into_owned()).collect()
}

/// One line of a list, ready to show.
pub struct Row {
    pub id: i64,
    pub kind: &'static str,
    pub person: String,
    pub id_number: String,
    pub from_unit: String,
    pub to_unit: String,
    pub status: String,
    pub status_key: String,
    pub urgent: bool,
    pub overdue: bool,
    pub due: String,
    pub cycle: String,
    pub suggested: bool,
}

fn kind_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Verification => "exchange.kind.verification",
        Kind::Notification => "exchange.kind.notification",
        Kind::ServiceInfo => "exchange.kind.service_info",
    }
}

pub(crate) fn row(t: &Messages, i: &Item) -> Row {
    let status = status_label(i).to_owned();
    Row {
        id: i.id,
        kind: t.get(kind_key(i.kind)),
        person: i.person_name.clone(),
        id_number: i.person_id_number.as_deref().map(mask_id).unwrap_or_default(),
        from_unit: i.from_unit.to_string(),
        to_unit: i.to_unit.to_string(),
        status_key: format!("exchange.status.{status}"),
        overdue: status == "overdue",
        status,
        urgent: i.urgency == Urgency::Urgent,
        due: i.due_on.or(i.send_due_on).map(|d| d.to_string()).unwrap_or_default(),
        cycle: i.cycle.clone().unwrap_or_default(),
        suggested: i.source == "suggested",
    }
}

#[derive(Template)]
#[template(path = "exchange_list.html")]
struct ListPage {
    t: Messages,
    chrome: Chrome,
    outbox: bool,
    operator: bool,
    rows: Vec<Row>,
    pager: Pager,
    status: String,
    kind: String,
    cycle: String,
    person_id: String,
    statuses: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
}

pub async fn list(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<ListParams>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Response {
    let t = lang.0;
    let result = async {
        let q = p.to_query()?;
        Ok::<_, ServiceError>((q.mailbox, app.exchange_items(&actor, &q).await?))
    }
    .await;
    let (mailbox, listing) = match result {
        Ok(x) => x,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let get = |k: &str| raw.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let outbox = mailbox == crate::service::exchange::Box::Outbox;
    let (status, kind, cycle, person_id) = (get("status"), get("kind"), get("cycle"), get("person_id"));
    let pairs = [
        ("box", Some(if outbox { "outbox" } else { "inbox" })),
        ("person_id", Some(person_id.as_str())),
        ("status", Some(status.as_str())),
        ("kind", Some(kind.as_str())),
        ("cycle", Some(cycle.as_str())),
    ];
    let page = ListPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/exchange", &uri),
        outbox,
        operator: actor.can(domain::authz::Capability::ExchangeAnswer),
        rows: listing.items.iter().map(|i| row(&t, i)).collect(),
        pager: Pager::new(&listing, "/exchange", &pairs),
        statuses: ["draft", "submitted", "received", "answered", "overdue", "withdrawn"]
            .into_iter()
            .map(|s| (s, t.get(&format!("exchange.status.{s}"))))
            .collect(),
        kinds: Kind::ALL.into_iter().map(|k| (k.as_str(), t.get(kind_key(k)))).collect(),
        status,
        kind,
        cycle,
        person_id,
    };
    render(&page, t)
}

#[derive(Template)]
#[template(path = "exchange_new.html")]
struct NewPage {
    t: Messages,
    chrome: Chrome,
    error: Option<String>,
    person_id: String,
    person_name: String,
    categories: Vec<(&'static str, &'static str, bool)>,
    reasons: Vec<(&'static str, &'static str, bool)>,
    kinds: Vec<(&'static str, &'static str, bool)>,
    remarks: String,
}

#[derive(Deserialize)]
pub struct NewParams {
    person: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn new_page(
    app: &App,
    t: Messages,
    actor: &Actor,
    uri: &Uri,
    person_id: &str,
    kind: &str,
    chosen: &[String],
    reason: &str,
    remarks: &str,
    error: Option<String>,
) -> NewPage {
    let person_name = match person_id.parse::<i64>() {
        Ok(id) => app.person_for_edit(actor, id).await.map(|p| p.name).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let kind = if kind.is_empty() { "verification" } else { kind };
    NewPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/exchange", uri),
        error,
        person_id: person_id.to_owned(),
        person_name,
        categories: CATEGORIES
            .into_iter()
            .map(|c| (c, t.get(&format!("exchange.category.{c}")), chosen.iter().any(|x| x == c)))
            .collect(),
        reasons: NOTIFICATION_REASONS
            .into_iter()
            .map(|r| (r, t.get(&format!("exchange.reason.{r}")), r == reason))
            .collect(),
        kinds: Kind::ALL.into_iter().map(|k| (k.as_str(), t.get(kind_key(k)), k.as_str() == kind)).collect(),
        remarks: remarks.to_owned(),
    }
}

pub async fn new_form(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<NewParams>,
) -> Response {
    if let Err(e) = app.guard(&actor, domain::authz::Capability::ExchangeAnswer).await {
        return PageError::new(lang, e).into_response();
    }
    let person = p.person.unwrap_or_default();
    let page = new_page(&app, lang.0, &actor, &uri, &person, "", &["basic".to_owned()], "", "", None).await;
    render(&page, lang.0)
}

pub async fn create(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn, body: Bytes) -> Response {
    let t = lang.0;
    let person = field(&body, "person_id");
    let categories = fields(&body, "categories");
    let req = ItemRequest {
        kind: field(&body, "kind"),
        person_id: person.trim().parse().unwrap_or(0),
        categories: categories.clone(),
        reason: Some(field(&body, "reason")),
        remarks: field(&body, "remarks"),
        submit: field(&body, "action") == "submit",
    };
    match app.create_exchange_item(&actor, &req).await {
        Ok(id) => Redirect::to(&format!("/exchange/{id}?done=1")).into_response(),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict { .. } | ServiceError::NotFound { .. })) => {
            let (status, message) = message_of(&e, &t);
            let reason = field(&body, "reason");
            let page =
                new_page(&app, t, &actor, &uri, &person, &req.kind, &categories, &reason, &req.remarks, Some(message))
                    .await;
            let mut response = render(&page, t);
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "exchange_item.html")]
struct ItemPage {
    t: Messages,
    chrome: Chrome,
    done: bool,
    error: Option<String>,
    v: ItemView,
    row: Row,
    categories: Vec<&'static str>,
    reason: String,
    submitted_at: String,
    received_at: String,
    answered_at: String,
    timeline: TimelineView,
    steps: Vec<(&'static str, &'static str)>,
    step_labels: Vec<&'static str>,
    fact_choices: Vec<(&'static str, &'static str)>,
    facts: Vec<(&'static str, &'static str)>,
    can_send: bool,
    can_answer: bool,
    can_remind: bool,
    can_facts: bool,
}

fn item_page(cx: Viewer<'_>, v: ItemView, done: bool, error: Option<String>) -> Response {
    let (app, lang, actor, uri) = (cx.app, cx.lang, cx.actor, cx.uri);
    let t = lang.0;
    let i = &v.item;
    let waiting = matches!(i.status, Status::Submitted | Status::Received);
    let overdue_now = i.overdue_at.is_some() || i.due_on.is_some_and(|d| app.clock.today() > d);
    let supervises = actor.can(domain::authz::Capability::Supervise);
    let facts_map: std::collections::BTreeMap<String, String> =
        i.facts.as_deref().and_then(|f| serde_json::from_str(f).ok()).unwrap_or_default();
    let page = ItemPage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/exchange", uri),
        done,
        error,
        row: row(&t, i),
        categories: i
            .categories
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| t.get(&format!("exchange.category.{c}")))
            .collect(),
        reason: i.reason.as_deref().map(|r| t.get(&format!("exchange.reason.{r}")).to_owned()).unwrap_or_default(),
        submitted_at: local(i.submitted_at),
        received_at: local(i.received_at),
        answered_at: local(i.answered_at),
        timeline: TimelineView::new(&t, CaseKind::Exchange, &v.timeline),
        steps: SEARCH_STEPS.into_iter().map(|s| (s, t.get(&format!("exchange.step.{s}")))).collect(),
        step_labels: i
            .search_steps
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| t.get(&format!("exchange.step.{s}")))
            .collect(),
        fact_choices: CATEGORIES
            .into_iter()
            .filter(|c| i.categories.split(',').any(|x| x == *c))
            .map(|c| (c, t.get(&format!("exchange.category.{c}"))))
            .collect(),
        facts: facts_map
            .iter()
            .filter_map(|(c, verdict)| {
                let c = CATEGORIES.into_iter().find(|x| x == c)?;
                Some((t.get(&format!("exchange.category.{c}")), t.get(&format!("exchange.fact.{verdict}"))))
            })
            .collect(),
        can_send: v.sides.sends && i.status == Status::Draft,
        can_answer: v.sides.answers && waiting,
        can_remind: waiting && overdue_now && (v.sides.sends || supervises),
        can_facts: waiting && actor.can(domain::authz::Capability::PersonWrite) && !v.sides.answers,
        v,
    };
    render(&page, t)
}

/// An exchange item's page and actions.
pub struct ItemCase;

/// What a POST on an item does.
#[derive(Debug, Clone, Copy)]
pub enum Act {
    Submit,
    Answer,
    Remind,
    Facts,
    Withdraw,
}

impl CasePage for ItemCase {
    type Id = ItemId;
    type Act = Act;
    type View = ItemView;

    async fn load(app: &App, actor: &Actor, id: i64) -> ServiceResult<ItemView> {
        app.open_exchange_item(actor, id).await
    }

    fn render(cx: Viewer<'_>, view: ItemView, done: bool, error: Option<String>) -> Response {
        item_page(cx, view, done, error)
    }

    async fn act(app: &App, actor: &Actor, id: i64, body: &[u8], what: Act) -> ServiceResult<()> {
        match what {
            Act::Submit => app.submit_exchange_item(actor, id).await,
            Act::Answer => {
                let facts = CATEGORIES
                    .into_iter()
                    .filter_map(|c| {
                        let v = field(body, &format!("fact_{c}"));
                        (!v.is_empty()).then(|| (c.to_owned(), v))
                    })
                    .collect();
                let req = AnswerRequest {
                    found: field(body, "found") == "yes",
                    remarks: field(body, "remarks"),
                    search_steps: fields(body, "steps"),
                    facts,
                };
                if field(body, "found").is_empty() {
                    Err(ServiceError::invalid("field.found", "rule.required", ""))
                } else {
                    app.answer_exchange_item(actor, id, &req).await
                }
            }
            Act::Remind => app.remind_exchange_item(actor, id, &field(body, "note")).await,
            Act::Facts => app.supply_exchange_facts(actor, id, &field(body, "note")).await,
            Act::Withdraw => app.withdraw_exchange_item(actor, id, &field(body, "note")).await,
        }
    }
}

/// A county's line in the ranking, ready to show.
pub struct RankRow {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub feedback: String,
    pub timeliness: String,
    pub receipt: String,
    pub bottom: bool,
    pub flagged: bool,
}

pub struct StatsRow {
    pub cycle: String,
    pub closed: bool,
    pub s: CycleStats,
    pub receipt: String,
    pub feedback: String,
    pub timeliness: String,
}

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".to_owned())
}

#[derive(Template)]
#[template(path = "exchange_stats.html")]
struct StatsPage {
    t: Messages,
    chrome: Chrome,
    unit: String,
    unit_name: String,
    rows: Vec<StatsRow>,
    quarter: String,
    ranking: Option<Ranking>,
    ranking_rows: Vec<RankRow>,
    target: String,
}

#[derive(Deserialize)]
pub struct StatsParams {
    unit: Option<String>,
    quarter: Option<String>,
}

pub async fn stats(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<StatsParams>,
) -> Response {
    let t = lang.0;
    let result = async {
        let unit = match p.unit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(u) => OrgCode::parse(u).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", u))?,
            None => actor.org.clone(),
        };
        let quarter = match p.quarter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(q) => Quarter::parse(q)
                .ok_or_else(|| ServiceError::invalid("field.quarter", "exchange.rule.quarter_format", q))?,
            None => Cycle::of_submission(app.clock.today()).quarter(),
        };
        // The six cycles up to the current one, newest first.
        let mut cycle = Cycle::of_submission(app.clock.today());
        let mut rows = Vec::new();
        for _ in 0..6 {
            let s = app.exchange_stats(&actor, &unit, cycle).await?;
            rows.push(StatsRow {
                cycle: cycle.to_string(),
                closed: s.closed,
                receipt: pct(s.rates.receipt_rate),
                feedback: pct(s.rates.feedback_rate),
                timeliness: pct(s.rates.timeliness),
                s,
            });
            cycle = cycle.prev();
        }
        let province =
            OrgCode::parse(unit.province()).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", ""))?;
        let ranking = if actor.can(domain::authz::Capability::Supervise)
            || actor.can(domain::authz::Capability::ExchangeAnswer)
        {
            app.exchange_ranking(&actor, &province, quarter).await.ok()
        } else {
            None
        };
        Ok::<_, ServiceError>((unit, rows, quarter, ranking))
    }
    .await;
    let (unit, rows, quarter, ranking) = match result {
        Ok(x) => x,
        Err(e) => return PageError::new(lang, e).into_response(),
    };
    let ranking_rows = ranking
        .as_ref()
        .map(|r| {
            r.rows
                .iter()
                .map(|(x, name)| RankRow {
                    rank: x.rank,
                    code: x.unit.clone(),
                    name: name.clone(),
                    feedback: pct(x.rates.feedback_rate),
                    timeliness: pct(x.rates.timeliness),
                    receipt: pct(x.rates.receipt_rate),
                    bottom: x.bottom_three,
                    flagged: x.flagged,
                })
                .collect()
        })
        .unwrap_or_default();
    let unit_name = rows.first().map(|r| r.s.unit_name.clone()).unwrap_or_default();
    let page = StatsPage {
        t,
        chrome: Chrome::for_request(&app, &t, Some(&actor), "/exchange", &uri),
        unit: unit.to_string(),
        unit_name,
        rows,
        quarter: quarter.to_string(),
        ranking,
        ranking_rows,
        target: pct(Some(domain::exchange::FEEDBACK_TARGET)),
    };
    render(&page, t)
}

#[derive(Template)]
#[template(path = "exchange_notifications.html")]
struct NotificationsPage {
    t: Messages,
    chrome: Chrome,
    rows: Vec<NotificationRow>,
}

pub async fn notifications(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn) -> Response {
    let t = lang.0;
    match app.notification_outbox(&actor).await {
        Ok(list) => {
            let page = NotificationsPage {
                t,
                chrome: Chrome::for_request(&app, &t, Some(&actor), "/exchange", &uri),
                rows: list.iter().map(notification_row).collect(),
            };
            render(&page, t)
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    t: Messages,
    chrome: Chrome,
    error: Option<String>,
    done: bool,
    years: Vec<(i32, Vec<CalendarDay>)>,
    announced: Vec<i32>,
    /// Only the top of the installation changes the calendar; below it the page reads.
    editable: bool,
}

async fn calendar_page(app: &App, lang: Lang, actor: &Actor, uri: &Uri, done: bool, error: Option<String>) -> Response {
    let t = lang.0;
    let result =
        async { Ok::<_, ServiceError>((app.calendar_days(actor).await?, app.calendar_years(actor).await?)) }.await;
    match result {
        Ok((days, announced)) => {
            let mut years: Vec<(i32, Vec<CalendarDay>)> = Vec::new();
            for d in days {
                match years.last_mut() {
                    Some((y, list)) if *y == d.date.year() => list.push(d),
                    _ => years.push((d.date.year(), vec![d])),
                }
            }
            years.reverse();
            let page = CalendarPage {
                t,
                chrome: Chrome::for_request(app, &t, Some(actor), "/admin/calendar", uri),
                error,
                done,
                years,
                announced,
                editable: actor.at_installation_top(),
            };
            render(&page, t)
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}

pub async fn calendar(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(d): Query<super::case::DoneParam>,
) -> Response {
    calendar_page(&app, lang, &actor, &uri, d.done.is_some(), None).await
}

pub async fn calendar_change(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    body: Bytes,
) -> Response {
    let action = field(&body, "action");
    let result = match action.as_str() {
        "announce" | "unannounce" => app.set_calendar_year(&actor, &field(&body, "year"), action == "announce").await,
        _ => app.set_calendar_day(&actor, &field(&body, "date"), &field(&body, "kind"), &field(&body, "holiday")).await,
    };
    match result {
        Ok(()) => Redirect::to("/admin/calendar?done=1").into_response(),
        Err(e @ ServiceError::Invalid { .. }) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = calendar_page(&app, lang, &actor, &uri, false, Some(message)).await;
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
