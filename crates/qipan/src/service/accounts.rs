//! Account administration, split as 三员分立 asks: the system administrator creates, disables,
//! moves and renames accounts and resets passwords; the security administrator grants and
//! removes roles and unlocks. Neither alone can give itself the data: the one who can sign in
//! as an account (by resetting it) cannot give it a role, and the one who gives roles cannot
//! sign in. All within the actor's subtree, all audited with the before and after.

use domain::OrgCode;
use domain::account::{NewPassword, Username};
use domain::authz::{Capability, Role, check_account_roles, check_role_levels};
use serde_json::json;
use store::{Account, AccountChange, AccountFilter, AccountWrite, NewAccount, Page};

use super::secrets::{hash_password, random_password};
use super::{Actor, App, Listing, ServiceError, ServiceResult, Via};

pub const MAX_DISPLAY_NAME_CHARS: usize = 50;

/// A request to create an account, as typed.
#[derive(Debug, Clone, Default)]
pub struct AccountForm<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub unit: &'a str,
    pub roles: Vec<&'a str>,
    /// `None`: generate one and show it once.
    pub password: Option<&'a str>,
    /// Whether the first sign-in must change the password (always, when an administrator sets
    /// it; not for accounts made at the console).
    pub must_change: bool,
}

/// What an administrator can do to an account.
#[derive(Debug, Clone)]
pub enum AccountAction<'a> {
    Disable,
    Enable,
    ResetPassword,
    Move {
        unit: &'a str,
    },
    SetRoles {
        roles: Vec<&'a str>,
    },
    Rename {
        display_name: &'a str,
    },
    Unlock,
    /// Removes the account's second factor (a lost phone): the security administrator.
    ResetFactor,
}

/// The outcome of an action; a reset carries the new password, shown once.
#[derive(Debug, Clone)]
pub struct ActionDone {
    pub new_password: Option<String>,
}

pub fn parse_roles(raw: &[&str]) -> ServiceResult<Vec<Role>> {
    let mut roles = Vec::new();
    for r in raw.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        let role = Role::parse(r).ok_or_else(|| ServiceError::invalid("field.roles", "rule.role_unknown", r))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort();
    // No role at all is an account that waits for the security administrator.
    if !roles.is_empty() {
        check_account_roles(&roles).map_err(|e| ServiceError::invalid("field.roles", e.rule_key(), joined(&roles)))?;
    }
    Ok(roles)
}

/// Every role must fit the level of the unit it is held at.
fn check_levels(roles: &[Role], unit: &OrgCode) -> ServiceResult<()> {
    check_role_levels(roles, unit.level())
        .map_err(|e| ServiceError::invalid("field.roles", e.rule_key(), format!("{} @ {unit}", joined(roles))))
}

/// Whether the actor may give these roles to an account in `unit`. Administrator roles are the
/// keys to the system: the security and audit administrators are made only at the console, and
/// a security administrator may appoint system administrators only for units strictly below
/// its own (delegation downwards, never sideways or upwards).
fn may_grant(actor: &Actor, unit: &OrgCode, roles: &[Role]) -> bool {
    if actor.via == Via::Console {
        return true;
    }
    roles.iter().all(|r| match r {
        Role::SecurityAdmin | Role::AuditAdmin | Role::Department => false,
        Role::SystemAdmin => actor.manages(unit) && actor.org != *unit,
        _ => true,
    })
}

/// Whether the actor may act on an account that holds these roles in `unit`: administrators are
/// handled by the console, or — system administrators — by a system administrator above them.
fn may_handle(actor: &Actor, unit: &OrgCode, roles: &[Role]) -> bool {
    may_grant(actor, unit, roles)
}

fn joined(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

fn parse_unit(raw: &str) -> ServiceResult<OrgCode> {
    OrgCode::parse(raw).map_err(|_| ServiceError::invalid("field.unit", "rule.org_code", raw))
}

fn parse_display_name(raw: &str) -> ServiceResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(ServiceError::invalid("field.display_name", "rule.display_name", name));
    }
    Ok(name.to_owned())
}

fn account_json(a: &Account) -> serde_json::Value {
    json!({
        "username": a.username, "display_name": a.display_name, "unit": a.org_code.to_string(),
        "roles": joined(&a.roles), "disabled": a.disabled, "must_change_password": a.must_change_password,
    })
}

