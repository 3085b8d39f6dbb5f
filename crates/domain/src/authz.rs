//! Who may do what: roles, the capabilities they grant, and the rules on combining them.
//!
//! The whole policy is the one table [`POLICY`], so that a reader sees it in one place. Where
//! a capability applies (which org units, which records) is the data scope, decided by the
//! service layer's guard from the actor's unit; this module only says *what* each role may do.

use std::fmt;

use serde::Serialize;

/// A role an account (or, for `Department`, an API token) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 村/社区信息员
    VillageClerk,
    /// 乡镇管理员
    TownshipOfficer,
    /// 县级交换员
    CountyOperator,
    /// 督查 (city or province): reads, ranks, orders; sees ID numbers masked
    Supervisor,
    /// 部门接口: API tokens only, no UI
    Department,
    /// 系统管理员: org units, accounts, code tables; no personal records
    SystemAdmin,
    /// 安全管理员: roles, grants, password policy, unlocks, API tokens; no personal records
    SecurityAdmin,
    /// 审计管理员: reads and exports the audit log, nothing else
    AuditAdmin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::VillageClerk,
        Role::TownshipOfficer,
        Role::CountyOperator,
        Role::Supervisor,
        Role::Department,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
    ];

    /// The identifier used in the CLI, the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::VillageClerk => "village_clerk",
            Role::TownshipOfficer => "township_officer",
            Role::CountyOperator => "county_operator",
            Role::Supervisor => "supervisor",
            Role::Department => "department",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// One of the three separated administrators (三员).
    pub fn is_administrator(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)
    }

    pub fn capabilities(self) -> &'static [Capability] {
        POLICY.iter().find(|(r, _)| *r == self).map(|(_, caps)| *caps).unwrap_or(&[])
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A named permission. Later issues add their own (`person.read`, `exchange.answer`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Capability {
    /// Browse the org hierarchy (public divisions; every signed-in account).
    OrgRead,
    /// Read personal records in scope.
    PersonRead,
    /// Create and change personal records in the management scope.
    PersonWrite,
    /// Send and answer exchange items (the county is the subject of exchange).
    ExchangeAnswer,
    /// Read supervision figures and issue orders.
    Supervise,
    /// Submit department feeds (API tokens).
    FeedSubmit,
    /// Manage accounts: create, disable, reset passwords, move, assign roles.
    AccountAdmin,
    /// Manage org units and code tables.
    OrgAdmin,
    /// Unlock accounts, manage API tokens and the password policy.
    SecurityAdmin,
    /// Read the audit log.
    AuditRead,
    /// Export the audit log.
    AuditExport,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::OrgRead => "org.read",
            Capability::PersonRead => "person.read",
            Capability::PersonWrite => "person.write",
            Capability::ExchangeAnswer => "exchange.answer",
            Capability::Supervise => "supervise",
            Capability::FeedSubmit => "feed.submit",
            Capability::AccountAdmin => "account.admin",
            Capability::OrgAdmin => "org.admin",
            Capability::SecurityAdmin => "security.admin",
            Capability::AuditRead => "audit.read",
            Capability::AuditExport => "audit.export",
        }
    }
}

use Capability::*;

/// The whole policy: each role and the capabilities it grants.
pub const POLICY: &[(Role, &[Capability])] = &[
    (Role::VillageClerk, &[OrgRead, PersonRead, PersonWrite]),
    (Role::TownshipOfficer, &[OrgRead, PersonRead, PersonWrite]),
    (Role::CountyOperator, &[OrgRead, PersonRead, PersonWrite, ExchangeAnswer]),
    (Role::Supervisor, &[OrgRead, PersonRead, Supervise]),
    (Role::Department, &[FeedSubmit]),
    (Role::SystemAdmin, &[OrgRead, AccountAdmin, OrgAdmin]),
    (Role::SecurityAdmin, &[OrgRead, SecurityAdmin]),
    (Role::AuditAdmin, &[OrgRead, AuditRead, AuditExport]),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("an account holds at least one role")]
    None,
    #[error(
        "{0} and {1} may not be held together: the three administrators are separate (三员分立), and an administrator holds no other role"
    )]
    Separation(Role, Role),
    #[error("the department role belongs to API tokens, not to accounts that sign in")]
    DepartmentAccount,
    #[error("{0} is not held at a unit of level {1:?}")]
    Level(Role, crate::OrgLevel),
}

