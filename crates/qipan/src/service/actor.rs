//! Who is asking, and the one guard that decides what they may do.
//!
//! Every use case that touches protected data takes an [`Actor`] and asks [`App::guard`] (or
//! [`App::guard_on`]) before it reads or writes. A denial is written to the audit log here and
//! nowhere else. Lists are filtered in SQL by [`Actor::subtree`], the path range of the actor's
//! unit and everything below it (the management scope).

use domain::authz::{Capability, RecordAccess, Role, grants, record_access};
use domain::{OrgCode, OrgPath};
use serde_json::json;

use super::{App, ServiceError, ServiceResult};

/// How the actor proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser or API session; `csrf` must accompany every state-changing request.
    Session { csrf: String },
    /// A department's API token.
    Token { token_id: i64 },
    /// The command line on the server (`qipan user create`, `qipan demo`): the operator of the
    /// machine, who could read the database file anyway.
    Console,
}

/// Path ranges (`[low, high)`) that a record list is filtered by: managed in `managing`, or —
/// read-only — registered in `household`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordScope {
    pub managing: (String, String),
    pub household: (String, String),
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: Option<i64>,
    pub name: String,
    pub display_name: String,
    pub org: OrgCode,
    pub org_name: String,
    pub roles: Vec<Role>,
    pub via: Via,
    pub must_change_password: bool,
    /// An administrator who must set up a second factor before anything else.
    pub must_enrol_factor: bool,
    pub address: Option<String>,
}

impl Actor {
    /// The console operator: every capability, everywhere (bootstrap and scripting only).
    pub fn console(org: OrgCode) -> Actor {
        Actor {
            account_id: None,
            name: "console".to_owned(),
            display_name: "console".to_owned(),
            org_name: String::new(),
            org,
            roles: Vec::new(),
            via: Via::Console,
            must_change_password: false,
            must_enrol_factor: false,
            address: None,
        }
    }

    pub fn can(&self, capability: Capability) -> bool {
        self.via == Via::Console || grants(&self.roles, capability)
    }

    /// Whether the actor stands at the top of the installation (the province, or the console),
    /// where the settings that bind every unit are kept.
    pub fn at_installation_top(&self) -> bool {
        self.via == Via::Console || self.org.parent().is_none()
    }

    /// Whether the unit with this code is the actor's or lies below it (a bad code: no).
    pub fn manages_code(&self, code: &str) -> bool {
        OrgCode::parse(code).is_ok_and(|c| self.manages(&c))
    }

    /// Whether `org` is the actor's unit or lies below it.
    pub fn manages(&self, org: &OrgCode) -> bool {
        if self.via == Via::Console {
            return true;
        }
        let (low, high) = self.org.path().subtree_range();
        let path = org.path();
        path.as_str() >= low.as_str() && path.as_str() < high.as_str()
    }

    /// The path range of the actor's management scope, for filtering lists in SQL; `None` for
    /// the console (no limit).
    pub fn subtree(&self) -> Option<(String, String)> {
        (self.via != Via::Console).then(|| self.org.path().subtree_range())
    }

    /// The two parts of the actor's data scope as path ranges, for filtering record lists in
    /// SQL: records managed in the subtree, and (read-only) records whose household
    /// registration lies in it. `None` for the console (no limit).
    pub fn record_scope(&self) -> Option<RecordScope> {
        self.subtree().map(|range| RecordScope { managing: range.clone(), household: range })
    }

    pub fn path(&self) -> OrgPath {
        self.org.path()
    }

    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf } => Some(csrf),
            _ => None,
        }
    }
}

impl App {
    /// Allows the capability anywhere in the actor's scope, or audits the denial and refuses.
    pub async fn guard(&self, actor: &Actor, capability: Capability) -> ServiceResult<()> {
        if actor.must_change_password && actor.via != Via::Console {
            return Err(ServiceError::PasswordChangeRequired);
        }
        if actor.must_enrol_factor && actor.via != Via::Console {
            return Err(ServiceError::FactorEnrolmentRequired);
        }
        if actor.can(capability) {
            return Ok(());
        }
        self.deny(actor, capability, None).await
    }

    /// Allows the capability on one org unit in the actor's management scope, or audits the
    /// denial and refuses.
    pub async fn guard_on(&self, actor: &Actor, capability: Capability, org: &OrgCode) -> ServiceResult<()> {
        self.guard(actor, capability).await?;
        if actor.manages(org) {
            return Ok(());
        }
        self.deny(actor, capability, Some(org)).await
    }