impl App {
    async fn refuse_admin_roles<T>(
        &self,
        actor: &Actor,
        unit: &OrgCode,
        roles: &[Role],
        id: Option<i64>,
    ) -> ServiceResult<T> {
        let detail = json!({"capability": "account.admin_roles", "roles": joined(roles), "unit": unit.to_string()});
        self.audit(actor, "access.denied", Some(unit), id.map(|i| format!("account:{i}")), detail).await?;
        Err(ServiceError::Forbidden { capability: "account.admin_roles" })
    }

    /// Creates an account in a unit of the actor's scope. Returns its id and the password when
    /// one was generated.
    pub async fn create_account(&self, actor: &Actor, form: &AccountForm<'_>) -> ServiceResult<(i64, Option<String>)> {
        self.guard(actor, Capability::AccountAdmin).await?;
        let username = Username::parse(form.username)
            .map_err(|_| ServiceError::invalid("field.username", "rule.username", form.username))?;
        let display_name = parse_display_name(if form.display_name.trim().is_empty() {
            username.as_str()
        } else {
            form.display_name
        })?;
        let unit = parse_unit(form.unit)?;
        let roles = parse_roles(&form.roles)?;
        self.guard_on(actor, Capability::AccountAdmin, &unit).await?;
        // Roles are the security administrator's to grant; only the console (bootstrap) gives
        // them at creation.
        if !roles.is_empty() && actor.via != Via::Console {
            let detail = json!({"capability": "account.roles", "roles": joined(&roles), "unit": unit.to_string()});
            self.audit(actor, "access.denied", Some(&unit), None, detail).await?;
            return Err(ServiceError::Forbidden { capability: "account.roles" });
        }
        check_levels(&roles, &unit)?;
        if !may_grant(actor, &unit, &roles) {
            return self.refuse_admin_roles(actor, &unit, &roles, None).await;
        }
        self.existing_org_unit(&unit).await?;
        let (password, generated) = match form.password {
            Some(p) => (self.new_password(p, &username, "field.password").await?, None),
            None => {
                let p = random_password();
                (NewPassword::parse(&p, &username).expect("generated passwords meet the policy"), Some(p))
            }
        };
        let new = NewAccount {
            username: username.to_string(),
            display_name,
            org_code: unit.clone(),
            password_hash: hash_password(password.expose().to_owned()).await,
            must_change_password: form.must_change,
            roles: roles.clone(),
        };
        let detail = json!({"after": {"username": new.username, "display_name": new.display_name,
            "unit": unit.to_string(), "roles": joined(&roles), "must_change_password": form.must_change}});
        let audit = self.audit_draft(actor, "account.create", Some(&unit), None, detail);
        match self.store.create_account(&new, self.clock.now(), &audit).await? {
            AccountWrite::Done(id) => Ok((id, generated)),
            AccountWrite::Duplicate => Err(ServiceError::Duplicate { field: "field.username", value: new.username }),
            AccountWrite::Stale | AccountWrite::Missing => Err(ServiceError::Stale { what: "thing.account" }),
        }
    }

    /// Accounts in the actor's scope (system or security administrators).
    pub async fn list_accounts(
        &self,
        actor: &Actor,
        text: Option<&str>,
        page: Page,
    ) -> ServiceResult<Listing<Account>> {
        if !actor.can(Capability::SecurityAdmin) {
            self.guard(actor, Capability::AccountAdmin).await?;
        } else {
            self.guard(actor, Capability::SecurityAdmin).await?;
        }
        let filter = AccountFilter { within: actor.subtree(), text: text.map(str::to_owned) };
        let (items, total) = self.store.list_accounts(&filter, page).await?;
        Ok(Listing::exact(items, total, page))
    }

    /// One account in the actor's scope; outside it, "not found" (existence is not revealed).
    pub async fn account_for_admin(&self, actor: &Actor, id: i64) -> ServiceResult<Account> {
        self.guard_any(actor, &[Capability::AccountAdmin, Capability::SecurityAdmin]).await?;
        let not_found = || ServiceError::NotFound { what: "thing.account", key: id.to_string() };
        let account = self.store.account_by_id(id).await?.ok_or_else(not_found)?;
        let capabilities = [Capability::AccountAdmin, Capability::SecurityAdmin];
        self.guard_target(actor, &capabilities, &account.org_code, "thing.account", id.to_string()).await?;
        Ok(account)
    }

