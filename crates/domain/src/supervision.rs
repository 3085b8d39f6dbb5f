//! Supervision (监管平台, DESIGN §8, seed 003): the rules of supervision orders (督办) and bulk
//! reminders (催办), the performance scores of a unit, and the facts a quarterly bulletin (通报)
//! states. Pure: no I/O, no text in any language (rules are named by catalogue keys).

use chrono::NaiveDate;

use crate::case::{CaseState, Transition};
use crate::exchange::{Counts, FEEDBACK_TARGET, Ranked};
use crate::{OrgCode, OrgPath};

/// Where an order stands. Nothing is deleted: closing and reopening are states too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Waiting for the target unit's answer.
    Open,
    /// Answered; waiting for the issuing side to close it (or reopen it).
    Answered,
    /// Settled by the issuing side.
    Closed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 3] = [OrderStatus::Open, OrderStatus::Answered, OrderStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Answered => "answered",
            OrderStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// Whether the target unit may answer now.
    pub fn answerable(self) -> bool {
        OrderAction::Answer.transition().allows(self)
    }

    /// Whether the issuing side may close it now.
    pub fn closable(self) -> bool {
        OrderAction::Close.transition().allows(self)
    }

    /// Whether the issuing side may reopen it now (the answer did not settle it, or it was
    /// closed too early).
    pub fn reopenable(self) -> bool {
        OrderAction::Reopen.transition().allows(self)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CaseState for OrderStatus {
    fn as_str(self) -> &'static str {
        OrderStatus::as_str(self)
    }
}

/// What can be done to an order that moves it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// The target unit answers.
    Answer,
    /// The issuing side settles it.
    Close,
    /// The issuing side finds it not settled.
    Reopen,
}

impl OrderAction {
    pub const fn transition(self) -> Transition<OrderStatus> {
        match self {
            OrderAction::Answer => {
                Transition::new(&[OrderStatus::Open], OrderStatus::Answered, "answered", "order.error.not_open")
            }
            OrderAction::Close => Transition::new(
                &[OrderStatus::Open, OrderStatus::Answered],
                OrderStatus::Closed,
                "closed",
                "order.error.closed",
            ),
            OrderAction::Reopen => Transition::new(
                &[OrderStatus::Answered, OrderStatus::Closed],
                OrderStatus::Open,
                "reopened",
                "order.error.not_reopenable",
            ),
        }
    }
}

impl std::fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an order is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// An exchange item (its id).
    Item,
    /// A data-quality finding on a personal record (the record's id).
    Finding,
    /// Free text only.
    Free,
    /// 催办: a reminder opened in bulk from the performance figures of a cycle.
    Reminder,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 4] =
        [SubjectKind::Item, SubjectKind::Finding, SubjectKind::Free, SubjectKind::Reminder];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Item => "item",
            SubjectKind::Finding => "finding",
            SubjectKind::Free => "free",
            SubjectKind::Reminder => "reminder",
        }
    }

    pub fn parse(s: &str) -> Option<SubjectKind> {
        SubjectKind::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// Whether a person opens an order of this kind by hand (reminders come in bulk only).
    pub fn opened_by_hand(self) -> bool {
        self != SubjectKind::Reminder
    }
}

/// Limits of an order's texts, in characters.
pub const TITLE_MAX: usize = 100;
pub const BODY_MAX: usize = 2000;
pub const ANSWER_MAX: usize = 2000;
pub const NOTE_MAX: usize = 500;
/// How far ahead a deadline may lie.
pub const MAX_DAYS_AHEAD: i64 = 366;
/// Days given to answer a bulk reminder unless the supervisor says otherwise.
pub const REMINDER_DAYS: i64 = 7;

/// An order as asked for, before it is checked.
#[derive(Debug, Clone, Copy)]
pub struct OrderDraft<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub due_on: NaiveDate,
}

