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
    fn duty_days_fall_on_fives_and_tens() {
        assert_eq!(next_duty_day(d("2026-03-01")), d("2026-03-05"));
        assert_eq!(next_duty_day(d("2026-03-05")), d("2026-03-05"));
        assert_eq!(next_duty_day(d("2026-03-26")), d("2026-03-30"));
        assert_eq!(next_duty_day(d("2026-03-31")), d("2026-04-05"));
        assert_eq!(next_duty_day(d("2026-02-26")), d("2026-02-28"), "February's last day");
    }
}
