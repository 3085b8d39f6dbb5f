//! Breaking the glass: a reader opens one record outside its scope — found by its exact ID
//! number, never by browsing — for a stated reason, for 24 hours at most. The grant is audited,
//! shown on the record to the unit that manages it, and listed for the audit administrator;
//! every read under it is audited too (`person.read_by_grant`).

use chrono::Duration;
use domain::authz::{Capability, RecordAccess};
use serde_json::json;
use store::GlassGrant;

use super::privacy::{Project, TEXT_DISCLOSURE};
use super::{Actor, App, PersonView, ServiceError, ServiceResult};

/// How long a grant lasts.
pub const GRANT_HOURS: i64 = 24;
const REASON_MIN_CHARS: usize = 5;
const REASON_MAX_CHARS: usize = 200;

impl App {
    /// Grants the actor a read of the records with this exact ID number that lie outside its
    /// scope; returns their ids (empty: nothing to break the glass for).
    pub async fn break_glass(&self, actor: &Actor, id_number: &str, reason: &str) -> ServiceResult<Vec<i64>> {
        self.guard(actor, Capability::PersonRead).await?;
        let account_id = actor.account_id.ok_or(ServiceError::Forbidden { capability: "glass.account" })?;
        let id = id_number.trim().to_uppercase();
        if !(15..=18).contains(&id.len()) || !domain::person::is_id_digits(&id) {
            return Err(ServiceError::invalid("field.id_number", "rule.id_length", domain::person::mask_id(&id)));
        }
        let reason = reason.trim();
        let chars = reason.chars().count();
        if !(REASON_MIN_CHARS..=REASON_MAX_CHARS).contains(&chars) {
            return Err(ServiceError::invalid("field.glass_reason", "rule.glass_reason", ""));
        }
        let now = self.clock.now();
        let mut granted = Vec::new();
        for person in self.store.persons_with_id_number(&id, None).await? {
            if person.status == "removed" || actor.manages_code(&person.managing_unit) {
                continue;
            }
            let target = format!("person:{}", person.id);
            let grant = GlassGrant {
                id: 0,
                account_id,
                actor_name: actor.name.clone(),
                actor_unit: actor.org.to_string(),
                target: target.clone(),
                reason: reason.to_owned(),
                granted_at: now,
                expires_at: now + Duration::hours(GRANT_HOURS),
            };
            let managing = domain::OrgCode::parse(&person.managing_unit).ok();
            let detail =
                json!({"reason": reason, "until": grant.expires_at.to_rfc3339(), "from": actor.org.to_string()});
            let audit = self.audit_draft(actor, "person.break_glass", managing.as_ref(), Some(target), detail);
            self.store.create_glass_grant(&grant, &audit).await?;
            granted.push(person.id);
        }
        if granted.is_empty() {
            return Err(ServiceError::NotFound { what: "thing.record", key: domain::person::mask_id(&id) });
        }
        Ok(granted)
    }

    /// The grants given on a record already read (and checked) as `view`: for the unit that
    /// manages it, nobody else.
    pub(super) async fn grants_on(&self, view: &PersonView) -> ServiceResult<Vec<GlassGrant>> {
        if view.access != RecordAccess::Manage {
            return Ok(Vec::new());
        }
        let mut grants = self.store.glass_grants_on(&format!("person:{}", view.person.id)).await?;
        grants.project(TEXT_DISCLOSURE);
        Ok(grants)
    }
}
