//! Time: the one source of "now", and China Standard Time for business dates.
//!
//! Every part of Qipan that needs the current time asks a [`Clock`]. A fixed clock
//! (`QIPAN_CLOCK=2026-03-01T09:00:00+08:00`) freezes time for a whole process, for tests and
//! for training installations. Timestamps are kept in UTC; business dates (deadlines, cycles,
//! reports) are taken in China Standard Time, UTC+8, which has no daylight saving.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// China Standard Time, UTC+8.
pub fn china_standard_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("8 hours is a valid offset")
}

/// The business date (in China Standard Time) of an instant.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china_standard_time()).date_naive()
}

/// The instant a China date begins (00:00 China time).
pub fn china_day_start(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN) - chrono::Duration::hours(8);
    midnight.and_utc()
}

/// The last instant of a China date (24:00 China time, less a microsecond): a period "ends at
/// 24:00 of its last day".
pub fn china_day_end(date: NaiveDate) -> DateTime<Utc> {
    china_day_start(date) + chrono::Duration::days(1) - chrono::Duration::microseconds(1)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a clock is an RFC 3339 time with an offset, such as 2026-03-01T09:00:00+08:00; `{0}` is not")]
pub struct ClockError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The operating system's clock.
    #[default]
    System,
    /// Time stands still at this instant.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// Parses the `QIPAN_CLOCK` form: an RFC 3339 instant with an explicit offset.
    pub fn fixed_at(raw: &str) -> Result<Clock, ClockError> {
        DateTime::parse_from_rfc3339(raw.trim())
            .map(|t| Clock::Fixed(t.with_timezone(&Utc)))
            .map_err(|_| ClockError(raw.to_owned()))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
        }
    }

    /// Today's business date in China Standard Time.
    pub fn today(&self) -> NaiveDate {
        china_date(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_keeps_the_instant_in_utc() {
        let clock = Clock::fixed_at("2026-03-01T09:00:00+08:00").unwrap();
        assert_eq!(clock.now().to_rfc3339(), "2026-03-01T01:00:00+00:00");
        assert_eq!(clock.now(), clock.now(), "a fixed clock does not move");
    }

    #[test]
    fn business_date_is_taken_in_china_time() {
        // 16:30 UTC on 28 February is already 1 March in Beijing.
        let clock = Clock::fixed_at("2026-02-28T16:30:00Z").unwrap();
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        // 15:59 UTC is still the same day.
        let clock = Clock::fixed_at("2026-02-28T15:59:59Z").unwrap();
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
    }

    #[test]
    fn a_china_day_runs_from_16_00_utc_the_day_before() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 27).unwrap();
        assert_eq!(china_day_start(day).to_rfc3339(), "2026-03-26T16:00:00+00:00");
        assert_eq!(china_day_end(day).to_rfc3339(), "2026-03-27T15:59:59.999999+00:00");
        assert_eq!(china_date(china_day_end(day)), day);
        assert_eq!(china_date(china_day_start(day)), day);
    }

    #[test]
    fn a_clock_without_offset_or_with_garbage_is_refused() {
        for bad in ["2026-03-01 09:00", "2026-03-01T09:00:00", "tomorrow", ""] {
            let err = Clock::fixed_at(bad).unwrap_err();
            assert!(err.to_string().contains("RFC 3339"), "{bad}: {err}");
        }
    }
}