/// Every rule an order breaks, as (field, rule) catalogue keys; empty when it may be opened.
pub fn order_problems(d: &OrderDraft<'_>, today: NaiveDate) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let title = d.title.trim();
    if title.is_empty() {
        out.push(("field.title", "rule.required"));
    } else if title.chars().count() > TITLE_MAX {
        out.push(("field.title", "order.rule.title_long"));
    }
    let body = d.body.trim();
    if body.is_empty() {
        out.push(("field.body", "rule.required"));
    } else if body.chars().count() > BODY_MAX {
        out.push(("field.body", "order.rule.body_long"));
    }
    out.extend(due_problem(d.due_on, today).map(|rule| ("field.due_on", rule)));
    out
}

/// Why a deadline cannot be given on `today`, as a catalogue key: in the past, or too far ahead.
pub fn due_problem(due_on: NaiveDate, today: NaiveDate) -> Option<&'static str> {
    if due_on < today {
        Some("order.rule.due_past")
    } else if (due_on - today).num_days() > MAX_DAYS_AHEAD {
        Some("order.rule.due_far")
    } else {
        None
    }
}

/// An order is overdue from the day after its last day while it waits for the answer (a period
/// ends at 24:00 China time of its last day, as in the exchange).
pub fn is_overdue(status: OrderStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    status == OrderStatus::Open && today > due_on
}

/// Whether a unit may open an order on another: only on a unit strictly below it.
pub fn may_order(issuer: &OrgPath, target: &OrgPath) -> bool {
    issuer != target && issuer.contains(target)
}

/// The path of the child of `parent` whose subtree holds `path` (`/37/3716/` in
/// `/37/3716/371602/…` under `/37/`); `None` for the parent itself or a path outside it.
pub fn child_path<'a>(parent: &str, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix(parent)?;
    let end = rest.find('/')?;
    Some(&path[..parent.len() + end + 1])
}

/// A share as a fraction in 0..=1; `None` when there is nothing to divide.
pub fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Registration timeliness of a period: records registered in it, and those registered within
/// the allowed days of their move (seed 000: the same day; `quality::SAME_DAY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Registrations {
    pub registered: u64,
    pub on_time: u64,
}

impl Registrations {
    pub fn rate(&self) -> Option<f64> {
        share(self.on_time, self.registered)
    }
}

impl std::ops::AddAssign for Registrations {
    fn add_assign(&mut self, o: Registrations) {
        self.registered += o.registered;
        self.on_time += o.on_time;
    }
}

/// Data quality of a subtree: findings of the quality scan against the active records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quality {
    pub findings: u64,
    pub active: u64,
}

impl Quality {
    /// Findings per 1,000 active records (lower is better); `None` without active records.
    pub fn per_thousand(&self) -> Option<f64> {
        share(self.findings, self.active).map(|r| r * 1000.0)
    }
}

impl std::ops::AddAssign for Quality {
    fn add_assign(&mut self, o: Quality) {
        self.findings += o.findings;
        self.active += o.active;
    }
}

/// Parses a threshold given in percent (`95`, `95%`, `92.5`) into a fraction in 0..=1.
pub fn parse_threshold(s: &str) -> Option<f64> {
    let s = s.trim().trim_end_matches('%').trim();
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && (0.0..=100.0).contains(&v)).then_some(v / 100.0)
}

/// The default threshold of bulk reminders: the feedback target.
pub const DEFAULT_THRESHOLD: f64 = FEEDBACK_TARGET;

/// Whether a county's figures in a cycle call for a reminder: it had items to answer and its
/// feedback rate stays below the threshold. A county with nothing to answer is not reminded
/// (there is no figure to judge it by, as in the ranking).
pub fn needs_reminder(c: &Counts, threshold: f64) -> bool {
    c.rates().feedback_rate.is_some_and(|r| r < threshold)
}

/// Whether `code` is a county that lies strictly below `actor` and inside `within` — the units
/// a bulk reminder may reach.
pub fn reminder_target(code: &str, within: &OrgCode, actor: &OrgPath) -> bool {
    match OrgCode::parse(code) {
        Ok(c) => {
            c.level() == crate::OrgLevel::County && within.path().contains(&c.path()) && may_order(actor, &c.path())
        }
        Err(_) => false,
    }
}

