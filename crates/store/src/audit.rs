//! The audit log: appending (hash-chained, serialised through `audit_head`), searching, reading
//! in sequence for verification and export, and archiving old entries.

use chrono::{DateTime, Utc};
use domain::audit::AuditEntry;

use crate::case::CaseTx;
use crate::{Context, Page, Store, StoreResult, count_and_list, on_pool};

/// An entry to append: everything but its sequence number and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub org_code: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub address: Option<String>,
}

/// A stored entry with its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAudit {
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor_name: String,
    action: String,
    org_code: Option<String>,
    target: Option<String>,
    detail: String,
    address: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for StoredAudit {
    fn from(r: AuditRow) -> Self {
        StoredAudit {
            entry: AuditEntry {
                seq: r.seq,
                at: r.at,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                action: r.action,
                org_code: r.org_code,
                target: r.target,
                detail: r.detail,
                address: r.address,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// What to look for in the audit log. Ranges are `[low, high)` path bounds of org subtrees
/// (the searcher's scope); `None` means the whole log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action_prefix: Option<String>,
    /// Entries about this org unit or anything below it (a path range).
    pub within: Option<(String, String)>,
    /// With `within`: also entries about no unit (sign-in attempts with unknown names), which
    /// only an auditor at the top of the hierarchy sees.
    pub include_unscoped: bool,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

const AUDIT_COLUMNS: &str =
    "a.seq, a.at, a.actor_id, a.actor_name, a.action, a.org_code, a.target, a.detail, a.address, a.prev_hash, a.hash";

fn audit_where(f: &AuditFilter) -> (String, Vec<String>, Vec<DateTime<Utc>>) {
    // Text arguments first ($1…$n), then time arguments.
    let mut conds: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut times: Vec<DateTime<Utc>> = Vec::new();
    if let Some(actor) = &f.actor {
        texts.push(actor.clone());
        conds.push(format!("a.actor_name = ${}", texts.len()));
    }
    if let Some(prefix) = &f.action_prefix {
        texts.push(format!("{}%", crate::escape_like(prefix)));
        conds.push(format!("a.action LIKE ${} ESCAPE '\\'", texts.len()));
    }
    if let Some((low, high)) = &f.within {
        texts.push(low.clone());
        texts.push(high.clone());
        let unscoped = if f.include_unscoped { "a.org_code IS NULL OR " } else { "" };
        conds.push(format!(
            "({unscoped}a.org_code IN (SELECT o.code FROM org_units o WHERE o.path >= ${} AND o.path < ${}))",
            texts.len() - 1,
            texts.len()
        ));
    }
    let mut n = texts.len();
    if let Some(from) = f.from {
        times.push(from);
        n += 1;
        conds.push(format!("a.at >= ${n}"));
    }
    if let Some(until) = f.until {
        times.push(until);
        n += 1;
        conds.push(format!("a.at < ${n}"));
    }
    let sql = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
    (sql, texts, times)
}

impl Store {
    /// Appends one entry on its own.
    pub async fn append_audit(&self, draft: &AuditDraft) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting an audit append")?;
            let seq = tx.append_audit(draft).await?;
            tx.commit().await.context("committing an audit entry")?;
            Ok(seq)
        })
    }

    /// Newest first, one page, and the total matching.
    pub async fn search_audit(&self, filter: &AuditFilter, page: Page) -> StoreResult<(Vec<StoredAudit>, u64)> {
        let (w, texts, times) = audit_where(filter);
        let count_sql = format!("SELECT COUNT(*) FROM audit_log a{w}");
        let list_sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log a{w} ORDER BY a.seq DESC LIMIT {} OFFSET {}",
            page.size,
            u64::from(page.number.saturating_sub(1)) * u64::from(page.size)
        );
        let (total, rows): (i64, Vec<AuditRow>) =
            on_pool!(self, pool => count_and_list!(pool, &count_sql, &list_sql, &texts, &times))
                .context("searching the audit log")?;
        Ok((rows.into_iter().map(StoredAudit::from).collect(), total.max(0) as u64))
    }

    /// Up to `limit` entries after `after_seq`, in sequence order, matching the filter: for
    /// verification (no filter) and for streaming exports in batches.
    pub async fn audit_after(&self, after_seq: i64, limit: u32, filter: &AuditFilter) -> StoreResult<Vec<StoredAudit>> {
        let (w, texts, times) = audit_where(filter);
        let n = texts.len() + times.len() + 1;
        let glue = if w.is_empty() { " WHERE" } else { " AND" };
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log a{w}{glue} a.seq > ${n} ORDER BY a.seq LIMIT {limit}");
        let rows: Vec<AuditRow> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for t in &texts {
                q = q.bind(t);
            }
            for t in &times {
                q = q.bind(t);
            }
            q.bind(after_seq).fetch_all(pool).await
        })
        .context("reading the audit log")?;
        Ok(rows.into_iter().map(StoredAudit::from).collect())
    }

    /// The stored hash of one entry, if it is still in the table.
    pub async fn audit_hash_of(&self, seq: i64) -> StoreResult<Option<String>> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(seq)
            .fetch_optional(pool)
            .await)
        .context("reading an audit entry's hash")
    }

    /// The chain's head `(seq, hash)` and where archiving left off `(seq, hash)`.
    pub async fn audit_head(&self) -> StoreResult<((i64, String), (i64, String))> {
        let row: (i64, String, i64, String) = on_pool!(self, pool => sqlx::query_as(
            "SELECT seq, hash, archived_seq, archived_hash FROM audit_head WHERE id = 1",
        )
        .fetch_one(pool)
        .await)
        .context("reading the audit head")?;
        Ok(((row.0, row.1), (row.2, row.3)))
    }

    /// Removes entries after `from_seq` up to and including `through_seq` (already written to an
    /// archive file by the caller) and records where the chain now starts, with an audit entry
    /// saying so, in one transaction. Returns `None` when another archive moved the start
    /// meanwhile (nothing is changed then).
    pub async fn archive_audit(
        &self,
        from_seq: i64,
        through_seq: i64,
        through_hash: &str,
        draft: &AuditDraft,
    ) -> StoreResult<Option<u64>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting the audit archive")?;
            let moved = sqlx::query(
                "UPDATE audit_head SET archived_seq = $1, archived_hash = $2 WHERE id = 1 AND archived_seq = $3",
            )
            .bind(through_seq)
            .bind(through_hash)
            .bind(from_seq)
            .execute(&mut *tx)
            .await
            .context("recording the archive point")?
            .rows_affected();
            if moved == 0 {
                return Ok(None);
            }
            // The triggers refuse any removal unless this transaction says it archives.
            let archiving = |on: bool| sqlx::query("UPDATE audit_head SET archiving = $1 WHERE id = 1").bind(on);
            archiving(true).execute(&mut *tx).await.context("opening the archive")?;
            let deleted = sqlx::query("DELETE FROM audit_log WHERE seq > $1 AND seq <= $2")
                .bind(from_seq)
                .bind(through_seq)
                .execute(&mut *tx)
                .await
                .context("removing archived audit entries")?
                .rows_affected();
            archiving(false).execute(&mut *tx).await.context("closing the archive")?;
            tx.append_audit(draft).await?;
            tx.commit().await.context("committing the audit archive")?;
            Ok(Some(deleted))
        })
    }
}
