//! The rules of information exchange between residence and origin (DESIGN §6, seed 004):
//! kinds and content categories, urgency and deadlines, what an item must carry to be sent,
//! the monthly cycles and statistics periods, the rates, and the quarterly ranking.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::calendar::{Deadline, WorkCalendar};
use crate::case::Transition;

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 协查: please check this person and answer.
    Verification,
    /// 通报: a change the other side must know (the eight items of seed 004 part 4).
    Notification,
    /// 服务管理信息: service information.
    ServiceInfo,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Verification, Kind::Notification, Kind::ServiceInfo];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Verification => "verification",
            Kind::Notification => "notification",
            Kind::ServiceInfo => "service_info",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// Content categories (信息交换内容, seed 004 §3; the social maintenance fee is out of scope).
pub const CATEGORIES: [&str; 10] =
    ["basic", "spouse", "pregnancy", "children", "inflow", "outflow", "checks", "surgery", "births", "assist"];

/// Reasons to notify the origin (seed 004 part 4, the eight items; the long-acting
/// contraception item is gone with the policy, DESIGN §2).
pub const NOTIFICATION_REASONS: [&str; 7] =
    ["birth", "surgery", "pregnancy", "no_certificate", "pregnancy_check", "doubtful", "other"];

/// 紧急 or 急.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Urgent,
    Normal,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Urgent => "urgent",
            Urgency::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<Urgency> {
        match s {
            "urgent" => Some(Urgency::Urgent),
            "normal" => Some(Urgency::Normal),
            _ => None,
        }
    }
}

/// Where an item stands. Overdue is a mark beside the status, not a status of its own, so that
/// an overdue item still shows whether it was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Received,
    Answered,
    /// A draft the sending side decided not to send (a suggestion dismissed, with its reason).
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Received => "received",
            Status::Answered => "answered",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Draft, Status::Submitted, Status::Received, Status::Answered, Status::Withdrawn]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(Kind, Urgency, Status);

impl crate::case::CaseState for Status {
    fn as_str(self) -> &'static str {
        Status::as_str(self)
    }
}

/// What can be done to an item that moves it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAction {
    /// The sending county sends a draft.
    Submit,
    /// The receiving county opens what was sent (接收).
    Receive,
    /// The receiving county answers (反馈).
    Answer,
    /// The sending county decides not to send a draft.
    Withdraw,
}

impl ItemAction {
    pub const fn transition(self) -> Transition<Status> {
        match self {
            ItemAction::Submit => {
                Transition::new(&[Status::Draft], Status::Submitted, "submitted", "exchange.error.already_sent")
            }
            ItemAction::Receive => {
                Transition::new(&[Status::Submitted], Status::Received, "received", "exchange.error.not_submitted")
            }
            ItemAction::Answer => {
                Transition::new(&[Status::Received], Status::Answered, "answered", "exchange.error.already_answered")
            }
            ItemAction::Withdraw => {
                Transition::new(&[Status::Draft], Status::Withdrawn, "withdrawn", "exchange.error.already_sent")
            }
        }
    }
}

/// The longest remark an answer or a note may carry, in characters.
pub const REMARKS_MAX: usize = 500;
/// The origin's search order (seed 004 §7.3.6): its own records, manual ledgers, police data.
pub const SEARCH_STEPS: [&str; 3] = ["own_records", "manual_ledger", "police"];
/// What an answer may say of each category asked.
pub const VERDICTS: [&str; 3] = ["confirmed", "differs", "unknown"];

/// An answer (反馈) that keeps the rules: "not found" only with its reason and after every
/// source was searched, the sources searched in order, verdicts only on known categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub found: bool,
    pub remarks: String,
    /// The sources searched, in the order they must be searched.
    pub search_steps: Vec<&'static str>,
    /// Category → verdict.
    pub facts: std::collections::BTreeMap<String, String>,
}

/// The first rule an answer breaks: the field (a catalogue key), the rule and the value given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerError {
    pub field: &'static str,
    pub rule: &'static str,
    pub value: String,
}

