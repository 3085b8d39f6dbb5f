//! The second factor: TOTP (RFC 6238: HMAC-SHA-1, six digits, 30-second steps) enrolled by the
//! account itself with a QR code drawn by the server, confirmed by a first code, backed by ten
//! recovery codes shown once; every code is accepted once; the security administrator resets a
//! lost factor. A sign-in with a factor is two steps: the password opens a pending sign-in (five
//! minutes, one address), the code completes it.

use chrono::Duration;
use serde_json::json;
use store::Account;
use totp_rs::{Algorithm, Secret, TOTP};

use super::auth::actor_of;
use super::secrets::{random_bytes, random_token, token_hash};
use super::{Actor, App, NewSession, ServiceError, ServiceResult, Via};

const ISSUER: &str = "Qipan";
const STEP_SECONDS: u64 = 30;
/// How long a checked password waits for its code.
pub const PENDING_MINUTES: i64 = 5;
const RECOVERY_CODES: usize = 10;

/// An enrolment under way: what the authenticator app needs.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, for typing into the app.
    pub secret: String,
    /// `otpauth://…`, what the QR code holds.
    pub url: String,
    /// The QR code, as an SVG drawn here (nothing leaves the server).
    pub qr_svg: String,
}

fn totp(secret: &str) -> ServiceResult<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().map_err(|_| corrupt("a second factor's secret"))?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECONDS, bytes).map_err(|_| corrupt("a second factor's secret"))
}

fn corrupt(what: &'static str) -> ServiceError {
    ServiceError::Store(store::StoreError::Corrupt { what, detail: "unreadable".to_owned() })
}

/// The time step whose code `code` is, within one step either side of `now`, if any.
fn matching_step(totp: &TOTP, code: &str, now: i64) -> Option<i64> {
    let now = u64::try_from(now).ok()?;
    let current = now / STEP_SECONDS;
    (current.saturating_sub(1)..=current + 1)
        .find(|step| totp.generate(step * STEP_SECONDS) == code)
        .and_then(|s| i64::try_from(s).ok())
}

