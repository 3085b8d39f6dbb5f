//! The clerk's day (首页待办, DESIGN §7, seed 002): what falls due when, and when it shows.
//!
//! Seed 002's village software "reminds five days ahead" of certificates to collect, visits,
//! contraception services, floating people and expected births. Each task here has a last day;
//! it appears [`LEAD_DAYS`] before it (expected births: [`BIRTH_LEAD_DAYS`], "the coming
//! weeks"), stays while overdue, and leaves when it is done. The maternal-care intervals below
//! follow the national maternal-care service norms in their simplest form (a prenatal visit every
//! four weeks while pregnant, a postnatal visit within 7 days of a birth and a check at 42 days);
//! they are what the village officer is reminded of, not a medical schedule.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

/// Days before its last day that a task appears.
pub const LEAD_DAYS: i64 = 5;
/// Expected births show four weeks ahead, so that care can be arranged.
pub const BIRTH_LEAD_DAYS: i64 = 28;
pub const PRENATAL_INTERVAL_DAYS: i64 = 28;
pub const POSTNATAL_VISIT_DAYS: i64 = 7;
pub const POSTNATAL_CHECK_DAYS: i64 = 42;

/// The kinds of work, in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 督办 addressed to the unit.
    Order,
    /// 催办: a reminder on an exchange item waiting here.
    Reminder,
    /// Exchange items to receive and answer (county operators).
    ExchangeAnswer,
    /// Facts to supply for an exchange item about a person of this area (townships, villages).
    ExchangeFacts,
    /// Suggested notifications waiting to be sent.
    ExchangeSend,
    PrenatalVisit,
    PostnatalVisit,
    ExpectedBirth,
    /// A certificate that runs out: renew, or collect the new one.
    Certificate,
    /// People registered late in the last 30 days: check the record.
    LateRegistration,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Order,
        Category::Reminder,
        Category::ExchangeAnswer,
        Category::ExchangeFacts,
        Category::ExchangeSend,
        Category::PrenatalVisit,
        Category::PostnatalVisit,
        Category::ExpectedBirth,
        Category::Certificate,
        Category::LateRegistration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Order => "order",
            Category::Reminder => "reminder",
            Category::ExchangeAnswer => "exchange_answer",
            Category::ExchangeFacts => "exchange_facts",
            Category::ExchangeSend => "exchange_send",
            Category::PrenatalVisit => "prenatal_visit",
            Category::PostnatalVisit => "postnatal_visit",
            Category::ExpectedBirth => "expected_birth",
            Category::Certificate => "certificate",
            Category::LateRegistration => "late_registration",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the work is made by the records (kept per person), not by exchange items or
    /// supervision orders.
    pub fn from_records(self) -> bool {
        matches!(
            self,
            Category::PrenatalVisit
                | Category::PostnatalVisit
                | Category::ExpectedBirth
                | Category::Certificate
                | Category::LateRegistration
        )
    }

    fn lead(self) -> i64 {
        if self == Category::ExpectedBirth { BIRTH_LEAD_DAYS } else { LEAD_DAYS }
    }
}

/// Whether a task due on `due` shows on `today`: from its lead time before, and for as long as
/// it is overdue.
pub fn shows(category: Category, due: NaiveDate, today: NaiveDate) -> bool {
    (due - today).num_days() <= category.lead()
}

/// Overdue: its last day has passed (a day ends at 24:00 China time).
pub fn overdue(due: NaiveDate, today: NaiveDate) -> bool {
    today > due
}

/// What is known of an open pregnancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pregnancy {
    pub detected_on: NaiveDate,
    pub expected_on: Option<NaiveDate>,
    /// The latest pregnancy or prenatal check since it was detected.
    pub last_prenatal_check: Option<NaiveDate>,
}

/// The next prenatal visit: four weeks after the last one (or after the pregnancy was found).
pub fn prenatal_due(p: &Pregnancy) -> NaiveDate {
    let last = p.last_prenatal_check.filter(|c| *c >= p.detected_on).unwrap_or(p.detected_on);
    last + Duration::days(PRENATAL_INTERVAL_DAYS)
}

