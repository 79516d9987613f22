//! The one rule of every grant: nobody may grant a permission they do not hold, and no key makes
//! a key that outlives it.
//!
//! A grant is any change that lets a principal do more: creating or editing a role, assigning a
//! role (to a user, a group, a project member or group, a service account), changing a base
//! role, adding a member to a group or a project, an invite, the scopes and expiry of a new admin
//! key. What a caller holds is what its key can exercise: the key owner's roles (base role,
//! custom roles, roles held through groups), limited by the key's scopes. The store reads those
//! inside the write transaction that makes the grant, so a demotion committed meanwhile cannot be
//! raced, and asks [`Granter`]; a refusal is the API's permission error naming what is missing.

use crate::error::DomainError;
use crate::id::ProjectId;
use crate::permission::{Permission, PermissionScope, PermissionSet};

/// The organization permissions that allow a project route in every project (SPEC §6: "a request
/// on a project route is allowed by the organization permission, or by the matching
/// `api.project.*` permission held in that project"), with the project permission each stands for.
/// The project API key permissions have one name in both scopes, so each stands for itself.
const PROJECT_EQUIVALENTS: [(Permission, Permission); 7] = [
    (Permission::ProjectsRead, Permission::ProjectRead),
    (
        Permission::ProjectUsersRead,
        Permission::ProjectUsersReadInProject,
    ),
    (
        Permission::ProjectUsersWrite,
        Permission::ProjectUsersWriteInProject,
    ),
    (Permission::RolesRead, Permission::ProjectRolesRead),
    (Permission::RolesWrite, Permission::ProjectRolesWrite),
    (
        Permission::ProjectApiKeysRead,
        Permission::ProjectApiKeysRead,
    ),
    (
        Permission::ProjectApiKeysWrite,
        Permission::ProjectApiKeysWrite,
    ),
];

/// What the acting key may grant, as read inside the write transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Granter {
    /// The key owner's organization permissions: base role, custom roles and group roles.
    owner_in_org: PermissionSet,
    /// The key's scopes; `None` for an unscoped key.
    scopes: Option<PermissionSet>,
    /// When the key stops working; `None` if never.
    expires_at: Option<i64>,
}

impl Granter {
    pub fn new(
        owner_in_org: PermissionSet,
        scopes: Option<PermissionSet>,
        expires_at: Option<i64>,
    ) -> Self {
        Self {
            owner_in_org,
            scopes,
            expires_at,
        }
    }

    fn limit(&self, held: PermissionSet) -> PermissionSet {
        match self.scopes {
            Some(scopes) => held.intersection(scopes),
            None => held,
        }
    }

    /// Organization permissions as the key can exercise them.
    pub fn in_organization(&self) -> PermissionSet {
        self.limit(self.owner_in_org)
    }

    /// Project permissions the key can exercise in a project where its owner holds
    /// `owner_in_project` (base project role, project roles held directly or through groups).
    /// Whoever holds every organization permission (an organization owner) administers every
    /// project as its owner would; the organization permissions that allow project routes count
    /// as the project permissions they stand for.
    pub fn in_project(&self, owner_in_project: PermissionSet) -> PermissionSet {
        let org_wide = PermissionSet::all_in(PermissionScope::Organization);
        let owner = if self.owner_in_org.intersection(org_wide) == org_wide {
            owner_in_project.union(PermissionSet::all_in(PermissionScope::Project))
        } else {
            owner_in_project
        };
        let in_org = self.in_organization();
        PROJECT_EQUIVALENTS
            .iter()
            .filter(|(org, _)| in_org.contains(*org))
            .map(|(_, project)| *project)
            .collect::<PermissionSet>()
            .union(self.limit(owner))
    }

    /// Refuse granting `granted` in the organization (`project` `None`) or in `project`, where
    /// the key holds `held` ([`Self::in_organization`], [`Self::in_project`]). `what` names the
    /// grant for the message ("Role 'owner'", "The new role", …).
    pub fn check(
        &self,
        held: PermissionSet,
        granted: PermissionSet,
        project: Option<&ProjectId>,
        what: &str,
    ) -> Result<(), DomainError> {
        let missing = granted.difference(held);
        if missing.is_empty() {
            return Ok(());
        }
        Err(DomainError::cannot_grant(
            missing,
            what,
            project.map(ProjectId::as_str),
        ))
    }

