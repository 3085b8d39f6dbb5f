//! The repeated sections of a personal record — marriages, children, pregnancies, checks,
//! services, certificates — described as data: each section's fields, their kinds and rules.
//! One description drives validation here, storage in the store and rendering in the pages,
//! so that a section is added in one place.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::codes::{CodeBook, CodeTable};
use crate::id_number::IdNumber;
use crate::person::PersonName;
use crate::record::FieldError;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text { max: usize },
    Name,
    Date,
    Code(CodeTable),
    Choice(&'static [&'static str]),
    Number { min: i64, max: i64 },
    IdNumber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// Stored encrypted (decision 0014): ID numbers, and the free text of health checks and
    /// services. Kinds, codes and dates stay in clear: reports and the worklist count them in SQL.
    pub sealed: bool,
}

const fn f(name: &'static str, kind: FieldKind, required: bool) -> FieldSpec {
    FieldSpec { name, kind, required, sealed: matches!(kind, FieldKind::IdNumber) }
}

/// A field of a health section whose text is stored encrypted.
const fn health_text(name: &'static str, max: usize) -> FieldSpec {
    FieldSpec { name, kind: FieldKind::Text { max }, required: false, sealed: true }
}

/// A repeated section of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Marriages,
    Children,
    Pregnancies,
    Checks,
    Services,
    Certificates,
}

pub const CHECK_KINDS: &[&str] = &["iud", "pregnancy", "illness", "prenatal", "postnatal"];
pub const SERVICE_KINDS: &[&str] =
    &["contraception", "surgery", "reward_support", "special_support", "military_family"];
pub const OUTCOMES: &[&str] = &["birth", "miscarriage", "terminated", "other"];

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Marriages,
        Section::Children,
        Section::Pregnancies,
        Section::Checks,
        Section::Services,
        Section::Certificates,
    ];

    /// The name in URLs and the API (`/persons/{id}/children`).
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Marriages => "marriages",
            Section::Children => "children",
            Section::Pregnancies => "pregnancies",
            Section::Checks => "checks",
            Section::Services => "services",
            Section::Certificates => "certificates",
        }
    }

    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The table that holds it (a fixed name: never built from input).
    pub fn table(self) -> &'static str {
        match self {
            Section::Marriages => "person_marriages",
            Section::Children => "person_children",
            Section::Pregnancies => "person_pregnancies",
            Section::Checks => "person_checks",
            Section::Services => "person_services",
            Section::Certificates => "person_certificates",
        }
    }

    /// The fields given when an entry is created.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Section::Marriages => MARRIAGES,
            Section::Children => CHILDREN,
            Section::Pregnancies => PREGNANCIES,
            Section::Checks => CHECKS,
            Section::Services => SERVICES,
            Section::Certificates => CERTIFICATES,
        }
    }
}

use FieldKind::*;

const MARRIAGES: &[FieldSpec] = &[
    f("married_on", Date, true),
    f("spouse_name", Name, true),
    f("spouse_id_number", IdNumber, false),
    f("ended_on", Date, false),
];
const CHILDREN: &[FieldSpec] = &[
    f("name", Name, true),
    f("gender", Code(CodeTable::Gender), true),
    f("birth_date", Date, true),
    f("birth_order", Number { min: 1, max: 20 }, false),
    f("id_number", IdNumber, false),
];
const PREGNANCIES: &[FieldSpec] = &[
    f("detected_on", Date, true),
    f("expected_on", Date, false),
    f("outcome", Choice(OUTCOMES), false),
    f("ended_on", Date, false),
];
const CHECKS: &[FieldSpec] = &[
    f("kind", Choice(CHECK_KINDS), true),
    f("done_on", Date, true),
    health_text("result", 100),
    health_text("place", 100),
];
const SERVICES: &[FieldSpec] = &[
    f("kind", Choice(SERVICE_KINDS), true),
    f("method", Code(CodeTable::ContraceptionMethod), false),
    f("started_on", Date, true),
    health_text("note", 100),
];
const CERTIFICATES: &[FieldSpec] = &[
    f("number", Text { max: 40 }, true),
    f("issuer", Text { max: 60 }, true),
    f("issued_on", Date, true),
    f("valid_until", Date, false),
];

/// A checked field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(Option<String>),
    Date(Option<NaiveDate>),
    Number(Option<i64>),
}

impl Value {
    pub fn display(&self) -> String {
        match self {
            Value::Text(v) => v.clone().unwrap_or_default(),
            Value::Date(v) => v.map(|d| d.to_string()).unwrap_or_default(),
            Value::Number(v) => v.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => *d,
            _ => None,
        }
    }
}

/// An entry's checked values, by field name.
pub type Entry = BTreeMap<&'static str, Value>;

fn date_of(entry: &Entry, name: &str) -> Option<NaiveDate> {
    entry.get(name).and_then(Value::as_date)
}