/// Postnatal care still owed after a birth on `born`, given the latest postnatal check on or
/// after it: the visit within 7 days (unless a check was made), then the check at 42 days
/// (unless one was made from the 28th day on). `(last day, is the 42-day check)`.
pub fn postnatal_due(born: NaiveDate, last_check: Option<NaiveDate>) -> Option<(NaiveDate, bool)> {
    let last_check = last_check.filter(|c| *c >= born);
    match last_check {
        None => Some((born + Duration::days(POSTNATAL_VISIT_DAYS), false)),
        Some(c) if c < born + Duration::days(28) => Some((born + Duration::days(POSTNATAL_CHECK_DAYS), true)),
        Some(_) => None,
    }
}

/// The village officers' next duty day (逢五逢十: the 5th, 10th, … 30th; in February the last
/// day stands for the 30th), on or after `today`.
pub fn next_duty_day(today: NaiveDate) -> NaiveDate {
    let mut d = today;
    loop {
        let last_of_month = d.succ_opt().is_none_or(|n| n.month() != d.month());
        if d.day().is_multiple_of(5) || (last_of_month && d.day() < 30 && d.month() == 2) {
            return d;
        }
        d = d.succ_opt().expect("dates stay inside chrono's range");
    }
}

/// How long after its day a birth's care, an ended certificate and a late registration stay on
/// the day (they leave then even if never marked done): births and certificates 60 days, a late
/// registration 30 days after it was made.
pub const BIRTH_KEEP_DAYS: i64 = 60;
pub const CERTIFICATE_KEEP_DAYS: i64 = 60;
pub const LATE_KEEP_DAYS: i64 = 30;

/// What one person's record holds that makes work, as the store reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFacts {
    pub active: bool,
    pub moved_on: Option<NaiveDate>,
    pub registered_on: Option<NaiveDate>,
    /// Open pregnancies: `(detected, expected)`.
    pub open_pregnancies: Vec<(NaiveDate, Option<NaiveDate>)>,
    /// Days of births: children born, and pregnancies ended in a birth.
    pub births: Vec<NaiveDate>,
    /// Days of pregnancy and prenatal checks.
    pub prenatal_checks: Vec<NaiveDate>,
    pub postnatal_checks: Vec<NaiveDate>,
    /// Last days of the person's certificates.
    pub certificates_valid_until: Vec<NaiveDate>,
}

/// The line under a task's subject: a catalogue key and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    LastCheck(NaiveDate),
    Detected(NaiveDate),
    Expected(NaiveDate),
    /// The 7-day postnatal visit after a birth on that day.
    Visit7(NaiveDate),
    /// The 42-day postnatal check after a birth on that day.
    Check42(NaiveDate),
    ValidUntil(NaiveDate),
    DaysLate(i64),
}

/// The catalogue keys of [`Detail`], as kept beside a maintained task.
pub const DETAIL_KEYS: [&str; 7] = [
    "worklist.detail.last_check",
    "worklist.detail.detected",
    "worklist.detail.expected",
    "worklist.detail.visit_7",
    "worklist.detail.check_42",
    "worklist.detail.valid_until",
    "worklist.detail.days_late",
];

impl Detail {
    pub fn key(self) -> &'static str {
        DETAIL_KEYS[match self {
            Detail::LastCheck(_) => 0,
            Detail::Detected(_) => 1,
            Detail::Expected(_) => 2,
            Detail::Visit7(_) => 3,
            Detail::Check42(_) => 4,
            Detail::ValidUntil(_) => 5,
            Detail::DaysLate(_) => 6,
        }]
    }

    pub fn value(self) -> String {
        match self {
            Detail::LastCheck(d)
            | Detail::Detected(d)
            | Detail::Expected(d)
            | Detail::Visit7(d)
            | Detail::Check42(d)
            | Detail::ValidUntil(d) => d.to_string(),
            Detail::DaysLate(n) => n.to_string(),
        }
    }
}

/// One task a person's record makes, with the days it shows: from `show_from` (its lead time
/// before `due_on`) until `hide_after` (none: for as long as it is owed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonTask {
    pub category: Category,
    /// `prenatal:{person}:{due}` and the like: stable while the same work is owed.
    pub key: String,
    pub detail: Detail,
    pub due_on: NaiveDate,
    pub show_from: NaiveDate,
    pub hide_after: Option<NaiveDate>,
}

