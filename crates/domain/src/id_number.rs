//! 公民身份号码 — the citizen ID number of GB 11643-1999.
//!
//! 18 characters: a 6-digit address code (the place of household registration at birth), the
//! birth date YYYYMMDD, a 3-digit sequence (odd for men, even for women) and a check character
//! by ISO 7064 MOD 11-2. A new entry is held to every rule; legacy imports use
//! [`IdNumber::parse_legacy`], which keeps a number whose only fault is the check digit (the
//! national platform once stopped checking it) and reports that fault.

use std::fmt;

use chrono::NaiveDate;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Province codes of GB/T 2260 (including Taiwan, Hong Kong and Macao).
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters")]
    Length,
    #[error("an ID number has 17 digits and a last character that is a digit or X")]
    Characters,
    #[error("the first two digits of an ID number are a province code")]
    Area,
    #[error("the birth date inside the ID number is not a real date")]
    BirthDate,
    #[error("the birth date inside the ID number lies in the future")]
    FutureBirth,
    #[error("the check digit of the ID number is wrong: a character was mistyped")]
    CheckDigit,
}

impl IdNumberError {
    /// Catalogue key of the rule broken.
    pub fn rule_key(self) -> &'static str {
        match self {
            IdNumberError::Length => "rule.id_length",
            IdNumberError::Characters => "rule.id_characters",
            IdNumberError::Area => "rule.id_area",
            IdNumberError::BirthDate => "rule.id_birth_date",
            IdNumberError::FutureBirth => "rule.id_future_birth",
            IdNumberError::CheckDigit => "rule.id_check_digit",
        }
    }
}

/// A checked citizen ID number (uppercase X).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

/// GB/T 2261.1 gender codes as the ID number gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdGender {
    Male,
    Female,
}

impl IdGender {
    /// The GB/T 2261.1 code: 1 male, 2 female.
    pub fn code(self) -> &'static str {
        match self {
            IdGender::Male => "1",
            IdGender::Female => "2",
        }
    }
}

/// The check character for the first 17 digits.
pub fn check_char(first17: &str) -> char {
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl IdNumber {
    /// Parses a new entry: every rule applies. `today` bounds the birth date.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let id = Self::parse_legacy(raw, today)?;
        if !id.check_digit_ok() {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(id)
    }

    /// Parses legacy data: every rule but the check digit (see [`IdNumber::check_digit_ok`]).
    pub fn parse_legacy(raw: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let s: String = raw.trim().chars().map(|c| if c == 'x' { 'X' } else { c }).collect();
        if s.chars().count() != 18 {
            return Err(IdNumberError::Length);
        }
        let bytes = s.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
            return Err(IdNumberError::Characters);
        }
        if !PROVINCES.contains(&&s[..2]) {
            return Err(IdNumberError::Area);
        }
        let birth = NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").map_err(|_| IdNumberError::BirthDate)?;
        if birth.format("%Y").to_string().parse::<i32>().unwrap_or(0) < 1880 {
            return Err(IdNumberError::BirthDate);
        }
        if birth > today {
            return Err(IdNumberError::FutureBirth);
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn check_digit_ok(&self) -> bool {
        check_char(&self.0[..17]) == self.0.as_bytes()[17] as char
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked on construction")
    }

    pub fn gender(&self) -> IdGender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { IdGender::Male } else { IdGender::Female }
    }

    /// The 6-digit address code of the household registration at issue.
    pub fn area_code(&self) -> &str {
        &self.0[..6]
    }

    /// The number as lists show it: see [`crate::person::mask_id`].
    pub fn masked(&self) -> String {
        crate::person::mask_id(&self.0)
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn the_standard_example_is_valid() {
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.gender(), IdGender::Female);
        assert_eq!(id.area_code(), "110105");
        assert_eq!(id.masked(), "110***********002X");
        // A lowercase x is the same number.
        assert_eq!(IdNumber::parse("11010519491231002x", today()).unwrap(), id);
    }

    #[test]
    fn each_rule_is_named() {
        let cases = [
            ("1101051949123100", IdNumberError::Length),
            ("11010519491231002X1", IdNumberError::Length),
            ("1101051949123100AX", IdNumberError::Characters),
            ("X10105194912310021", IdNumberError::Characters),
            ("99010519491231002X", IdNumberError::Area),
            ("110105194902300021", IdNumberError::BirthDate),
            ("110105187001010021", IdNumberError::BirthDate),
            ("110105203001010021", IdNumberError::FutureBirth),
            ("110105194912310021", IdNumberError::CheckDigit),
        ];
        for (raw, err) in cases {
            assert_eq!(IdNumber::parse(raw, today()), Err(err), "{raw}");
        }
        assert!(IdNumber::parse_legacy("110105194912310021", today()).is_ok(), "legacy data keeps a bad check digit");
        assert!(!IdNumber::parse_legacy("110105194912310021", today()).unwrap().check_digit_ok());
    }

    fn valid_first17() -> impl Strategy<Value = String> {
        (0usize..PROVINCES.len(), 0u32..10_000, 1900i32..2026, 1u32..=12, 1u32..=28, 0u32..1000)
            .prop_map(|(p, area, y, m, d, seq)| format!("{}{:04}{y:04}{m:02}{d:02}{seq:03}", PROVINCES[p], area))
    }

    proptest! {
        #[test]
        fn valid_numbers_round_trip(first17 in valid_first17()) {
            let full = format!("{first17}{}", check_char(&first17));
            let id = IdNumber::parse(&full, today()).unwrap();
            prop_assert_eq!(id.as_str(), full.as_str());
            prop_assert_eq!(id.birth_date().format("%Y%m%d").to_string(), &first17[6..14]);
        }

        #[test]
        fn any_single_changed_digit_is_caught(first17 in valid_first17(), pos in 0usize..17, delta in 1u8..10) {
            let full = format!("{first17}{}", check_char(&first17));
            let mut bytes = full.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&changed, today()).is_err(), "{} was accepted", changed);
        }
    }
}
