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
    #[error("a password has at least 10 characters")]
    TooShort,
    #[error("a password has at most 128 characters")]
    TooLong,
    #[error("a password mixes three of: lowercase letters, uppercase letters, digits, other characters")]
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

/// A password that meets the policy (length ≥ 10, three of four character classes, not the
/// username). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str, username: &Username) -> Result<NewPassword, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
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
        if classes.iter().filter(|c| **c).count() < 3 {
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
}
