//! The organisation hierarchy: codes, levels and materialised paths.
//!
//! Administrative areas carry the statistical area code at the length of their level (2 digits
//! province, 4 city, 6 county, 9 township, 12 village). A unit (单位, an employer or institution)
//! hangs under an area and is coded `<area code>-<local code>`. Because every code starts with its
//! parent's code, the parent and the whole ancestry follow from the code alone.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Level of an org unit in the hierarchy, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgLevel {
    /// 省
    Province,
    /// 市
    City,
    /// 县/区
    County,
    /// 乡镇/街道
    Township,
    /// 村/社区
    Village,
    /// 单位/企业
    Unit,
}

impl OrgLevel {
    pub const ALL: [OrgLevel; 6] =
        [OrgLevel::Province, OrgLevel::City, OrgLevel::County, OrgLevel::Township, OrgLevel::Village, OrgLevel::Unit];

    /// The identifier used in the database, the API and the message catalogue.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgLevel::Province => "province",
            OrgLevel::City => "city",
            OrgLevel::County => "county",
            OrgLevel::Township => "township",
            OrgLevel::Village => "village",
            OrgLevel::Unit => "unit",
        }
    }

    pub fn parse(s: &str) -> Option<OrgLevel> {
        OrgLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Length of the area code at this level; `None` for units, whose code is compound.
    pub fn area_code_len(self) -> Option<usize> {
        match self {
            OrgLevel::Province => Some(2),
            OrgLevel::City => Some(4),
            OrgLevel::County => Some(6),
            OrgLevel::Township => Some(9),
            OrgLevel::Village => Some(12),
            OrgLevel::Unit => None,
        }
    }

    fn from_area_code_len(len: usize) -> Option<OrgLevel> {
        match len {
            2 => Some(OrgLevel::Province),
            4 => Some(OrgLevel::City),
            6 => Some(OrgLevel::County),
            9 => Some(OrgLevel::Township),
            12 => Some(OrgLevel::Village),
            _ => None,
        }
    }
}

impl fmt::Display for OrgLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgCodeError {
    #[error("an org code is empty")]
    Empty,
    #[error("an area code has 2, 4, 6, 9 or 12 digits; `{0}` does not")]
    BadLength(String),
    #[error("an area code holds digits only; `{0}` does not")]
    NotDigits(String),
    #[error("a unit code is `<area code>-<1 to 12 letters or digits>`; `{0}` is not")]
    BadUnit(String),
}