impl Answer {
    pub fn parse(
        found: bool,
        remarks: &str,
        steps: &[String],
        facts: &std::collections::BTreeMap<String, String>,
    ) -> Result<Answer, AnswerError> {
        let fail = |field, rule, value: &str| Err(AnswerError { field, rule, value: value.to_owned() });
        let remarks = remarks.trim();
        if !found && remarks.is_empty() {
            return fail("field.answer_remarks", "exchange.rule.reason_required", "");
        }
        if remarks.chars().count() > REMARKS_MAX {
            return fail("field.answer_remarks", "rule.text_long", remarks);
        }
        if let Some(bad) = steps.iter().find(|s| !SEARCH_STEPS.contains(&s.as_str())) {
            return fail("field.search_steps", "rule.code_unknown", bad);
        }
        let search_steps: Vec<&'static str> =
            SEARCH_STEPS.iter().copied().filter(|s| steps.iter().any(|x| x == s)).collect();
        if search_steps.is_empty() || SEARCH_STEPS[..search_steps.len()] != search_steps[..] {
            return fail("field.search_steps", "exchange.rule.search_order", &search_steps.join(","));
        }
        // "Not found" only after every source was searched (seed 004 §7.3.6–7).
        if !found && search_steps.len() < SEARCH_STEPS.len() {
            return fail("field.search_steps", "exchange.rule.not_found_steps", &search_steps.join(","));
        }
        for (category, verdict) in facts {
            if !CATEGORIES.contains(&category.as_str()) {
                return fail("field.facts", "exchange.rule.category_unknown", category);
            }
            if !VERDICTS.contains(&verdict.as_str()) {
                return fail("field.facts", "rule.code_unknown", verdict);
            }
        }
        Ok(Answer { found, remarks: remarks.to_owned(), search_steps, facts: facts.clone() })
    }
}

/// The facts of the person that decide urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Subject {
    pub key_person: bool,
    pub pregnant: bool,
}

/// What the rules ask of the receiving side, once an item is submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub urgency: Urgency,
    /// Whether the other side must answer (feedback), or only receive.
    pub answer_required: bool,
    /// The last day to receive.
    pub receipt_due: Deadline,
    /// The last day to answer, when known at submission (a notification's follows from its
    /// receipt: see [`review_due`]).
    pub answer_due: Option<Deadline>,
}

/// Urgency: a verification of a currently pregnant key person is urgent; everything else not.
pub fn urgency(kind: Kind, subject: Subject) -> Urgency {
    if kind == Kind::Verification && subject.key_person && subject.pregnant { Urgency::Urgent } else { Urgency::Normal }
}

/// Days to answer an urgent verification, and every other verification or service information.
pub const URGENT_DAYS: u32 = 15;
pub const NORMAL_DAYS: u32 = 30;
/// Working days to send a notification after its event, and to review one after receipt.
pub const NOTIFY_WORKING_DAYS: u32 = 5;

/// The terms of an item submitted on `submitted` (China date).
pub fn terms(kind: Kind, categories: &[String], subject: Subject, submitted: NaiveDate, cal: &WorkCalendar) -> Terms {
    let urgency = urgency(kind, subject);
    match kind {
        Kind::Verification => {
            let days = if urgency == Urgency::Urgent { URGENT_DAYS } else { NORMAL_DAYS };
            let due = cal.days_after(submitted, days);
            Terms { urgency, answer_required: true, receipt_due: due, answer_due: Some(due) }
        }
        Kind::ServiceInfo => {
            let due = cal.days_after(submitted, NORMAL_DAYS);
            let about_birth = categories.iter().any(|c| c == "births");
            Terms { urgency, answer_required: about_birth, receipt_due: due, answer_due: about_birth.then_some(due) }
        }
        Kind::Notification => {
            let due = cal.days_after(submitted, NORMAL_DAYS);
            Terms { urgency, answer_required: true, receipt_due: due, answer_due: None }
        }
    }
}

/// The last day for the origin to review a notification and answer: 5 working days after receipt.
pub fn review_due(received: NaiveDate, cal: &WorkCalendar) -> Deadline {
    cal.working_days_after(received, NOTIFY_WORKING_DAYS)
}

