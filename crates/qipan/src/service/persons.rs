//! Personal records (个案): registration of inflow and outflow, reading (each full view
//! audited), editing with optimistic locking and history, ending a move, removal by mistake,
//! and search within both parts of the data scope.

use chrono::NaiveDate;
use domain::OrgCode;
use domain::authz::{Capability, RecordAccess};
use domain::person::mask_id;
use domain::pinyin_index::name_keys;
use domain::privacy::Disclosure;
use domain::record::{FieldError, PersonInput, ValidPerson, validate};
use serde_json::{Value, json};
use store::{Page, Person, PersonChange, PersonFields, PersonFilter, PersonSort, PersonWriteMeta, PersonWriteOutcome};

use super::privacy::{LIST_DISCLOSURE, Project};
use super::{Actor, App, Listing, ServiceError, ServiceResult};

/// Why a registration or an edit was refused, field by field.
#[derive(Debug)]
pub enum PersonRefusal {
    Fields(Vec<FieldError>),
    Other(ServiceError),
}

impl From<ServiceError> for PersonRefusal {
    fn from(e: ServiceError) -> Self {
        PersonRefusal::Other(e)
    }
}

impl From<store::StoreError> for PersonRefusal {
    fn from(e: store::StoreError) -> Self {
        PersonRefusal::Other(e.into())
    }
}

/// A full record as the actor may see it.
#[derive(Debug, Clone)]
pub struct PersonView {
    /// Projected for the reader: see [`PersonView::disclosure`].
    pub person: Person,
    pub access: RecordAccess,
    pub disclosure: Disclosure,
    pub days_late: i64,
}

/// What a search looks for.
#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    pub text: Option<String>,
    pub unit: Option<OrgCode>,
    pub direction: Option<String>,
    /// 异地查询: people registered in the actor's area but managed elsewhere.
    pub origin: bool,
    pub include_ended: bool,
    /// Only key persons (重点对象).
    pub key_person: bool,
    pub moved_from: Option<NaiveDate>,
    pub moved_to: Option<NaiveDate>,
    /// Part of the current residence address.
    pub residence: Option<String>,
    pub sort: PersonSort,
    pub page: Page,
    /// The last record of the page before (its id), from the listing's `next_after`.
    pub after: Option<i64>,
}

fn fields_of(p: &ValidPerson) -> PersonFields {
    let (name_pinyin, name_initials) = name_keys(p.name.as_str());
    PersonFields {
        province_code: p.managing_unit.province().to_owned(),
        id_number: p.id_number.as_ref().map(ToString::to_string),
        name: p.name.to_string(),
        name_pinyin,
        name_initials,
        gender: p.gender.clone(),
        birth_date: p.birth_date,
        ethnicity: p.ethnicity.clone(),
        education: p.education.clone(),
        phone: p.phone.as_ref().map(|ph| ph.as_str().to_owned()),
        marital_status: p.marital_status.clone(),
        hukou_area: p.hukou_area.to_string(),
        hukou_path: p.hukou_area.path().as_str().to_owned(),
        hukou_address: p.hukou_address.clone(),
        hukou_type: p.hukou_type.clone(),
        residence_area: p.residence_area.to_string(),
        residence_address: p.residence_address.clone(),
        managing_unit: p.managing_unit.to_string(),
        managing_path: p.managing_unit.path().as_str().to_owned(),
        direction: p.direction.as_str().to_owned(),
        moved_on: p.moved_on,
        move_reason: p.move_reason.clone(),
    }
}

/// The record's fields as JSON, for history and audit (before/after).
fn snapshot(f: &PersonFields) -> Value {
    json!({
        "id_number": f.id_number, "name": f.name, "gender": f.gender, "birth_date": f.birth_date.to_string(),
        "ethnicity": f.ethnicity, "education": f.education, "phone": f.phone, "marital_status": f.marital_status,
        "hukou_area": f.hukou_area, "hukou_address": f.hukou_address, "hukou_type": f.hukou_type,
        "residence_area": f.residence_area, "residence_address": f.residence_address,
        "managing_unit": f.managing_unit, "direction": f.direction, "moved_on": f.moved_on.to_string(),
        "move_reason": f.move_reason,
    })
}

