//! The case kernel's store: one timeline (`case_events`), one notification queue and one audit
//! append for every kind of case, written once as the methods of [`CaseTx`], which both engines'
//! transactions implement. A transition is one conditional UPDATE ("from one of these states"),
//! so a second answer or a close of a closed order changes nothing, plus its timeline row, the
//! notifications it sends and its audit entry, committed together by [`Store::advance_case`].

use chrono::{DateTime, NaiveDate, Utc};
use domain::case::{CaseKind, CaseRef, CaseState, Transition};

use crate::{AuditDraft, Context, Store, StoreError, StoreResult, on_pool};

/// The table that holds the cases of a kind.
fn table(kind: CaseKind) -> &'static str {
    match kind {
        CaseKind::Exchange => "exchange_items",
        CaseKind::Order => "supervision_orders",
    }
}

/// Who did something, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventActor {
    pub name: String,
    pub unit: String,
}

impl EventActor {
    /// Qipan itself (a scheduled job).
    pub fn system() -> EventActor {
        EventActor { name: "qipan".to_owned(), unit: String::new() }
    }
}

/// One row of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    pub id: i64,
    pub case: CaseRef,
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub actor_unit: String,
    pub event: String,
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    case_kind: String,
    case_id: i64,
    at: DateTime<Utc>,
    actor_name: String,
    actor_unit: String,
    event: String,
    note: String,
}

fn case_of(kind: &str, id: i64) -> StoreResult<CaseRef> {
    CaseKind::parse(kind)
        .map(|k| k.case(id))
        .ok_or_else(|| StoreError::Corrupt { what: "case kind", detail: kind.to_owned() })
}

impl TryFrom<EventRow> for CaseEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> StoreResult<CaseEvent> {
        Ok(CaseEvent {
            id: r.id,
            case: case_of(&r.case_kind, r.case_id)?,
            at: r.at,
            actor_name: r.actor_name,
            actor_unit: r.actor_unit,
            event: r.event,
            note: r.note,
        })
    }
}

