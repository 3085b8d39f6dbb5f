//! Working days and the counting of periods (DESIGN §6 "Counting periods").
//!
//! The State Council announces each year's public holidays and the weekend days worked in
//! exchange (调休). That is data, kept in [`WorkCalendar`]; the rules that count a period over it
//! (Civil Code arts. 201–203, Administrative Licensing Law art. 82) are the functions here:
//! the day of the event is not counted; a period ends at 24:00 China time of its last day; a
//! period in days whose last day is not a working day runs to the end of the next working day;
//! a period in working days counts working days only. For a year the calendar does not know,
//! Monday to Friday are taken as working days, and the answer says that it assumed so.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// What the calendar says of one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// A public holiday (or a weekday given off in exchange for a make-up working day).
    Off,
    /// A Saturday or Sunday worked in exchange (调休上班).
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Off => "off",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        match s.trim() {
            "off" => Some(DayKind::Off),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One announced date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub holiday: String,
}

/// A last day, and whether finding it needed a year the calendar does not know (so Monday to
/// Friday were taken as the working days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub last_day: NaiveDate,
    pub assumed: bool,
}

/// The announced holidays and make-up working days of the years the calendar knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    days: BTreeMap<NaiveDate, DayKind>,
    years: BTreeSet<i32>,
}

/// The calendar shipped with Qipan: the State Council's notices for 2024–2026.
pub const SHIPPED_CSV: &str = include_str!("../data/calendar.csv");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar line {line}: {reason}")]
pub struct CalendarError {
    pub line: usize,
    pub reason: String,
}

