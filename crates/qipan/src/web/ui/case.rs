//! What every case's page shares: its timeline and notifications as one view, the page's GET
//! handler and one POST handler for every action, which redirects to the case on success and
//! shows the page again with the refusal (400 or 409) otherwise. A kind of case says how to
//! render its page and what each action calls in a [`CasePage`] impl.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, post};
use chrono::{DateTime, Utc};
use domain::case::CaseKind;
use domain::clock::china_standard_time;
use domain::ids::{CaseId, TypedId};
use serde::Deserialize;
use store::Notification;

use crate::i18n::Messages;
use crate::service::{Actor, App, ServiceError, ServiceResult, Timeline};
use crate::web::auth::SignedIn;
use crate::web::error::message_of;
use crate::web::ids::PathId;
use crate::web::{Lang, PageError};

fn local(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.with_timezone(&china_standard_time()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// One row of a timeline, ready to show.
pub struct EventRow {
    pub at: String,
    pub label: String,
    pub actor: String,
    pub note: String,
}

/// One message of an outbox, ready to show.
pub struct NotificationRow {
    pub recipient: String,
    pub unit: String,
    pub channel: String,
    pub state: String,
    pub state_key: String,
    pub attempts: i32,
    pub error: String,
    pub at: String,
    pub message: String,
}

pub fn notification_row(n: &Notification) -> NotificationRow {
    NotificationRow {
        recipient: if n.recipient_name.is_empty() {
            n.recipient.clone()
        } else {
            format!("{} ({})", n.recipient_name, n.recipient)
        },
        unit: n.unit.clone(),
        channel: n.channel.clone(),
        state: n.state.clone(),
        state_key: format!("exchange.delivery.{}", n.state),
        attempts: n.attempts,
        error: n.last_error.clone().unwrap_or_default(),
        at: local(n.sent_at.or(Some(n.next_attempt_at))),
        message: n.message.clone(),
    }
}

/// A case's timeline and messages as `case_timeline.html` shows them.
pub struct TimelineView {
    pub events: Vec<EventRow>,
    pub notifications: Vec<NotificationRow>,
}

impl TimelineView {
    pub fn new(t: &Messages, kind: CaseKind, timeline: &Timeline) -> TimelineView {
        let events = timeline
            .events
            .iter()
            .map(|e| EventRow {
                at: local(Some(e.at)),
                label: t.get(&format!("{}{}", kind.event_labels(), e.event)).to_owned(),
                actor: if e.actor_unit.is_empty() {
                    e.actor_name.clone()
                } else {
                    format!("{} · {}", e.actor_name, e.actor_unit)
                },
                note: match kind.note_labels(&e.event) {
                    Some(prefix) => t.get(&format!("{prefix}{}", e.note)).to_owned(),
                    None => e.note.clone(),
                },
            })
            .collect();
        TimelineView { events, notifications: timeline.notifications.iter().map(notification_row).collect() }
    }
}

/// Who asks for a page, and through which request.
#[derive(Clone, Copy)]
pub(crate) struct Viewer<'a> {
    pub app: &'a App,
    pub lang: Lang,
    pub actor: &'a Actor,
    pub uri: &'a Uri,
}

/// A kind of case as the pages show it.
pub(crate) trait CasePage: Send + Sync + 'static {
    /// The id its path names, which says its kind.
    type Id: CaseId + Send + Sync + 'static;
    /// What a POST on it can do.
    type Act: Copy + Send + Sync + 'static;

    /// What its page shows.
    type View: Send;

    /// Reads one case for its page (receiving it, where opening it receives it).
    fn load(app: &App, actor: &Actor, id: i64) -> impl Future<Output = ServiceResult<Self::View>> + Send;

    /// Renders the page of one case, after an action when `done`, with a refusal when `error`.
    fn render(cx: Viewer<'_>, view: Self::View, done: bool, error: Option<String>) -> Response;

    /// Takes an action with the form's fields.
    fn act(
        app: &App,
        actor: &Actor,
        id: i64,
        body: &[u8],
        what: Self::Act,
    ) -> impl Future<Output = ServiceResult<()>> + Send;
}

#[derive(Deserialize)]
pub struct DoneParam {
    pub done: Option<String>,
}

/// The page of one case, or the refusal to show it.
async fn page<P: CasePage>(cx: Viewer<'_>, id: i64, done: bool, error: Option<String>) -> Response {
    match P::load(cx.app, cx.actor, id).await {
        Ok(view) => P::render(cx, view, done, error),
        Err(e) => PageError::new(cx.lang, e).into_response(),
    }
}

/// The GET handler of a case's page.
pub(crate) async fn show<P: CasePage>(
    State(app): State<App>,
    lang: Lang,
    uri: Uri,
    SignedIn(actor): SignedIn,
    PathId(id): PathId<P::Id>,
    Query(d): Query<DoneParam>,
) -> Response {
    let v = Viewer { app: &app, lang, actor: &actor, uri: &uri };
    page::<P>(v, id.get(), d.done.is_some(), None).await
}

/// The POST handler of one action on a case.
pub(crate) fn action<P: CasePage>(what: P::Act) -> MethodRouter<App> {
    post(
        move |State(app): State<App>,
              lang: Lang,
              uri: Uri,
              SignedIn(actor): SignedIn,
              PathId(id): PathId<P::Id>,
              body: Bytes| async move {
            let id = id.get();
            match P::act(&app, &actor, id, &body, what).await {
                Ok(()) => Redirect::to(&format!("{}?done=1", <P::Id as CaseId>::KIND.page(id))).into_response(),
                Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict { .. })) => {
                    let (status, message) = message_of(&e, &lang.0);
                    let v = Viewer { app: &app, lang, actor: &actor, uri: &uri };
                    let mut response = page::<P>(v, id, false, Some(message)).await;
                    *response.status_mut() = status;
                    response
                }
                Err(e) => PageError::new(lang, e).into_response(),
            }
        },
    )
}
