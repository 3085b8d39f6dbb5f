//! Signing in and out, sessions, password changes and API tokens.

use chrono::Duration;
use domain::OrgCode;
use domain::account::{NewPassword, Username};
use domain::authz::{Capability, Role};
use serde_json::json;
use store::{Account, AccountChange, AccountWrite, ApiToken};

use super::secrets::{decoy_hash, hash_password, random_token, token_hash, verify_password};
use super::{Actor, App, ServiceError, ServiceResult, Via};

pub const IDLE_TIMEOUT_MINUTES: i64 = 30;
pub const ABSOLUTE_TIMEOUT_HOURS: i64 = 12;
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
/// A session's last-seen time is written at most this often (a write per request would make
/// every page a write on SQLite).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A session just created: the token goes into the cookie and is never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub actor: Actor,
}

pub(super) fn actor_of(account: &Account, via: Via, address: Option<String>) -> Actor {
    Actor {
        account_id: Some(account.id),
        name: account.username.clone(),
        display_name: account.display_name.clone(),
        org: account.org_code.clone(),
        org_name: account.org_name.clone(),
        roles: account.roles.clone(),
        via,
        must_change_password: account.must_change_password,
        must_enrol_factor: false,
        address,
    }
}

/// The setting that says whether administrators must use a second factor: `required` (also when
/// unset) or `optional` (a demo or training installation).
pub const ADMIN_FACTOR_SETTING: &str = "security.admin_factor";

/// The longest an API token lives: a department renews its token at least every two years.
pub const MAX_TOKEN_DAYS: u32 = 730;
/// The life of a token when none is chosen.
pub const DEFAULT_TOKEN_DAYS: u32 = 365;

/// Someone not yet identified, for audit entries about sign-in attempts.
fn anonymous(name: &str, address: Option<String>) -> Actor {
    let mut a = Actor::console(OrgCode::parse("00").expect("static code"));
    a.name = name.chars().take(64).collect();
    a.via = Via::Session { csrf: String::new() };
    a.address = address;
    a
}

impl App {
    /// Checks a username and password. Every failure — unknown name, wrong password, locked or
    /// disabled account — is the same `LoginFailed`, takes the same Argon2 verification, and
    /// is audited.
    pub async fn login(&self, username: &str, password: &str, address: Option<String>) -> ServiceResult<NewSession> {
        self.login_with_code(username, password, None, address).await
    }

