//! The security administrator's policies: the password policy (length, classes, history,
//! expiry) and whether administrators must use a second factor.

use domain::account::{NewPassword, PasswordPolicy, Username};
use domain::authz::Capability;
use serde_json::json;

use super::auth::ADMIN_FACTOR_SETTING;
use super::{Actor, App, ServiceError, ServiceResult};

/// The setting that holds the password policy (`PasswordPolicy::to_setting`).
pub const PASSWORD_POLICY_SETTING: &str = "security.password_policy";

/// The policies as the policy page shows and changes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityPolicy {
    pub password: PasswordPolicy,
    pub admin_factor_required: bool,
}

/// The policy as typed on the page, checked after the guard.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    pub min_chars: &'a str,
    pub min_classes: &'a str,
    pub history: &'a str,
    pub max_age_days: &'a str,
    pub admin_factor_required: bool,
}

impl App {
    /// The password policy in force: the one set, or the default (which meets level 3).
    pub async fn password_policy(&self) -> ServiceResult<PasswordPolicy> {
        let raw = self.store.setting(PASSWORD_POLICY_SETTING).await?;
        Ok(raw.as_deref().and_then(PasswordPolicy::from_setting).unwrap_or_default())
    }

    /// A new password checked against the policy in force; a broken rule names `field`.
    pub(super) async fn new_password(
        &self,
        raw: &str,
        username: &Username,
        field: &'static str,
    ) -> ServiceResult<NewPassword> {
        let policy = self.password_policy().await?;
        NewPassword::parse_under(raw, username, &policy).map_err(|e| ServiceError::invalid(field, e.rule_key(), ""))
    }

    pub async fn security_policy(&self, actor: &Actor) -> ServiceResult<SecurityPolicy> {
        self.guard(actor, Capability::SecurityAdmin).await?;
        self.current_security_policy().await
    }

    async fn current_security_policy(&self) -> ServiceResult<SecurityPolicy> {
        let factor = self.store.setting(ADMIN_FACTOR_SETTING).await?;
        Ok(SecurityPolicy {
            password: self.password_policy().await?,
            admin_factor_required: factor.as_deref() != Some("optional"),
        })
    }

    /// Sets the policies for the whole installation (the security administrator at its top),
    /// with the values before and after in the audit log.
    pub async fn set_security_policy(&self, actor: &Actor, typed: &PolicyInput<'_>) -> ServiceResult<()> {
        self.guard_installation(actor, Capability::SecurityAdmin).await?;
        let password = PasswordPolicy::parse(typed.min_chars, typed.min_classes, typed.history, typed.max_age_days)
            .map_err(|e| ServiceError::invalid(e.field, e.rule, ""))?;
        let policy = SecurityPolicy { password, admin_factor_required: typed.admin_factor_required };
        let before = self.current_security_policy().await?;
        let factor = if policy.admin_factor_required { "required" } else { "optional" };
        let password = policy.password.to_setting();
        let shown = |p: &SecurityPolicy| json!({"password": p.password.to_setting(), "admin_factor": if p.admin_factor_required { "required" } else { "optional" }});
        let detail = json!({"before": shown(&before), "after": shown(&policy)});
        let audit = self.audit_draft(actor, "security.policy", Some(&actor.org), None, detail);
        let settings = [(PASSWORD_POLICY_SETTING, password.as_str()), (ADMIN_FACTOR_SETTING, factor)];
        self.store.set_settings_audited(&settings, self.clock.now(), &audit).await?;
        Ok(())
    }
}
