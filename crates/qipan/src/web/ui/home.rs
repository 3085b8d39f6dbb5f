//! The home page: the day's work of the actor's unit (首页待办), and what this installation holds.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use domain::authz::Capability;
use domain::worklist::Category;
use serde::Deserialize;

use super::Chrome;
use crate::i18n::Messages;
use crate::service::worklist::{Task, Worklist};
use crate::service::{App, ServiceError};
use crate::web::auth::SignedIn;
use crate::web::error::{message_of, render};
use crate::web::{Lang, PageError};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: Messages,
    chrome: Chrome,
    counts: Option<Vec<(&'static str, u64)>>,
    engine: &'static str,
    roles: Vec<&'static str>,
    unit: String,
    /// The day's work, for those who have one.
    work: Option<Worklist>,
    /// Category bar: key, label, count, current.
    categories: Vec<(&'static str, &'static str, String, bool)>,
    tasks: Vec<TaskRow>,
    category: String,
    error: Option<String>,
    done: bool,
}

/// A task as the page shows it.
pub struct TaskRow {
    pub key: String,
    pub category: &'static str,
    pub subject: String,
    pub detail: String,
    pub due_on: String,
    pub overdue: bool,
    pub urgent: bool,
    pub href: String,
    pub unit: String,
}

fn task_row(t: &Messages, task: &Task) -> TaskRow {
    let (key, value) = &task.detail;
    // A detail value may itself name a catalogue entry (the kind of an exchange item).
    let value = match value.split_once(" · ") {
        Some((unit, kind)) if kind.starts_with("exchange.kind.") => format!("{unit} · {}", t.get(kind)),
        _ => value.clone(),
    };
    TaskRow {
        key: task.key.clone(),
        category: t.get(&format!("worklist.category.{}", task.category.as_str())),
        subject: task.subject.clone(),
        detail: t.fmt1(key, "value", value),
        due_on: task.due_on.to_string(),
        overdue: task.overdue,
        urgent: task.urgent,
        href: task.href.clone(),
        unit: task.unit.clone(),
    }
}

#[derive(Deserialize, Default)]
pub struct HomeParams {
    category: Option<String>,
    done: Option<String>,
}

/// Whether the actor has a day's work (clerks, officers, operators, supervisors).
fn has_work(actor: &crate::service::Actor) -> bool {
    actor.can(Capability::PersonRead) || actor.can(Capability::ExchangeAnswer) || actor.can(Capability::Supervise)
}

pub async fn page(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    Query(p): Query<HomeParams>,
) -> Response {
    home(&app, lang, &uri, &actor, p, None).await
}

async fn home(
    app: &App,
    lang: Lang,
    uri: &Uri,
    actor: &crate::service::Actor,
    p: HomeParams,
    error: Option<String>,
) -> Response {
    let t = lang.0;
    let work = if has_work(actor) {
        match app.worklist(actor).await {
            Ok(w) => Some(w),
            Err(e) => return PageError::new(lang, e).into_response(),
        }
    } else {
        None
    };
    let category = p.category.unwrap_or_default();
    let chosen = Category::parse(&category);
    let (categories, tasks) = match &work {
        Some(w) => (
            Category::ALL
                .into_iter()
                .filter_map(|c| {
                    let n = w.counts.get(&c).copied().unwrap_or(0);
                    (n > 0).then(|| {
                        (
                            c.as_str(),
                            t.get(&format!("worklist.category.{}", c.as_str())),
                            w.count_label(c),
                            chosen == Some(c),
                        )
                    })
                })
                .collect(),
            w.tasks
                .iter()
                .filter(|task| chosen.is_none_or(|c| task.category == c))
                .map(|task| task_row(&t, task))
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let counts = if actor.can(Capability::OrgRead) {
        match app.org_counts_by_level(actor).await {
            Ok(c) => Some(c.into_iter().map(|(level, n)| (t.level(level), n)).collect()),
            Err(e) => return PageError::new(lang, e).into_response(),
        }
    } else {
        None
    };
    let page = HomePage {
        t,
        chrome: Chrome::for_request(app, &t, Some(actor), "/", uri),
        counts,
        engine: app.store.engine().as_str(),
        roles: actor.roles.iter().map(|r| t.role(*r)).collect(),
        unit: format!("{} ({})", actor.org_name, actor.org),
        work,
        categories,
        tasks,
        category,
        error,
        done: p.done.is_some(),
    };
    render(&page, t)
}

fn field(body: &[u8], name: &str) -> String {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// `POST /worklist/mark`: done, or snoozed until a day with a reason.
pub async fn mark(State(app): State<App>, lang: Lang, uri: Uri, SignedIn(actor): SignedIn, body: Bytes) -> Response {
    let until = field(&body, "until");
    let snooze = field(&body, "action") == "snooze";
    if snooze && until.trim().is_empty() {
        let e = ServiceError::invalid("field.until", "rule.required", "");
        let (status, message) = message_of(&e, &lang.0);
        let mut response = home(&app, lang, &uri, &actor, HomeParams::default(), Some(message)).await;
        *response.status_mut() = status;
        return response;
    }
    let until = snooze.then_some(until.as_str());
    match app.mark_task(&actor, &field(&body, "key"), until, &field(&body, "reason")).await {
        Ok(()) => {
            let category = field(&body, "category");
            let back =
                if category.is_empty() { "/?done=1".to_owned() } else { format!("/?category={category}&done=1") };
            Redirect::to(&back).into_response()
        }
        Err(e @ ServiceError::Invalid { .. }) => {
            let (status, message) = message_of(&e, &lang.0);
            let mut response = home(&app, lang, &uri, &actor, HomeParams::default(), Some(message)).await;
            *response.status_mut() = status;
            response
        }
        Err(e) => PageError::new(lang, e).into_response(),
    }
}
