//! The case kernel's use cases: one path that loads a case the actor may see (or audits the
//! attempt and answers "not found"), one timeline read, and one way to take a step. Each kind of
//! case says what it is in a [`CaseRecord`] impl; its use cases (exchange items, supervision
//! orders) add only their own rules.

use std::future::Future;

use domain::authz::Capability;
use domain::case::{CaseKind, CaseRef, CaseState, Transition};
use domain::privacy::Disclosure;
use store::supervision::Order;
use store::{AuditDraft, CaseEvent, EventActor, Item, NewNotification, Notification, Step, Store, StoreResult};

use super::privacy::Project;
use super::{Actor, App, ServiceError, ServiceResult};

/// What the kernel needs of one kind of case.
pub(crate) trait CaseRecord: Sized + Send + Sync {
    const KIND: CaseKind;
    /// The capabilities that may read a case of this kind at all (the first one held counts).
    const READERS: &'static [Capability];
    /// What the actor may do with one case.
    type Rights: Copy + Send;

    fn load(store: &Store, id: i64) -> impl Future<Output = StoreResult<Option<Self>>> + Send;

    /// Whether the actor stands on a side of the case (may see it), and its rights there.
    fn rights(actor: &Actor, case: &Self) -> (bool, Self::Rights);

    /// The unit it is addressed to and the unit it comes from, for the audit of a refusal.
    fn parties(&self) -> (&str, &str);
}

impl CaseRecord for Item {
    const KIND: CaseKind = CaseKind::Exchange;
    const READERS: &'static [Capability] = &[Capability::ExchangeAnswer, Capability::PersonRead];
    type Rights = super::exchange::Sides;

    fn load(store: &Store, id: i64) -> impl Future<Output = StoreResult<Option<Self>>> + Send {
        store.item(id)
    }

    fn rights(actor: &Actor, item: &Item) -> (bool, Self::Rights) {
        let sides = super::exchange::sides(actor, item);
        (sides.sender || sides.receiver, sides)
    }

    fn parties(&self) -> (&str, &str) {
        (self.to_unit.as_str(), self.from_unit.as_str())
    }
}

impl CaseRecord for Order {
    const KIND: CaseKind = CaseKind::Order;
    const READERS: &'static [Capability] =
        &[Capability::Supervise, Capability::ExchangeAnswer, Capability::PersonWrite, Capability::PersonRead];
    type Rights = super::supervision::OrderRights;

    fn load(store: &Store, id: i64) -> impl Future<Output = StoreResult<Option<Self>>> + Send {
        store.order(id)
    }

    fn rights(actor: &Actor, order: &Order) -> (bool, Self::Rights) {
        super::supervision::order_rights(actor, order)
    }

    fn parties(&self) -> (&str, &str) {
        (self.target_unit.as_str(), self.issuer_unit.as_str())
    }
}

/// A case's timeline and the messages it sent, projected for the reader.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub events: Vec<CaseEvent>,
    pub notifications: Vec<Notification>,
}

/// "No such case" for one of a kind.
pub(crate) fn not_found(case: CaseRef) -> ServiceError {
    ServiceError::NotFound { what: case.kind.what(), key: case.id.to_string() }
}

/// A step the case had moved past when the store came to take it: a conflict naming the rule.
pub(crate) fn refused<S: CaseState>(t: &Transition<S>) -> ServiceError {
    ServiceError::Conflict { rule: t.refused }
}

/// One text message to each of a unit's `accounts` (username, name), or to the unit's duty desk
/// when it has none.
pub(crate) fn texts(unit: &str, accounts: Vec<(String, String)>, text: &str) -> Vec<NewNotification> {
    let recipients = if accounts.is_empty() { vec![(unit.to_owned(), String::new())] } else { accounts };
    recipients
        .into_iter()
        .map(|(recipient, recipient_name)| NewNotification {
            channel: "sms".to_owned(),
            recipient,
            recipient_name,
            unit: unit.to_owned(),
            message: text.to_owned(),
        })
        .collect()
}

pub(crate) fn event_actor(actor: &Actor) -> EventActor {
    EventActor { name: actor.display_name.clone(), unit: actor.org.to_string() }
}

impl App {
    /// Loads a case the actor may see, with the actor's rights on it; a case the actor stands on
    /// no side of is refused by the guard (audited) and answered "not found", as one that does
    /// not exist.
    pub(crate) async fn visible_case<C: CaseRecord>(&self, actor: &Actor, id: i64) -> ServiceResult<(C, C::Rights)> {
        self.guard_any(actor, C::READERS).await?;
        let case = C::KIND.case(id);
        let row = C::load(&self.store, id).await?.ok_or_else(|| not_found(case))?;
        let (visible, rights) = C::rights(actor, &row);
        let (on, from) = row.parties();
        self.guard_case(actor, case, visible, on, from).await?;
        Ok((row, rights))
    }

    /// A case's timeline and notifications, as `disclosure` shows them.
    pub(crate) async fn timeline(&self, case: CaseRef, disclosure: Disclosure) -> ServiceResult<Timeline> {
        let mut events = self.store.case_events(case).await?;
        let mut notifications = self.store.case_notifications(case).await?;
        events.project(disclosure);
        notifications.project(disclosure);
        Ok(Timeline { events, notifications })
    }

    /// The step an actor takes on a case now.
    pub(crate) fn step<'a>(
        &self,
        case: CaseRef,
        who: &'a EventActor,
        note: &'a str,
        notifications: &'a [NewNotification],
        audit: &'a AuditDraft,
    ) -> Step<'a> {
        Step { case, actor: who, now: self.clock.now(), note, notifications, audit }
    }
}
