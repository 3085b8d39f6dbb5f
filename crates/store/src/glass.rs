//! Grants to read one record outside the reader's scope (breaking the glass).

use chrono::{DateTime, Utc};

use crate::case::CaseTx;
use crate::{AuditDraft, Context, Store, StoreResult, on_pool};

/// A grant to read one record outside the reader's scope (breaking the glass).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GlassGrant {
    pub id: i64,
    pub account_id: i64,
    pub actor_name: String,
    pub actor_unit: String,
    pub target: String,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Records a grant with its audit entry.
    pub async fn create_glass_grant(&self, grant: &GlassGrant, audit: &AuditDraft) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a grant")?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO glass_grants (account_id, actor_name, actor_unit, target, reason, granted_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(grant.account_id)
            .bind(&grant.actor_name)
            .bind(&grant.actor_unit)
            .bind(&grant.target)
            .bind(&grant.reason)
            .bind(grant.granted_at)
            .bind(grant.expires_at)
            .fetch_one(&mut *tx)
            .await
            .context("recording a grant")?;
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a grant")?;
            Ok(id)
        })
    }

    /// Whether the account holds a grant on `target` running at `now`.
    pub async fn has_glass_grant(&self, account_id: i64, target: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM glass_grants WHERE target = $1 AND account_id = $2 AND granted_at <= $3 AND expires_at > $3",
        )
        .bind(target)
        .bind(account_id)
        .bind(now)
        .fetch_one(pool)
        .await)
        .context("checking a grant")?;
        Ok(n > 0)
    }

    /// The grants ever given on `target`, newest first.
    pub async fn glass_grants_on(&self, target: &str) -> StoreResult<Vec<GlassGrant>> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT id, account_id, actor_name, actor_unit, target, reason, granted_at, expires_at FROM glass_grants \
             WHERE target = $1 ORDER BY id DESC LIMIT 50",
        )
        .bind(target)
        .fetch_all(pool)
        .await)
        .context("listing grants")
    }
}
