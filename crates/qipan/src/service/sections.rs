//! The repeated sections of a personal record (marriages, children, pregnancies, checks,
//! services, certificates) and the key-person classification (重点对象) they decide.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use domain::authz::Capability;
use domain::sections::{Section, Value, key_reasons, validate_entry};
use serde_json::json;
use store::{Person, SectionRow};

use super::{Actor, App, PersonRefusal, ServiceError, ServiceResult};

fn entry_json(values: &BTreeMap<&'static str, Value>) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(k, v)| ((*k).to_owned(), json!(v.display()))).collect();
    serde_json::Value::Object(map)
}

impl App {
    /// Adds an entry to a section of a record the actor manages.
    pub async fn add_entry(
        &self,
        actor: &Actor,
        person_id: i64,
        section: Section,
        input: &BTreeMap<String, String>,
    ) -> Result<i64, PersonRefusal> {
        let (person, _) = self.reachable_record(actor, person_id, Capability::PersonWrite).await?;
        let entry =
            validate_entry(section, input, person.birth_date, self.clock.today()).map_err(PersonRefusal::Fields)?;
        let changes = json!({ section.as_str(): {"before": null, "after": entry_json(&entry)} });
        let action = format!("person.{}.add", section.as_str());
        let unit = domain::OrgCode::parse(&person.managing_unit).ok();
        let audit =
            self.audit_draft(actor, &action, unit.as_ref(), Some(format!("person:{person_id}")), changes.clone());
        let id = self
            .store
            .add_entry(section, person_id, &entry, &actor.name, self.clock.now(), &changes.to_string(), &audit)
            .await?;
        self.classify(&person).await?;
        Ok(id)
    }

    /// A section's entries of a record the actor may read.
    pub async fn entries(&self, actor: &Actor, person_id: i64, section: Section) -> ServiceResult<Vec<SectionRow>> {
        self.reachable_record(actor, person_id, Capability::PersonRead).await?;
        Ok(self.store.entries(section, person_id).await?)
    }

    /// Every section of a record the actor may read (the record itself is checked once).
    pub async fn record_sections(
        &self,
        actor: &Actor,
        person_id: i64,
    ) -> ServiceResult<Vec<(Section, Vec<SectionRow>)>> {
        self.reachable_record(actor, person_id, Capability::PersonRead).await?;
        let mut out = Vec::with_capacity(Section::ALL.len());
        for section in Section::ALL {
            out.push((section, self.store.entries(section, person_id).await?));
        }
        Ok(out)
    }

    /// Closes an open pregnancy: birth, miscarriage, terminated or other, on a date.
    pub async fn close_pregnancy(
        &self,
        actor: &Actor,
        person_id: i64,
        pregnancy_id: i64,
        outcome: &str,
        ended_on: &str,
    ) -> ServiceResult<()> {
        let (person, _) = self.reachable_record(actor, person_id, Capability::PersonWrite).await?;
        if !domain::sections::OUTCOMES.contains(&outcome) {
            return Err(ServiceError::invalid("field.outcome", "rule.choice", outcome));
        }
        let ended = NaiveDate::parse_from_str(ended_on.trim(), "%Y-%m-%d")
            .map_err(|_| ServiceError::invalid("field.ended_on", "rule.date", ended_on))?;
        if ended > self.clock.today() {
            return Err(ServiceError::invalid("field.ended_on", "rule.future_date", ended_on));
        }
        let open = self.store.entries(Section::Pregnancies, person_id).await?;
        let Some(p) = open.iter().find(|e| e.id == pregnancy_id) else {
            return Err(ServiceError::NotFound { what: "thing.pregnancy", key: pregnancy_id.to_string() });
        };
        if p.values.get("detected_on").and_then(Value::as_date).is_some_and(|d| ended < d) {
            return Err(ServiceError::invalid("field.ended_on", "rule.date_order", ended_on));
        }
        let changes = json!({"pregnancy": pregnancy_id, "outcome": outcome, "ended_on": ended.to_string()});
        let unit = domain::OrgCode::parse(&person.managing_unit).ok();
        let audit = self.audit_draft(
            actor,
            "person.pregnancies.close",
            unit.as_ref(),
            Some(format!("person:{person_id}")),
            changes.clone(),
        );
        let closed = self
            .store
            .close_pregnancy(
                person_id,
                pregnancy_id,
                outcome,
                ended,
                &actor.name,
                self.clock.now(),
                &changes.to_string(),
                &audit,
            )
            .await?;
        if !closed {
            return Err(ServiceError::Stale { what: "thing.pregnancy" });
        }
        self.classify(&person).await
    }

    /// Recomputes whether the person is a key person, and why, from the record's sections.
    pub(super) async fn classify(&self, person: &Person) -> ServiceResult<()> {
        let today = self.clock.today();
        let age = today.year() - person.birth_date.year() - i32::from(today.ordinal() < person.birth_date.ordinal());
        let woman = person.gender == "2" && (15..=49).contains(&age);
        let pregnancies = self.store.entries(Section::Pregnancies, person.id).await?;
        let children = self.store.entries(Section::Children, person.id).await?;
        let certificates = self.store.entries(Section::Certificates, person.id).await?;
        let open = pregnancies.iter().any(|p| p.values.get("outcome").is_some_and(|o| o.display().is_empty()));
        let mut births: Vec<NaiveDate> =
            children.iter().filter_map(|c| c.values.get("birth_date").and_then(Value::as_date)).collect();
        births.extend(
            pregnancies
                .iter()
                .filter(|p| p.values.get("outcome").is_some_and(|o| o.display() == "birth"))
                .filter_map(|p| p.values.get("ended_on").and_then(Value::as_date)),
        );
        let valid: Vec<Option<NaiveDate>> =
            certificates.iter().map(|c| c.values.get("valid_until").and_then(Value::as_date)).collect();
        let reasons = key_reasons(woman, open, &births, &valid, today);
        self.store.set_key_person(person.id, !reasons.is_empty(), &reasons.join(",")).await?;
        Ok(())
    }
}