/// The last day to send a notification about an event: 5 working days after it.
pub fn send_due(event: NaiveDate, cal: &WorkCalendar) -> Deadline {
    cal.working_days_after(event, NOTIFY_WORKING_DAYS)
}

/// What an item carries about its person when it is sent.
#[derive(Debug, Clone, Default)]
pub struct Identity<'a> {
    pub name: &'a str,
    pub id_number: Option<&'a str>,
    /// The area code of the origin (household registration) address.
    pub origin_area: &'a str,
}

/// Why an item cannot be sent (seed 004 part 4: name, ID number, and the origin address down to
/// the village committee are required), as (field, catalogue key) pairs; empty when it can.
pub fn send_blockers(identity: &Identity<'_>, categories: &[String]) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if identity.name.trim().is_empty() {
        out.push(("name", "exchange.rule.name_required"));
    }
    if identity.id_number.is_none_or(|s| s.trim().is_empty()) {
        out.push(("id_number", "exchange.rule.id_required"));
    }
    let area = identity.origin_area;
    if area.len() != 12 || !area.bytes().all(|b| b.is_ascii_digit()) || area.ends_with("000") {
        out.push(("hukou_area", "exchange.rule.village_required"));
    }
    if categories.is_empty() {
        out.push(("categories", "exchange.rule.categories_required"));
    } else if categories.iter().any(|c| !CATEGORIES.contains(&c.as_str())) {
        out.push(("categories", "exchange.rule.category_unknown"));
    }
    out
}

/// A month of the exchange calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cycle {
    pub year: i32,
    pub month: u32,
}

impl Cycle {
    pub fn new(year: i32, month: u32) -> Option<Cycle> {
        (1..=12).contains(&month).then_some(Cycle { year, month })
    }

    /// `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Cycle> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        Cycle::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn next(self) -> Cycle {
        if self.month == 12 { Cycle { year: self.year + 1, month: 1 } } else { Cycle { month: self.month + 1, ..self } }
    }

    pub fn prev(self) -> Cycle {
        if self.month == 1 { Cycle { year: self.year - 1, month: 12 } } else { Cycle { month: self.month - 1, ..self } }
    }

    fn day(self, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, d).expect("days up to 28 exist in every month")
    }

    /// The submission cycle of a date: submissions close on the 20th.
    pub fn of_submission(date: NaiveDate) -> Cycle {
        let this = Cycle { year: date.year(), month: date.month() };
        if date.day() <= 20 { this } else { this.next() }
    }

    /// The statistics period of receipts and feedback a date falls in: it closes on the 27th.
    pub fn of_receipt(date: NaiveDate) -> Cycle {
        let this = Cycle { year: date.year(), month: date.month() };
        if date.day() <= 27 { this } else { this.next() }
    }

    /// Submissions of this cycle: from the previous month's 21st to this month's 20th.
    pub fn submission_period(self) -> (NaiveDate, NaiveDate) {
        (self.prev().day(21), self.day(20))
    }

    /// Receipts and feedback of this cycle: from the previous month's 28th to this month's 27th.
    pub fn receipt_period(self) -> (NaiveDate, NaiveDate) {
        (self.prev().day(28), self.day(27))
    }

    /// The day receipts and feedback of this cycle's submissions close (the 27th).
    pub fn closes_on(self) -> NaiveDate {
        self.day(27)
    }

    /// The quarter this cycle belongs to.
    pub fn quarter(self) -> Quarter {
        Quarter { year: self.year, q: (self.month - 1) / 3 + 1 }
    }
}

impl std::fmt::Display for Cycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A quarter of a year, made of three cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    pub q: u32,
}

impl Quarter {
    /// `YYYY-Qn`.
    pub fn parse(s: &str) -> Option<Quarter> {
        let (y, q) = s.trim().split_once("-Q")?;
        let q: u32 = q.parse().ok()?;
        (y.len() == 4 && (1..=4).contains(&q)).then_some(Quarter { year: y.parse().ok()?, q })
    }

