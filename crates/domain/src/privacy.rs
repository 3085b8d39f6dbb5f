//! What a reader may see of a person: the one rule behind every path that returns personal data.
//!
//! A reader who may change a record sees it whole; everyone else who may read it — supervisors,
//! the county of household registration, the administrators reading the audit log — sees a
//! projection: ID numbers and phones with their middle hidden, the birth date cut to its year,
//! the household registration cut to its county, and any ID number or mobile number that was
//! typed into free text (a note, a remark, a search) hidden the same way. The service applies the
//! projection before anything leaves it, so that no page, export or API answer has to remember.

use chrono::{Datelike, NaiveDate};

use crate::authz::RecordAccess;
use crate::person::{mask_id, mask_phone};

/// How much of a person's data a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// The reader may change the record (or must act on an item about it): everything.
    Full,
    /// The reader may only read: the projection.
    Masked,
}

impl Disclosure {
    /// A record read by an actor who reaches it with `access` and `may_write` it.
    pub fn for_record(access: RecordAccess, may_write: bool) -> Disclosure {
        if access == RecordAccess::Manage && may_write { Disclosure::Full } else { Disclosure::Masked }
    }

    pub fn is_full(self) -> bool {
        self == Disclosure::Full
    }

    /// An ID number as this reader sees it.
    pub fn id_number(self, id: &str) -> String {
        match self {
            Disclosure::Full => id.to_owned(),
            Disclosure::Masked => mask_id(id),
        }
    }

    /// A phone number as this reader sees it.
    pub fn phone(self, phone: &str) -> String {
        match self {
            Disclosure::Full => phone.to_owned(),
            Disclosure::Masked => mask_phone(phone),
        }
    }

    /// A birth date as this reader sees it: `1990-03-07`, or only `1990`. With the year, the
    /// county and the four last characters shown, the eleven hidden characters of an ID number
    /// still leave hundreds of candidates.
    pub fn birth_date(self, date: NaiveDate) -> String {
        match self {
            Disclosure::Full => date.to_string(),
            Disclosure::Masked => date.year().to_string(),
        }
    }

    /// An area code of household registration as this reader sees it: whole, or its county.
    pub fn area(self, code: &str) -> String {
        match self {
            Disclosure::Full => code.to_owned(),
            Disclosure::Masked => code.chars().take(6).collect(),
        }
    }

    /// Free text as this reader sees it: every ID number and mobile number in it hidden.
    pub fn text(self, text: &str) -> String {
        match self {
            Disclosure::Full => text.to_owned(),
            Disclosure::Masked => scrub(text),
        }
    }
}

/// Hides every ID number (18 characters, 17 digits and a digit or `X`, also with a wrong check
/// digit, and the 15-digit numbers of before 1999) and every mainland mobile number (11 digits
/// starting 1) in `text`, wherever they stand: in JSON, a note, a search box. Runs of digits of
/// other lengths (a date, a code, an amount), and digits inside a token of letters and digits
/// (a hash, a reference), are left as they are.
pub fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        // An ID number may end in X (or x): take it into the run when 17 digits precede it.
        if i - start == 17 && i < chars.len() && matches!(chars[i], 'X' | 'x') {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        let in_token = |c: Option<&char>| c.is_some_and(|c| c.is_ascii_alphabetic());
        if in_token(start.checked_sub(1).and_then(|p| chars.get(p))) || in_token(chars.get(i)) {
            out.push_str(&run);
            continue;
        }
        let masked = match run.len() {
            18 | 15 => mask_id(&run),
            11 if run.starts_with('1') => mask_phone(&run),
            _ => run,
        };
        out.push_str(&masked);
    }
    out
}

/// Whether `text` still holds something [`scrub`] would hide: for tests and checks.
pub fn holds_personal_number(text: &str) -> bool {
    scrub(text) != text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_writer_of_the_record_sees_it_whole() {
        assert_eq!(Disclosure::for_record(RecordAccess::Manage, true), Disclosure::Full);
        assert_eq!(Disclosure::for_record(RecordAccess::Manage, false), Disclosure::Masked, "a supervisor");
        assert_eq!(Disclosure::for_record(RecordAccess::ReadAsOrigin, true), Disclosure::Masked, "the origin");
    }

    #[test]
    fn the_projection_hides_what_rebuilds_a_number() {
        let m = Disclosure::Masked;
        assert_eq!(m.id_number("511923199003070027"), "511***********0027");
        assert_eq!(m.phone("13800138000"), "138****8000");
        assert_eq!(m.birth_date(NaiveDate::from_ymd_opt(1990, 3, 7).unwrap()), "1990");
        assert_eq!(m.area("511923104201"), "511923");
        let f = Disclosure::Full;
        assert_eq!(f.birth_date(NaiveDate::from_ymd_opt(1990, 3, 7).unwrap()), "1990-03-07");
        assert_eq!(f.area("511923104201"), "511923104201");
    }

    #[test]
    fn numbers_typed_into_text_are_hidden_wherever_they_stand() {
        assert_eq!(
            scrub(r#"{"q":"11010519491231002X","before":"13800138000"}"#),
            r#"{"q":"110***********002X","before":"138****8000"}"#
        );
        assert_eq!(scrub("身份证11010519491231002x，电话13912345678。"), "身份证110***********002x，电话139****5678。");
        assert_eq!(scrub("旧证号110105491231002"), "旧证号110********1002");
        assert_eq!(scrub("511923199003070029 (wrong check digit)"), "511***********0029 (wrong check digit)");
    }

    #[test]
    fn other_numbers_are_left_alone() {
        for text in ["2026-03-07", "371602001001", "第12345678号", "05433161234", "1234567890123456789", "邮编256600"]
        {
            assert_eq!(scrub(text), text);
        }
        assert!(!holds_personal_number("371602001001"));
        let hash = "h1:9f1c13932820737ab02d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7";
        assert_eq!(scrub(hash), hash, "digits inside a hash are not a phone");
        assert!(holds_personal_number("tel 15000000000"));
    }
}