fn enrolment_of(username: &str, secret: &str) -> Enrolment {
    let label: String = url::form_urlencoded::byte_serialize(format!("{ISSUER}:{username}").as_bytes()).collect();
    let url = format!("otpauth://totp/{label}?secret={secret}&issuer={ISSUER}");
    let qr_svg = qrcode::QrCode::new(url.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
        .unwrap_or_default();
    Enrolment { secret: secret.to_owned(), url, qr_svg }
}

fn recovery_hash(code: &str) -> String {
    token_hash(&code.trim().to_lowercase().replace(['-', ' '], ""))
}

impl App {
    fn account_of(&self, actor: &Actor) -> ServiceResult<i64> {
        actor.account_id.ok_or(ServiceError::Forbidden { capability: "factor.account" })
    }

    /// Starts an enrolment for the actor's own account (a new secret each time, until one is
    /// confirmed).
    pub async fn begin_factor(&self, actor: &Actor) -> ServiceResult<Enrolment> {
        let id = self.account_of(actor)?;
        // 160 bits, as RFC 4226 recommends.
        let secret = Secret::Raw(random_bytes(20)).to_encoded().to_string();
        if !self.store.begin_factor(id, &secret, self.clock.now()).await? {
            return Err(ServiceError::Conflict { rule: "factor.error.enrolled" });
        }
        Ok(enrolment_of(&actor.name, &secret))
    }

    /// The actor's factor: `Ok(None)` without one, `Some((enrolment, confirmed))` otherwise.
    pub async fn own_factor(&self, actor: &Actor) -> ServiceResult<Option<(Enrolment, bool)>> {
        let id = self.account_of(actor)?;
        Ok(self.store.factor(id).await?.map(|f| (enrolment_of(&actor.name, &f.secret), f.confirmed_at.is_some())))
    }

    /// Confirms the enrolment with a first code; returns the recovery codes, shown this once.
    pub async fn confirm_factor(&self, actor: &Actor, code: &str) -> ServiceResult<Vec<String>> {
        let id = self.account_of(actor)?;
        let factor = self.store.factor(id).await?.filter(|f| f.confirmed_at.is_none());
        let factor = factor.ok_or(ServiceError::Conflict { rule: "factor.error.no_enrolment" })?;
        let now = self.clock.now();
        let step = matching_step(&totp(&factor.secret)?, code.trim(), now.timestamp())
            .ok_or_else(|| ServiceError::invalid("field.totp", "rule.totp_wrong", ""))?;
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let t = random_token();
                format!("{}-{}", &t[..5], &t[5..10])
            })
            .collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        let target = Some(format!("account:{id}"));
        let audit = self.audit_draft(actor, "factor.enrol", Some(&actor.org), target, json!({"kind": "totp"}));
        if !self.store.confirm_factor(id, step, &hashes.join(","), now, &audit).await? {
            return Err(ServiceError::Conflict { rule: "factor.error.no_enrolment" });
        }
        Ok(codes)
    }

    /// Checks a code (or a recovery code) of an account's factor, accepting each once. A wrong
    /// code counts as a failed sign-in from `who`'s address.
    pub(super) async fn check_factor_code(&self, account: &Account, who: &Actor, code: &str) -> ServiceResult<()> {
        let factor = self.store.factor(account.id).await?.filter(|f| f.confirmed_at.is_some());
        let factor = factor.ok_or(ServiceError::LoginFailed)?;
        let code = code.trim();
        let now = self.clock.now();
        let org = Some(&account.org_code);
        if let Some(step) = matching_step(&totp(&factor.secret)?, code, now.timestamp()) {
            if self.store.use_factor_step(account.id, step).await? {
                return Ok(());
            }
            self.audit(who, "login.failure", org, None, json!({"reason": "code_replayed"})).await?;
            return Err(ServiceError::invalid("field.totp", "rule.totp_replayed", ""));
        }
        let hash = recovery_hash(code);
        let list: Vec<&str> = factor.recovery.split(',').filter(|h| !h.is_empty()).collect();
        if list.contains(&hash.as_str()) {
            let rest: Vec<&str> = list.iter().copied().filter(|h| *h != hash).collect();
            if self.store.use_recovery_code(account.id, &factor.recovery, &rest.join(",")).await? {
                let detail = json!({"left": rest.len()});
                self.audit(who, "factor.recovery_used", org, Some(format!("account:{}", account.id)), detail).await?;
                return Ok(());
            }
        }
        self.count_failed_login(account, who, "wrong_code").await?;
        Err(ServiceError::invalid("field.totp", "rule.totp_wrong", ""))
    }

    /// Holds a sign-in whose password was right until its code comes: the error that says so,
    /// with the pending sign-in's token.
    pub(super) async fn hold_for_factor(
        &self,
        account: &Account,
        who: &Actor,
        source: &str,
    ) -> ServiceResult<ServiceError> {
        let token = random_token();
        let expires = self.clock.now() + Duration::minutes(PENDING_MINUTES);
        self.store.create_pending_login(&token_hash(&token), account.id, source, expires).await?;
        let org = Some(&account.org_code);
        self.audit(who, "login.password_ok", org, Some(format!("account:{}", account.id)), json!({})).await?;
        Ok(ServiceError::SecondFactorRequired { pending: token })
    }

    /// Completes a pending sign-in with the code of its second factor.
    pub async fn complete_login(
        &self,
        pending: &str,
        code: &str,
        address: Option<String>,
    ) -> ServiceResult<NewSession> {
        let now = self.clock.now();
        let source = address.as_deref().unwrap_or("").to_owned();
        let hash = token_hash(pending);
        let account_id = self.store.pending_login(&hash, &source, now).await?.ok_or(ServiceError::LoginFailed)?;
        let account = self.store.account_by_id(account_id).await?.ok_or(ServiceError::LoginFailed)?;
        let who = actor_of(&account, Via::Session { csrf: String::new() }, address.clone());
        if account.disabled || self.store.login_locked_until(account.id, &source).await?.is_some_and(|u| u > now) {
            self.audit(&who, "login.failure", Some(&account.org_code), None, json!({"reason": "locked"})).await?;
            return Err(ServiceError::LoginFailed);
        }
        self.check_factor_code(&account, &who, code).await?;
        self.store.end_pending_login(&hash, now).await?;
        self.start_session(&account, &who, address, "totp").await
    }

    /// Whether the account is an administrator who must set up a second factor first (the
    /// setting is read only for administrators without one, so ordinary requests pay nothing).
    pub(super) async fn must_enrol_factor(&self, account: &Account) -> ServiceResult<bool> {
        if account.has_factor || !account.roles.iter().any(|r| r.is_administrator()) {
            return Ok(false);
        }
        let setting = self.store.setting(super::auth::ADMIN_FACTOR_SETTING).await?;
        Ok(setting.as_deref() != Some("optional"))
    }

    /// The security administrator removes an account's factor (a lost phone); the account
    /// enrols again at its next sign-in.
    pub(super) async fn reset_account_factor(&self, actor: &Actor, account: &Account) -> ServiceResult<()> {
        let target = Some(format!("account:{}", account.id));
        let audit = self.audit_draft(actor, "factor.reset", Some(&account.org_code), target, json!({}));
        self.store.delete_factor(account.id, &audit).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at 59 s gives 94287082 in
    /// eight digits; in six, 287082.
    #[test]
    fn codes_follow_the_rfc_and_match_one_step_either_side() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string();
        let t = totp(&secret).unwrap();
        assert_eq!(t.generate(59), "287082");
        assert_eq!(matching_step(&t, "287082", 59), Some(1));
        assert_eq!(matching_step(&t, "287082", 89), Some(1), "the previous step is still accepted");
        assert_eq!(matching_step(&t, "287082", 120), None, "two steps later it is not");
        assert_eq!(matching_step(&t, "000000", 59), None);
    }

    #[test]
    fn the_enrolment_url_names_the_issuer_and_the_account() {
        let e = enrolment_of("sysadmin", "JBSWY3DPEHPK3PXP");
        assert_eq!(e.url, "otpauth://totp/Qipan%3Asysadmin?secret=JBSWY3DPEHPK3PXP&issuer=Qipan");
        assert!(e.qr_svg.starts_with("<?xml") && e.qr_svg.contains("<svg"), "{}", &e.qr_svg[..60]);
    }
}
