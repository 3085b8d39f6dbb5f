//! What every case's JSON shares: its timeline and the messages it sent, as one object flattened
//! into the case's detail.

use serde::Serialize;

use crate::service::Timeline;

/// A timeline row.
#[derive(Serialize)]
struct EventJson {
    at: String,
    event: String,
    actor: String,
    unit: String,
    note: String,
}

/// A text message of the notification outbox and its delivery state.
#[derive(Serialize)]
struct NotificationJson {
    id: i64,
    recipient: String,
    channel: String,
    state: String,
    attempts: i32,
    last_error: Option<String>,
    next_attempt_at: String,
    sent_at: Option<String>,
}

impl From<&store::Notification> for NotificationJson {
    fn from(n: &store::Notification) -> Self {
        NotificationJson {
            id: n.id,
            recipient: n.recipient.clone(),
            channel: n.channel.clone(),
            state: n.state.clone(),
            attempts: n.attempts,
            last_error: n.last_error.clone(),
            next_attempt_at: n.next_attempt_at.to_rfc3339(),
            sent_at: n.sent_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// A case's `timeline` and `notifications` members.
#[derive(Serialize)]
pub(crate) struct TimelineJson {
    timeline: Vec<EventJson>,
    notifications: Vec<NotificationJson>,
}

impl From<&Timeline> for TimelineJson {
    fn from(t: &Timeline) -> Self {
        TimelineJson {
            timeline: t
                .events
                .iter()
                .map(|e| EventJson {
                    at: e.at.to_rfc3339(),
                    event: e.event.clone(),
                    actor: e.actor_name.clone(),
                    unit: e.actor_unit.clone(),
                    note: e.note.clone(),
                })
                .collect(),
            notifications: t.notifications.iter().map(NotificationJson::from).collect(),
        }
    }
}
