//! The repeated sections of a personal record (marriages, children, pregnancies, checks,
//! services, certificates) and the key-person classification (重点对象) they decide.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::authz::Capability;
use domain::sections::{Section, Value, is_woman_15_to_49, key_reasons, validate_entry};
use serde_json::json;
use store::{Person, SectionRow};

use super::privacy::Project;
use super::{Actor, App, PersonRefusal, ServiceError, ServiceResult};

fn entry_json(values: &BTreeMap<&'static str, Value>) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(k, v)| ((*k).to_owned(), json!(v.display()))).collect();
    serde_json::Value::Object(map)
}

/// A record as its page shows it.
#[derive(Debug, Clone)]
pub struct FullRecord {
    pub view: super::PersonView,
    pub history: Vec<store::PersonChange>,
    pub sections: Vec<(Section, Vec<SectionRow>)>,
    /// Reads granted on it from outside its scope (breaking the glass); empty unless the reader
    /// manages the record.
    pub grants: Vec<store::GlassGrant>,
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
        if person.status != "active" {
            return Err(ServiceError::invalid("field.status", "rule.not_active", person.status.clone()).into());
        }
        if section == Section::Pregnancies && person.gender != "2" {
            return Err(ServiceError::invalid("field.section", "rule.pregnancy_gender", "").into());
        }
        let codes = self.codes().await?;
        let entry = validate_entry(section, input, person.birth_date, self.clock.today(), &codes)
            .map_err(PersonRefusal::Fields)?;
        let changes = json!({ section.as_str(): {"before": null, "after": entry_json(&entry)} });
        let action = format!("person.{}.add", section.as_str());
        let unit = domain::OrgCode::parse(&person.managing_unit).ok();
        // The audit log names the section; the values stay in the record's history.
        let target = Some(format!("person:{person_id}"));
        let audit = self.audit_draft(actor, &action, unit.as_ref(), target, json!({"section": section.as_str()}));
        let id = self
            .store
            .add_entry(section, person_id, &entry, &actor.name, self.clock.now(), &changes.to_string(), &audit)
            .await?;
        self.classify_logged(person_id).await;
        if let Some((reason, category, event_on)) = domain::exchange::suggestion_for(section, &entry) {
            self.suggest_logged(person_id, reason, category, event_on).await;
        }
        Ok(id)
    }

    /// A section's entries of a record the actor may read (the read is audited as a view).
    pub async fn entries(&self, actor: &Actor, person_id: i64, section: Section) -> ServiceResult<Vec<SectionRow>> {
        let (person, access) = self.reachable_record(actor, person_id, Capability::PersonRead).await?;
        self.audit_view(actor, &person, access).await?;
        let mut entries = self.store.entries(section, person_id).await?;
        entries.project(self.record_disclosure(actor, &person, access));
        Ok(entries)
    }

    /// The whole record for its page: fields, history, sections and (for the managing unit) the
    /// grants given on it from outside, checked and audited once.
    pub async fn full_record(&self, actor: &Actor, person_id: i64) -> ServiceResult<FullRecord> {
        let view = self.view_person(actor, person_id).await?;
        let mut history = self.store.person_history(person_id).await?;
        history.project(view.disclosure);
        let mut sections = Vec::with_capacity(Section::ALL.len());
        for section in Section::ALL {
            let mut entries = self.store.entries(section, person_id).await?;
            entries.project(view.disclosure);
            sections.push((section, entries));
        }
        let grants = self.grants_on(&view).await?;
        Ok(FullRecord { view, history, sections, grants })
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
        self.classify_logged(person.id).await;
        Ok(())
    }

    /// Reclassifies after a write that has committed: a failure is logged (the next change
    /// reclassifies), never reported as a failure of the write that succeeded.
    pub(super) async fn classify_logged(&self, person_id: i64) {
        let result = async {
            if let Some(p) = self.store.person(person_id).await? {
                self.classify(&p).await?;
            }
            Ok::<_, ServiceError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, person_id, "cannot classify a key person");
        }
    }

    /// Queues a suggested notification after a write that has committed: a failure is logged
    /// (the operator can still create the notification by hand), never reported as a failure of
    /// the write that succeeded.
    pub(super) async fn suggest_logged(
        &self,
        person_id: i64,
        reason: &'static str,
        category: &'static str,
        event_on: NaiveDate,
    ) {
        let result = async {
            if let Some(p) = self.store.person(person_id).await? {
                self.suggest_notification(&p, reason, category, event_on).await?;
            }
            Ok::<_, ServiceError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, person_id, reason, "cannot queue a suggested notification");
        }
    }

    /// The daily reclassification: a certificate that ran out, a woman who turned 15 or 50, a
    /// new year that ends "gave birth this year" — changes no record edit would notice. Returns
    /// how many people were looked at.
    pub async fn reclassify_key_persons(&self) -> ServiceResult<u64> {
        use chrono::Datelike;
        let today = self.clock.today();
        // Aged 15–49 today: born after today − 50 years, on or before today − 15 years.
        let born_on_or_before = today.with_year(today.year() - 15).unwrap_or(today);
        let born_after = today.with_year(today.year() - 50).unwrap_or(today);
        let mut seen = 0;
        let ids = self.store.date_sensitive_key_persons(born_after, born_on_or_before, today, 100_000).await?;
        for id in ids {
            if let Some(p) = self.store.person(id).await? {
                self.classify(&p).await?;
                seen += 1;
            }
        }
        Ok(seen)
    }

    /// Recomputes whether the person is a key person, and why, from the record's sections.
    pub(super) async fn classify(&self, person: &Person) -> ServiceResult<()> {
        let today = self.clock.today();
        let woman = is_woman_15_to_49(&person.gender, person.birth_date, today);
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