    /// The scopes of a key this key creates. An unscoped request from a scoped key gets its
    /// scopes (a key never makes one that may do more than itself); requested scopes must be
    /// within this key's scopes, and their organization permissions within what the key holds.
    /// Project permissions among them only narrow what the new key may do in projects.
    pub fn scopes_for_new_key(
        &self,
        requested: Option<PermissionSet>,
    ) -> Result<Option<PermissionSet>, DomainError> {
        let Some(requested) = requested else {
            return Ok(self.scopes);
        };
        let org_wide = PermissionSet::all_in(PermissionScope::Organization);
        let mut missing = requested
            .intersection(org_wide)
            .difference(self.in_organization());
        if let Some(own) = self.scopes {
            missing = missing.union(requested.difference(own));
        }
        if missing.is_empty() {
            return Ok(Some(requested));
        }
        Err(DomainError::cannot_grant(
            missing,
            "A key with these scopes",
            None,
        ))
    }

    /// When a key this key creates at `now` expires: `expires_in_seconds` after now, and never
    /// later than this key. A key that expires cannot make one that does not (`None`) or that
    /// outlives it; that is refused rather than shortened, so the answer never shows an expiry
    /// the client did not ask for.
    pub fn expiry_for_new_key(
        &self,
        now: i64,
        expires_in_seconds: Option<i64>,
    ) -> Result<Option<i64>, DomainError> {
        let wanted = expires_in_seconds.map(|s| now.saturating_add(s));
        let Some(limit) = self.expires_at else {
            return Ok(wanted);
        };
        let left = (limit - now).max(1);
        match wanted {
            Some(at) if at <= limit => Ok(Some(at)),
            _ => Err(DomainError::invalid(
                "expires_in_seconds",
                format!(
                    "This admin API key expires in {left} seconds (at {limit}), and a key it creates may not outlive it: set expires_in_seconds to at most {left}."
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::PredefinedRole;

    fn set(ps: &[Permission]) -> PermissionSet {
        ps.iter().copied().collect()
    }

    #[test]
    fn a_reader_cannot_grant_a_write_permission() {
        let g = Granter::new(PredefinedRole::OrgReader.permissions(), None, None);
        let err = g
            .check(
                g.in_organization(),
                set(&[Permission::RolesRead, Permission::UsersWrite]),
                None,
                "The change to role role_x",
            )
            .unwrap_err();
        let DomainError::Forbidden { missing, .. } = &err else {
            panic!("a permission error: {err:?}")
        };
        assert_eq!(*missing, set(&[Permission::UsersWrite]));
        let message = err.to_string();
        assert!(
            message.starts_with("You have insufficient permissions for this operation. Missing scopes: api.organization.users.write. Check that you have the correct role"),
            "{message}"
        );
        assert!(
            message.ends_with(" The change to role role_x would grant it, and an admin API key may grant only permissions it holds in the organization."),
            "{message}"
        );
    }

    #[test]
    fn an_organization_owner_holds_every_project_permission_unless_scoped_out() {
        let owner = Granter::new(PredefinedRole::OrgOwner.permissions(), None, None);
        assert_eq!(
            owner.in_project(PermissionSet::EMPTY),
            PermissionSet::all_in(PermissionScope::Project)
        );
        let scoped = Granter::new(
            PredefinedRole::OrgOwner.permissions(),
            Some(set(&[
                Permission::ProjectUsersWrite,
                Permission::ModelRequest,
            ])),
            None,
        );
        assert_eq!(
            scoped.in_project(PermissionSet::EMPTY),
            set(&[
                Permission::ProjectUsersWriteInProject,
                Permission::ModelRequest
            ])
        );
    }

    #[test]
    fn a_scoped_key_gives_its_scopes_to_an_unscoped_request_and_refuses_more() {
        let own = set(&[Permission::UsersRead, Permission::AdminKeysWrite]);
        let g = Granter::new(PredefinedRole::OrgOwner.permissions(), Some(own), None);
        assert_eq!(g.scopes_for_new_key(None).unwrap(), Some(own));
        assert!(g
            .scopes_for_new_key(Some(set(&[Permission::UsersWrite])))
            .is_err());
        let reader = Granter::new(PredefinedRole::OrgReader.permissions(), None, None);
        assert!(reader
            .scopes_for_new_key(Some(set(&[Permission::UsersWrite])))
            .is_err());
        assert!(reader
            .scopes_for_new_key(Some(set(&[
                Permission::UsersRead,
                Permission::ModelRequest
            ])))
            .is_ok());
    }

    #[test]
    fn a_key_cannot_make_a_key_that_outlives_it() {
        let g = Granter::new(PermissionSet::all(), None, Some(1_060));
        assert!(g.expiry_for_new_key(1_000, None).is_err());
        assert!(g.expiry_for_new_key(1_000, Some(61)).is_err());
        assert_eq!(g.expiry_for_new_key(1_000, Some(60)).unwrap(), Some(1_060));
        let forever = Granter::new(PermissionSet::all(), None, None);
        assert_eq!(forever.expiry_for_new_key(1_000, None).unwrap(), None);
    }
}
