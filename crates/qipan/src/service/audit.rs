//! Writing and reading the audit log.

use chrono::{DateTime, Utc};
use domain::OrgCode;
use domain::audit::{Anchor, AnchorBreak, ChainBreak, verify_chain};
use domain::authz::Capability;
use serde_json::Value;
use store::{AuditDraft, AuditFilter, Page, StoredAudit};

use super::privacy::Project;
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
            // An entry never holds an ID number or a phone typed by someone (in a search box, a
            // note): the auditor reads the log, and the log outlives the record.
            detail: domain::privacy::scrub(&detail.to_string()),
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
        // Entries about no unit (sign-ins with unknown names) belong to the top of the hierarchy.
        scoped.include_unscoped = unit.is_none() && actor.org.parent().is_none();
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
        let (mut items, total) = self.store.search_audit(&filter, page).await?;
        // Entries written before details were scrubbed at writing may still hold a number.
        items.project(super::privacy::TEXT_DISCLOSURE);
        Ok(Listing::exact(items, total, page))
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
        let mut batch = self.store.audit_after(after_seq, limit, scoped).await?;
        batch.project(super::privacy::TEXT_DISCLOSURE);
        Ok(batch)
    }

    /// Walks the chain from where archiving left off to the head as it stood when the walk
    /// began (entries appended meanwhile are left for the next check).
    pub async fn verify_audit_chain(&self) -> ServiceResult<ChainReport> {
        let (head, archived) = self.store.audit_head().await?;
        let mut prev = archived;
        let mut checked = 0u64;
        while prev.0 < head.0 {
            let mut batch = self.store.audit_after(prev.0, 5000, &AuditFilter::default()).await?;
            batch.retain(|s| s.entry.seq <= head.0);
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

    /// The head of the chain now, to be written out of the database.
    pub async fn audit_anchor(&self) -> ServiceResult<Anchor> {
        let ((seq, hash), _) = self.store.audit_head().await?;
        Ok(Anchor { at: self.clock.now(), seq, hash })
    }

    /// Compares the log with anchors written out of it earlier: the first that it no longer
    /// reaches, or whose entry now has another hash. Anchors of archived entries are skipped.
    pub async fn check_audit_anchors(&self, anchors: &[Anchor]) -> ServiceResult<Option<AnchorBreak>> {
        let ((head, _), (archived, _)) = self.store.audit_head().await?;
        for anchor in anchors.iter().filter(|a| a.seq > archived) {
            if anchor.seq > head {
                return Ok(Some(AnchorBreak::Truncated { anchored: anchor.seq, at: anchor.at, head }));
            }
            match self.store.audit_hash_of(anchor.seq).await? {
                Some(hash) if hash == anchor.hash => {}
                _ => return Ok(Some(AnchorBreak::Rewritten { seq: anchor.seq, at: anchor.at })),
            }
        }
        Ok(None)
    }

    /// Checks that archiving before `before` is allowed (at least the retention ago) and returns
    /// where the chain starts now: `(seq, hash)` of the last archived entry.
    pub async fn begin_audit_archive(&self, before: DateTime<Utc>) -> ServiceResult<(i64, String)> {
        let oldest_allowed = self.clock.now() - chrono::Duration::days(MIN_RETENTION_DAYS);
        if before > oldest_allowed {
            return Err(super::ServiceError::invalid("field.before", "rule.retention", before.to_rfc3339()));
        }
        Ok(self.store.audit_head().await?.1)
    }

    /// The next run of entries to archive after `after` (`(seq, hash)`), older than `before`,
    /// checked against the chain: an altered entry is never archived away. The run stops at the
    /// first entry that is too young, so that only a contiguous prefix of the chain is removed.
    pub async fn audit_archive_batch(
        &self,
        after: &(i64, String),
        before: DateTime<Utc>,
        limit: u32,
    ) -> ServiceResult<Result<Vec<StoredAudit>, ChainBreak>> {
        let mut batch = self.store.audit_after(after.0, limit, &AuditFilter::default()).await?;
        if let Some(cut) = batch.iter().position(|s| s.entry.at >= before) {
            batch.truncate(cut);
        }
        let rows = batch.iter().map(|s| (&s.entry, s.prev_hash.as_str(), s.hash.as_str()));
        Ok(verify_chain((after.1.clone(), after.0), rows).map(|_| batch))
    }

    /// Removes archived entries after `from_seq` through `last` and records the new start of
    /// the chain. Refused as stale when another archive ran meanwhile.
    pub async fn archive_audit_through(
        &self,
        actor: &Actor,
        from_seq: i64,
        last: &StoredAudit,
        file: &str,
    ) -> ServiceResult<u64> {
        let detail = serde_json::json!({"through_seq": last.entry.seq, "through_hash": last.hash, "file": file});
        let draft = self.audit_draft(actor, "audit.archive", None, None, detail);
        self.store
            .archive_audit(from_seq, last.entry.seq, &last.hash, &draft)
            .await?
            .ok_or(super::ServiceError::Stale { what: "thing.audit_log" })
    }
}
