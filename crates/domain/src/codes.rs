//! Code tables (基础数据) shipped with the binary: facts from the national standards where they
//! exist (GB/T 2261.1 gender, GB/T 2261.2 marital status, GB 3304 ethnicity, GB/T 4658
//! education, GB/T 4761 relationship) and Qipan's own tables where none could be verified (see
//! the first line of each file in `data/codes/`).

/// A code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeTable {
    Gender,
    Ethnicity,
    Education,
    MaritalStatus,
    HukouType,
    MoveReason,
    Relationship,
    ContraceptionMethod,
}

impl CodeTable {
    pub const ALL: [CodeTable; 8] = [
        CodeTable::Gender,
        CodeTable::Ethnicity,
        CodeTable::Education,
        CodeTable::MaritalStatus,
        CodeTable::HukouType,
        CodeTable::MoveReason,
        CodeTable::Relationship,
        CodeTable::ContraceptionMethod,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CodeTable::Gender => "gender",
            CodeTable::Ethnicity => "ethnicity",
            CodeTable::Education => "education",
            CodeTable::MaritalStatus => "marital_status",
            CodeTable::HukouType => "hukou_type",
            CodeTable::MoveReason => "move_reason",
            CodeTable::Relationship => "relationship",
            CodeTable::ContraceptionMethod => "contraception_method",
        }
    }

    fn source(self) -> &'static str {
        match self {
            CodeTable::Gender => include_str!("../data/codes/gender.csv"),
            CodeTable::Ethnicity => include_str!("../data/codes/ethnicity.csv"),
            CodeTable::Education => include_str!("../data/codes/education.csv"),
            CodeTable::MaritalStatus => include_str!("../data/codes/marital_status.csv"),
            CodeTable::HukouType => include_str!("../data/codes/hukou_type.csv"),
            CodeTable::MoveReason => include_str!("../data/codes/move_reason.csv"),
            CodeTable::Relationship => include_str!("../data/codes/relationship.csv"),
            CodeTable::ContraceptionMethod => include_str!("../data/codes/contraception_method.csv"),
        }
    }

    /// The shipped entries: `(code, Chinese label, English label)`.
    pub fn entries(self) -> Vec<(&'static str, &'static str, &'static str)> {
        self.source()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .skip(1)
            .filter_map(|l| {
                let mut parts = l.splitn(3, ',');
                Some((parts.next()?.trim(), parts.next()?.trim(), parts.next()?.trim()))
            })
            .collect()
    }

    pub fn contains(self, code: &str) -> bool {
        self.entries().iter().any(|(c, _, _)| *c == code)
    }

    pub fn label(self, code: &str, english: bool) -> Option<&'static str> {
        self.entries().into_iter().find(|(c, _, _)| *c == code).map(|(_, zh, en)| if english { en } else { zh })
    }
}

impl CodeTable {
    pub fn parse(s: &str) -> Option<CodeTable> {
        CodeTable::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One code of a table as maintained by the system administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeItem {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub active: bool,
}

/// The code tables in force: the shipped codes plus the administrator's additions, renames
/// and deactivations. Only active codes are accepted in new entries; every code, active or
/// not, still names itself in records that hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeBook {
    items: std::collections::HashMap<CodeTable, Vec<CodeItem>>,
}

impl CodeBook {
    /// The codes shipped with the binary, all active.
    pub fn shipped() -> CodeBook {
        let mut book = CodeBook::default();
        for table in CodeTable::ALL {
            for (code, zh, en) in table.entries() {
                book.insert(table, CodeItem { code: code.into(), zh: zh.into(), en: en.into(), active: true });
            }
        }
        book
    }

    pub fn insert(&mut self, table: CodeTable, item: CodeItem) {
        self.items.entry(table).or_default().push(item);
    }

    /// Whether `code` is an active code of `table`.
    pub fn contains(&self, table: CodeTable, code: &str) -> bool {
        self.items.get(&table).is_some_and(|v| v.iter().any(|i| i.active && i.code == code))
    }

    /// The label of a code, active or not.
    pub fn label(&self, table: CodeTable, code: &str, english: bool) -> Option<&str> {
        self.items
            .get(&table)
            .and_then(|v| v.iter().find(|i| i.code == code))
            .map(|i| if english { i.en.as_str() } else { i.zh.as_str() })
    }

    /// Every code of a table, in order, active or not.
    pub fn items(&self, table: CodeTable) -> &[CodeItem] {
        self.items.get(&table).map(Vec::as_slice).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deactivated_code_is_refused_but_still_named() {
        let mut book = CodeBook::default();
        book.insert(
            CodeTable::MoveReason,
            CodeItem { code: "7".into(), zh: "投亲".into(), en: "joining family".into(), active: false },
        );
        assert!(!book.contains(CodeTable::MoveReason, "7"));
        assert_eq!(book.label(CodeTable::MoveReason, "7", false), Some("投亲"));
        assert!(CodeBook::shipped().contains(CodeTable::Gender, "2"));
    }

    #[test]
    fn the_shipped_tables_hold_the_standard_codes() {
        assert_eq!(CodeTable::Gender.label("2", false), Some("女性"));
        assert_eq!(CodeTable::Ethnicity.entries().len(), 58, "56 nationalities plus 其他 and 外国血统");
        assert_eq!(CodeTable::Ethnicity.label("01", false), Some("汉族"));
        assert!(CodeTable::MaritalStatus.contains("20"));
        assert!(!CodeTable::MaritalStatus.contains("99x"));
        for table in CodeTable::ALL {
            let entries = table.entries();
            assert!(!entries.is_empty(), "{table:?}");
            let mut codes: Vec<_> = entries.iter().map(|e| e.0).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), entries.len(), "{table:?} codes are unique");
        }
    }
}