impl PersonTask {
    fn new(category: Category, key: String, detail: Detail, due_on: NaiveDate, hide_after: Option<NaiveDate>) -> Self {
        let show_from = due_on - Duration::days(category.lead());
        PersonTask { category, key, detail, due_on, show_from, hide_after }
    }

    /// Whether it is on the day of `today`.
    pub fn shows_on(&self, today: NaiveDate) -> bool {
        self.show_from <= today && self.hide_after.is_none_or(|h| today <= h)
    }
}

/// Every task a person's record makes that can still show on `today` or later, in key order
/// (a task whose showing days have all passed is left out: it can never show again). What
/// shows on a given day is [`PersonTask::shows_on`]; nothing else here depends on the date, so
/// a task kept since its record last changed is the task derived today.
pub fn person_tasks(person_id: i64, f: &PersonFacts, today: NaiveDate) -> Vec<PersonTask> {
    let mut tasks: Vec<PersonTask> = Vec::new();
    if !f.active {
        return tasks;
    }
    let latest = |days: &[NaiveDate]| days.iter().max().copied();
    let last_prenatal = latest(&f.prenatal_checks);
    for &(detected_on, expected_on) in &f.open_pregnancies {
        let p = Pregnancy { detected_on, expected_on, last_prenatal_check: last_prenatal };
        let due = prenatal_due(&p);
        let detail = match last_prenatal.filter(|c| *c >= detected_on) {
            Some(c) => Detail::LastCheck(c),
            None => Detail::Detected(detected_on),
        };
        tasks.push(PersonTask::new(Category::PrenatalVisit, format!("prenatal:{person_id}:{due}"), detail, due, None));
        if let Some(expected) = expected_on {
            tasks.push(PersonTask::new(
                Category::ExpectedBirth,
                format!("birth:{person_id}:{expected}"),
                Detail::Expected(expected),
                expected,
                None,
            ));
        }
    }
    let last_postnatal = latest(&f.postnatal_checks);
    for &born in &f.births {
        if let Some((due, check)) = postnatal_due(born, last_postnatal) {
            let detail = if check { Detail::Check42(born) } else { Detail::Visit7(born) };
            let keep = born + Duration::days(BIRTH_KEEP_DAYS);
            tasks.push(PersonTask::new(
                Category::PostnatalVisit,
                format!("postnatal:{person_id}:{due}"),
                detail,
                due,
                Some(keep),
            ));
        }
    }
    if let Some(until) = latest(&f.certificates_valid_until) {
        tasks.push(PersonTask::new(
            Category::Certificate,
            format!("certificate:{person_id}:{until}"),
            Detail::ValidUntil(until),
            until,
            Some(until + Duration::days(CERTIFICATE_KEEP_DAYS)),
        ));
    }
    if let (Some(moved), Some(registered)) = (f.moved_on, f.registered_on)
        && registered > moved
    {
        // To be checked within the lead time of its registration.
        tasks.push(PersonTask::new(
            Category::LateRegistration,
            format!("late:{person_id}"),
            Detail::DaysLate(crate::record::days_late(moved, registered)),
            registered + Duration::days(LEAD_DAYS),
            Some(registered + Duration::days(LATE_KEEP_DAYS)),
        ));
    }
    tasks.retain(|t| t.hide_after.is_none_or(|h| today <= h));
    tasks.sort_by(|a, b| a.key.cmp(&b.key));
    // Two births on one day (twins, or a child and the pregnancy that ended) owe one visit.
    tasks.dedup_by(|a, b| a.key == b.key);
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_task_shows_five_days_ahead_and_stays_while_overdue() {
        let due = d("2026-03-20");
        assert!(!shows(Category::PrenatalVisit, due, d("2026-03-14")), "six days ahead: not yet");
        assert!(shows(Category::PrenatalVisit, due, d("2026-03-15")), "five days ahead");
        assert!(shows(Category::PrenatalVisit, due, d("2026-03-20")) && !overdue(due, d("2026-03-20")));
        assert!(shows(Category::PrenatalVisit, due, d("2026-04-30")) && overdue(due, d("2026-03-21")));
        // Expected births show four weeks ahead.
        assert!(shows(Category::ExpectedBirth, due, d("2026-02-20")));
        assert!(!shows(Category::ExpectedBirth, due, d("2026-02-19")));
    }

    #[test]
    fn prenatal_visits_every_four_weeks() {
        let p = Pregnancy { detected_on: d("2026-03-01"), expected_on: None, last_prenatal_check: None };
        assert_eq!(prenatal_due(&p), d("2026-03-29"));
        let p = Pregnancy { last_prenatal_check: Some(d("2026-03-20")), ..p };
        assert_eq!(prenatal_due(&p), d("2026-04-17"));
        // A check before this pregnancy does not count.
        let p = Pregnancy { last_prenatal_check: Some(d("2025-12-01")), ..p };
        assert_eq!(prenatal_due(&p), d("2026-03-29"));
    }

    #[test]
    fn postnatal_care_visit_then_forty_two_day_check() {
        let born = d("2026-03-01");
        assert_eq!(postnatal_due(born, None), Some((d("2026-03-08"), false)));
        assert_eq!(
            postnatal_due(born, Some(d("2026-02-20"))),
            Some((d("2026-03-08"), false)),
            "a check before the birth"
        );
        assert_eq!(postnatal_due(born, Some(d("2026-03-05"))), Some((d("2026-04-12"), true)));
        assert_eq!(postnatal_due(born, Some(d("2026-04-10"))), None, "the 42-day check was made");
    }

    #[test]
    fn a_persons_tasks_carry_the_days_they_show_and_drop_once_those_have_passed() {
        let facts = PersonFacts {
            active: true,
            moved_on: Some(d("2026-01-10")),
            registered_on: Some(d("2026-03-02")),
            open_pregnancies: vec![(d("2026-03-01"), Some(d("2026-10-05")))],
            // Twins: one child and the pregnancy that ended in their birth, on one day.
            births: vec![d("2026-02-20"), d("2026-02-20")],
            prenatal_checks: vec![d("2026-03-10")],
            postnatal_checks: vec![],
            certificates_valid_until: vec![d("2026-03-26"), d("2025-03-26")],
        };
        let on = |day: &str| -> Vec<(String, String, Option<NaiveDate>)> {
            person_tasks(7, &facts, d(day))
                .into_iter()
                .map(|t| (t.key, t.show_from.to_string(), t.hide_after))
                .collect()
        };
        assert_eq!(
            on("2026-03-02"),
            [
                ("birth:7:2026-10-05".to_owned(), "2026-09-07".to_owned(), None),
                ("certificate:7:2026-03-26".to_owned(), "2026-03-21".to_owned(), Some(d("2026-05-25"))),
                ("late:7".to_owned(), "2026-03-02".to_owned(), Some(d("2026-04-01"))),
                ("postnatal:7:2026-02-27".to_owned(), "2026-02-22".to_owned(), Some(d("2026-04-21"))),
                ("prenatal:7:2026-04-07".to_owned(), "2026-04-02".to_owned(), None),
            ],
            "one postnatal visit for the twins; the latest certificate only"
        );
        let later: Vec<String> = on("2026-04-22").into_iter().map(|t| t.0).collect();
        assert_eq!(later, ["birth:7:2026-10-05", "certificate:7:2026-03-26", "prenatal:7:2026-04-07"]);
        assert!(person_tasks(7, &PersonFacts { active: false, ..facts.clone() }, d("2026-03-02")).is_empty());
    }

    #[test]
    fn duty_days_fall_on_fives_and_tens() {
        assert_eq!(next_duty_day(d("2026-03-01")), d("2026-03-05"));
        assert_eq!(next_duty_day(d("2026-03-05")), d("2026-03-05"));
        assert_eq!(next_duty_day(d("2026-03-26")), d("2026-03-30"));
        assert_eq!(next_duty_day(d("2026-03-31")), d("2026-04-05"));
        assert_eq!(next_duty_day(d("2026-02-26")), d("2026-02-28"), "February's last day");
    }
}
