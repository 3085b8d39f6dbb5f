//! Accounts, their roles, sessions and API tokens.

use chrono::{DateTime, Utc};
use domain::OrgCode;
use domain::authz::Role;

use crate::case::CaseTx;
use crate::{AuditDraft, Context, Page, Store, StoreError, StoreResult, count_and_list, on_pool};

/// An account as the store hands it out (the password hash included: only the service layer
/// sees this type, and it never renders it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_code: OrgCode,
    pub org_name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub version: i32,
    pub roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
    /// When the password was last set.
    pub password_changed_at: DateTime<Utc>,
    /// A confirmed second factor (TOTP).
    pub has_factor: bool,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    username: String,
    display_name: String,
    org_code: String,
    org_name: String,
    password_hash: String,
    must_change_password: bool,
    disabled: bool,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
    version: i32,
    roles: Option<String>,
    created_at: DateTime<Utc>,
    password_changed_at: Option<DateTime<Utc>>,
    has_factor: bool,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self, Self::Error> {
        let corrupt = |detail: String| StoreError::Corrupt { what: "account", detail };
        let org_code = OrgCode::parse(&r.org_code).map_err(|e| corrupt(e.to_string()))?;
        let mut roles = Vec::new();
        for name in r.roles.as_deref().unwrap_or("").split(',').filter(|s| !s.is_empty()) {
            roles.push(Role::parse(name).ok_or_else(|| corrupt(format!("role `{name}`")))?);
        }
        roles.sort();
        Ok(Account {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            org_code,
            org_name: r.org_name,
            password_hash: r.password_hash,
            must_change_password: r.must_change_password,
            disabled: r.disabled,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until,
            version: r.version,
            roles,
            created_at: r.created_at,
            password_changed_at: r.password_changed_at.unwrap_or(r.created_at),
            has_factor: r.has_factor,
        })
    }
}

/// Roles are gathered with a subquery that both engines spell the same way apart from the
/// aggregate's name.
fn select_account(store: &Store) -> String {
    let agg = match store {
        Store::Sqlite(_) => "GROUP_CONCAT(r.role, ',')",
        Store::Postgres(_) => "STRING_AGG(r.role, ',')",
    };
    format!(
        "SELECT a.id, a.username, a.display_name, a.org_code, o.name AS org_name, a.password_hash, \
         a.must_change_password, a.disabled, a.failed_logins, a.locked_until, a.version, \
         (SELECT {agg} FROM account_roles r WHERE r.account_id = a.id) AS roles, a.created_at, a.password_changed_at, \
         EXISTS (SELECT 1 FROM account_factors f WHERE f.account_id = a.id AND f.confirmed_at IS NOT NULL) AS has_factor \
         FROM accounts a JOIN org_units o ON o.code = a.org_code"
    )
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub org_code: OrgCode,
    pub password_hash: String,
    pub must_change_password: bool,
    pub roles: Vec<Role>,
}

/// Changes to an account; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub display_name: Option<String>,
    pub org_code: Option<OrgCode>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    pub must_change_password: Option<bool>,
    pub roles: Option<Vec<Role>>,
    /// Clear failed logins and any lock.
    pub unlock: bool,
    /// End every session of the account (after a reset, a move, a disable).
    pub end_sessions: bool,
}

/// Filter for account lists: a scope (path range of the actor's subtree) and a search text.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub within: Option<(String, String)>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountWrite {
    Done(i64),
    /// The username is taken.
    Duplicate,
    /// Someone saved the account since it was read.
    Stale,
    /// The account does not exist.
    Missing,
}

/// A session joined with what every request needs to know of its account.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub account: Account,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SessionDbRow {
    csrf_token: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    account_id: i64,
}

