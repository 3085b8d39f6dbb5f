//! Second factors (TOTP) and the sign-ins waiting for one.

use chrono::{DateTime, Utc};

use crate::case::CaseTx;
use crate::seal;
use crate::{AuditDraft, Context, Store, StoreResult, on_pool};

/// An account's second factor.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Factor {
    pub account_id: i64,
    /// Base32, as authenticator apps take it.
    pub secret: String,
    pub created_at: DateTime<Utc>,
    /// `None` while the enrolment waits for its first code.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step a code was accepted for.
    pub last_step: i64,
    /// SHA-256 hashes of the unused recovery codes, comma-separated.
    pub recovery: String,
}

/// The TOTP secret is sealed like personal data: with it, anyone can make codes.
const SECRET: &str = "account_factors.secret";

impl Store {
    pub async fn factor(&self, account_id: i64) -> StoreResult<Option<Factor>> {
        let row: Option<Factor> = on_pool!(self, pool => sqlx::query_as(
            "SELECT account_id, secret, created_at, confirmed_at, last_step, recovery FROM account_factors \
             WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(pool)
        .await)
        .context("loading a second factor")?;
        row.map(|mut f| {
            f.secret = seal::unseal(SECRET, &f.secret)?;
            Ok(f)
        })
        .transpose()
    }

    /// Starts (or restarts) an enrolment with a new secret, unless a confirmed factor exists.
    /// Returns whether it started.
    pub async fn begin_factor(&self, account_id: i64, secret: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let secret = seal::seal(SECRET, secret)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting an enrolment")?;
            let confirmed: Option<Option<DateTime<Utc>>> =
                sqlx::query_scalar("SELECT confirmed_at FROM account_factors WHERE account_id = $1")
                    .bind(account_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("checking a second factor")?;
            if confirmed.flatten().is_some() {
                return Ok(false);
            }
            sqlx::query("DELETE FROM account_factors WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .context("replacing an enrolment")?;
            sqlx::query("INSERT INTO account_factors (account_id, secret, created_at) VALUES ($1, $2, $3)")
                .bind(account_id)
                .bind(&secret)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("starting an enrolment")?;
            tx.commit().await.context("committing an enrolment")?;
            Ok(true)
        })
    }

    /// Confirms an enrolment with the step of its first code and the recovery codes' hashes.
    pub async fn confirm_factor(
        &self,
        account_id: i64,
        step: i64,
        recovery: &str,
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("confirming a second factor")?;
            let n = sqlx::query(
                "UPDATE account_factors SET confirmed_at = $2, last_step = $3, recovery = $4 \
                 WHERE account_id = $1 AND confirmed_at IS NULL",
            )
            .bind(account_id)
            .bind(now)
            .bind(step)
            .bind(recovery)
            .execute(&mut *tx)
            .await
            .context("confirming a second factor")?
            .rows_affected();
            if n > 0 {
                tx.append_audit(audit).await?;
            }
            tx.commit().await.context("committing a second factor")?;
            Ok(n > 0)
        })
    }

    /// Accepts a code's time step once: `false` when that step (or a later one) was used already.
    pub async fn use_factor_step(&self, account_id: i64, step: i64) -> StoreResult<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE account_factors SET last_step = $2 WHERE account_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2",
        )
        .bind(account_id)
        .bind(step)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .context("using a second-factor code")?;
        Ok(n > 0)
    }

    /// Replaces the recovery list `old` by `new` (one code used); `false` when it changed meanwhile.
    pub async fn use_recovery_code(&self, account_id: i64, old: &str, new: &str) -> StoreResult<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE account_factors SET recovery = $3 WHERE account_id = $1 AND recovery = $2",
        )
        .bind(account_id)
        .bind(old)
        .bind(new)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .context("using a recovery code")?;
        Ok(n > 0)
    }

    /// Removes an account's factor (a reset by the security administrator), with its entry.
    pub async fn delete_factor(&self, account_id: i64, audit: &AuditDraft) -> StoreResult<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("resetting a second factor")?;
            let n = sqlx::query("DELETE FROM account_factors WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .context("resetting a second factor")?
                .rows_affected();
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a factor reset")?;
            Ok(n > 0)
        })
    }

    pub async fn create_pending_login(
        &self,
        token_hash: &str,
        account_id: i64,
        address: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO pending_logins (token_hash, account_id, address, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(account_id)
        .bind(address)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("holding a sign-in for its second factor")
    }

    /// The account of a pending sign-in still open at `now` from `address`; `None` otherwise.
    pub async fn pending_login(&self, token_hash: &str, address: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT account_id FROM pending_logins WHERE token_hash = $1 AND address = $2 AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(address)
        .bind(now)
        .fetch_optional(pool)
        .await)
        .context("loading a pending sign-in")
    }

    /// Ends a pending sign-in (completed, or given up), and every one that has run out.
    pub async fn end_pending_login(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM pending_logins WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("ending a pending sign-in")
    }
}
