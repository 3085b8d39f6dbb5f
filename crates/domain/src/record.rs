//! A personal record as entered: every field checked at once, so that a form or an API call
//! gets one answer naming each field and the rule it breaks (DESIGN §5).

use chrono::NaiveDate;

use crate::OrgCode;
use crate::codes::{CodeBook, CodeTable};
use crate::id_number::IdNumber;
use crate::person::{PersonName, Phone};

pub const MAX_ADDRESS_CHARS: usize = 100;

/// 流入 (moved in, registered at the residence) or 流出 (moved out, registered at the origin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        match s.trim() {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

/// The fields of a record as typed (empty = not given).
#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub id_number: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub ethnicity: String,
    pub education: String,
    pub phone: String,
    pub marital_status: String,
    pub hukou_area: String,
    pub hukou_address: String,
    pub hukou_type: String,
    pub residence_area: String,
    pub residence_address: String,
    pub managing_unit: String,
    pub direction: String,
    pub moved_on: String,
    pub move_reason: String,
}

/// A record that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPerson {
    pub id_number: Option<IdNumber>,
    pub name: PersonName,
    pub gender: String,
    pub birth_date: NaiveDate,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub phone: Option<Phone>,
    pub marital_status: Option<String>,
    pub hukou_area: OrgCode,
    pub hukou_address: String,
    pub hukou_type: Option<String>,
    pub residence_area: OrgCode,
    pub residence_address: String,
    pub managing_unit: OrgCode,
    pub direction: Direction,
    pub moved_on: NaiveDate,
    pub move_reason: Option<String>,
}

/// One broken rule: the field (its API name) and the rule's catalogue key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub rule: &'static str,
}

fn blank(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Checks a record as a new entry on `today` (business date, China time).
pub fn validate(input: &PersonInput, today: NaiveDate, codes: &CodeBook) -> Result<ValidPerson, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fail = |field: &'static str, rule: &'static str| errors.push(FieldError { field, rule });

    let id_number = match blank(&input.id_number) {
        None => None,
        Some(raw) => match IdNumber::parse(raw, today) {
            Ok(id) => Some(id),
            Err(e) => {
                fail("id_number", e.rule_key());
                None
            }
        },
    };
    let name = PersonName::parse(&input.name).map_err(|e| fail("name", e.rule_key())).ok();

    // Gender and birth date may be left to the ID number; given, they must agree with it. A
    // broken ID number is one error, not three.
    let id_broken = blank(&input.id_number).is_some() && id_number.is_none();
    let gender = match (blank(&input.gender), &id_number) {
        (None, Some(id)) => Some(id.gender().code().to_owned()),
        (None, None) => {
            if !id_broken {
                fail("gender", "rule.required");
            }
            None
        }
        (Some(g), _) if !codes.contains(CodeTable::Gender, g) => {
            fail("gender", "rule.code_unknown");
            None
        }
        (Some(g), Some(id)) if g != id.gender().code() => {
            fail("gender", "rule.gender_mismatch");
            None
        }
        (Some(g), _) => Some(g.to_owned()),
    };
    let birth_date = match (blank(&input.birth_date), &id_number) {
        (None, Some(id)) => Some(id.birth_date()),
        (None, None) => {
            if !id_broken {
                fail("birth_date", "rule.required");
            }
            None
        }
        (Some(raw), id) => match date(raw) {
            None => {
                fail("birth_date", "rule.date");
                None
            }
            Some(d) if d > today => {
                fail("birth_date", "rule.future_date");
                None
            }
            Some(d) if id.as_ref().is_some_and(|id| id.birth_date() != d) => {
                fail("birth_date", "rule.birth_mismatch");
                None
            }
            Some(d) => Some(d),
        },
    };

    let mut code = |field: &'static str, table: CodeTable, raw: &str| -> Option<String> {
        let v = blank(raw)?;
        if codes.contains(table, v) {
            Some(v.to_owned())
        } else {
            fail(field, "rule.code_unknown");
            None
        }
    };
    let ethnicity = code("ethnicity", CodeTable::Ethnicity, &input.ethnicity);
    let education = code("education", CodeTable::Education, &input.education);
    let marital_status = code("marital_status", CodeTable::MaritalStatus, &input.marital_status);
    let hukou_type = code("hukou_type", CodeTable::HukouType, &input.hukou_type);
    let move_reason = code("move_reason", CodeTable::MoveReason, &input.move_reason);

    let phone = blank(&input.phone).and_then(|p| Phone::parse(p).map_err(|_| fail("phone", "rule.phone")).ok());

    let mut area = |field: &'static str, raw: &str| -> Option<OrgCode> {
        match blank(raw).map(OrgCode::parse) {
            None => {
                fail(field, "rule.required");
                None
            }
            Some(Ok(c)) if c.level() != crate::OrgLevel::Unit => Some(c),
            Some(_) => {
                fail(field, "rule.area_code");
                None
            }
        }
    };
    let hukou_area = area("hukou_area", &input.hukou_area);
    let residence_area = area("residence_area", &input.residence_area);
    let managing_unit = match blank(&input.managing_unit).map(OrgCode::parse) {
        None => {
            fail("managing_unit", "rule.required");
            None
        }
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            fail("managing_unit", "rule.org_code");
            None
        }
    };
    let mut address = |field: &'static str, raw: &str| -> Option<String> {
        match blank(raw) {
            None => {
                fail(field, "rule.required");
                None
            }
            Some(a) if a.chars().count() > MAX_ADDRESS_CHARS => {
                fail(field, "rule.address_long");
                None
            }
            Some(a) => Some(a.to_owned()),
        }
    };
    let hukou_address = address("hukou_address", &input.hukou_address);
    let residence_address = address("residence_address", &input.residence_address);

    let direction = Direction::parse(&input.direction);
    if direction.is_none() {
        fail("direction", "rule.direction");
    }
    let moved_on = match blank(&input.moved_on).map(date) {
        None => {
            fail("moved_on", "rule.required");
            None
        }
        Some(None) => {
            fail("moved_on", "rule.date");
            None
        }
        Some(Some(d)) if d > today => {
            fail("moved_on", "rule.future_date");
            None
        }
        Some(Some(d)) if birth_date.is_some_and(|b| d < b) => {
            fail("moved_on", "rule.move_before_birth");
            None
        }
        Some(Some(d)) => Some(d),
    };

    match (
        name,
        gender,
        birth_date,
        hukou_area,
        residence_area,
        managing_unit,
        hukou_address,
        residence_address,
        direction,
        moved_on,
    ) {
        (
            Some(name),
            Some(gender),
            Some(birth_date),
            Some(hukou_area),
            Some(residence_area),
            Some(managing_unit),
            Some(hukou_address),
            Some(residence_address),
            Some(direction),
            Some(moved_on),
        ) if errors.is_empty() => Ok(ValidPerson {
            id_number,
            name,
            gender,
            birth_date,
            ethnicity,
            education,
            phone,
            marital_status,
            hukou_area,
            hukou_address,
            hukou_type,
            residence_area,
            residence_address,
            managing_unit,
            direction,
            moved_on,
            move_reason,
        }),
        _ => Err(errors),
    }
}

