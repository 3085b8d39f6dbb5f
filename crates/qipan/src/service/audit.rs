//! Writing and reading the audit log.

use chrono::{DateTime, Utc};
use domain::OrgCode;
use domain::audit::{ChainBreak, verify_chain};
use domain::authz::Capability;
use serde_json::Value;
use store::{AuditDraft, AuditFilter, Page, StoredAudit};

use super::{Actor, App, Listing, ServiceResult};

/// Entries are kept at least this long; `qipan audit archive` refuses anything younger.
pub const MIN_RETENTION_DAYS: i64 = 180;

/// What verifying the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    /// Intact: this many entries checked, up to this sequence number.
    Intact {
        checked: u64,
        head: i64,
    },
    Broken(ChainBreak),
}

impl App {
    /// The draft of an entry by this actor, now.
    pub fn audit_draft(
        &self,
        actor: &Actor,
        action: &str,
        org: Option<&OrgCode>,
        target: Option<String>,
        detail: Value,
    ) -> AuditDraft {
        AuditDraft {
            at: self.clock.now(),
            actor_id: actor.account_id,
            actor_name: actor.name.clone(),
            action: action.to_owned(),
            org_code: org.map(ToString::to_string),
            target,
            detail: detail.to_string(),
            address: actor.address.clone(),
        }
    }

    /// Appends an entry on its own (for events that change nothing else: views, denials).
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        org: Option<&OrgCode>,
        target: Option<String>,
        detail: Value,
    ) -> ServiceResult<()> {
        self.store.append_audit(&self.audit_draft(actor, action, org, target, detail)).await?;
        Ok(())
    }

    /// Narrows a filter to the actor's subtree, or to one unit's subtree inside it.
    async fn scoped(
        &self,
        actor: &Actor,
        capability: Capability,
        filter: &AuditFilter,
        unit: Option<&OrgCode>,
    ) -> ServiceResult<AuditFilter> {
        let mut scoped = filter.clone();
        scoped.within = match unit {
            Some(u) => {
                self.guard_on(actor, capability, u).await?;
                Some(u.path().subtree_range())
            }
            None => {
                self.guard(actor, capability).await?;
                actor.subtree()
            }
        };
        Ok(scoped)
    }

    /// Searches the log within the actor's subtree (entries about its unit and below), or
    /// within one unit of it.
    pub async fn search_audit(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        unit: Option<&OrgCode>,
        page: Page,
    ) -> ServiceResult<Listing<StoredAudit>> {
        let filter = self.scoped(actor, Capability::AuditRead, &filter, unit).await?;
        let (items, total) = self.store.search_audit(&filter, page).await?;
        Ok(Listing { items, total, page })
    }

    /// Checks the export right and audits the export before any row leaves; the caller then
    /// streams batches with [`App::audit_batch`].
    pub async fn begin_audit_export(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        unit: Option<&OrgCode>,
    ) -> ServiceResult<AuditFilter> {
        let scoped = self.scoped(actor, Capability::AuditExport, filter, unit).await?;
        let detail = serde_json::json!({
            "actor": filter.actor, "action": filter.action_prefix, "unit": unit.map(ToString::to_string),
            "from": filter.from.map(|t| t.to_rfc3339()), "until": filter.until.map(|t| t.to_rfc3339()),
        });
        self.audit(actor, "audit.export", Some(&actor.org), None, detail).await?;
        Ok(scoped)
    }

    /// The next batch of entries after `after_seq` for an export already begun.
    pub async fn audit_batch(
        &self,
        scoped: &AuditFilter,
        after_seq: i64,
        limit: u32,
    ) -> ServiceResult<Vec<StoredAudit>> {
        Ok(self.store.audit_after(after_seq, limit, scoped).await?)
    }

    /// Walks the whole chain from where archiving left off to the head.
    pub async fn verify_audit_chain(&self) -> ServiceResult<ChainReport> {
        let (head, archived) = self.store.audit_head().await?;
        let mut prev = archived;
        let mut checked = 0u64;
        loop {
            let batch = self.store.audit_after(prev.0, 5000, &AuditFilter::default()).await?;
            if batch.is_empty() {
                break;
            }
            let rows = batch.iter().map(|s| (&s.entry, s.prev_hash.as_str(), s.hash.as_str()));
            match verify_chain((prev.1.clone(), prev.0), rows) {
                Ok((hash, seq)) => prev = (seq, hash),
                Err(b) => return Ok(ChainReport::Broken(b)),
            }
            checked += batch.len() as u64;
        }
        // Entries deleted from the end leave the head pointing past the last one.
        if prev.0 != head.0 || prev.1 != head.1 {
            return Ok(ChainReport::Broken(ChainBreak::Gap { seq: head.0, expected_seq: prev.0 + 1 }));
        }
        Ok(ChainReport::Intact { checked, head: head.0 })
    }

    /// Entries older than `before` (which must be at least the retention ago) in sequence
    /// order, for writing to an archive file before [`App::archive_audit_through`].
    pub async fn audit_to_archive(&self, before: DateTime<Utc>) -> ServiceResult<Vec<StoredAudit>> {
        let oldest_allowed = self.clock.now() - chrono::Duration::days(MIN_RETENTION_DAYS);
        if before > oldest_allowed {
            return Err(super::ServiceError::invalid("field.before", "rule.retention", before.to_rfc3339()));
        }
        let filter = AuditFilter { until: Some(before), ..Default::default() };
        let mut out = Vec::new();
        let (_, archived) = self.store.audit_head().await?;
        let mut after = archived.0;
        loop {
            let batch = self.store.audit_after(after, 5000, &filter).await?;
            let Some(last) = batch.last() else { break };
            after = last.entry.seq;
            out.extend(batch);
        }
        // Only a contiguous run from the archive point can be removed without breaking the chain.
        let mut expected = archived.0 + 1;
        out.retain(|s| {
            let keep = s.entry.seq == expected;
            if keep {
                expected += 1;
            }
            keep
        });
        Ok(out)
    }

    /// Removes archived entries through `last` and records the new start of the chain.
    pub async fn archive_audit_through(&self, actor: &Actor, last: &StoredAudit, file: &str) -> ServiceResult<u64> {
        let detail = serde_json::json!({"through_seq": last.entry.seq, "through_hash": last.hash, "file": file});
        let draft = self.audit_draft(actor, "audit.archive", None, None, detail);
        Ok(self.store.archive_audit(last.entry.seq, &last.hash, &draft).await?)
    }
}