impl RoleError {
    /// Catalogue key of the rule broken.
    pub fn rule_key(&self) -> &'static str {
        match self {
            RoleError::None => "rule.roles_none",
            RoleError::Separation(..) => "rule.roles_separation",
            RoleError::DepartmentAccount => "rule.roles_department",
            RoleError::Level(..) => "rule.role_level",
        }
    }
}

/// Checks the roles of an account that signs in: at least one; an administrator role alone
/// (so no account holds two of the three, and none mixes administration with personal
/// records); never the department role.
pub fn check_account_roles(roles: &[Role]) -> Result<(), RoleError> {
    if roles.is_empty() {
        return Err(RoleError::None);
    }
    if roles.contains(&Role::Department) {
        return Err(RoleError::DepartmentAccount);
    }
    if let Some(admin) = roles.iter().find(|r| r.is_administrator())
        && let Some(other) = roles.iter().find(|r| *r != admin)
    {
        return Err(RoleError::Separation(*admin, *other));
    }
    Ok(())
}

/// The levels of unit at which a role is held: a clerk at a village (or a work unit), an
/// officer at a township, an operator at a county, a supervisor at a city or the province, the
/// administrators at a county or above. A role held higher than its level would reach the data
/// of every unit below it (a county operator at the province: the whole province's records).
pub fn role_levels(role: Role) -> &'static [crate::OrgLevel] {
    use crate::OrgLevel::*;
    match role {
        Role::VillageClerk => &[Village, Unit],
        Role::TownshipOfficer => &[Township],
        Role::CountyOperator => &[County],
        Role::Supervisor => &[Province, City],
        Role::Department | Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin => &[Province, City, County],
    }
}

/// Checks that every role fits the level of the unit it is held at.
pub fn check_role_levels(roles: &[Role], level: crate::OrgLevel) -> Result<(), RoleError> {
    match roles.iter().find(|r| !role_levels(**r).contains(&level)) {
        Some(r) => Err(RoleError::Level(*r, level)),
        None => Ok(()),
    }
}

/// Whether any of the roles grants the capability.
pub fn grants(roles: &[Role], capability: Capability) -> bool {
    roles.iter().any(|r| r.capabilities().contains(&capability))
}

/// How an actor reaches one personal record (DESIGN §4: the two parts of the data scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordAccess {
    /// The record is managed in the actor's subtree (the residence side): read and write, as
    /// the roles allow.
    Manage,
    /// The person's household registration lies in the actor's subtree (异地查询, the origin side):
    /// read only, and every read is audited.
    ReadAsOrigin,
    /// Outside the scope, by a grant the reader gave itself for a stated reason (breaking the
    /// glass): read only, for at most 24 hours, every read audited.
    ByGrant,
}