/// Days a registration came after the move, beyond the same-day rule (seed 000): 0 when on time.
pub fn days_late(moved_on: NaiveDate, registered_on: NaiveDate) -> i64 {
    (registered_on - moved_on).num_days().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn good() -> PersonInput {
        PersonInput {
            id_number: "511923199003070027".into(),
            name: "陈静".into(),
            hukou_area: "511923".into(),
            hukou_address: "平昌县江口镇".into(),
            residence_area: "371602001001".into(),
            residence_address: "新苑小区3号楼".into(),
            managing_unit: "371602001001".into(),
            direction: "in".into(),
            moved_on: "2026-11-20".into(),
            ..Default::default()
        }
    }

    fn rules(input: &PersonInput) -> Vec<(&'static str, &'static str)> {
        validate(input, today(), &CodeBook::shipped())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect()
    }

    #[test]
    fn the_id_number_fills_gender_and_birth_date() {
        let p = validate(&good(), today(), &CodeBook::shipped()).unwrap();
        assert_eq!(p.gender, "2");
        assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1990, 3, 7).unwrap());
        assert_eq!(p.direction, Direction::In);
    }

    #[test]
    fn every_field_rule_names_field_and_rule() {
        type Case = (fn(&mut PersonInput), &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (|p| p.id_number = "51192319900307002".into(), "id_number", "rule.id_length"),
            (|p| p.id_number = "511923199003070028".into(), "id_number", "rule.id_check_digit"),
            (|p| p.name = "".into(), "name", "rule.name_empty"),
            (|p| p.name = "陈2".into(), "name", "rule.name_characters"),
            (|p| p.gender = "1".into(), "gender", "rule.gender_mismatch"),
            (|p| p.gender = "7".into(), "gender", "rule.code_unknown"),
            (|p| p.birth_date = "1990-02-30".into(), "birth_date", "rule.date"),
            (|p| p.birth_date = "1991-03-07".into(), "birth_date", "rule.birth_mismatch"),
            (|p| p.ethnicity = "99".into(), "ethnicity", "rule.code_unknown"),
            (|p| p.education = "x".into(), "education", "rule.code_unknown"),
            (|p| p.marital_status = "30x".into(), "marital_status", "rule.code_unknown"),
            (|p| p.phone = "12345".into(), "phone", "rule.phone"),
            (|p| p.hukou_area = "".into(), "hukou_area", "rule.required"),
            (|p| p.residence_area = "371602-A1".into(), "residence_area", "rule.area_code"),
            (|p| p.managing_unit = "37160".into(), "managing_unit", "rule.org_code"),
            (|p| p.hukou_address = "".into(), "hukou_address", "rule.required"),
            (|p| p.residence_address = "路".repeat(101), "residence_address", "rule.address_long"),
            (|p| p.direction = "sideways".into(), "direction", "rule.direction"),
            (|p| p.moved_on = "2026-13-01".into(), "moved_on", "rule.date"),
            (|p| p.moved_on = "2026-12-01".into(), "moved_on", "rule.future_date"),
            (|p| p.moved_on = "1989-01-01".into(), "moved_on", "rule.move_before_birth"),
        ];
        for (change, field, rule) in cases {
            let mut input = good();
            change(&mut input);
            let got = rules(&input);
            assert_eq!(got, vec![(field, rule)], "{field} {rule}");
        }
        // A 4-digit city code is an area too, when that is all that is known.
        let mut input = good();
        input.hukou_area = "5119".into();
        assert!(rules(&input).is_empty());
    }

    #[test]
    fn without_an_id_number_gender_and_birth_date_are_required() {
        let mut input = good();
        input.id_number.clear();
        let got = rules(&input);
        assert!(
            got.contains(&("gender", "rule.required")) && got.contains(&("birth_date", "rule.required")),
            "{got:?}"
        );
        input.gender = "2".into();
        input.birth_date = "1990-03-07".into();
        assert!(validate(&input, today(), &CodeBook::shipped()).unwrap().id_number.is_none());
    }

    #[test]
    fn lateness_counts_days_after_the_move() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(days_late(d("2026-11-20"), d("2026-11-20")), 0);
        assert_eq!(days_late(d("2026-11-20"), d("2026-11-23")), 3);
    }
}
