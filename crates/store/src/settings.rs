//! Installation settings: a small key-value table (for example, when the demo data was loaded).

use chrono::{DateTime, Utc};

use crate::case::CaseTx;
use crate::{AuditDraft, Context, Store, StoreResult, on_pool};

const UPSERT: &str = "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

impl Store {
    pub async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        on_pool!(self, pool => sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await)
        .context("reading a setting")
    }

    pub async fn set_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(UPSERT)
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("writing a setting")
    }

    /// Writes several settings and the audit entry that describes them, in one transaction.
    pub async fn set_settings_audited(
        &self,
        settings: &[(&str, &str)],
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a settings change")?;
            for (key, value) in settings {
                sqlx::query(UPSERT)
                .bind(key)
                .bind(value)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("writing a setting")?;
            }
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a settings change")
        })
    }
}