/// Checks an entry for `section` of a person born on `born`, on `today`.
pub fn validate_entry(
    section: Section,
    input: &BTreeMap<String, String>,
    born: NaiveDate,
    today: NaiveDate,
    codes: &CodeBook,
) -> Result<Entry, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut entry = Entry::new();
    for spec in section.fields() {
        let raw = input.get(spec.name).map(|s| s.trim()).filter(|s| !s.is_empty());
        let mut fail = |rule: &'static str| errors.push(FieldError { field: spec.name, rule });
        let value = match (raw, spec.kind) {
            (None, _) if spec.required => {
                fail("rule.required");
                continue;
            }
            (None, FieldKind::Date) => Value::Date(None),
            (None, FieldKind::Number { .. }) => Value::Number(None),
            (None, _) => Value::Text(None),
            (Some(v), FieldKind::Text { max }) => {
                if v.chars().count() > max {
                    fail("rule.text_long");
                    continue;
                }
                Value::Text(Some(v.to_owned()))
            }
            (Some(v), FieldKind::Name) => match PersonName::parse(v) {
                Ok(n) => Value::Text(Some(n.to_string())),
                Err(e) => {
                    fail(e.rule_key());
                    continue;
                }
            },
            (Some(v), FieldKind::Date) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) if d > today && !matches!(spec.name, "expected_on" | "valid_until") => {
                    fail("rule.future_date");
                    continue;
                }
                Ok(d) => Value::Date(Some(d)),
                Err(_) => {
                    fail("rule.date");
                    continue;
                }
            },
            (Some(v), FieldKind::Code(table)) => {
                if !codes.contains(table, v) {
                    fail("rule.code_unknown");
                    continue;
                }
                Value::Text(Some(v.to_owned()))
            }
            (Some(v), FieldKind::Choice(options)) => {
                if !options.contains(&v) {
                    fail("rule.choice");
                    continue;
                }
                Value::Text(Some(v.to_owned()))
            }
            (Some(v), FieldKind::Number { min, max }) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Value::Number(Some(n)),
                _ => {
                    fail("rule.number");
                    continue;
                }
            },
            (Some(v), FieldKind::IdNumber) => match IdNumber::parse(v, today) {
                Ok(id) => Value::Text(Some(id.to_string())),
                Err(e) => {
                    fail(e.rule_key());
                    continue;
                }
            },
        };
        entry.insert(spec.name, value);
    }
    // Rules between fields, and against the person.
    let order = |a: &'static str, b: &'static str, errors: &mut Vec<FieldError>| {
        if let (Some(x), Some(y)) = (date_of(&entry, a), date_of(&entry, b))
            && y < x
        {
            errors.push(FieldError { field: b, rule: "rule.date_order" });
        }
    };
    match section {
        Section::Marriages => order("married_on", "ended_on", &mut errors),
        Section::Pregnancies => {
            order("detected_on", "expected_on", &mut errors);
            order("detected_on", "ended_on", &mut errors);
            let outcome = entry.get("outcome").map(Value::display).unwrap_or_default();
            if outcome.is_empty() != date_of(&entry, "ended_on").is_none() {
                errors.push(FieldError { field: "outcome", rule: "rule.outcome_with_end" });
            }
        }
        Section::Certificates => order("issued_on", "valid_until", &mut errors),
        Section::Children => {
            if date_of(&entry, "birth_date").is_some_and(|d| d < born) {
                errors.push(FieldError { field: "birth_date", rule: "rule.child_before_parent" });
            }
        }
        Section::Checks | Section::Services => {}
    }
    for spec in section.fields() {
        if spec.kind == FieldKind::Date
            && date_of(&entry, spec.name).is_some_and(|d| d < born)
            && section != Section::Children
        {
            errors.push(FieldError { field: spec.name, rule: "rule.before_birth" });
        }
    }
    if errors.is_empty() { Ok(entry) } else { Err(errors) }
}

/// Whether the certificate rule of [`key_reasons`] concerns a person on `today`: a woman
/// (gender code 2) of 15 to 49 full years.
pub fn is_woman_15_to_49(gender: &str, birth_date: NaiveDate, today: NaiveDate) -> bool {
    use chrono::Datelike;
    let birthday_passed = (today.month(), today.day()) >= (birth_date.month(), birth_date.day());
    let age = today.year() - birth_date.year() - i32::from(!birthday_passed);
    gender == "2" && (15..=49).contains(&age)
}

