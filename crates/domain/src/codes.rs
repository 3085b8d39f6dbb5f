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

#[cfg(test)]
mod tests {
    use super::*;

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
