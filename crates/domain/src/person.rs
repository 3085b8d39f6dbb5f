//! The small checked values of a personal record: names and phone numbers.

use std::fmt;

pub const MAX_NAME_CHARS: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name is not empty")]
    Empty,
    #[error("a name has at most 30 characters")]
    TooLong,
    #[error("a name holds letters, the middle dot of minority names, and spaces only")]
    Characters,
}

impl NameError {
    pub fn rule_key(self) -> &'static str {
        match self {
            NameError::Empty => "rule.name_empty",
            NameError::TooLong => "rule.name_long",
            NameError::Characters => "rule.name_characters",
        }
    }
}

/// A person's name: trimmed, inner runs of spaces collapsed, 1–30 characters of letters (any
/// script), the middle dot of transcribed minority names (·), and spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<PersonName, NameError> {
        let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        if !s.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '·' || c == '•') {
            return Err(NameError::Characters);
        }
        Ok(PersonName(s.replace('•', "·")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a phone number is an 11-digit mobile number starting with 1, or a landline with its area code (0 and 9 to 11 digits, a dash allowed)"
)]
pub struct PhoneError;

/// A mainland phone number: a mobile (11 digits, starting with 1) or a landline with its
/// area code (starting with 0, 10–12 digits). Spaces and dashes are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, PhoneError> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let plain = digits.strip_prefix("+86").unwrap_or(&digits);
        if !plain.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError);
        }
        let ok = (plain.len() == 11 && plain.starts_with('1') && plain.as_bytes()[1] >= b'3')
            || (plain.starts_with('0') && (10..=12).contains(&plain.len()));
        if ok { Ok(Phone(plain.to_owned())) } else { Err(PhoneError) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: for lists.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Whether a search text is digits of an ID number (with its `X`), searched as the end of the
/// number rather than as a name.
pub fn is_id_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'X' || b == b'x')
}

/// `511***********0027`: the province and the last four characters of an ID number (also of a
/// malformed legacy one), so that nothing shown beside it — a birth date, an area — rebuilds it.
pub fn mask_id(id: &str) -> String {
    keep_ends(id, 3, 4, None)
}

/// `138****8000`.
pub fn mask_phone(phone: &str) -> String {
    keep_ends(phone, 3, 4, Some(4))
}

/// Keeps `head` and `tail` characters and stars the rest (`stars` of them, or as many as
/// replaced); a value too short to keep both is starred whole.
fn keep_ends(s: &str, head: usize, tail: usize, stars: Option<usize>) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let middle = stars.unwrap_or(chars.len() - head - tail);
    let front: String = chars[..head].iter().collect();
    let back: String = chars[chars.len() - tail..].iter().collect();
    format!("{front}{}{back}", "*".repeat(middle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(PersonName::parse("  张  丽 ").unwrap().as_str(), "张 丽");
        assert_eq!(PersonName::parse("买买提•艾力").unwrap().as_str(), "买买提·艾力");
        assert_eq!(PersonName::parse(""), Err(NameError::Empty));
        assert_eq!(PersonName::parse(&"张".repeat(31)), Err(NameError::TooLong));
        assert_eq!(PersonName::parse("张3"), Err(NameError::Characters));
        assert_eq!(PersonName::parse("<script>"), Err(NameError::Characters));
    }

    #[test]
    fn phones_are_mobile_or_landline() {
        assert_eq!(Phone::parse("138 0013 8000").unwrap().as_str(), "13800138000");
        assert_eq!(Phone::parse("+86 13800138000").unwrap().as_str(), "13800138000");
        assert_eq!(Phone::parse("0543-3161234").unwrap().as_str(), "05433161234");
        assert_eq!(Phone::parse("13800138000").unwrap().masked(), "138****8000");
        assert_eq!(mask_phone("05433161234"), "054****1234");
        assert_eq!(mask_id("11010519491231002X"), "110***********002X");
        assert_eq!(mask_id("51192319900307"), "511*******0307", "malformed legacy numbers are masked too");
        assert_eq!(mask_id("1234567"), "*******");
        for bad in ["1380013800", "12800138000", "23800138000", "0543", "abc", "138001380001"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }
}