    /// Applies an administrator's action to an account last seen at `version`.
    pub async fn act_on_account(
        &self,
        actor: &Actor,
        id: i64,
        version: i32,
        action: AccountAction<'_>,
    ) -> ServiceResult<ActionDone> {
        let capability = match action {
            AccountAction::Unlock | AccountAction::SetRoles { .. } | AccountAction::ResetFactor => {
                Capability::SecurityAdmin
            }
            _ => Capability::AccountAdmin,
        };
        self.guard(actor, capability).await?;
        let account = self.account_for_admin(actor, id).await?;
        self.guard_on(actor, capability, &account.org_code).await?;
        if version != account.version {
            return Err(ServiceError::Stale { what: "thing.account" });
        }
        let unlocking = matches!(action, AccountAction::Unlock);
        if !unlocking && !may_handle(actor, &account.org_code, &account.roles) {
            return self.refuse_admin_roles(actor, &account.org_code, &account.roles, Some(id)).await;
        }
        if actor.account_id == Some(id) && !matches!(action, AccountAction::Rename { .. }) {
            return Err(ServiceError::invalid("field.account", "rule.not_self", account.username.clone()));
        }
        let mut change = AccountChange::default();
        let mut new_password = None;
        let mut target_unit = account.org_code.clone();
        let action_name = match &action {
            AccountAction::Disable => {
                change.disabled = Some(true);
                change.end_sessions = true;
                "account.disable"
            }
            AccountAction::Enable => {
                change.disabled = Some(false);
                "account.enable"
            }
            AccountAction::ResetPassword => {
                let p = random_password();
                change.password_hash = Some(hash_password(p.clone()).await);
                change.must_change_password = Some(true);
                change.end_sessions = true;
                change.unlock = true;
                new_password = Some(p);
                "account.reset_password"
            }
            AccountAction::Move { unit } => {
                let unit = parse_unit(unit)?;
                self.guard_on(actor, capability, &unit).await?;
                if !may_handle(actor, &unit, &account.roles) {
                    return self.refuse_admin_roles(actor, &unit, &account.roles, Some(id)).await;
                }
                self.existing_org_unit(&unit).await?;
                check_levels(&account.roles, &unit)?;
                change.org_code = Some(unit.clone());
                change.end_sessions = true;
                target_unit = unit;
                "account.move"
            }
            AccountAction::SetRoles { roles } => {
                let roles = parse_roles(roles)?;
                if !may_grant(actor, &account.org_code, &roles) {
                    return self.refuse_admin_roles(actor, &account.org_code, &roles, Some(id)).await;
                }
                check_levels(&roles, &account.org_code)?;
                change.roles = Some(roles);
                change.end_sessions = true;
                "account.roles"
            }
            AccountAction::Rename { display_name } => {
                change.display_name = Some(parse_display_name(display_name)?);
                "account.rename"
            }
            AccountAction::Unlock => {
                change.unlock = true;
                "account.unlock"
            }
            AccountAction::ResetFactor => {
                self.reset_account_factor(actor, &account).await?;
                return Ok(ActionDone { new_password: None });
            }
        };
        let before = account_json(&account);
        let mut after = before.clone();
        if let Some(v) = change.disabled {
            after["disabled"] = json!(v);
        }
        if let Some(v) = &change.org_code {
            after["unit"] = json!(v.to_string());
        }
        if let Some(v) = &change.roles {
            after["roles"] = json!(joined(v));
        }
        if let Some(v) = &change.display_name {
            after["display_name"] = json!(v);
        }
        if let Some(v) = change.must_change_password {
            after["must_change_password"] = json!(v);
        }
        let detail = json!({"before": before, "after": after});
        let audit = self.audit_draft(actor, action_name, Some(&target_unit), Some(format!("account:{id}")), detail);
        match self.store.change_account(id, version, &change, self.clock.now(), &audit).await? {
            AccountWrite::Done(_) => Ok(ActionDone { new_password }),
            AccountWrite::Stale => Err(ServiceError::Stale { what: "thing.account" }),
            AccountWrite::Missing => Err(ServiceError::NotFound { what: "thing.account", key: id.to_string() }),
            AccountWrite::Duplicate => Err(ServiceError::Stale { what: "thing.account" }),
        }
    }
}
