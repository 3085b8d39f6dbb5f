use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::OrgLevel;

// ---- periods ---------------------------------------------------------------------------------

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1900..=2999).contains(&year)).then_some(Month { year, month })
    }

    /// `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn of(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a checked month has a first day")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("a month has a last day")
    }

    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What kind of period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Month(Month),
    Quarter {
        year: i32,
        quarter: u32,
    },
    Year(i32),
    /// Any range of days (`from`, `to`).
    Range,
}

/// The days a report covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A period that could not be read: the field and the rule broken, both catalogue keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodError {
    pub field: &'static str,
    pub rule: &'static str,
}

/// The longest custom range: ten years.
pub const MAX_RANGE_DAYS: i64 = 3660;

fn blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Period {
    pub fn month(m: Month) -> Period {
        Period { kind: PeriodKind::Month(m), from: m.first_day(), to: m.last_day() }
    }

    /// Reads `period` (`2026-03`, `2026-Q1` or `2026`) or the pair `from`/`to` (dates), never
    /// both. A period may not start after `today`.
    pub fn parse(
        period: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<Period, PeriodError> {
        let fail = |field, rule| Err(PeriodError { field, rule });
        let (period, from, to) = (blank(period), blank(from), blank(to));
        let parsed = match (period, from, to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return fail("report.field_period", "report.rule_period_both");
            }
            (Some(p), None, None) => match Period::parse_named(p) {
                Some(p) => p,
                None => return fail("report.field_period", "report.rule_period_format"),
            },
            (None, None, None) => return fail("report.field_period", "rule.required"),
            (None, None, Some(_)) => return fail("field.from", "rule.required"),
            (None, Some(_), None) => return fail("field.to", "rule.required"),
            (None, Some(f), Some(t)) => {
                let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
                let Some(from) = date(f) else { return fail("field.from", "rule.date") };
                let Some(to) = date(t) else { return fail("field.to", "rule.date") };
                if to < from {
                    return fail("field.to", "report.rule_period_order");
                }
                if (to - from).num_days() >= MAX_RANGE_DAYS {
                    return fail("field.to", "report.rule_period_long");
                }
                Period { kind: PeriodKind::Range, from, to }
            }
        };
        if parsed.from > today {
            let field = if parsed.kind == PeriodKind::Range { "field.from" } else { "report.field_period" };
            return fail(field, "report.rule_period_future");
        }
        Ok(parsed)
    }

    fn parse_named(s: &str) -> Option<Period> {
        let upper = s.to_ascii_uppercase();
        if let Some((y, q)) = upper.split_once("-Q") {
            let year: i32 = (y.len() == 4).then(|| y.parse().ok()).flatten()?;
            let quarter: u32 = (q.len() == 1).then(|| q.parse().ok()).flatten()?;
            if !(1..=4).contains(&quarter) {
                return None;
            }
            let first = Month::new(year, (quarter - 1) * 3 + 1)?;
            let last = Month::new(year, quarter * 3)?;
            return Some(Period {
                kind: PeriodKind::Quarter { year, quarter },
                from: first.first_day(),
                to: last.last_day(),
            });
        }
        if upper.len() == 4 && upper.bytes().all(|b| b.is_ascii_digit()) {
            let year: i32 = upper.parse().ok()?;
            let (first, last) = (Month::new(year, 1)?, Month::new(year, 12)?);
            return Some(Period { kind: PeriodKind::Year(year), from: first.first_day(), to: last.last_day() });
        }
        Month::parse(&upper).map(Period::month)
    }

    /// The name of a named period (`2026-03`, `2026-Q1`, `2026`), or `from..to`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Month(m) => m.to_string(),
            PeriodKind::Quarter { year, quarter } => format!("{year:04}-Q{quarter}"),
            PeriodKind::Year(y) => format!("{y:04}"),
            PeriodKind::Range => format!("{}..{}", self.from, self.to),
        }
    }

    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            PeriodKind::Month(_) => "month",
            PeriodKind::Quarter { .. } => "quarter",
            PeriodKind::Year(_) => "year",
            PeriodKind::Range => "range",
        }
    }

    /// The first day of the year the period ends in ("gave birth this year" at the period's end).
    pub fn year_start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.to.year(), 1, 1).expect("1 January exists")
    }
}

// ---- reporting deadlines and snapshots ---------------------------------------------------------