    /// [`App::login`], with the code of a second factor when the account has one (the API
    /// sends both at once). Without the code, an account with a factor is answered
    /// `SecondFactorRequired` with a pending sign-in that [`App::complete_login`] finishes.
    pub async fn login_with_code(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        address: Option<String>,
    ) -> ServiceResult<NewSession> {
        let now = self.clock.now();
        let account = match Username::parse(username) {
            Ok(u) => self.store.account_by_username(u.as_str()).await?,
            Err(_) => None,
        };
        let hash = account.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| decoy_hash().to_owned());
        let password_ok = verify_password(password.to_owned(), hash).await;
        let Some(account) = account else {
            let who = anonymous(username, address);
            self.audit(&who, "login.failure", None, None, json!({"reason": "unknown_user"})).await?;
            return Err(ServiceError::LoginFailed);
        };
        let who = actor_of(&account, Via::Session { csrf: String::new() }, address.clone());
        let org = Some(&account.org_code);
        if account.disabled {
            self.audit(&who, "login.failure", org, None, json!({"reason": "disabled"})).await?;
            return Err(ServiceError::LoginFailed);
        }
        // Locks hold per account and source address: guesses from one place lock that place
        // out, not the account's owner elsewhere.
        let source = address.as_deref().unwrap_or("");
        if self.store.login_locked_until(account.id, source).await?.is_some_and(|until| until > now) {
            self.audit(&who, "login.failure", org, None, json!({"reason": "locked"})).await?;
            return Err(ServiceError::LoginFailed);
        }
        if !password_ok {
            self.count_failed_login(&account, &who, "wrong_password").await?;
            return Err(ServiceError::LoginFailed);
        }
        if account.has_factor {
            match code {
                Some(code) => self.check_factor_code(&account, &who, code).await?,
                None => return Err(self.hold_for_factor(&account, &who, source).await?),
            }
        }
        self.start_session(&account, &who, address, if account.has_factor { "totp" } else { "password" }).await
    }

    /// Counts a failed sign-in (a wrong password or code) from `who`'s address towards that
    /// address's lock on the account, with its audit entries.
    pub(super) async fn count_failed_login(&self, account: &Account, who: &Actor, reason: &str) -> ServiceResult<()> {
        let now = self.clock.now();
        let org = Some(&account.org_code);
        let source = who.address.as_deref().unwrap_or("");
        let until = now + Duration::minutes(LOCKOUT_MINUTES);
        let failure = self.audit_draft(who, "login.failure", org, None, json!({"reason": reason}));
        let target = Some(format!("account:{}", account.id));
        let detail = json!({"until": until.to_rfc3339(), "failed": MAX_FAILED_LOGINS, "from": source});
        let lockout = self.audit_draft(who, "account.lockout", org, target, detail);
        self.store.record_login_failure(account.id, source, now, MAX_FAILED_LOGINS, until, &failure, &lockout).await?;
        Ok(())
    }

    /// Opens a session for an account whose credentials were checked.
    pub(super) async fn start_session(
        &self,
        account: &Account,
        who: &Actor,
        address: Option<String>,
        factors: &str,
    ) -> ServiceResult<NewSession> {
        let now = self.clock.now();
        let org = Some(&account.org_code);
        let token = random_token();
        let csrf = random_token();
        let audit = self.audit_draft(who, "login.success", org, None, json!({"with": factors}));
        let expires = now + Duration::hours(ABSOLUTE_TIMEOUT_HOURS);
        let started = self
            .store
            .create_session(&token_hash(&token), account.id, &csrf, now, expires, address.as_deref(), &audit)
            .await?;
        if !started {
            // Locked or disabled by a parallel request since it was read.
            self.audit(who, "login.failure", org, None, json!({"reason": "locked"})).await?;
            return Err(ServiceError::LoginFailed);
        }
        // A password an administrator set (a reset, a new account) was known to someone else:
        // its first use is flagged for the audit administrator, who can ask whether it was the
        // account's owner who signed in.
        if account.must_change_password {
            let target = Some(format!("account:{}", account.id));
            self.audit(who, "login.after_reset", org, target, json!({})).await?;
        }
        // Old sessions of everyone are cleared now and then; a sign-in is a fine moment.
        let idle_before = now - Duration::minutes(IDLE_TIMEOUT_MINUTES);
        if let Err(e) = self.store.sweep_sessions(idle_before, now).await {
            tracing::warn!(error = %e, "cannot sweep ended sessions");
        }
        // A password older than the policy allows is changed before anything else, like one an
        // administrator set.
        let mut account = account.clone();
        if !account.must_change_password && self.password_policy().await?.expired(account.password_changed_at, now) {
            let change = AccountChange { must_change_password: Some(true), ..Default::default() };
            let detail = json!({"set": account.password_changed_at.to_rfc3339()});
            let target = Some(format!("account:{}", account.id));
            let audit = self.audit_draft(who, "password.expired", org, target, detail);
            self.store.change_account(account.id, account.version, &change, now, &audit).await?;
            account.must_change_password = true;
        }
        let mut actor = actor_of(&account, Via::Session { csrf }, address);
        actor.must_enrol_factor = self.must_enrol_factor(&account).await?;
        Ok(NewSession { token, actor })
    }

    /// The actor of a session token, if the session is alive (30 minutes idle, 12 hours in all)
    /// and its account enabled. An ended session is removed.
    pub async fn session_actor(&self, token: &str, address: Option<String>) -> ServiceResult<Option<Actor>> {
        let hash = token_hash(token);
        let Some(session) = self.store.session(&hash).await? else { return Ok(None) };
        let now = self.clock.now();
        let idle = now - session.last_seen_at > Duration::minutes(IDLE_TIMEOUT_MINUTES);
        if idle || now >= session.expires_at || session.account.disabled {
            self.store.end_session(&hash, None).await?;
            return Ok(None);
        }
        if now - session.last_seen_at > Duration::seconds(TOUCH_EVERY_SECONDS) {
            self.store.touch_session(&hash, now).await?;
        }
        let mut actor = actor_of(&session.account, Via::Session { csrf: session.csrf_token }, address);
        actor.must_enrol_factor = self.must_enrol_factor(&session.account).await?;
        Ok(Some(actor))
    }

    pub async fn logout(&self, token: &str, actor: &Actor) -> ServiceResult<()> {
        let audit = self.audit_draft(actor, "logout", Some(&actor.org), None, json!({}));
        self.store.end_session(&token_hash(token), Some(&audit)).await?;
        Ok(())
    }

    /// Changes the actor's own password, checking the current one first. Every session of the
    /// account ends (a stolen one too); the returned session replaces the current one.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> ServiceResult<NewSession> {
        let id = actor.account_id.ok_or(ServiceError::Unauthenticated)?;
        let account = self.store.account_by_id(id).await?.ok_or(ServiceError::Unauthenticated)?;
        if !verify_password(current.to_owned(), account.password_hash.clone()).await {
            self.audit(actor, "password.change_failed", Some(&actor.org), None, json!({"reason": "wrong_current"}))
                .await?;
            return Err(ServiceError::invalid("field.current_password", "rule.current_password", ""));
        }
        let username = Username::parse(&account.username).map_err(|_| ServiceError::Unauthenticated)?;
        let policy = self.password_policy().await?;
        let new = NewPassword::parse_under(new, &username, &policy)
            .map_err(|e| ServiceError::invalid("field.new_password", e.rule_key(), ""))?;
        if new.expose() != confirm {
            return Err(ServiceError::invalid("field.confirm_password", "rule.confirm_password", ""));
        }
        // Not the current password, nor one of the recent ones the policy remembers.
        let mut recent = vec![account.password_hash.clone()];
        recent.extend(self.store.previous_password_hashes(id, policy.history.saturating_sub(1)).await?);
        for hash in recent {
            if verify_password(new.expose().to_owned(), hash).await {
                return Err(ServiceError::invalid("field.new_password", "rule.password_reuse", ""));
            }
        }
        let change = AccountChange {
            password_hash: Some(hash_password(new.expose().to_owned()).await),
            must_change_password: Some(false),
            end_sessions: true,
            ..Default::default()
        };
        let audit =
            self.audit_draft(actor, "password.change", Some(&actor.org), Some(format!("account:{id}")), json!({}));
        match self.store.change_account(id, account.version, &change, self.clock.now(), &audit).await? {
            // The account proved itself in this session (and with its second factor, if any): the
            // new session starts without asking again.
            AccountWrite::Done(_) => {
                let account = self.store.account_by_id(id).await?.ok_or(ServiceError::Unauthenticated)?;
                let who = actor_of(&account, Via::Session { csrf: String::new() }, actor.address.clone());
                self.start_session(&account, &who, actor.address.clone(), "password_change").await
            }
            AccountWrite::Stale => Err(ServiceError::Stale { what: "thing.account" }),
            AccountWrite::Missing | AccountWrite::Duplicate => Err(ServiceError::Unauthenticated),
        }
    }

    /// The actor's recent sign-ins (successes and failures), newest first.
    pub async fn recent_logins(&self, actor: &Actor, limit: u32) -> ServiceResult<Vec<store::StoredAudit>> {
        let filter = store::AuditFilter {
            actor: Some(actor.name.clone()),
            action_prefix: Some("login.".to_owned()),
            ..Default::default()
        };
        let page = store::Page { number: 1, size: limit };
        Ok(self.store.search_audit(&filter, page).await?.0)
    }

    // --- API tokens ---------------------------------------------------------------------------

    /// The actor of a department's API token (`Authorization: Bearer …`), if it is live.
    pub async fn token_actor(&self, token: &str, address: Option<String>) -> ServiceResult<Option<Actor>> {
        let now = self.clock.now();
        let Some(t) = self.store.use_api_token(&token_hash(token), now).await? else { return Ok(None) };
        if now >= t.expiry() {
            let on = domain::clock::china_date(t.expiry() - Duration::seconds(1)).to_string();
            return Err(ServiceError::TokenExpired { on });
        }
        let org = OrgCode::parse(&t.org_code).map_err(|e| {
            ServiceError::Store(store::StoreError::Corrupt { what: "API token", detail: e.to_string() })
        })?;
        Ok(Some(Actor {
            account_id: None,
            name: format!("token:{}:{}", t.id, t.name),
            display_name: t.name.clone(),
            org,
            org_name: String::new(),
            roles: vec![Role::Department],
            via: Via::Token { token_id: t.id },
            must_change_password: false,
            must_enrol_factor: false,
            address,
        }))
    }

    /// Creates a department token for a unit in the actor's scope, valid for `valid_days` (1 to
    /// [`MAX_TOKEN_DAYS`]); the secret is returned once.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        name: &str,
        org: &OrgCode,
        valid_days: u32,
    ) -> ServiceResult<(i64, String)> {
        self.guard_on(actor, Capability::SecurityAdmin, org).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::invalid("field.token_name", "rule.token_name", name));
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&valid_days) {
            return Err(ServiceError::invalid("field.token_days", "rule.token_days", valid_days.to_string()));
        }
        let now = self.clock.now();
        let expires_at = now + Duration::days(i64::from(valid_days));
        self.existing_org_unit(org).await?;
        let secret = format!("qpt_{}", random_token());
        let detail = json!({"name": name, "scope": "feed.submit", "expires_at": expires_at.to_rfc3339()});
        let audit = self.audit_draft(actor, "token.create", Some(org), None, detail);
        let hash = token_hash(&secret);
        let token = store::NewApiToken {
            name,
            org_code: org,
            token_hash: &hash,
            created_by: actor.account_id,
            now,
            expires_at,
        };
        let id = self.store.create_api_token(&token, &audit).await?;
        Ok((id, secret))
    }

    pub async fn list_api_tokens(&self, actor: &Actor) -> ServiceResult<Vec<ApiToken>> {
        self.guard(actor, Capability::SecurityAdmin).await?;
        Ok(self.store.list_api_tokens(actor.subtree().as_ref()).await?)
    }

    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> ServiceResult<()> {
        self.guard(actor, Capability::SecurityAdmin).await?;
        let token = self.store.api_token(id).await?;
        let not_found = || ServiceError::NotFound { what: "thing.token", key: id.to_string() };
        let org = token.and_then(|t| OrgCode::parse(&t.org_code).ok()).ok_or_else(not_found)?;
        self.guard_target(actor, &[Capability::SecurityAdmin], &org, "thing.token", id.to_string()).await?;
        let audit = self.audit_draft(actor, "token.revoke", Some(&org), Some(format!("token:{id}")), json!({}));
        self.store.revoke_api_token(id, self.clock.now(), &audit).await?;
        Ok(())
    }
}
