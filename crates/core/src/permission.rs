//! The permission catalogue (SPEC §6) and sets of permissions as bit sets.

use std::fmt;

use crate::error::DomainError;

/// Where a permission applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionScope {
    Organization,
    Project,
}

macro_rules! permissions {
    ($($variant:ident = $name:literal, $scope:ident;)*) => {
        /// One permission of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Permission { $($variant,)* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            pub fn scope(self) -> PermissionScope {
                match self { $(Permission::$variant => PermissionScope::$scope,)* }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    OrganizationRead = "api.organization.read", Organization;
    UsersRead = "api.organization.users.read", Organization;
    UsersWrite = "api.organization.users.write", Organization;
    RolesRead = "api.organization.roles.read", Organization;
    RolesWrite = "api.organization.roles.write", Organization;
    InvitesRead = "api.organization.invites.read", Organization;
    InvitesWrite = "api.organization.invites.write", Organization;
    ProjectsRead = "api.organization.projects.read", Organization;
    ProjectsWrite = "api.organization.projects.write", Organization;
    ProjectUsersRead = "api.organization.projects.users.read", Organization;
    ProjectUsersWrite = "api.organization.projects.users.write", Organization;
    GroupsRead = "api.groups.read", Organization;
    GroupsWrite = "api.groups.write", Organization;
    AdminKeysRead = "api.organization.admin_api_keys.read", Organization;
    AdminKeysWrite = "api.organization.admin_api_keys.write", Organization;
    AuditLogsRead = "api.organization.audit_logs.read", Organization;
    ProjectApiKeysRead = "api.organization.projects.api_keys.read", Organization;
    ProjectApiKeysWrite = "api.organization.projects.api_keys.write", Organization;
    ProjectRead = "api.project.read", Project;
    ProjectUsersReadInProject = "api.project.users.read", Project;
    ProjectUsersWriteInProject = "api.project.users.write", Project;
    ProjectRolesRead = "api.project.roles.read", Project;
    ProjectRolesWrite = "api.project.roles.write", Project;
    ModelRequest = "api.model.request", Project;
    ResponsesWrite = "api.responses.write", Project;
    FilesRead = "api.files.read", Project;
    FilesWrite = "api.files.write", Project;
    VectorStoresRead = "api.vector_stores.read", Project;
    VectorStoresWrite = "api.vector_stores.write", Project;
    FineTuningJobsRead = "api.fine_tuning.jobs.read", Project;
    FineTuningJobsWrite = "api.fine_tuning.jobs.write", Project;
    BatchesRead = "api.batches.read", Project;
    BatchesWrite = "api.batches.write", Project;
}

/// Permissions a role of either scope may hold. The official API names them like organization
/// permissions and shows them on project roles ("API Project Key Manager"): held in the
/// organization they govern every project's API keys, held in a project only that project's.
const IN_BOTH_SCOPES: [Permission; 2] = [
    Permission::ProjectApiKeysRead,
    Permission::ProjectApiKeysWrite,
];

impl Permission {
    /// Whether a role (or a key) of `scope` may hold this permission.
    pub fn fits(self, scope: PermissionScope) -> bool {
        self.scope() == scope || IN_BOTH_SCOPES.contains(&self)
    }

    /// Parse a permission name given for `param`.
    pub fn parse(name: &str, param: &str) -> Result<Self, DomainError> {
        Self::from_name(name).ok_or_else(|| {
            DomainError::invalid(
                param,
                format!(
                    "'{}' is not a known permission. Known permissions: {}.",
                    crate::text::clip_to(name, 100),
                    Permission::ALL
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    }

    fn bit(self) -> u64 {
        1 << (self as u8)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions. Cheap to copy, union and intersect: authorization runs on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PermissionSet(u64);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn all() -> Self {
        Permission::ALL.iter().copied().collect()
    }

    pub fn all_in(scope: PermissionScope) -> Self {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| p.fits(scope))
            .collect()
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Members of `self` that are not in `other`.
    pub fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Members in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    pub fn names(self) -> Vec<String> {
        self.iter().map(|p| p.as_str().to_owned()).collect()
    }

    /// Parse stored or requested names; unknown names are an error naming `param`.
    pub fn parse_names<S: AsRef<str>>(names: &[S], param: &str) -> Result<Self, DomainError> {
        names
            .iter()
            .map(|n| Permission::parse(n.as_ref(), param))
            .collect()
    }

    /// Rebuild from names written by this server; names it no longer knows are dropped.
    pub fn from_stored_names<S: AsRef<str>>(names: &[S]) -> Self {
        names
            .iter()
            .filter_map(|n| Permission::from_name(n.as_ref()))
            .collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_fits_the_bit_set_and_round_trips_by_name() {
        assert!(Permission::ALL.len() <= 64);
        for p in Permission::ALL {
            assert_eq!(Permission::from_name(p.as_str()), Some(*p));
            assert!(PermissionSet::all().contains(*p));
        }
    }
}