/// A message waiting in (or gone through) the notification outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    /// The case that sent it.
    pub case: Option<CaseRef>,
    pub channel: String,
    pub recipient: String,
    pub recipient_name: String,
    pub unit: String,
    pub message: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// The exchange item that sent it, if an item did.
    pub fn item_id(&self) -> Option<i64> {
        self.case.filter(|c| c.kind == CaseKind::Exchange).map(|c| c.id)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: i64,
    case_kind: Option<String>,
    case_id: Option<i64>,
    channel: String,
    recipient: String,
    recipient_name: String,
    unit: String,
    message: String,
    state: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

pub(crate) const NOTIFICATION_COLUMNS: &str = "n.id, n.case_kind, n.case_id, n.channel, n.recipient, \
    n.recipient_name, n.unit, n.message, n.state, n.attempts, n.next_attempt_at, n.last_error, n.created_at, n.sent_at";

pub(crate) fn notifications_of(rows: Vec<NotificationRow>) -> StoreResult<Vec<Notification>> {
    rows.into_iter()
        .map(|r| {
            let case = match (r.case_kind.as_deref(), r.case_id) {
                (Some(kind), Some(id)) => Some(case_of(kind, id)?),
                _ => None,
            };
            Ok(Notification {
                id: r.id,
                case,
                channel: r.channel,
                recipient: r.recipient,
                recipient_name: r.recipient_name,
                unit: r.unit,
                message: r.message,
                state: r.state,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                last_error: r.last_error,
                created_at: r.created_at,
                sent_at: r.sent_at,
            })
        })
        .collect()
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub channel: String,
    pub recipient: String,
    pub recipient_name: String,
    pub unit: String,
    pub message: String,
}

/// One value a transition writes into its case's row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Bool(Option<bool>),
    Date(Option<NaiveDate>),
    Time(Option<DateTime<Utc>>),
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        Value::Text(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(Some(v))
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Value {
        Value::Date(Some(v))
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Value {
        Value::Time(Some(v))
    }
}
impl From<Option<DateTime<Utc>>> for Value {
    fn from(v: Option<DateTime<Utc>>) -> Value {
        Value::Time(v)
    }
}

/// The columns a transition sets besides the status. Column names come from code, never from
/// input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change(Vec<(&'static str, Value)>);

impl Change {
    pub fn new() -> Change {
        Change::default()
    }

    pub fn set(mut self, column: &'static str, value: impl Into<Value>) -> Change {
        self.0.push((column, value.into()));
        self
    }
}

/// One step on a case's timeline: who, when, the note, the messages it sends and its audit entry.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub case: CaseRef,
    pub actor: &'a EventActor,
    pub now: DateTime<Utc>,
    pub note: &'a str,
    pub notifications: &'a [NewNotification],
    pub audit: &'a AuditDraft,
}

/// What every open transaction offers the kernel: the timeline row, the notification queue, the
/// audit append and the conditional move of a case. Implemented once for each engine's
/// transaction by `case_tx!`, from one body.
pub(crate) trait CaseTx {
    /// Appends a row to a case's timeline.
    async fn add_event(
        &mut self,
        case: CaseRef,
        at: DateTime<Utc>,
        actor: &EventActor,
        event: &str,
        note: &str,
    ) -> StoreResult<()>;

    /// Queues messages sent on behalf of a case.
    async fn queue_notifications(
        &mut self,
        case: CaseRef,
        now: DateTime<Utc>,
        list: &[NewNotification],
    ) -> StoreResult<()>;

    /// Appends one entry to the audit log. The head row is updated first: that takes the write
    /// lock at once (SQLite) or locks the row (PostgreSQL), so concurrent appends form one chain.
    async fn append_audit(&mut self, draft: &AuditDraft) -> StoreResult<i64>;

    /// Moves a case standing at one of `from` to `to`, setting `change`; false when it stood
    /// elsewhere (nothing is written then).
    async fn move_case(&mut self, case: CaseRef, from: &[&str], to: &str, change: &Change) -> StoreResult<bool>;

    /// A step's row, messages and audit entry.
    async fn record_step(&mut self, step: &Step<'_>, event: &str) -> StoreResult<()> {
        self.add_event(step.case, step.now, step.actor, event, step.note).await?;
        self.queue_notifications(step.case, step.now, step.notifications).await?;
        self.append_audit(step.audit).await?;
        Ok(())
    }
}

fn move_sql(case: CaseRef, from: &[&str], change: &Change) -> String {
    let mut n = 1;
    let mut sets = vec!["status = $1".to_owned()];
    for (column, _) in &change.0 {
        n += 1;
        sets.push(format!("{column} = ${n}"));
    }
    let id = n + 1;
    let states: Vec<String> = (0..from.len()).map(|i| format!("${}", id + 1 + i)).collect();
    format!(
        "UPDATE {} SET {} WHERE id = ${id} AND status IN ({})",
        table(case.kind),
        sets.join(", "),
        states.join(", ")
    )
}

macro_rules! case_tx {
    ($db:ty) => {
        impl CaseTx for sqlx::Transaction<'_, $db> {
            async fn add_event(
                &mut self,
                case: CaseRef,
                at: DateTime<Utc>,
                actor: &EventActor,
                event: &str,
                note: &str,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO case_events (case_kind, case_id, at, actor_name, actor_unit, event, note) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(case.kind.as_str())
                .bind(case.id)
                .bind(at)
                .bind(&actor.name)
                .bind(&actor.unit)
                .bind(event)
                .bind(note)
                .execute(&mut **self)
                .await
                .context("adding a timeline row")?;
                Ok(())
            }

            async fn queue_notifications(
                &mut self,
                case: CaseRef,
                now: DateTime<Utc>,
                list: &[NewNotification],
            ) -> StoreResult<()> {
                for n in list {
                    sqlx::query(
                        "INSERT INTO notifications (case_kind, case_id, channel, recipient, recipient_name, unit, \
                         message, state, attempts, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
                    )
                    .bind(case.kind.as_str())
                    .bind(case.id)
                    .bind(&n.channel)
                    .bind(&n.recipient)
                    .bind(&n.recipient_name)
                    .bind(&n.unit)
                    .bind(&n.message)
                    .bind(now)
                    .execute(&mut **self)
                    .await
                    .context("queueing a notification")?;
                }
                Ok(())
            }

            async fn append_audit(&mut self, draft: &AuditDraft) -> StoreResult<i64> {
                let (seq, prev): (i64, String) =
                    sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                        .fetch_one(&mut **self)
                        .await
                        .context("advancing the audit chain")?;
                let entry = domain::audit::AuditEntry {
                    seq,
                    at: domain::audit::audit_time(draft.at),
                    actor_id: draft.actor_id,
                    actor_name: draft.actor_name.clone(),
                    action: draft.action.clone(),
                    org_code: draft.org_code.clone(),
                    target: draft.target.clone(),
                    detail: draft.detail.clone(),
                    address: draft.address.clone(),
                };
                let hash = domain::audit::chain_hash(&prev, &entry);
                sqlx::query(
                    "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, org_code, target, detail, address, \
                     prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(entry.seq)
                .bind(entry.at)
                .bind(entry.actor_id)
                .bind(&entry.actor_name)
                .bind(&entry.action)
                .bind(&entry.org_code)
                .bind(&entry.target)
                .bind(&entry.detail)
                .bind(&entry.address)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut **self)
                .await
                .context("writing an audit entry")?;
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                    .bind(&hash)
                    .execute(&mut **self)
                    .await
                    .context("advancing the audit chain")?;
                Ok(seq)
            }

            async fn move_case(
                &mut self,
                case: CaseRef,
                from: &[&str],
                to: &str,
                change: &Change,
            ) -> StoreResult<bool> {
                let sql = move_sql(case, from, change);
                let mut q = sqlx::query(&sql).bind(to);
                for (_, value) in &change.0 {
                    q = match value {
                        Value::Text(v) => q.bind(v.clone()),
                        Value::Bool(v) => q.bind(*v),
                        Value::Date(v) => q.bind(*v),
                        Value::Time(v) => q.bind(*v),
                    };
                }
                q = q.bind(case.id);
                for state in from {
                    q = q.bind(state.to_string());
                }
                let n = q.execute(&mut **self).await.context("moving a case")?.rows_affected();
                Ok(n > 0)
            }
        }
    };
}