    pub fn cycles(self) -> [Cycle; 3] {
        let first = (self.q - 1) * 3 + 1;
        [0, 1, 2].map(|i| Cycle { year: self.year, month: first + i })
    }

    pub fn prev(self) -> Quarter {
        if self.q == 1 { Quarter { year: self.year - 1, q: 4 } } else { Quarter { q: self.q - 1, ..self } }
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.q)
    }
}

/// The counts of one unit in one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Items the unit submitted in the cycle.
    pub sent: u64,
    /// Items submitted to the unit in the cycle.
    pub incoming: u64,
    /// Of those, received by the close.
    pub received: u64,
    /// Of the incoming, those that ask for feedback (received or not: an item left unopened is
    /// not answered either, seed 004 §7: 95% of the queries received).
    pub feedback_due: u64,
    /// Of those, answered by the close.
    pub answered: u64,
    /// Of the answered, answered by their last day.
    pub answered_on_time: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.sent += o.sent;
        self.incoming += o.incoming;
        self.received += o.received;
        self.feedback_due += o.feedback_due;
        self.answered += o.answered;
        self.answered_on_time += o.answered_on_time;
    }
}

/// The required feedback rate (seed 004 §7: 95% of the items received).
pub const FEEDBACK_TARGET: f64 = 0.95;

/// Rates as fractions in 0..=1; `None` where there is nothing to divide.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub receipt_rate: Option<f64>,
    pub feedback_rate: Option<f64>,
    pub timeliness: Option<f64>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Counts {
    pub fn rates(&self) -> Rates {
        Rates {
            receipt_rate: ratio(self.received, self.incoming),
            feedback_rate: ratio(self.answered, self.feedback_due),
            timeliness: ratio(self.answered_on_time, self.answered),
        }
    }

    /// Whether the feedback rate reaches the 95% bar (true when nothing asked for feedback).
    pub fn meets_feedback_target(&self) -> bool {
        self.rates().feedback_rate.is_none_or(|r| r >= FEEDBACK_TARGET)
    }
}

/// One county's place in a quarter's ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub unit: String,
    pub rank: usize,
    pub counts: Counts,
    pub rates: Rates,
    /// Among the last three of this quarter.
    pub bottom_three: bool,
    /// Among the last three of this quarter and of the one before (通报批评, seed 004 §8).
    pub flagged: bool,
}

fn sort_key(c: &Counts) -> (f64, f64, f64) {
    let r = c.rates();
    (r.feedback_rate.unwrap_or(0.0), r.timeliness.unwrap_or(0.0), r.receipt_rate.unwrap_or(0.0))
}

/// Ranks counties by feedback rate, then timeliness, then receipt rate (best first; equal
/// figures keep code order). Counties that received nothing to answer are not ranked. The
/// last three are the bottom three only when more than three counties are ranked, and only
/// those strictly behind the fourth from last.
/// `previous_bottom`: the bottom three of the quarter before.
pub fn rank(units: &[(String, Counts)], previous_bottom: &[String]) -> Vec<Ranked> {
    let mut ranked: Vec<&(String, Counts)> = units.iter().filter(|(_, c)| c.feedback_due > 0).collect();
    ranked.sort_by(|(ua, a), (ub, b)| {
        let (ka, kb) = (sort_key(a), sort_key(b));
        kb.0.total_cmp(&ka.0).then(kb.1.total_cmp(&ka.1)).then(kb.2.total_cmp(&ka.2)).then(ua.cmp(ub))
    });
    let n = ranked.len();
    // A county level with the one above the last three is not among them: equal figures never
    // split into "bottom three" and "not".
    let cut = (n > 3).then(|| sort_key(&ranked[n - 4].1));
    let worse_than_cut = |c: &Counts| {
        cut.is_some_and(|k| {
            let own = sort_key(c);
            own.0.total_cmp(&k.0).then(own.1.total_cmp(&k.1)).then(own.2.total_cmp(&k.2)).is_lt()
        })
    };
    ranked
        .into_iter()
        .enumerate()
        .map(|(i, (unit, counts))| {
            let bottom_three = n > 3 && i >= n - 3 && worse_than_cut(counts);
            Ranked {
                unit: unit.clone(),
                rank: i + 1,
                counts: *counts,
                rates: counts.rates(),
                bottom_three,
                flagged: bottom_three && previous_bottom.contains(unit),
            }
        })
        .collect()
}