fn snapshot_of(p: &Person) -> Value {
    json!({
        "id_number": p.id_number, "name": p.name, "gender": p.gender, "birth_date": p.birth_date.to_string(),
        "ethnicity": p.ethnicity, "education": p.education, "phone": p.phone, "marital_status": p.marital_status,
        "hukou_area": p.hukou_area, "hukou_address": p.hukou_address, "hukou_type": p.hukou_type,
        "residence_area": p.residence_area, "residence_address": p.residence_address,
        "managing_unit": p.managing_unit, "direction": p.direction, "moved_on": p.moved_on.to_string(),
        "move_reason": p.move_reason,
    })
}

/// `{"field": {"before": …, "after": …}}` for the fields that differ.
fn diff(before: &Value, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (k, av) in a {
            let bv = b.get(k).cloned().unwrap_or(Value::Null);
            if &bv != av {
                out.insert(k.clone(), json!({"before": bv, "after": av}));
            }
        }
    }
    Value::Object(out)
}

fn code(raw: &str) -> Option<OrgCode> {
    OrgCode::parse(raw).ok()
}

impl App {
    async fn validate_person(&self, input: &PersonInput) -> Result<ValidPerson, PersonRefusal> {
        let codes = self.codes().await?;
        validate(input, self.clock.today(), &codes).map_err(PersonRefusal::Fields)
    }

    /// Registers a person who moved in or out. The managing unit must be in the actor's scope;
    /// an active record with the same ID number in that scope is refused as a duplicate.
    pub async fn register_person(&self, actor: &Actor, input: &PersonInput) -> Result<i64, PersonRefusal> {
        self.guard(actor, Capability::PersonWrite).await?;
        let valid = self.validate_person(input).await?;
        self.guard_on(actor, Capability::PersonWrite, &valid.managing_unit).await?;
        self.existing_org_unit(&valid.managing_unit).await?;
        if let Some(id) = &valid.id_number {
            let same = self.store.persons_with_id_number(id.as_str(), actor.subtree().as_ref()).await?;
            if let Some(p) = same.first() {
                return Err(ServiceError::Duplicate {
                    field: "field.id_number",
                    value: format!("{} (#{})", id.masked(), p.id),
                }
                .into());
            }
        }
        let fields = fields_of(&valid);
        let now = self.clock.now();
        let action =
            if valid.direction == domain::record::Direction::In { "person.register_in" } else { "person.register_out" };
        let changes = json!({"after": snapshot(&fields)}).to_string();
        let audit =
            self.audit_draft(actor, action, Some(&valid.managing_unit), None, json!({"direction": fields.direction}));
        let meta = PersonWriteMeta { actor_name: &actor.name, action, changes, now, audit };
        let id = match self.store.insert_person(&fields, self.clock.today(), &meta).await? {
            PersonWriteOutcome::Done(id) => id,
            _ => {
                let masked = fields.id_number.as_deref().map(mask_id).unwrap_or_default();
                return Err(ServiceError::Duplicate { field: "field.id_number", value: masked }.into());
            }
        };
        self.classify_logged(id).await;
        // A woman without a valid certificate who moved in: the origin is told (seed 004 part 4 ⑤).
        if let Some(p) = self.store.person(id).await?
            && p.key_reasons.split(',').any(|r| r == "key.no_certificate")
        {
            self.suggest_logged(id, "no_certificate", "basic", self.clock.today()).await;
        }
        Ok(id)
    }

    /// A record the actor may reach for `capability` (for the sections).
    pub(super) async fn reachable_record(
        &self,
        actor: &Actor,
        id: i64,
        capability: Capability,
    ) -> ServiceResult<(Person, RecordAccess)> {
        self.reachable(actor, id, capability).await
    }

