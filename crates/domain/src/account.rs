//! Accounts: usernames and the password policy.

use std::fmt;

/// A username: 3–32 characters of lowercase letters, digits, `.`, `_` and `-`, starting with a
/// letter or digit. Stored lowercase, so `Zhang.Li` and `zhang.li` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a username has 3 to 32 letters, digits, `.`, `_` or `-`, starting with a letter or digit")]
pub struct UsernameError;

impl Username {
    pub fn parse(raw: &str) -> Result<Username, UsernameError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
            && s.as_bytes()[0].is_ascii_alphanumeric();
        if ok { Ok(Username(s)) } else { Err(UsernameError) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password is shorter than the policy allows")]
    TooShort,
    #[error("a password has at most 128 characters")]
    TooLong,
    #[error("a password mixes fewer character classes than the policy asks")]
    TooFewClasses,
    #[error("a password may not contain the username")]
    ContainsUsername,
}

impl PasswordError {
    /// Catalogue key of the rule broken.
    pub fn rule_key(self) -> &'static str {
        match self {
            PasswordError::TooShort => "rule.password_short",
            PasswordError::TooLong => "rule.password_long",
            PasswordError::TooFewClasses => "rule.password_classes",
            PasswordError::ContainsUsername => "rule.password_username",
        }
    }
}

/// The password policy the security administrator sets. The defaults meet GB/T 22239-2019 at
/// its third level: complexity (length, character classes), no reuse of recent passwords, and
/// periodic change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters (8 to 16).
    pub min_chars: usize,
    /// Fewest character classes of four: lowercase, uppercase, digits, others (2 to 4).
    pub min_classes: usize,
    /// How many earlier passwords may not be used again, the current one included (1 to 24).
    pub history: usize,
    /// Days a password lasts before it must be changed at the next sign-in; 0: for ever (0, or 30 to 365).
    pub max_age_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy { min_chars: MIN_PASSWORD_CHARS, min_classes: 3, history: 5, max_age_days: 90 }
    }
}

/// A policy value out of its range: the field's name and the catalogue key of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyError {
    pub field: &'static str,
    pub rule: &'static str,
}

impl PasswordPolicy {
    /// At most 16: a generated password (17 characters, four classes) meets every policy.
    pub const MIN_CHARS: (usize, usize) = (8, 16);
    pub const CLASSES: (usize, usize) = (2, 4);
    pub const HISTORY: (usize, usize) = (1, 24);
    pub const MAX_AGE: (u32, u32) = (30, 365);

    /// A policy from the four values typed on the policy page, each checked against its range.
    pub fn parse(min_chars: &str, min_classes: &str, history: &str, max_age_days: &str) -> Result<Self, PolicyError> {
        fn within<T: std::str::FromStr + PartialOrd>(
            raw: &str,
            (lo, hi): (T, T),
            field: &'static str,
            rule: &'static str,
        ) -> Result<T, PolicyError> {
            raw.trim().parse::<T>().ok().filter(|v| *v >= lo && *v <= hi).ok_or(PolicyError { field, rule })
        }
        let max_age_days = match max_age_days.trim() {
            "0" => 0,
            raw => within(raw, Self::MAX_AGE, "field.policy_max_age", "rule.policy_max_age")?,
        };
        Ok(PasswordPolicy {
            min_chars: within(min_chars, Self::MIN_CHARS, "field.policy_min_chars", "rule.policy_min_chars")?,
            min_classes: within(min_classes, Self::CLASSES, "field.policy_classes", "rule.policy_classes")?,
            history: within(history, Self::HISTORY, "field.policy_history", "rule.policy_history")?,
            max_age_days,
        })
    }

    /// The policy as kept in the settings table: `min_chars=10;classes=3;history=5;max_age_days=90`.
    pub fn to_setting(self) -> String {
        format!(
            "min_chars={};classes={};history={};max_age_days={}",
            self.min_chars, self.min_classes, self.history, self.max_age_days
        )
    }

    /// Reads a stored policy; `None` when it is not one (the caller falls back to the default).
    pub fn from_setting(raw: &str) -> Option<Self> {
        let value = |name: &str| {
            raw.split(';').find_map(|kv| kv.split_once('=').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim()))
        };
        Self::parse(value("min_chars")?, value("classes")?, value("history")?, value("max_age_days")?).ok()
    }

    /// Whether a password set at `changed_at` must be changed at a sign-in at `now`.
    pub fn expired(&self, changed_at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.max_age_days > 0 && now - changed_at >= chrono::Duration::days(i64::from(self.max_age_days))
    }
}