/// A notification the residence owes the origin because of a new section entry (seed 004 part
/// 4): `(reason, category, the event's date)`; `None` when the entry is nothing to notify.
pub fn suggestion_for(
    section: crate::sections::Section,
    entry: &crate::sections::Entry,
) -> Option<(&'static str, &'static str, NaiveDate)> {
    use crate::sections::{Section, Value};
    let date = |name: &str| entry.get(name).and_then(Value::as_date);
    let text = |name: &str| entry.get(name).map(Value::display).unwrap_or_default();
    match section {
        Section::Children => Some(("birth", "births", date("birth_date")?)),
        Section::Pregnancies => Some(("pregnancy", "pregnancy", date("detected_on")?)),
        Section::Checks if ["iud", "pregnancy", "prenatal", "postnatal"].contains(&text("kind").as_str()) => {
            Some(("pregnancy_check", "checks", date("done_on")?))
        }
        Section::Services if text("kind") == "surgery" => Some(("surgery", "surgery", date("started_on")?)),
        _ => None,
    }
}

/// How far back an event may lie and still be notified: older ones are history being entered,
/// not news for the origin.
pub const SUGGESTION_MAX_AGE_DAYS: i64 = 90;

/// Whether an event of a person who moved in on `moved_on` is worth a suggested notification on
/// `today`: it happened here (on or after the move) and is recent.
pub fn worth_notifying(event: NaiveDate, moved_on: NaiveDate, today: NaiveDate) -> bool {
    event >= moved_on && (today - event).num_days() <= SUGGESTION_MAX_AGE_DAYS && event <= today
}