    /// A record the actor may reach for `capability`; out of reach is "not found" (audited).
    async fn reachable(&self, actor: &Actor, id: i64, capability: Capability) -> ServiceResult<(Person, RecordAccess)> {
        let target = format!("person:{id}");
        let not_found = || ServiceError::NotFound { what: "thing.record", key: id.to_string() };
        let person = self.store.person(id).await?.filter(|p| p.status != "removed").ok_or_else(not_found)?;
        let managing = code(&person.managing_unit).ok_or_else(not_found)?;
        let household = code(&person.hukou_area);
        let access = self.guard_record(actor, capability, &managing, household.as_ref(), &target).await?;
        Ok((person, access))
    }

    /// The full record; the view is audited.
    pub async fn view_person(&self, actor: &Actor, id: i64) -> ServiceResult<PersonView> {
        let (mut person, access) = self.reachable(actor, id, Capability::PersonRead).await?;
        self.audit_view(actor, &person, access).await?;
        // Supervisors and the origin side read, rank and order; they see the projection.
        let disclosure = self.record_disclosure(actor, &person, access);
        person.project(disclosure);
        let days_late = domain::record::days_late(person.moved_on, person.registered_on);
        Ok(PersonView { person, access, disclosure, days_late })
    }

    /// The record to edit: the actor must be able to write it.
    pub async fn person_for_edit(&self, actor: &Actor, id: i64) -> ServiceResult<Person> {
        let (person, access) = self.reachable(actor, id, Capability::PersonWrite).await?;
        self.audit_view(actor, &person, access).await?;
        Ok(person)
    }

    /// How much of a record the actor sees: whole only where it may write it.
    pub(super) fn record_disclosure(&self, actor: &Actor, person: &Person, access: RecordAccess) -> Disclosure {
        let writes = access == RecordAccess::Manage
            && code(&person.managing_unit)
                .is_some_and(|unit| actor.can(Capability::PersonWrite) && actor.manages(&unit));
        Disclosure::for_record(access, writes)
    }