case_tx!(sqlx::Sqlite);
case_tx!(sqlx::Postgres);

impl Store {
    /// Takes a transition: the case must stand at one of the transition's starting states; it
    /// moves to its end with `change`, and the step's timeline row (the transition's event),
    /// messages and audit entry are written in the same transaction. False when the case stood
    /// elsewhere (a second answer, a close of a closed order): nothing is written then.
    pub async fn advance_case<S: CaseState>(
        &self,
        step: &Step<'_>,
        transition: &Transition<S>,
        change: &Change,
    ) -> StoreResult<bool> {
        let from = transition.from_names();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a case's step")?;
            if !tx.move_case(step.case, &from, transition.to.as_str(), change).await? {
                return Ok(false);
            }
            tx.record_step(step, transition.event).await?;
            tx.commit().await.context("committing a case's step")?;
            Ok(true)
        })
    }

    /// Adds a timeline row that changes no state (a reminder, facts supplied), with its messages
    /// and audit entry.
    pub async fn note_case(&self, step: &Step<'_>, event: &str) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a timeline row")?;
            tx.record_step(step, event).await?;
            tx.commit().await.context("committing a timeline row")?;
            Ok(())
        })
    }

    /// A case's timeline, oldest first.
    pub async fn case_events(&self, case: CaseRef) -> StoreResult<Vec<CaseEvent>> {
        let rows: Vec<EventRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, case_kind, case_id, at, actor_name, actor_unit, event, note FROM case_events \
             WHERE case_kind = $1 AND case_id = $2 ORDER BY id",
        ).bind(case.kind.as_str()).bind(case.id).fetch_all(pool).await)
        .context("reading a timeline")?;
        rows.into_iter().map(CaseEvent::try_from).collect()
    }

    /// The messages a case queued, oldest first.
    pub async fn case_notifications(&self, case: CaseRef) -> StoreResult<Vec<Notification>> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n WHERE n.case_kind = $1 AND n.case_id = $2 ORDER BY n.id"
        );
        let rows: Vec<NotificationRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(case.kind.as_str()).bind(case.id).fetch_all(pool).await)
        .context("reading a case's notifications")?;
        notifications_of(rows)
    }
}