/// A password that meets the policy (length, character classes, not the username). Its `Debug`
/// never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// Checks a password against the default policy.
    pub fn parse(raw: &str, username: &Username) -> Result<NewPassword, PasswordError> {
        Self::parse_under(raw, username, &PasswordPolicy::default())
    }

    pub fn parse_under(raw: &str, username: &Username, policy: &PasswordPolicy) -> Result<NewPassword, PasswordError> {
        let chars = raw.chars().count();
        if chars < policy.min_chars {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        let classes = [
            raw.chars().any(|c| c.is_lowercase()),
            raw.chars().any(|c| c.is_uppercase()),
            raw.chars().any(|c| c.is_ascii_digit()),
            raw.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|c| **c).count() < policy.min_classes {
            return Err(PasswordError::TooFewClasses);
        }
        if raw.to_lowercase().contains(username.as_str()) {
            return Err(PasswordError::ContainsUsername);
        }
        Ok(NewPassword(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Username {
        Username::parse("zhangli").unwrap()
    }

    #[test]
    fn usernames_are_lowercase_and_plain() {
        assert_eq!(Username::parse(" Zhang.Li ").unwrap().as_str(), "zhang.li");
        for bad in ["ab", "-abc", "张丽", "a b c", &"x".repeat(33)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_password_policy_names_the_rule_broken() {
        assert_eq!(NewPassword::parse("Ab1!", &user()), Err(PasswordError::TooShort));
        assert_eq!(NewPassword::parse("abcdefghijk", &user()), Err(PasswordError::TooFewClasses));
        assert_eq!(NewPassword::parse("abcdefghij1", &user()), Err(PasswordError::TooFewClasses));
        assert_eq!(NewPassword::parse("ZhangLi-2026", &user()), Err(PasswordError::ContainsUsername));
        assert_eq!(NewPassword::parse(&"Aa1".repeat(50), &user()), Err(PasswordError::TooLong));
        assert!(NewPassword::parse("abcdefghi1A", &user()).is_ok());
        assert!(NewPassword::parse("黄河路-第7号mima", &user()).is_ok(), "any script counts as letters");
        assert_eq!(format!("{:?}", NewPassword::parse("abcdefghi1A", &user()).unwrap()), "NewPassword(***)");
    }

    #[test]
    fn a_stricter_policy_asks_more_and_its_values_keep_to_their_ranges() {
        let strict = PasswordPolicy::parse("12", "4", "3", "30").unwrap();
        assert_eq!(NewPassword::parse_under("abcdefghi1A", &user(), &strict), Err(PasswordError::TooShort));
        assert_eq!(NewPassword::parse_under("abcdefghij1A", &user(), &strict), Err(PasswordError::TooFewClasses));
        assert!(NewPassword::parse_under("abcdefghi1A!", &user(), &strict).is_ok());
        assert_eq!(PasswordPolicy::from_setting(&strict.to_setting()), Some(strict));
        assert_eq!(PasswordPolicy::from_setting("min_chars=7;classes=3;history=5;max_age_days=90"), None);
        for (args, field) in [
            (["7", "3", "5", "90"], "field.policy_min_chars"),
            (["17", "3", "5", "90"], "field.policy_min_chars"),
            (["10", "1", "5", "90"], "field.policy_classes"),
            (["10", "3", "0", "90"], "field.policy_history"),
            (["10", "3", "5", "29"], "field.policy_max_age"),
            (["10", "3", "5", "x"], "field.policy_max_age"),
        ] {
            assert_eq!(PasswordPolicy::parse(args[0], args[1], args[2], args[3]).unwrap_err().field, field, "{args:?}");
        }
        assert_eq!(PasswordPolicy::parse("10", "3", "5", "0").unwrap().max_age_days, 0, "0: never expires");
        let set = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let policy = PasswordPolicy::default();
        assert!(!policy.expired(set, set + chrono::Duration::days(89)));
        assert!(policy.expired(set, set + chrono::Duration::days(90)));
        assert!(!PasswordPolicy { max_age_days: 0, ..policy }.expired(set, set + chrono::Duration::days(9000)));
    }
}
