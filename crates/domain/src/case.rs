//! The case kernel: what every piece of work with two sides, a deadline and a timeline shares.
//!
//! An exchange item (信息交换) and a supervision order (督办) are both cases; so will be a
//! department feed row to review, a certificate application and a birth registration. A case is
//! named by its kind and id ([`CaseRef`]); its states and the transitions between them are data
//! ([`Transition`]), so that the store applies a transition as one conditional change ("from one
//! of these states to that one") and the service refuses a transition the data does not allow,
//! naming the rule. Who may take a transition (the sides and their rights) is a pure function of
//! each kind, called from the guard. docs/ARCHITECTURE.md ("Adding a new kind of case") lists the
//! files a new kind touches.

use std::fmt;

/// Every kind of case on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseKind {
    /// An exchange item between two counties (request, notification, service information).
    Exchange,
    /// A supervision order from a higher level to a unit below it, or a reminder.
    Order,
}

impl CaseKind {
    pub const ALL: [CaseKind; 2] = [CaseKind::Exchange, CaseKind::Order];

    /// The name stored beside a timeline row or a notification, and written in audit targets.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Exchange => "exchange",
            CaseKind::Order => "order",
        }
    }

    pub fn parse(s: &str) -> Option<CaseKind> {
        CaseKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Catalogue key of the thing, for "no such …" answers.
    pub fn what(self) -> &'static str {
        match self {
            CaseKind::Exchange => "thing.exchange_item",
            CaseKind::Order => "order.thing",
        }
    }

    /// Catalogue prefix of the labels of its timeline rows (`<prefix><event>`).
    pub fn event_labels(self) -> &'static str {
        match self {
            CaseKind::Exchange => "exchange.event.",
            CaseKind::Order => "order.event.",
        }
    }

    /// Catalogue prefix of the labels of a timeline row's note, when the note of that event is
    /// a code (an answer's "found"/"not_found") rather than words someone wrote.
    pub fn note_labels(self, event: &str) -> Option<&'static str> {
        match (self, event) {
            (CaseKind::Exchange, "answered") => Some("exchange.answer."),
            _ => None,
        }
    }

    /// The page of one case of this kind.
    pub fn page(self, id: i64) -> String {
        match self {
            CaseKind::Exchange => format!("/exchange/{id}"),
            CaseKind::Order => format!("/orders/{id}"),
        }
    }

    pub fn case(self, id: i64) -> CaseRef {
        CaseRef { kind: self, id }
    }
}

/// One case: its kind and id. Displayed as the audit log names it (`exchange:12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseRef {
    pub kind: CaseKind,
    pub id: i64,
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

/// A state of some kind of case, as stored.
pub trait CaseState: Copy + Eq + fmt::Debug + 'static {
    fn as_str(self) -> &'static str;
}

/// One allowed move of a case: from any of `from` to `to`, written on the timeline as `event`.
/// `refused` is the rule (a catalogue key) that a refusal names when the case stands elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<S: CaseState> {
    pub from: &'static [S],
    pub to: S,
    pub event: &'static str,
    pub refused: &'static str,
}

impl<S: CaseState> Transition<S> {
    pub const fn new(from: &'static [S], to: S, event: &'static str, refused: &'static str) -> Transition<S> {
        Transition { from, to, event, refused }
    }

    /// Whether a case standing at `state` may take this transition.
    pub fn allows(&self, state: S) -> bool {
        self.from.contains(&state)
    }

    /// The states it starts from, as stored.
    pub fn from_names(&self) -> Vec<&'static str> {
        self.from.iter().map(|s| s.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{ItemAction, Status};
    use crate::supervision::{OrderAction, OrderStatus};

    #[test]
    fn a_case_is_named_as_the_audit_log_names_it() {
        assert_eq!(CaseKind::Exchange.case(12).to_string(), "exchange:12");
        assert_eq!(CaseKind::Order.case(3).to_string(), "order:3");
        for k in CaseKind::ALL {
            assert_eq!(CaseKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(CaseKind::parse("feed"), None);
    }

    #[test]
    fn every_state_of_an_item_is_reached_by_one_transition_and_answered_is_final() {
        let targets: Vec<Status> = [ItemAction::Submit, ItemAction::Receive, ItemAction::Answer, ItemAction::Withdraw]
            .map(|a| a.transition().to)
            .to_vec();
        assert_eq!(targets, [Status::Submitted, Status::Received, Status::Answered, Status::Withdrawn]);
        for a in [ItemAction::Submit, ItemAction::Receive, ItemAction::Answer, ItemAction::Withdraw] {
            assert!(!a.transition().allows(Status::Answered), "{a:?} leaves an answered item");
            assert!(!a.transition().allows(Status::Withdrawn), "{a:?} leaves a withdrawn draft");
        }
        assert!(ItemAction::Withdraw.transition().allows(Status::Draft));
        assert!(!ItemAction::Withdraw.transition().allows(Status::Submitted));
    }

    #[test]
    fn an_order_is_answered_only_when_open_and_reopened_only_when_not() {
        let t = |a: OrderAction, s: OrderStatus| a.transition().allows(s);
        assert!(t(OrderAction::Answer, OrderStatus::Open));
        assert!(!t(OrderAction::Answer, OrderStatus::Answered));
        assert!(!t(OrderAction::Answer, OrderStatus::Closed));
        assert!(t(OrderAction::Close, OrderStatus::Open) && t(OrderAction::Close, OrderStatus::Answered));
        assert!(!t(OrderAction::Close, OrderStatus::Closed));
        assert!(!t(OrderAction::Reopen, OrderStatus::Open));
        assert!(t(OrderAction::Reopen, OrderStatus::Answered) && t(OrderAction::Reopen, OrderStatus::Closed));
        assert_eq!(OrderAction::Reopen.transition().from_names(), ["answered", "closed"]);
    }
}