    /// Allows a capability over what binds the whole installation — the working-day calendar,
    /// the code tables — only at its top: an actor of a unit with no parent (the province), or
    /// the console. A county's administrator could otherwise shift every deadline in the
    /// province by declaring a holiday.
    pub async fn guard_installation(&self, actor: &Actor, capability: Capability) -> ServiceResult<()> {
        self.guard(actor, capability).await?;
        if actor.at_installation_top() {
            return Ok(());
        }
        let detail = json!({"capability": capability.as_str(), "needs": "installation"});
        self.audit(actor, "access.denied", Some(&actor.org), None, detail).await?;
        Err(ServiceError::Forbidden { capability: "installation.settings" })
    }

    /// Decides how the actor may use `capability` on one personal record managed under
    /// `managing` whose household registration is `household`. A read from the origin side is
    /// audited here; no access at all is audited and answered as "not found", so that the
    /// record's existence is not revealed.
    pub async fn guard_record(
        &self,
        actor: &Actor,
        capability: Capability,
        managing: &OrgCode,
        household: Option<&OrgCode>,
        target: &str,
    ) -> ServiceResult<RecordAccess> {
        if actor.must_change_password && actor.via != Via::Console {
            return Err(ServiceError::PasswordChangeRequired);
        }
        let access = if actor.via == Via::Console {
            Some(RecordAccess::Manage)
        } else {
            let household_path = household.map(OrgCode::path);
            record_access(&actor.roles, &actor.path(), capability, &managing.path(), household_path.as_ref())
        };
        match access {
            Some(RecordAccess::ReadAsOrigin) => {
                let detail = json!({"capability": capability.as_str(), "as": "origin"});
                self.audit(actor, "person.read_as_origin", household, Some(target.to_owned()), detail).await?;
                Ok(RecordAccess::ReadAsOrigin)
            }
            Some(a) => Ok(a),
            // Outside the scope: a grant the reader broke the glass for lets it read, and the
            // read is audited.
            None if capability == Capability::PersonRead
                && let Some(account) = actor.account_id
                && self.store.has_glass_grant(account, target, self.clock.now()).await? =>
            {
                let detail = json!({"capability": capability.as_str(), "as": "grant"});
                self.audit(actor, "person.read_by_grant", Some(managing), Some(target.to_owned()), detail).await?;
                Ok(RecordAccess::ByGrant)
            }
            None => {
                let detail = json!({"capability": capability.as_str(), "on": managing.to_string()});
                self.audit(actor, "access.denied", Some(managing), Some(target.to_owned()), detail).await?;
                Err(ServiceError::NotFound { what: "thing.record", key: target.to_owned() })
            }
        }
    }

    /// Allows one of `capabilities` on a single thing (`what`, `key`) belonging to `org`. Outside
    /// the actor's scope the denial is audited and answered "not found", so that existence is
    /// not revealed; without any of the capabilities it is a plain, audited refusal.
    pub async fn guard_target(
        &self,
        actor: &Actor,
        capabilities: &[Capability],
        org: &OrgCode,
        what: &'static str,
        key: String,
    ) -> ServiceResult<Capability> {
        let Some(capability) = capabilities.iter().copied().find(|c| actor.can(*c)) else {
            self.guard(actor, capabilities[0]).await?;
            unreachable!("guard refuses a capability the actor lacks");
        };
        self.guard(actor, capability).await?;
        if actor.manages(org) {
            return Ok(capability);
        }
        let detail = json!({"capability": capability.as_str(), "on": org.to_string()});
        self.audit(actor, "access.denied", Some(org), Some(key.clone()), detail).await?;
        Err(ServiceError::NotFound { what, key })
    }

    /// Allows a case the actor stands on a side of (`visible`, decided by the case's kind);
    /// otherwise audits the attempt and answers "not found", as for a case that does not exist.
    pub(crate) async fn guard_case(
        &self,
        actor: &Actor,
        case: domain::case::CaseRef,
        visible: bool,
        on: &str,
        from: &str,
    ) -> ServiceResult<()> {
        if visible {
            return Ok(());
        }
        let detail = json!({"on": on, "from": from});
        self.audit(actor, "access.denied", Some(&actor.org), Some(case.to_string()), detail).await?;
        Err(super::case::not_found(case))
    }

    /// Allows one of `capabilities` anywhere in the actor's scope (the first the actor holds).
    pub async fn guard_any(&self, actor: &Actor, capabilities: &[Capability]) -> ServiceResult<Capability> {
        match capabilities.iter().copied().find(|c| actor.can(*c)) {
            Some(c) => self.guard(actor, c).await.map(|()| c),
            None => self.guard(actor, capabilities[0]).await.map(|()| capabilities[0]),
        }
    }

    async fn deny(&self, actor: &Actor, capability: Capability, org: Option<&OrgCode>) -> ServiceResult<()> {
        let detail = json!({"capability": capability.as_str(), "on": org.map(ToString::to_string)});
        self.audit(actor, "access.denied", org.or(Some(&actor.org)), None, detail).await?;
        Err(ServiceError::Forbidden { capability: capability.as_str() })
    }
}