/// A token to store: its secret appears only as its hash.
#[derive(Debug, Clone, Copy)]
pub struct NewApiToken<'a> {
    pub name: &'a str,
    pub org_code: &'a OrgCode,
    pub token_hash: &'a str,
    pub created_by: Option<i64>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API token (never its secret: only the hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub org_code: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `None` for tokens made before tokens expired: see [`ApiToken::expiry`].
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// When the token stops working; a token from before expiry existed runs a year.
    pub fn expiry(&self) -> DateTime<Utc> {
        self.expires_at.unwrap_or(self.created_at + chrono::Duration::days(365))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    pub async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        let sql = format!("{} WHERE a.username = $1", select_account(self));
        let row: Option<AccountRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(username).fetch_optional(pool).await)
                .context("loading an account")?;
        row.map(Account::try_from).transpose()
    }

    pub async fn account_by_id(&self, id: i64) -> StoreResult<Option<Account>> {
        let sql = format!("{} WHERE a.id = $1", select_account(self));
        let row: Option<AccountRow> = on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
            .context("loading an account")?;
        row.map(Account::try_from).transpose()
    }

    /// One page of accounts in scope, by username, and the total.
    pub async fn list_accounts(&self, filter: &AccountFilter, page: Page) -> StoreResult<(Vec<Account>, u64)> {
        let mut conds = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some((low, high)) = &filter.within {
            args.push(low.clone());
            args.push(high.clone());
            conds.push(format!("o.path >= ${} AND o.path < ${}", args.len() - 1, args.len()));
        }
        if let Some(text) = filter.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let escaped = crate::escape_like(&text.to_lowercase());
            args.push(format!("%{escaped}%"));
            conds.push(format!(
                "(a.username LIKE ${n} ESCAPE '\\' OR LOWER(a.display_name) LIKE ${n} ESCAPE '\\')",
                n = args.len()
            ));
        }
        let w = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
        let count_sql = format!("SELECT COUNT(*) FROM accounts a JOIN org_units o ON o.code = a.org_code{w}");
        let list_sql = format!(
            "{}{w} ORDER BY a.username LIMIT {} OFFSET {}",
            select_account(self),
            page.size,
            u64::from(page.number.saturating_sub(1)) * u64::from(page.size)
        );
        let (total, rows): (i64, Vec<AccountRow>) =
            on_pool!(self, pool => count_and_list!(pool, &count_sql, &list_sql, &args)).context("listing accounts")?;
        let accounts = rows.into_iter().map(Account::try_from).collect::<StoreResult<_>>()?;
        Ok((accounts, total.max(0) as u64))
    }

    /// Creates an account with its roles and its audit entry, in one transaction.
    pub async fn create_account(
        &self,
        new: &NewAccount,
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<AccountWrite> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting an account creation")?;
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO accounts (username, display_name, org_code, password_hash, must_change_password, created_at, updated_at, \
                 password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $6) RETURNING id",
            )
            .bind(&new.username)
            .bind(&new.display_name)
            .bind(new.org_code.as_str())
            .bind(&new.password_hash)
            .bind(new.must_change_password)
            .bind(now)
            .fetch_one(&mut *tx)
            .await;
            let id = match inserted {
                Ok(id) => id,
                Err(e) if is_unique_violation(&e) => return Ok(AccountWrite::Duplicate),
                Err(e) => return Err(StoreError::Query { context: "creating an account", source: e }),
            };
            for role in &new.roles {
                sqlx::query("INSERT INTO account_roles (account_id, role) VALUES ($1, $2)")
                    .bind(id)
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await
                    .context("granting a role")?;
            }
            let mut audit = audit.clone();
            audit.target = Some(format!("account:{id}"));
            tx.append_audit(&audit).await?;
            tx.commit().await.context("committing an account creation")?;
            Ok(AccountWrite::Done(id))
        })
    }

    /// The hashes of the `n` passwords the account used before its current one, newest first.
    pub async fn previous_password_hashes(&self, account_id: i64, n: usize) -> StoreResult<Vec<String>> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT hash FROM password_history WHERE account_id = $1 ORDER BY replaced_at DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(n as i64)
        .fetch_all(pool)
        .await)
        .context("reading the password history")
    }

    /// Applies a change if the account is still at `expected_version` (optimistic locking), with
    /// its audit entry, in one transaction.
    pub async fn change_account(
        &self,
        id: i64,
        expected_version: i32,
        change: &AccountChange,
        now: DateTime<Utc>,
        audit: &AuditDraft,
    ) -> StoreResult<AccountWrite> {
        let mut sets = vec!["version = version + 1".to_owned(), "updated_at = $3".to_owned()];
        let mut texts: Vec<String> = Vec::new();
        let mut n = 3;
        let mut next = |col: &str, sets: &mut Vec<String>| {
            n += 1;
            sets.push(format!("{col} = ${n}"));
        };
        if let Some(v) = &change.display_name {
            next("display_name", &mut sets);
            texts.push(v.clone());
        }
        if let Some(v) = &change.org_code {
            next("org_code", &mut sets);
            texts.push(v.to_string());
        }
        if let Some(v) = &change.password_hash {
            next("password_hash", &mut sets);
            texts.push(v.clone());
            sets.push("password_changed_at = $3".to_owned());
        }
        if let Some(v) = change.disabled {
            sets.push(format!("disabled = {}", if v { "TRUE" } else { "FALSE" }));
        }
        if let Some(v) = change.must_change_password {
            sets.push(format!("must_change_password = {}", if v { "TRUE" } else { "FALSE" }));
        }
        if change.unlock {
            sets.push("failed_logins = 0".to_owned());
            sets.push("locked_until = NULL".to_owned());
        }
        let sql = format!("UPDATE accounts SET {} WHERE id = $1 AND version = $2", sets.join(", "));
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting an account change")?;
            if change.password_hash.is_some() {
                // The password being replaced joins the history (the policy refuses recent ones).
                sqlx::query(
                    "INSERT INTO password_history (account_id, hash, replaced_at) \
                     SELECT id, password_hash, $3 FROM accounts WHERE id = $1 AND version = $2",
                )
                .bind(id)
                .bind(expected_version)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("keeping the password history")?;
            }
            let mut q = sqlx::query(&sql).bind(id).bind(expected_version).bind(now);
            for t in &texts {
                q = q.bind(t);
            }
            let updated = q.execute(&mut *tx).await.context("changing an account")?.rows_affected();
            if updated == 0 {
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("checking an account")?;
                return Ok(if exists.is_some() { AccountWrite::Stale } else { AccountWrite::Missing });
            }
            if let Some(roles) = &change.roles {
                sqlx::query("DELETE FROM account_roles WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .context("replacing roles")?;
                for role in roles {
                    sqlx::query("INSERT INTO account_roles (account_id, role) VALUES ($1, $2)")
                        .bind(id)
                        .bind(role.as_str())
                        .execute(&mut *tx)
                        .await
                        .context("granting a role")?;
                }
            }
            if change.unlock {
                sqlx::query("DELETE FROM login_locks WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .context("lifting sign-in locks")?;
            }
            if change.end_sessions {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .context("ending sessions")?;
            }
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing an account change")?;
            Ok(AccountWrite::Done(id))
        })
    }

    /// The end of the lock on signing in to the account from this address, if one is running.
    pub async fn login_locked_until(&self, id: i64, address: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let until: Option<Option<DateTime<Utc>>> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT locked_until FROM login_locks WHERE account_id = $1 AND address = $2",
        )
        .bind(id)
        .bind(address)
        .fetch_optional(pool)
        .await)
        .context("reading a sign-in lock")?;
        Ok(until.flatten())
    }

    /// Counts a failed sign-in from `address` atomically (parallel guesses each count) and locks
    /// that address out of the account until `lock_until` when the count reaches `max_failed`. A lock that has run out starts
    /// the count afresh; a running lock is never shortened. Returns the count and whether this
    /// failure set the lock. The audit entries (`failure`, and `lockout` when it locks) are
    /// written in the same transaction.
    #[expect(clippy::too_many_arguments, reason = "who, from where, when, the rule and its two entries")]
    pub async fn record_login_failure(
        &self,
        id: i64,
        address: &str,
        now: DateTime<Utc>,
        max_failed: i32,
        lock_until: DateTime<Utc>,
        failure: &AuditDraft,
        lockout: &AuditDraft,
    ) -> StoreResult<(i32, bool)> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a sign-in record")?;
            let failed: i32 = sqlx::query_scalar(
                "INSERT INTO login_locks (account_id, address, failed_logins) VALUES ($1, $2, 1) \
                 ON CONFLICT (account_id, address) DO UPDATE SET \
                   failed_logins = CASE WHEN login_locks.locked_until IS NOT NULL AND login_locks.locked_until <= $3 \
                                   THEN 1 ELSE login_locks.failed_logins + 1 END, \
                   locked_until = CASE WHEN login_locks.locked_until IS NOT NULL AND login_locks.locked_until <= $3 \
                                  THEN NULL ELSE login_locks.locked_until END \
                 RETURNING failed_logins",
            )
            .bind(id)
            .bind(address)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .context("counting a failed sign-in")?;
            tx.append_audit(failure).await?;
            let mut locked = false;
            if failed >= max_failed {
                locked = sqlx::query(
                    "UPDATE login_locks SET locked_until = $3, failed_logins = 0 \
                     WHERE account_id = $1 AND address = $2 AND locked_until IS NULL",
                )
                .bind(id)
                .bind(address)
                .bind(lock_until)
                .execute(&mut *tx)
                .await
                .context("locking an account")?
                .rows_affected()
                    > 0;
                if locked {
                    // What the administrators see: the account has a lock (from somewhere).
                    sqlx::query("UPDATE accounts SET locked_until = $2 WHERE id = $1")
                        .bind(id)
                        .bind(lock_until)
                        .execute(&mut *tx)
                        .await
                        .context("marking an account locked")?;
                    tx.append_audit(lockout).await?;
                }
            }
            tx.commit().await.context("committing a sign-in record")?;
            Ok((failed, locked))
        })
    }

    // --- sessions ---------------------------------------------------------------------------

    /// Starts a session unless the account is disabled or locked at `now` (checked inside the
    /// transaction, so a lock set by a parallel failure wins). Clears the failure count.
    /// Returns whether the session was created.
    #[expect(clippy::too_many_arguments, reason = "the columns of a session row")]
    pub async fn create_session(
        &self,
        token_hash: &str,
        account_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        address: Option<&str>,
        audit: &AuditDraft,
    ) -> StoreResult<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a session")?;
            let open = sqlx::query(
                "UPDATE accounts SET failed_logins = 0 WHERE id = $1 AND NOT disabled AND NOT EXISTS \
                 (SELECT 1 FROM login_locks l WHERE l.account_id = $1 AND l.address = $3 AND l.locked_until > $2)",
            )
            .bind(account_id)
            .bind(now)
            .bind(address.unwrap_or(""))
            .execute(&mut *tx)
            .await
            .context("checking the sign-in lock")?
            .rows_affected();
            if open == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM login_locks WHERE account_id = $1 AND address = $2")
                .bind(account_id)
                .bind(address.unwrap_or(""))
                .execute(&mut *tx)
                .await
                .context("clearing failed sign-ins")?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, expires_at, address) \
                 VALUES ($1, $2, $3, $4, $4, $5, $6)",
            )
            .bind(token_hash)
            .bind(account_id)
            .bind(csrf_token)
            .bind(now)
            .bind(expires_at)
            .bind(address)
            .execute(&mut *tx)
            .await
            .context("creating a session")?;
            tx.append_audit(audit).await?;
            tx.commit().await.context("committing a session")?;
            Ok(true)
        })
    }

    pub async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
        let sql =
            "SELECT csrf_token, created_at, last_seen_at, expires_at, account_id FROM sessions WHERE token_hash = $1";
        let row: Option<SessionDbRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(token_hash).fetch_optional(pool).await)
                .context("loading a session")?;
        let Some(SessionDbRow { csrf_token, created_at, last_seen_at, expires_at, account_id }) = row else {
            return Ok(None);
        };
        let Some(account) = self.account_by_id(account_id).await? else { return Ok(None) };
        Ok(Some(SessionRow { account, csrf_token, created_at, last_seen_at, expires_at }))
    }

    pub async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ()))
        .context("touching a session")
    }

    /// Ends a session; with an audit entry when one is given (a logout, not an expiry sweep).
    pub async fn end_session(&self, token_hash: &str, audit: Option<&AuditDraft>) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a logout")?;
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await
                .context("ending a session")?;
            if let Some(a) = audit {
                tx.append_audit(a).await?;
            }
            tx.commit().await.context("committing a logout")?;
            Ok(())
        })
    }

    /// Deletes sessions idle since `idle_before` or past their absolute end.
    pub async fn sweep_sessions(&self, idle_before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64> {
        on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR expires_at < $2")
            .bind(idle_before)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .context("sweeping sessions")
    }

    // --- API tokens -------------------------------------------------------------------------

    pub async fn create_api_token(&self, token: &NewApiToken<'_>, audit: &AuditDraft) -> StoreResult<i64> {
        let NewApiToken { name, org_code, token_hash, created_by, now, expires_at } = *token;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a token creation")?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (name, org_code, token_hash, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(name)
            .bind(org_code.as_str())
            .bind(token_hash)
            .bind(created_by)
            .bind(now)
            .bind(expires_at)
            .fetch_one(&mut *tx)
            .await
            .context("creating an API token")?;
            let mut audit = audit.clone();
            audit.target = Some(format!("token:{id}"));
            tx.append_audit(&audit).await?;
            tx.commit().await.context("committing a token")?;
            Ok(id)
        })
    }

    pub async fn list_api_tokens(&self, within: Option<&(String, String)>) -> StoreResult<Vec<ApiToken>> {
        let base = "SELECT t.id, t.name, t.org_code, t.created_at, t.revoked_at, t.last_used_at, t.expires_at FROM api_tokens t \
                    JOIN org_units o ON o.code = t.org_code";
        on_pool!(self, pool => match within {
            Some((low, high)) => sqlx::query_as(&format!("{base} WHERE o.path >= $1 AND o.path < $2 ORDER BY t.id DESC"))
                .bind(low)
                .bind(high)
                .fetch_all(pool)
                .await,
            None => sqlx::query_as(&format!("{base} ORDER BY t.id DESC")).fetch_all(pool).await,
        })
        .context("listing API tokens")
    }

    pub async fn api_token(&self, id: i64) -> StoreResult<Option<ApiToken>> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT id, name, org_code, created_at, revoked_at, last_used_at, expires_at FROM api_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)
        .context("loading an API token")
    }

    /// The unrevoked token with this hash, marked used when it has not expired at `now` (the
    /// caller tells an expired token apart).
    pub async fn use_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<ApiToken>> {
        let token: Option<ApiToken> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, name, org_code, created_at, revoked_at, last_used_at, expires_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await)
        .context("checking an API token")?;
        if let Some(t) = token.as_ref().filter(|t| now < t.expiry()) {
            on_pool!(self, pool => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(t.id)
                .execute(pool)
                .await
                .map(|_| ()))
            .context("marking an API token used")?;
        }
        Ok(token)
    }

    pub async fn revoke_api_token(&self, id: i64, now: DateTime<Utc>, audit: &AuditDraft) -> StoreResult<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a token revocation")?;
            let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .context("revoking an API token")?
                .rows_affected();
            if n > 0 {
                tx.append_audit(audit).await?;
            }
            tx.commit().await.context("committing a token revocation")?;
            Ok(n > 0)
        })
    }
}