/// Code of an org unit: an area code, or `<area code>-<local code>` for a unit (单位).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(raw: &str) -> Result<OrgCode, OrgCodeError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(OrgCodeError::Empty);
        }
        match s.split_once('-') {
            None => {
                check_area(s)?;
                Ok(OrgCode(s.to_owned()))
            }
            Some((area, local)) => {
                check_area(area).map_err(|_| OrgCodeError::BadUnit(s.to_owned()))?;
                let local_ok = (1..=12).contains(&local.len()) && local.bytes().all(|b| b.is_ascii_alphanumeric());
                if !local_ok {
                    return Err(OrgCodeError::BadUnit(s.to_owned()));
                }
                Ok(OrgCode(s.to_owned()))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> OrgLevel {
        if self.0.contains('-') {
            OrgLevel::Unit
        } else {
            OrgLevel::from_area_code_len(self.0.len()).expect("checked on construction")
        }
    }

    /// The code of the unit directly above, or `None` for a province.
    pub fn parent(&self) -> Option<OrgCode> {
        if let Some((area, _)) = self.0.split_once('-') {
            return Some(OrgCode(area.to_owned()));
        }
        let parent_len = match self.0.len() {
            2 => return None,
            4 => 2,
            6 => 4,
            9 => 6,
            _ => 9,
        };
        Some(OrgCode(self.0[..parent_len].to_owned()))
    }

    /// The two-digit province code every record carries (the future distribution key).
    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    /// This code and its ancestors, from the province down.
    pub fn lineage(&self) -> Vec<OrgCode> {
        let mut chain = vec![self.clone()];
        while let Some(p) = chain.last().and_then(OrgCode::parent) {
            chain.push(p);
        }
        chain.reverse();
        chain
    }

    pub fn path(&self) -> OrgPath {
        let mut s = String::from("/");
        for c in self.lineage() {
            s.push_str(c.as_str());
            s.push('/');
        }
        OrgPath(s)
    }
}

fn check_area(s: &str) -> Result<(), OrgCodeError> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OrgCodeError::NotDigits(s.to_owned()));
    }
    if OrgLevel::from_area_code_len(s.len()).is_none() {
        return Err(OrgCodeError::BadLength(s.to_owned()));
    }
    Ok(())
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Materialised path of an org unit: `/37/3716/371602/`. Its subtree is every path that starts
/// with it, which is one range scan on an index: see [`OrgPath::subtree_range`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this unit or lies below it.
    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// Bounds `[low, high)` that select this unit and everything under it with two byte-wise
    /// comparisons. The high bound swaps the final `/` for `0`, the next byte up, so that
    /// `/37/` does not also select `/370…/`. Byte-wise order needs the C collation on
    /// PostgreSQL; the migration declares it on the column.
    pub fn subtree_range(&self) -> (String, String) {
        let low = self.0.clone();
        let mut high = self.0[..self.0.len() - 1].to_owned();
        high.push('0');
        (low, high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_code_length() {
        let cases = [
            ("37", OrgLevel::Province),
            ("3716", OrgLevel::City),
            ("371602", OrgLevel::County),
            ("371602001", OrgLevel::Township),
            ("371602001001", OrgLevel::Village),
            ("371602001-A7", OrgLevel::Unit),
        ];
        for (code, level) in cases {
            assert_eq!(OrgCode::parse(code).unwrap().level(), level, "{code}");
        }
    }

    #[test]
    fn malformed_codes_are_refused_with_the_rule() {
        assert_eq!(OrgCode::parse(""), Err(OrgCodeError::Empty));
        assert!(matches!(OrgCode::parse("371"), Err(OrgCodeError::BadLength(_))));
        assert!(matches!(OrgCode::parse("37160a"), Err(OrgCodeError::NotDigits(_))));
        assert!(matches!(OrgCode::parse("371-x"), Err(OrgCodeError::BadUnit(_))));
        assert!(matches!(OrgCode::parse("371602-"), Err(OrgCodeError::BadUnit(_))));
        assert!(matches!(OrgCode::parse("371602-a b"), Err(OrgCodeError::BadUnit(_))));
        let msg = OrgCode::parse("371").unwrap_err().to_string();
        assert!(msg.contains("2, 4, 6, 9 or 12"), "{msg}");
    }

    #[test]
    fn parent_and_path_follow_the_code() {
        let village = OrgCode::parse("371602001001").unwrap();
        assert_eq!(village.parent().unwrap().as_str(), "371602001");
        assert_eq!(village.path().as_str(), "/37/3716/371602/371602001/371602001001/");
        assert_eq!(village.province(), "37");
        let unit = OrgCode::parse("371602001-7").unwrap();
        assert_eq!(unit.parent().unwrap().as_str(), "371602001");
        assert_eq!(OrgCode::parse("37").unwrap().parent(), None);
    }

    #[test]
    fn subtree_range_selects_exactly_the_subtree() {
        let (low, high) = OrgCode::parse("37").unwrap().path().subtree_range();
        let inside = ["/37/", "/37/3716/", "/37/3716/371602/371602001-9/"];
        let outside = ["/36/", "/38/", "/370/", "/3/", "/37"];
        for p in inside {
            assert!(p >= low.as_str() && p < high.as_str(), "{p} should be inside");
        }
        for p in outside {
            assert!(!(p >= low.as_str() && p < high.as_str()), "{p} should be outside");
        }
    }
}