impl WorkCalendar {
    /// A calendar of these announced days; the years it knows are the years they fall in.
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        let days: BTreeMap<_, _> = days.into_iter().collect();
        let years = days.keys().map(|d| d.year()).collect();
        WorkCalendar { days, years }
    }

    /// A calendar of these days whose announced years are given apart: one day entered for a
    /// year whose notice is not out yet does not make the whole year known.
    pub fn with_years(
        days: impl IntoIterator<Item = (NaiveDate, DayKind)>,
        years: impl IntoIterator<Item = i32>,
    ) -> Self {
        WorkCalendar { days: days.into_iter().collect(), years: years.into_iter().collect() }
    }

    /// Reads `date,kind,holiday` lines (a header line and `#` comments are skipped).
    pub fn parse_csv(text: &str) -> Result<Vec<CalendarDay>, CalendarError> {
        let mut out = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("date,") {
                continue;
            }
            let fail = |reason: &str| CalendarError { line: i + 1, reason: reason.to_owned() };
            let mut parts = line.splitn(3, ',');
            let date = parts.next().and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok());
            let date = date.ok_or_else(|| fail("the first column is a date, YYYY-MM-DD"))?;
            let kind = parts.next().and_then(DayKind::parse).ok_or_else(|| fail("the kind is `off` or `workday`"))?;
            let holiday = parts.next().unwrap_or("").trim().to_owned();
            out.push(CalendarDay { date, kind, holiday });
        }
        Ok(out)
    }

    /// The shipped calendar.
    pub fn shipped() -> Self {
        let days = Self::parse_csv(SHIPPED_CSV).expect("the shipped calendar parses");
        WorkCalendar::new(days.into_iter().map(|d| (d.date, d.kind)))
    }

    /// Whether the calendar holds the announcements of this year.
    pub fn knows(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// Whether `date` is a working day, and whether that was assumed (year unknown).
    pub fn is_working_day(&self, date: NaiveDate) -> (bool, bool) {
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let assumed = !self.knows(date.year());
        let working = match self.days.get(&date) {
            Some(DayKind::Off) => false,
            Some(DayKind::Workday) => true,
            None => !weekend,
        };
        (working, assumed)
    }

    /// The last day of a period of `days` days after `event`: the event's day is not counted,
    /// and a last day that is not a working day moves to the next working day.
    pub fn days_after(&self, event: NaiveDate, days: u32) -> Deadline {
        let mut last = event + Duration::days(i64::from(days));
        let (mut working, mut assumed) = self.is_working_day(last);
        while !working {
            last = last.succ_opt().expect("dates stay far inside chrono's range");
            let (w, a) = self.is_working_day(last);
            working = w;
            assumed |= a;
        }
        Deadline { last_day: last, assumed }
    }

    /// The last day of a period of `n` working days after `event` (the event's day not counted).
    pub fn working_days_after(&self, event: NaiveDate, n: u32) -> Deadline {
        let mut day = event;
        let mut counted = 0;
        let mut assumed = false;
        while counted < n {
            day = day.succ_opt().expect("dates stay far inside chrono's range");
            let (working, a) = self.is_working_day(day);
            assumed |= a;
            if working {
                counted += 1;
            }
        }
        Deadline { last_day: day, assumed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_shipped_calendar_holds_the_2025_notice() {
        let cal = WorkCalendar::shipped();
        assert!(cal.knows(2024) && cal.knows(2025) && cal.knows(2026) && !cal.knows(2027));
        // 2025: Spring Festival 1/28–2/4 off; 1/26 (Sunday) and 2/8 (Saturday) worked.
        for off in ["2025-01-01", "2025-01-28", "2025-02-04", "2025-10-08"] {
            assert_eq!(cal.is_working_day(d(off)), (false, false), "{off}");
        }
        for worked in ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"] {
            assert_eq!(cal.is_working_day(d(worked)), (true, false), "{worked}");
        }
        // An ordinary Saturday and an ordinary Wednesday.
        assert_eq!(cal.is_working_day(d("2025-03-08")), (false, false));
        assert_eq!(cal.is_working_day(d("2025-03-12")), (true, false));
    }

    #[test]
    fn a_period_in_days_skips_to_the_next_working_day() {
        let cal = WorkCalendar::shipped();
        // 15 days after Friday 2025-03-07 is Saturday 03-22: runs to Monday 03-24.
        assert_eq!(cal.days_after(d("2025-03-07"), 15), Deadline { last_day: d("2025-03-24"), assumed: false });
        // 30 days after 2025-09-01 is Wednesday 10-01, National Day: off until 10-08; 10-09 works.
        assert_eq!(cal.days_after(d("2025-09-01"), 30).last_day, d("2025-10-09"));
        // 15 days after 2025-01-11 is Sunday 01-26, a make-up working day: it stands.
        assert_eq!(cal.days_after(d("2025-01-11"), 15).last_day, d("2025-01-26"));
    }

    #[test]
    fn a_period_in_working_days_counts_only_working_days() {
        let cal = WorkCalendar::shipped();
        // Thursday 2025-04-24: Fri 25, Sun 27 (worked), Mon 28, Tue 29, Wed 30 → 5th is 04-30.
        assert_eq!(cal.working_days_after(d("2025-04-24"), 5).last_day, d("2025-04-30"));
        // Monday 2025-09-29: 30 (1), 10-01..08 off, Thu 10-09 (2), Fri 10 (3), Sat 11 worked (4), Mon 13 (5).
        assert_eq!(cal.working_days_after(d("2025-09-29"), 5).last_day, d("2025-10-13"));
    }

    #[test]
    fn an_unknown_year_falls_back_to_monday_to_friday_and_says_so() {
        let cal = WorkCalendar::shipped();
        // 2027-01-01 is a Friday; unknown year, so it is taken as a working day.
        assert_eq!(cal.is_working_day(d("2027-01-01")), (true, true));
        // 2026-12-28 + 5 working days crosses into 2027: Dec 29, 30, 31, Jan 1 (assumed), Jan 4.
        assert_eq!(cal.working_days_after(d("2026-12-28"), 5), Deadline { last_day: d("2027-01-04"), assumed: true });
        // Wholly inside a known year, nothing is assumed.
        assert!(!cal.days_after(d("2026-03-02"), 15).assumed);
    }

    #[test]
    fn a_single_day_of_an_unannounced_year_does_not_make_it_known() {
        let cal = WorkCalendar::with_years([(d("2027-10-01"), DayKind::Off)], [2026]);
        assert_eq!(cal.is_working_day(d("2027-10-01")), (false, true), "off, but the year is still assumed");
        assert_eq!(cal.is_working_day(d("2026-03-02")), (true, false));
    }

    #[test]
    fn bad_calendar_lines_name_the_line() {
        let err = WorkCalendar::parse_csv("date,kind,holiday\n2025-13-01,off,x\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = WorkCalendar::parse_csv("2025-01-01,holiday,x\n").unwrap_err();
        assert!(err.reason.contains("off"), "{err}");
    }
}
