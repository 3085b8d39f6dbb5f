//! Data-quality rules (差错校验, seed 004 §4, seed 000): what is wrong with one record, judged
//! the way the national platform does — an imported record is kept even when its ID number is
//! faulty, and the fault is listed here for the unit that manages it to fix.

use chrono::NaiveDate;

use crate::codes::{CodeBook, CodeTable};
use crate::id_number::{IdNumber, IdNumberError};

/// Days allowed between an event and its registration (seed 000): a move in or out the same
/// day, a return home within 3 days, a departure onward within 15 days.
pub const SAME_DAY: i64 = 0;
pub const RETURN_DAYS: i64 = 3;
pub const DEPARTURE_DAYS: i64 = 15;

/// Every rule, in the order the pages list them: the per-record rules of [`check`], then the
/// one that spans records (the same ID number managed in two units, found by the store).
pub const RULES: &[&str] = &[
    "quality.no_id_number",
    "quality.bad_id_number",
    "quality.birth_mismatch",
    "quality.gender_mismatch",
    "quality.unknown_code",
    "quality.late_registration",
    "quality.late_end",
    "quality.duplicate_management",
];

/// The rule named `key`, if there is one.
pub fn rule(key: &str) -> Option<&'static str> {
    RULES.iter().copied().find(|r| *r == key)
}

/// One problem with a record. `rule` is the catalogue key that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub detail: String,
}

/// The facts of a record that the rules look at.
#[derive(Debug, Clone)]
pub struct RecordFacts<'a> {
    pub id_number: Option<&'a str>,
    pub gender: &'a str,
    pub birth_date: NaiveDate,
    pub ethnicity: Option<&'a str>,
    pub education: Option<&'a str>,
    pub marital_status: Option<&'a str>,
    pub moved_on: NaiveDate,
    pub registered_on: NaiveDate,
    pub status: &'a str,
    pub ended_on: Option<NaiveDate>,
    /// When the end of the move was recorded (business date).
    pub ended_recorded_on: Option<NaiveDate>,
}

fn finding(rule: &'static str, detail: impl Into<String>) -> Finding {
    Finding { rule, detail: detail.into() }
}

/// Every rule the record breaks on `today`.
pub fn check(r: &RecordFacts<'_>, today: NaiveDate, codes: &CodeBook) -> Vec<Finding> {
    let mut out = Vec::new();
    match r.id_number {
        None => out.push(finding("quality.no_id_number", "")),
        Some(raw) => match IdNumber::parse_legacy(raw, today) {
            Err(e) => out.push(finding("quality.bad_id_number", e.rule_key())),
            Ok(id) => {
                if !id.check_digit_ok() {
                    out.push(finding("quality.bad_id_number", IdNumberError::CheckDigit.rule_key()));
                }
                if id.birth_date() != r.birth_date {
                    out.push(finding("quality.birth_mismatch", format!("{} ≠ {}", id.birth_date(), r.birth_date)));
                }
                if id.gender().code() != r.gender {
                    out.push(finding("quality.gender_mismatch", r.gender));
                }
            }
        },
    }
    for (field, table, value) in [
        ("ethnicity", CodeTable::Ethnicity, r.ethnicity),
        ("education", CodeTable::Education, r.education),
        ("marital_status", CodeTable::MaritalStatus, r.marital_status),
    ] {
        if let Some(v) = value
            && !codes.contains(table, v)
        {
            out.push(finding("quality.unknown_code", format!("{field}={v}")));
        }
    }
    let late = (r.registered_on - r.moved_on).num_days();
    if late > SAME_DAY {
        out.push(finding("quality.late_registration", late.to_string()));
    }
    if let (Some(ended), Some(recorded)) = (r.ended_on, r.ended_recorded_on) {
        let allowed = match r.status {
            "returned" => RETURN_DAYS,
            "moved_on" => DEPARTURE_DAYS,
            _ => i64::MAX,
        };
        let days = (recorded - ended).num_days();
        if days > allowed {
            out.push(finding("quality.late_end", days.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn good() -> RecordFacts<'static> {
        RecordFacts {
            id_number: Some("511923199003070027"),
            gender: "2",
            birth_date: d("1990-03-07"),
            ethnicity: Some("01"),
            education: None,
            marital_status: Some("20"),
            moved_on: d("2026-11-20"),
            registered_on: d("2026-11-20"),
            status: "active",
            ended_on: None,
            ended_recorded_on: None,
        }
    }

    fn rules(r: &RecordFacts<'_>) -> Vec<&'static str> {
        check(r, d("2026-11-23"), &CodeBook::shipped()).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_clean_record_has_no_findings() {
        assert!(rules(&good()).is_empty());
    }

    #[test]
    fn each_rule_is_found() {
        let mut r = good();
        r.id_number = None;
        assert_eq!(rules(&r), ["quality.no_id_number"]);
        let mut r = good();
        r.id_number = Some("511923199003070028");
        assert_eq!(rules(&r), ["quality.bad_id_number"], "legacy numbers with a bad check digit are listed");
        let mut r = good();
        r.id_number = Some("51192319900307");
        assert_eq!(rules(&r), ["quality.bad_id_number"]);
        let mut r = good();
        r.gender = "1";
        r.birth_date = d("1990-03-08");
        assert_eq!(rules(&r), ["quality.birth_mismatch", "quality.gender_mismatch"]);
        let mut r = good();
        r.ethnicity = Some("99");
        assert_eq!(rules(&r), ["quality.unknown_code"]);
        let mut r = good();
        r.registered_on = d("2026-11-22");
        assert_eq!(
            check(&r, d("2026-11-23"), &CodeBook::shipped())[0],
            Finding { rule: "quality.late_registration", detail: "2".into() }
        );
    }

    #[test]
    fn returns_have_three_days_and_departures_fifteen() {
        let mut r = good();
        r.status = "returned";
        r.ended_on = Some(d("2026-11-01"));
        r.ended_recorded_on = Some(d("2026-11-04"));
        assert!(rules(&r).is_empty(), "three days is in time");
        r.ended_recorded_on = Some(d("2026-11-05"));
        assert_eq!(rules(&r), ["quality.late_end"]);
        r.status = "moved_on";
        assert!(rules(&r).is_empty(), "fifteen days for a departure");
        r.ended_recorded_on = Some(d("2026-11-17"));
        assert_eq!(rules(&r), ["quality.late_end"]);
    }
}