/// The day of the following month by which a unit of each level reports its month: villages and
/// communities by the 2nd, townships by the 5th (seed 004 part 4 §(三)); counties, cities and
/// provinces are Qipan's choice (docs/decisions/0008-reports.md), leaving each level a few days
/// to check the level below.
pub const DEADLINE_DAYS: [(OrgLevel, u32); 6] = [
    (OrgLevel::Unit, 2),
    (OrgLevel::Village, 2),
    (OrgLevel::Township, 5),
    (OrgLevel::County, 10),
    (OrgLevel::City, 15),
    (OrgLevel::Province, 20),
];

/// The last day on which a unit of `level` may still change its figures for `month`; from the
/// next day (China time) the month's figures are frozen.
pub fn deadline(level: OrgLevel, month: Month) -> NaiveDate {
    let day = DEADLINE_DAYS.iter().find(|(l, _)| *l == level).map(|(_, d)| *d).unwrap_or(2);
    NaiveDate::from_ymd_opt(month.next().year, month.next().month, day).expect("days up to 20 exist in every month")
}

/// Whether a month's figures are frozen on `today`: the deadline has passed.
pub fn is_frozen(level: OrgLevel, month: Month, today: NaiveDate) -> bool {
    today > deadline(level, month)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn parse(p: Option<&str>, f: Option<&str>, t: Option<&str>) -> Result<Period, PeriodError> {
        Period::parse(p, f, t, d("2026-11-23"))
    }

    #[test]
    fn periods_are_months_quarters_years_or_ranges() {
        let m = parse(Some("2026-02"), None, None).unwrap();
        assert_eq!((m.from, m.to, m.label()), (d("2026-02-01"), d("2026-02-28"), "2026-02".to_owned()));
        let q = parse(Some("2026-q4"), None, None).unwrap();
        assert_eq!((q.from, q.to, q.label()), (d("2026-10-01"), d("2026-12-31"), "2026-Q4".to_owned()));
        let y = parse(Some("2024"), None, None).unwrap();
        assert_eq!((y.from, y.to), (d("2024-01-01"), d("2024-12-31")));
        let r = parse(None, Some("2026-02-15"), Some("2026-03-10")).unwrap();
        assert_eq!((r.kind, r.from, r.to), (PeriodKind::Range, d("2026-02-15"), d("2026-03-10")));
        assert_eq!(Month::parse("2024-02").unwrap().last_day(), d("2024-02-29"));
    }

    #[test]
    fn bad_periods_name_the_field_and_the_rule() {
        let err = |p, f, t| parse(p, f, t).map(|_| ()).unwrap_err();
        let e = |field, rule| PeriodError { field, rule };
        assert_eq!(err(Some("2026-13"), None, None), e("report.field_period", "report.rule_period_format"));
        assert_eq!(err(Some("2026-Q5"), None, None), e("report.field_period", "report.rule_period_format"));
        assert_eq!(err(Some("26-03"), None, None), e("report.field_period", "report.rule_period_format"));
        assert_eq!(err(Some("2026-03"), Some("2026-03-01"), None), e("report.field_period", "report.rule_period_both"));
        assert_eq!(err(None, None, None), e("report.field_period", "rule.required"));
        assert_eq!(err(None, Some("2026-03-01"), None), e("field.to", "rule.required"));
        assert_eq!(err(None, Some("2026-3-1x"), Some("2026-03-02")), e("field.from", "rule.date"));
        assert_eq!(err(None, Some("2026-03-02"), Some("2026-03-01")), e("field.to", "report.rule_period_order"));
        assert_eq!(err(None, Some("2000-01-01"), Some("2026-03-01")), e("field.to", "report.rule_period_long"));
        assert_eq!(err(Some("2026-12"), None, None), e("report.field_period", "report.rule_period_future"));
        assert!(parse(Some("2026-11"), None, None).is_ok(), "the current month is allowed (live)");
    }

    #[test]
    fn deadlines_follow_the_level() {
        let march = Month::parse("2026-03").unwrap();
        assert_eq!(deadline(OrgLevel::Village, march), d("2026-04-02"));
        assert_eq!(deadline(OrgLevel::Township, march), d("2026-04-05"));
        assert_eq!(deadline(OrgLevel::County, march), d("2026-04-10"));
        assert_eq!(deadline(OrgLevel::Village, Month::parse("2026-12").unwrap()), d("2027-01-02"));
        assert!(!is_frozen(OrgLevel::Village, march, d("2026-04-02")));
        assert!(is_frozen(OrgLevel::Village, march, d("2026-04-03")));
    }
}