    /// A record's history (it holds full values: the read is audited as a view).
    pub async fn person_history(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<PersonChange>> {
        let (person, access) = self.reachable(actor, id, Capability::PersonRead).await?;
        self.audit_view(actor, &person, access).await?;
        let mut history = self.store.person_history(id).await?;
        history.project(self.record_disclosure(actor, &person, access));
        Ok(history)
    }

    /// Audits a full view by the managing side (the origin side's reads are audited by the
    /// guard itself).
    pub(super) async fn audit_view(&self, actor: &Actor, person: &Person, access: RecordAccess) -> ServiceResult<()> {
        if access == RecordAccess::Manage {
            let unit = code(&person.managing_unit);
            self.audit(actor, "person.view", unit.as_ref(), Some(format!("person:{}", person.id)), json!({})).await?;
        }
        Ok(())
    }

    /// Rewrites a record last read at `version`; a stale version is refused with what changed.
    pub async fn edit_person(
        &self,
        actor: &Actor,
        id: i64,
        version: Option<i32>,
        input: &PersonInput,
    ) -> Result<(), PersonRefusal> {
        let (person, _) = self.reachable(actor, id, Capability::PersonWrite).await?;
        if person.status != "active" {
            return Err(ServiceError::invalid("field.status", "rule.not_active", person.status.clone()).into());
        }
        let version = version.ok_or_else(|| ServiceError::invalid("field.version", "rule.required", ""))?;
        let valid = self.validate_person(input).await?;
        if valid.managing_unit.to_string() != person.managing_unit {
            self.guard_on(actor, Capability::PersonWrite, &valid.managing_unit).await?;
            self.existing_org_unit(&valid.managing_unit).await?;
        }
        if version != person.version {
            return Err(ServiceError::Stale { what: "thing.record" }.into());
        }
        let fields = fields_of(&valid);
        let changes = diff(&snapshot_of(&person), &snapshot(&fields));
        // The audit log names the fields changed; the values stay in the record's own history,
        // which only those who may read the record see.
        let fields_changed: Vec<&String> = changes.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        let audit = self.audit_draft(
            actor,
            "person.edit",
            Some(&valid.managing_unit),
            Some(format!("person:{id}")),
            json!({ "fields": fields_changed }),
        );
        let meta = PersonWriteMeta {
            actor_name: &actor.name,
            action: "person.edit",
            changes: changes.to_string(),
            now: self.clock.now(),
            audit,
        };
        match self.store.update_person(id, version, &fields, &meta).await? {
            PersonWriteOutcome::Done(_) => {
                self.classify_logged(id).await;
                Ok(())
            }
            PersonWriteOutcome::Stale => Err(ServiceError::Stale { what: "thing.record" }.into()),
            PersonWriteOutcome::Missing => {
                Err(ServiceError::NotFound { what: "thing.record", key: id.to_string() }.into())
            }
            PersonWriteOutcome::Duplicate => {
                let masked = fields.id_number.as_deref().map(mask_id).unwrap_or_default();
                Err(ServiceError::Duplicate { field: "field.id_number", value: masked }.into())
            }
        }
    }

    /// Ends a move (`returned`: went home; `moved_on`: left for elsewhere) or removes a record
    /// registered by mistake (`removed`, with a reason).
    pub async fn end_person(
        &self,
        actor: &Actor,
        id: i64,
        version: i32,
        status: &str,
        ended_on: &str,
        note: &str,
    ) -> ServiceResult<()> {
        let (person, _) = self.reachable(actor, id, Capability::PersonWrite).await?;
        if !matches!(status, "returned" | "moved_on" | "removed") {
            return Err(ServiceError::invalid("field.status", "rule.status", status));
        }
        let note = note.trim();
        if status == "removed" && note.is_empty() {
            return Err(ServiceError::invalid("field.note", "rule.reason_required", ""));
        }
        let ended = if status == "removed" {
            None
        } else {
            let d = NaiveDate::parse_from_str(ended_on.trim(), "%Y-%m-%d")
                .map_err(|_| ServiceError::invalid("field.ended_on", "rule.date", ended_on))?;
            if d > self.clock.today() {
                return Err(ServiceError::invalid("field.ended_on", "rule.future_date", ended_on));
            }
            if d < person.moved_on {
                return Err(ServiceError::invalid("field.ended_on", "rule.end_before_move", ended_on));
            }
            Some(d)
        };
        if version != person.version {
            return Err(ServiceError::Stale { what: "thing.record" });
        }
        let action = format!("person.{status}");
        let changes = json!({"status": {"before": person.status, "after": status}, "ended_on": ended.map(|d| d.to_string()), "note": note});
        let unit = code(&person.managing_unit);
        let audit =
            self.audit_draft(actor, &action, unit.as_ref(), Some(format!("person:{id}")), json!({"status": status}));
        let meta = PersonWriteMeta {
            actor_name: &actor.name,
            action: &action,
            changes: changes.to_string(),
            now: self.clock.now(),
            audit,
        };
        match self.store.set_person_status(id, version, status, ended, note, &meta).await? {
            PersonWriteOutcome::Done(_) => Ok(()),
            PersonWriteOutcome::Stale | PersonWriteOutcome::Duplicate => {
                Err(ServiceError::Stale { what: "thing.record" })
            }
            PersonWriteOutcome::Missing => Err(ServiceError::NotFound { what: "thing.record", key: id.to_string() }),
        }
    }

    /// The filter of a query within the actor's scope (checked).
    async fn person_filter(&self, actor: &Actor, q: &PersonQuery) -> ServiceResult<PersonFilter> {
        self.guard(actor, Capability::PersonRead).await?;
        let scope = actor.record_scope();
        let unit = match &q.unit {
            Some(u) => {
                self.guard_on(actor, Capability::PersonRead, u).await?;
                Some(u.path().subtree_range())
            }
            None => None,
        };
        if q.text.as_deref().is_some_and(|t| t.chars().count() > 50) {
            return Err(ServiceError::invalid("field.q", "rule.q_length", q.text.clone().unwrap_or_default()));
        }
        // The household-registration part of the scope is searched only when asked for (异地查询),
        // and that search is audited; an ordinary search covers the records the actor manages.
        let household = if q.origin { scope.as_ref().map(|s| s.household.clone()) } else { None };
        if q.origin && scope.is_none() {
            return Err(ServiceError::invalid("field.origin", "rule.origin_console", ""));
        }
        // Digits of an ID number find records by their number: only where the actor may write
        // (a reader would learn the hidden digits one search at a time), and every such search
        // is audited.
        if let Some(digits) = q.text.as_deref().map(str::trim).filter(|t| domain::person::is_id_digits(t)) {
            self.guard(actor, Capability::PersonWrite).await?;
            if q.origin {
                return Err(ServiceError::invalid("field.q", "rule.id_search_origin", digits));
            }
            // Numbers are sealed at rest: found through the blind index of the whole number or
            // of the last four characters (what a masked number shows), nothing in between.
            if ![4, 15, 18].contains(&digits.len()) {
                return Err(ServiceError::invalid("field.q", "rule.id_search_length", digits));
            }
            let detail = json!({"q": digits});
            self.audit(actor, "person.search_id", Some(&actor.org), None, detail).await?;
        }
        Ok(PersonFilter {
            managing: scope.as_ref().map(|s| s.managing.clone()),
            household,
            origin_only: q.origin,
            unit,
            direction: q.direction.clone(),
            text: q.text.clone(),
            include_ended: q.include_ended,
            key_person: q.key_person,
            moved_from: q.moved_from,
            moved_to: q.moved_to,
            residence: q.residence.clone(),
        })
    }

    /// Records in the actor's scope (managed in its subtree, or registered there), one page.
    pub async fn search_persons(&self, actor: &Actor, q: &PersonQuery) -> ServiceResult<Listing<Person>> {
        let filter = self.person_filter(actor, q).await?;
        let (mut items, counted) = self.store.search_persons_after(&filter, q.sort, q.page, q.after).await?;
        let (total, more) = (counted.min(store::COUNT_CAP), counted > store::COUNT_CAP);
        items.project(LIST_DISCLOSURE);
        if q.origin {
            let detail = json!({"q": q.text, "results": total, "more": more});
            self.audit(actor, "person.search_as_origin", Some(&actor.org), None, detail).await?;
        }
        let mut listing = Listing { items, total, more, page: q.page, next_after: None };
        listing.next_after = listing.has_next().then(|| listing.items.last().map(|p| p.id)).flatten();
        Ok(listing)
    }

    /// Checks the right to export and audits the export (who, what, in which format) before any
    /// row leaves; the caller then streams batches with [`App::person_batch`].
    pub async fn begin_person_export(
        &self,
        actor: &Actor,
        q: &PersonQuery,
        format: &str,
    ) -> ServiceResult<(PersonFilter, Disclosure)> {
        let filter = self.person_filter(actor, q).await?;
        let detail = json!({
            "format": format, "q": q.text, "unit": q.unit.as_ref().map(ToString::to_string),
            "direction": q.direction, "origin": q.origin, "include_ended": q.include_ended,
        });
        self.audit(actor, "person.export", Some(&actor.org), None, detail).await?;
        // An export carries full values to those who may write every record in it: the records
        // they manage, not those of the origin search.
        let full = actor.can(Capability::PersonWrite) && !q.origin;
        Ok((filter, if full { Disclosure::Full } else { Disclosure::Masked }))
    }

    /// The next batch of an export already begun, projected as its start decided.
    pub async fn person_batch(
        &self,
        filter: &PersonFilter,
        disclosure: Disclosure,
        after_id: i64,
        limit: u32,
    ) -> ServiceResult<Vec<Person>> {
        let mut batch = self.store.persons_after(filter, after_id, limit).await?;
        batch.project(disclosure);
        Ok(batch)
    }

    /// Records with this ID number in the actor's management scope: shown while typing, before
    /// a duplicate is created.
    pub async fn find_id_number(&self, actor: &Actor, id_number: &str) -> ServiceResult<Vec<Person>> {
        self.guard(actor, Capability::PersonWrite).await?;
        let id = id_number.trim().to_uppercase();
        Ok(self.store.persons_with_id_number(&id, actor.subtree().as_ref()).await?)
    }
}