/// What a quarterly bulletin states, from the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct BulletinFacts {
    /// Counties ranked (they had items to answer).
    pub ranked: usize,
    /// Of them, those whose feedback rate reached the target.
    pub meeting_target: usize,
    /// The codes of those below the target, worst first.
    pub below_target: Vec<String>,
    pub bottom_three: Vec<String>,
    pub flagged: Vec<String>,
    /// The province's feedback rate: all answered ÷ all due, over the ranked counties.
    pub feedback_rate: Option<f64>,
}

pub fn bulletin_facts(ranking: &[Ranked]) -> BulletinFacts {
    let mut sum = Counts::default();
    for r in ranking {
        sum += r.counts;
    }
    let below: Vec<&Ranked> = ranking.iter().rev().filter(|r| !r.counts.meets_feedback_target()).collect();
    BulletinFacts {
        ranked: ranking.len(),
        meeting_target: ranking.len() - below.len(),
        below_target: below.iter().map(|r| r.unit.clone()).collect(),
        bottom_three: ranking.iter().filter(|r| r.bottom_three).map(|r| r.unit.clone()).collect(),
        flagged: ranking.iter().filter(|r| r.flagged).map(|r| r.unit.clone()).collect(),
        feedback_rate: sum.rates().feedback_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::rank;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn path(code: &str) -> OrgPath {
        OrgCode::parse(code).unwrap().path()
    }

    #[test]
    fn an_order_needs_a_title_a_text_and_a_deadline_from_today_to_a_year_ahead() {
        let today = d("2026-03-02");
        let ok = OrderDraft { title: "请核实逾期协查", body: "3 件协查已逾期", due_on: d("2026-03-09") };
        assert!(order_problems(&ok, today).is_empty());
        assert!(order_problems(&OrderDraft { due_on: today, ..ok }, today).is_empty(), "today is allowed");
        let fields = |draft: OrderDraft<'_>| order_problems(&draft, today);
        assert_eq!(fields(OrderDraft { title: "  ", ..ok }), [("field.title", "rule.required")]);
        let long = "长".repeat(TITLE_MAX + 1);
        assert_eq!(fields(OrderDraft { title: &long, ..ok }), [("field.title", "order.rule.title_long")]);
        assert_eq!(fields(OrderDraft { body: "", ..ok }), [("field.body", "rule.required")]);
        assert_eq!(fields(OrderDraft { due_on: d("2026-03-01"), ..ok }), [("field.due_on", "order.rule.due_past")]);
        // 2026-03-02 + 366 days = 2027-03-03.
        assert!(fields(OrderDraft { due_on: d("2027-03-03"), ..ok }).is_empty());
        assert_eq!(fields(OrderDraft { due_on: d("2027-03-04"), ..ok }), [("field.due_on", "order.rule.due_far")]);
        assert_eq!(fields(OrderDraft { title: "", body: "", due_on: d("2020-01-01") }).len(), 3);
    }

    #[test]
    fn states_allow_their_own_moves_only() {
        use OrderStatus::*;
        assert_eq!([Open, Answered, Closed].map(|s| s.answerable()), [true, false, false]);
        assert_eq!([Open, Answered, Closed].map(|s| s.closable()), [true, true, false]);
        assert_eq!([Open, Answered, Closed].map(|s| s.reopenable()), [false, true, true]);
        assert_eq!(OrderStatus::parse("answered"), Some(Answered));
        assert_eq!(SubjectKind::parse("reminder"), Some(SubjectKind::Reminder));
        assert!(!SubjectKind::Reminder.opened_by_hand() && SubjectKind::Free.opened_by_hand());
    }

    #[test]
    fn an_open_order_is_overdue_from_the_day_after_its_last_day() {
        let due = d("2026-03-09");
        assert!(!is_overdue(OrderStatus::Open, due, d("2026-03-09")));
        assert!(is_overdue(OrderStatus::Open, due, d("2026-03-10")));
        assert!(!is_overdue(OrderStatus::Answered, due, d("2026-03-10")), "answered in time or late: not waiting");
    }

    #[test]
    fn only_a_higher_level_orders_a_unit_in_its_subtree() {
        assert!(may_order(&path("3716"), &path("371602")));
        assert!(may_order(&path("371602"), &path("371602001001")));
        assert!(!may_order(&path("371602"), &path("371602")), "not itself");
        assert!(!may_order(&path("371602001"), &path("371602")), "not upwards");
        assert!(!may_order(&path("3716"), &path("511923")), "not elsewhere");
    }

    #[test]
    fn paths_fold_into_the_child_that_holds_them() {
        assert_eq!(child_path("/37/", "/37/3716/371602/371602001/"), Some("/37/3716/"));
        assert_eq!(child_path("/37/3716/", "/37/3716/371602/"), Some("/37/3716/371602/"));
        assert_eq!(child_path("/37/3716/", "/37/3716/"), None, "the parent itself");
        assert_eq!(child_path("/37/3716/", "/51/5119/511923/"), None);
        assert_eq!(child_path("/37/3716/", "/37/37160/"), None);
    }

    #[test]
    fn scores_divide_what_they_should() {
        assert_eq!(Registrations { registered: 8, on_time: 6 }.rate(), Some(0.75));
        assert_eq!(Registrations::default().rate(), None);
        assert_eq!(Quality { findings: 3, active: 250 }.per_thousand(), Some(12.0));
        assert_eq!(Quality { findings: 3, active: 0 }.per_thousand(), None);
    }

    #[test]
    fn thresholds_are_percentages() {
        assert_eq!(parse_threshold("95"), Some(0.95));
        assert_eq!(parse_threshold(" 92.5 % "), Some(0.925));
        assert_eq!(parse_threshold("100"), Some(1.0));
        assert_eq!(parse_threshold("101"), None);
        assert_eq!(parse_threshold("-1"), None);
        assert_eq!(parse_threshold("NaN"), None);
        assert_eq!(parse_threshold("ninety"), None);
    }

    #[test]
    fn reminders_go_to_counties_below_the_threshold_that_had_something_to_answer() {
        let c = |due, answered| Counts { feedback_due: due, answered, ..Default::default() };
        assert!(needs_reminder(&c(20, 18), 0.95), "90% < 95%");
        assert!(!needs_reminder(&c(20, 19), 0.95), "95% reaches it");
        assert!(!needs_reminder(&c(0, 0), 0.95), "nothing to answer");
        let city = OrgCode::parse("3716").unwrap();
        assert!(reminder_target("371602", &city, &path("3716")));
        assert!(!reminder_target("371602", &city, &path("371602")), "not the actor's own unit");
        assert!(!reminder_target("511923", &city, &path("37")), "outside the chosen unit");
        assert!(!reminder_target("371602001", &city, &path("3716")), "townships do not answer items");
    }

    #[test]
    fn a_bulletin_states_the_target_bottom_three_and_flags() {
        let c = crate::exchange::tests::counts;
        let units: Vec<(String, Counts)> =
            [("A", c(20, 20)), ("B", c(20, 19)), ("C", c(20, 10)), ("D", c(20, 15)), ("E", c(20, 18))]
                .into_iter()
                .map(|(u, c)| (u.to_owned(), c))
                .collect();
        let ranked = rank(&units, &["C".to_owned()]);
        let f = bulletin_facts(&ranked);
        assert_eq!(f.ranked, 5);
        // A 100%, B 95% reach the target; E 90%, D 75%, C 50% do not (worst first).
        assert_eq!(f.meeting_target, 2);
        assert_eq!(f.below_target, ["C", "D", "E"]);
        assert_eq!(f.bottom_three, ["E", "D", "C"]);
        assert_eq!(f.flagged, ["C"]);
        // (20 + 19 + 10 + 15 + 18) / 100.
        assert_eq!(f.feedback_rate, Some(0.82));
    }
}