/// Why a person is a key person (重点对象, DESIGN §5), as catalogue keys; empty when not one.
/// `pregnancies`: (detected, ended); `births`: birth dates of children and of pregnancies that
/// ended in a birth; `certificates`: validity end dates (`None`: no end given).
pub fn key_reasons(
    is_woman_15_to_49: bool,
    open_pregnancy: bool,
    births: &[NaiveDate],
    certificates: &[Option<NaiveDate>],
    today: NaiveDate,
) -> Vec<&'static str> {
    use chrono::Datelike;
    let mut out = Vec::new();
    if open_pregnancy {
        out.push("key.pregnant");
    }
    if births.iter().any(|d| d.year() == today.year()) {
        out.push("key.birth_this_year");
    }
    if is_woman_15_to_49 && !certificates.iter().any(|until| until.is_none_or(|u| u >= today)) {
        out.push("key.no_certificate");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn input(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn rules(section: Section, pairs: &[(&str, &str)]) -> Vec<(&'static str, &'static str)> {
        validate_entry(section, &input(pairs), d("1990-03-07"), d("2026-11-23"), &CodeBook::shipped())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect()
    }

    #[test]
    fn each_section_checks_its_fields() {
        assert!(
            rules(Section::Children, &[("name", "王小明"), ("gender", "1"), ("birth_date", "2020-05-01")]).is_empty()
        );
        assert_eq!(
            rules(Section::Children, &[("name", "王小明"), ("gender", "7"), ("birth_date", "2020-05-01")]),
            [("gender", "rule.code_unknown")]
        );
        assert_eq!(
            rules(Section::Children, &[("name", "王小明"), ("gender", "1"), ("birth_date", "1980-05-01")]),
            [("birth_date", "rule.child_before_parent")]
        );
        assert_eq!(
            rules(Section::Children, &[("gender", "1"), ("birth_date", "2020-05-01")]),
            [("name", "rule.required")]
        );
        assert_eq!(
            rules(
                Section::Children,
                &[("name", "王小明"), ("gender", "1"), ("birth_date", "2020-05-01"), ("birth_order", "0")]
            ),
            [("birth_order", "rule.number")]
        );
        assert_eq!(
            rules(Section::Pregnancies, &[("detected_on", "2026-09-01"), ("expected_on", "2026-08-01")]),
            [("expected_on", "rule.date_order")]
        );
        assert!(
            rules(Section::Pregnancies, &[("detected_on", "2026-09-01"), ("expected_on", "2027-05-01")]).is_empty(),
            "a due date lies ahead"
        );
        assert_eq!(
            rules(Section::Pregnancies, &[("detected_on", "2026-09-01"), ("outcome", "birth")]),
            [("outcome", "rule.outcome_with_end")]
        );
        assert_eq!(rules(Section::Checks, &[("kind", "xray"), ("done_on", "2026-11-01")]), [("kind", "rule.choice")]);
        assert_eq!(
            rules(Section::Checks, &[("kind", "iud"), ("done_on", "2026-12-01")]),
            [("done_on", "rule.future_date")]
        );
        assert_eq!(
            rules(Section::Services, &[("kind", "contraception"), ("method", "98"), ("started_on", "2026-01-01")]),
            [("method", "rule.code_unknown")]
        );
        assert_eq!(
            rules(
                Section::Certificates,
                &[("number", "X1"), ("issuer", "平昌县"), ("issued_on", "2026-01-01"), ("valid_until", "2025-01-01")]
            ),
            [("valid_until", "rule.date_order")]
        );
        assert_eq!(
            rules(Section::Marriages, &[("married_on", "1980-01-01"), ("spouse_name", "王强")]),
            [("married_on", "rule.before_birth")]
        );
        assert_eq!(
            rules(
                Section::Marriages,
                &[("married_on", "2015-01-01"), ("spouse_name", "王强"), ("spouse_id_number", "123")]
            ),
            [("spouse_id_number", "rule.id_length")]
        );
    }

    #[test]
    fn key_persons_are_pregnant_gave_birth_this_year_or_lack_a_certificate() {
        let today = d("2026-11-23");
        assert_eq!(key_reasons(true, true, &[], &[None], today), ["key.pregnant"]);
        assert_eq!(key_reasons(true, false, &[d("2026-02-01")], &[None], today), ["key.birth_this_year"]);
        assert_eq!(
            key_reasons(true, false, &[d("2025-02-01")], &[Some(d("2026-01-01"))], today),
            ["key.no_certificate"]
        );
        assert!(key_reasons(true, false, &[], &[Some(d("2027-01-01"))], today).is_empty());
        assert!(key_reasons(false, false, &[], &[], today).is_empty(), "the certificate rule is for women 15 to 49");
    }

    #[test]
    fn the_certificate_rule_counts_full_years_from_the_birthday() {
        let today = d("2026-03-09");
        assert!(!is_woman_15_to_49("2", d("2011-03-10"), today), "14 until tomorrow");
        assert!(is_woman_15_to_49("2", d("2011-03-09"), today), "15 today");
        assert!(is_woman_15_to_49("2", d("1976-03-10"), today), "49 until tomorrow");
        assert!(!is_woman_15_to_49("2", d("1976-03-09"), today), "50 today");
        assert!(!is_woman_15_to_49("1", d("1990-01-01"), today), "women only");
    }
}