/// Decides how an actor whose unit has path `actor_unit` may use `capability` on a record
/// managed under `managing` whose household registration is `household` (unknown: `None`).
/// `None` means no access at all.
pub fn record_access(
    roles: &[Role],
    actor_unit: &crate::OrgPath,
    capability: Capability,
    managing: &crate::OrgPath,
    household: Option<&crate::OrgPath>,
) -> Option<RecordAccess> {
    if !grants(roles, capability) {
        return None;
    }
    if actor_unit.contains(managing) {
        return Some(RecordAccess::Manage);
    }
    let reading = capability == Capability::PersonRead;
    match household {
        Some(h) if reading && actor_unit.contains(h) => Some(RecordAccess::ReadAsOrigin),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(code: &str) -> crate::OrgPath {
        crate::OrgCode::parse(code).unwrap().path()
    }

    #[test]
    fn the_residence_manages_and_the_origin_reads_only() {
        let clerk = [Role::VillageClerk];
        let county = [Role::CountyOperator];
        // A woman from 平昌县 (Sichuan) lives and is managed in a Bincheng village.
        let managing = path("371602001001");
        let household = path("511923101201");
        let read = Capability::PersonRead;
        let write = Capability::PersonWrite;
        assert_eq!(
            record_access(&clerk, &path("371602001001"), write, &managing, Some(&household)),
            Some(RecordAccess::Manage)
        );
        assert_eq!(
            record_access(&county, &path("371602"), read, &managing, Some(&household)),
            Some(RecordAccess::Manage)
        );
        // Her origin county follows her, read-only.
        assert_eq!(
            record_access(&county, &path("511923"), read, &managing, Some(&household)),
            Some(RecordAccess::ReadAsOrigin)
        );
        assert_eq!(record_access(&county, &path("511923"), write, &managing, Some(&household)), None);
        // A clerk of the next village over sees nothing of her.
        assert_eq!(record_access(&clerk, &path("371602001002"), read, &managing, Some(&household)), None);
        // Without the capability, scope does not help; an unknown origin gives the origin nothing.
        assert_eq!(record_access(&[Role::SystemAdmin], &path("37"), read, &managing, Some(&household)), None);
        assert_eq!(record_access(&county, &path("511923"), read, &managing, None), None);
    }

    #[test]
    fn every_role_is_in_the_policy_once() {
        for role in Role::ALL {
            assert_eq!(POLICY.iter().filter(|(r, _)| *r == role).count(), 1, "{role}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn administrators_see_no_personal_records() {
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin, Role::Department] {
            assert!(!grants(&[role], Capability::PersonRead), "{role}");
            assert!(!grants(&[role], Capability::PersonWrite), "{role}");
        }
        assert!(grants(&[Role::AuditAdmin], Capability::AuditRead));
        assert!(!grants(&[Role::SystemAdmin], Capability::AuditRead));
        assert!(!grants(&[Role::SecurityAdmin], Capability::AccountAdmin));
    }

    #[test]
    fn no_account_holds_two_of_the_three_administrators() {
        let admins = [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];
        for a in admins {
            assert_eq!(check_account_roles(&[a]), Ok(()));
            for b in Role::ALL.into_iter().filter(|b| *b != a && *b != Role::Department) {
                assert!(matches!(check_account_roles(&[a, b]), Err(RoleError::Separation(..))), "{a}+{b}");
            }
        }
        assert_eq!(check_account_roles(&[Role::TownshipOfficer, Role::CountyOperator]), Ok(()));
        assert_eq!(check_account_roles(&[]), Err(RoleError::None));
    }

    #[test]
    fn a_role_is_held_at_the_level_it_serves() {
        use crate::OrgLevel::*;
        assert_eq!(check_role_levels(&[Role::VillageClerk], Village), Ok(()));
        assert_eq!(check_role_levels(&[Role::CountyOperator], County), Ok(()));
        assert_eq!(
            check_role_levels(&[Role::CountyOperator], Province),
            Err(RoleError::Level(Role::CountyOperator, Province)),
            "a county operator at the province would write every record of it"
        );
        assert_eq!(check_role_levels(&[Role::VillageClerk], County), Err(RoleError::Level(Role::VillageClerk, County)));
        assert_eq!(check_role_levels(&[Role::Supervisor], Township), Err(RoleError::Level(Role::Supervisor, Township)));
        assert_eq!(check_role_levels(&[Role::SystemAdmin], Province), Ok(()));
        assert_eq!(check_role_levels(&[], Village), Ok(()), "no role fits anywhere");
        assert_eq!(check_account_roles(&[Role::Department]), Err(RoleError::DepartmentAccount));
    }
}