/// The county an area or unit code lies in (its first six digits), when it lies in one.
pub fn county_of(code: &str) -> Option<&str> {
    let area = code.split('-').next().unwrap_or("");
    (area.len() >= 6 && area.bytes().all(|b| b.is_ascii_digit())).then(|| &area[..6])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A county that received and opened `due` items and answered `answered` of them on time.
    pub(crate) fn counts(due: u64, answered: u64) -> Counts {
        Counts { incoming: due, received: due, feedback_due: due, answered, answered_on_time: answered, sent: 0 }
    }

    #[test]
    fn an_answer_names_the_first_rule_it_breaks() {
        let steps = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let none = std::collections::BTreeMap::new();
        let refused = |found, remarks, s: &[&str]| Answer::parse(found, remarks, &steps(s), &none).unwrap_err();
        let e = refused(false, " ", &SEARCH_STEPS);
        assert_eq!((e.field, e.rule), ("field.answer_remarks", "exchange.rule.reason_required"));
        let e = refused(true, "", &["manual_ledger"]);
        assert_eq!(
            (e.field, e.rule, e.value.as_str()),
            ("field.search_steps", "exchange.rule.search_order", "manual_ledger")
        );
        let e = refused(false, "查无此人", &["own_records", "manual_ledger"]);
        assert_eq!(e.rule, "exchange.rule.not_found_steps");
        let e = refused(true, "", &["own_records", "guesswork"]);
        assert_eq!((e.rule, e.value.as_str()), ("rule.code_unknown", "guesswork"));
        let facts = [("spouse".to_owned(), "maybe".to_owned())].into_iter().collect();
        let e = Answer::parse(true, "", &steps(&["own_records"]), &facts).unwrap_err();
        assert_eq!((e.field, e.value.as_str()), ("field.facts", "maybe"));

        // Steps given in any order are kept in the order they must be taken.
        let a = Answer::parse(false, " 三处均无 ", &steps(&["police", "own_records", "manual_ledger"]), &none).unwrap();
        assert_eq!((a.search_steps, a.remarks.as_str()), (SEARCH_STEPS.to_vec(), "三处均无"));
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cats(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_a_verification_of_a_pregnant_key_person_is_urgent() {
        let pregnant_key = Subject { key_person: true, pregnant: true };
        assert_eq!(urgency(Kind::Verification, pregnant_key), Urgency::Urgent);
        assert_eq!(urgency(Kind::Verification, Subject { key_person: true, pregnant: false }), Urgency::Normal);
        assert_eq!(urgency(Kind::Notification, pregnant_key), Urgency::Normal);
        assert_eq!(urgency(Kind::ServiceInfo, pregnant_key), Urgency::Normal);
    }

    #[test]
    fn deadlines_follow_kind_and_urgency() {
        let cal = WorkCalendar::shipped();
        let pregnant_key = Subject { key_person: true, pregnant: true };
        // Submitted Monday 2026-03-02: 15 days → Tuesday 03-17; 30 days → Wednesday 04-01.
        let t = terms(Kind::Verification, &cats(&["basic"]), pregnant_key, d("2026-03-02"), &cal);
        assert_eq!((t.urgency, t.answer_due.unwrap().last_day), (Urgency::Urgent, d("2026-03-17")));
        let t = terms(Kind::Verification, &cats(&["basic"]), Subject::default(), d("2026-03-02"), &cal);
        assert_eq!((t.urgency, t.answer_due.unwrap().last_day), (Urgency::Normal, d("2026-04-01")));
        // Service information about a birth: receipt and feedback; otherwise receipt only.
        let t = terms(Kind::ServiceInfo, &cats(&["births"]), Subject::default(), d("2026-03-02"), &cal);
        assert!(t.answer_required && t.answer_due.unwrap().last_day == d("2026-04-01"));
        let t = terms(Kind::ServiceInfo, &cats(&["checks"]), Subject::default(), d("2026-03-02"), &cal);
        assert!(!t.answer_required && t.answer_due.is_none() && t.receipt_due.last_day == d("2026-04-01"));
        // A notification is answered 5 working days after receipt: received Thursday 2026-04-30,
        // May 1–5 off, May 9 (Saturday) worked → May 6, 7, 8, 9, 11.
        assert_eq!(review_due(d("2026-04-30"), &cal).last_day, d("2026-05-11"));
    }

    #[test]
    fn an_item_without_identity_or_village_address_cannot_be_sent() {
        let ok = Identity { name: "王芳", id_number: Some("511923199003070021"), origin_area: "511923100201" };
        assert!(send_blockers(&ok, &cats(&["basic"])).is_empty());
        let fields =
            |i: &Identity<'_>, c: &[&str]| send_blockers(i, &cats(c)).into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert_eq!(fields(&Identity { name: " ", ..ok.clone() }, &["basic"]), ["name"]);
        assert_eq!(fields(&Identity { id_number: None, ..ok.clone() }, &["basic"]), ["id_number"]);
        // Down to the township only, or the village part zero: not enough.
        assert_eq!(fields(&Identity { origin_area: "511923100", ..ok.clone() }, &["basic"]), ["hukou_area"]);
        assert_eq!(fields(&Identity { origin_area: "511923100000", ..ok.clone() }, &["basic"]), ["hukou_area"]);
        assert_eq!(fields(&ok, &[]), ["categories"]);
        assert_eq!(fields(&ok, &["fees"]), ["categories"]);
    }

    #[test]
    fn cycles_close_on_the_20th_and_27th() {
        let c = |y, m| Cycle::new(y, m).unwrap();
        assert_eq!(Cycle::of_submission(d("2026-03-20")), c(2026, 3));
        assert_eq!(Cycle::of_submission(d("2026-03-21")), c(2026, 4));
        assert_eq!(Cycle::of_submission(d("2026-01-31")), c(2026, 2));
        assert_eq!(Cycle::of_submission(d("2026-12-21")), c(2027, 1), "year end");
        assert_eq!(Cycle::of_submission(d("2026-02-28")), c(2026, 3), "February's end");
        assert_eq!(Cycle::of_receipt(d("2026-02-27")), c(2026, 2));
        assert_eq!(Cycle::of_receipt(d("2026-02-28")), c(2026, 3));
        assert_eq!(Cycle::of_receipt(d("2026-12-28")), c(2027, 1));
        assert_eq!(c(2026, 1).submission_period(), (d("2025-12-21"), d("2026-01-20")));
        assert_eq!(c(2026, 3).receipt_period(), (d("2026-02-28"), d("2026-03-27")));
        assert_eq!(c(2024, 3).receipt_period(), (d("2024-02-28"), d("2024-03-27")), "leap year");
        assert_eq!(Cycle::parse("2026-13"), None);
        assert_eq!(Cycle::parse("2026-07").unwrap().to_string(), "2026-07");
        assert_eq!(c(2026, 12).quarter(), Quarter { year: 2026, q: 4 });
        assert_eq!(Quarter::parse("2027-Q1").unwrap().prev().to_string(), "2026-Q4");
    }

    #[test]
    fn rates_divide_what_they_should() {
        let c = Counts { sent: 4, incoming: 20, received: 18, feedback_due: 16, answered: 15, answered_on_time: 12 };
        let r = c.rates();
        assert_eq!(r.receipt_rate, Some(0.9));
        assert_eq!(r.feedback_rate, Some(15.0 / 16.0));
        assert_eq!(r.timeliness, Some(0.8));
        assert!(!c.meets_feedback_target(), "15/16 = 93.75% < 95%");
        assert_eq!(Counts::default().rates().feedback_rate, None);
    }

    #[test]
    fn ranking_puts_low_feedback_last_and_flags_repeat_offenders() {
        let units = vec![
            ("A".to_owned(), counts(10, 10)),
            ("B".to_owned(), counts(10, 5)),
            ("C".to_owned(), counts(10, 9)),
            ("D".to_owned(), counts(10, 7)),
            ("E".to_owned(), counts(10, 8)),
            ("F".to_owned(), Counts::default()),
        ];
        let r = rank(&units, &["B".to_owned(), "A".to_owned()]);
        let order: Vec<_> = r.iter().map(|x| (x.unit.as_str(), x.rank, x.bottom_three, x.flagged)).collect();
        assert_eq!(
            order,
            [
                ("A", 1, false, false),
                ("C", 2, false, false),
                ("E", 3, true, false),
                ("D", 4, true, false),
                ("B", 5, true, true)
            ]
        );
        // Three or fewer ranked: no bottom three.
        assert!(rank(&units[..3], &[]).iter().all(|x| !x.bottom_three));
        // Equal figures: nobody level with the fourth from last is in the bottom three.
        let level = vec![
            ("A".to_owned(), counts(10, 10)),
            ("B".to_owned(), counts(10, 10)),
            ("C".to_owned(), counts(10, 10)),
            ("D".to_owned(), counts(10, 10)),
            ("E".to_owned(), counts(10, 9)),
        ];
        let r = rank(&level, &["E".to_owned()]);
        let bottom: Vec<_> = r.iter().filter(|x| x.bottom_three).map(|x| (x.unit.as_str(), x.flagged)).collect();
        assert_eq!(bottom, [("E", true)]);
    }

    #[test]
    fn only_recent_events_after_the_move_are_notified() {
        let moved = d("2026-01-10");
        assert!(worth_notifying(d("2026-03-01"), moved, d("2026-03-02")));
        assert!(!worth_notifying(d("2022-05-01"), moved, d("2026-03-02")), "history being entered");
        assert!(!worth_notifying(d("2026-01-09"), moved, d("2026-03-02")), "before the move: the origin's own event");
        assert!(!worth_notifying(d("2025-12-01"), d("2025-11-01"), d("2026-03-02")), "91 days ago");
        assert!(worth_notifying(d("2025-12-02"), d("2025-11-01"), d("2026-03-02")), "90 days ago");
    }

    #[test]
    fn county_of_codes() {
        assert_eq!(county_of("371602001001"), Some("371602"));
        assert_eq!(county_of("371602-PD01"), Some("371602"));
        assert_eq!(county_of("3716"), None);
    }
}
