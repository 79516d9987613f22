//! Roles: the predefined ones every organization has, base roles, custom role names, and how a
//! role ID given by a client resolves (including the project-scoped alias of predefined roles).

use std::fmt;

use crate::clock::Timestamp;
use crate::error::DomainError;
use crate::id::{ProjectId, RoleId, UserId};
use crate::permission::{Permission, PermissionScope, PermissionSet};

/// The `resource_type` of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Organization,
    Project,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Organization => "api.organization",
            ResourceType::Project => "api.project",
        }
    }

    pub fn permission_scope(self) -> PermissionScope {
        match self {
            ResourceType::Organization => PermissionScope::Organization,
            ResourceType::Project => PermissionScope::Project,
        }
    }
}

/// Where a role lives: the organization, or one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleScope {
    Organization,
    Project(ProjectId),
}

impl RoleScope {
    pub fn resource_type(&self) -> ResourceType {
        match self {
            RoleScope::Organization => ResourceType::Organization,
            RoleScope::Project(_) => ResourceType::Project,
        }
    }

    pub fn project(&self) -> Option<&ProjectId> {
        match self {
            RoleScope::Organization => None,
            RoleScope::Project(p) => Some(p),
        }
    }
}

/// The base role every organization member holds: exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OrgBaseRole {
    Owner,
    Reader,
}

impl OrgBaseRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgBaseRole::Owner => "owner",
            OrgBaseRole::Reader => "reader",
        }
    }

    pub fn parse(raw: &str, param: &str) -> Result<Self, DomainError> {
        match raw {
            "owner" => Ok(OrgBaseRole::Owner),
            "reader" => Ok(OrgBaseRole::Reader),
            other => Err(DomainError::invalid(
                param,
                format!(
                    "'{}' is not an organization role; use 'owner' or 'reader'.",
                    crate::text::clip(other)
                ),
            )),
        }
    }

    pub fn from_stored(raw: &str) -> Self {
        if raw == "owner" {
            OrgBaseRole::Owner
        } else {
            OrgBaseRole::Reader
        }
    }

    pub fn predefined(self) -> PredefinedRole {
        match self {
            OrgBaseRole::Owner => PredefinedRole::OrgOwner,
            OrgBaseRole::Reader => PredefinedRole::OrgReader,
        }
    }
}

/// The base role every project member holds: exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ProjectBaseRole {
    Owner,
    Member,
    Viewer,
}

impl ProjectBaseRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectBaseRole::Owner => "owner",
            ProjectBaseRole::Member => "member",
            ProjectBaseRole::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str, param: &str) -> Result<Self, DomainError> {
        match raw {
            "owner" => Ok(ProjectBaseRole::Owner),
            "member" => Ok(ProjectBaseRole::Member),
            "viewer" => Ok(ProjectBaseRole::Viewer),
            other => Err(DomainError::invalid(
                param,
                format!(
                    "'{}' is not a project role; use 'owner', 'member' or 'viewer'.",
                    crate::text::clip(other)
                ),
            )),
        }
    }

    pub fn from_stored(raw: &str) -> Self {
        match raw {
            "owner" => ProjectBaseRole::Owner,
            "viewer" => ProjectBaseRole::Viewer,
            _ => ProjectBaseRole::Member,
        }
    }

    pub fn predefined(self) -> PredefinedRole {
        match self {
            ProjectBaseRole::Owner => PredefinedRole::ProjectOwner,
            ProjectBaseRole::Member => PredefinedRole::ProjectMember,
            ProjectBaseRole::Viewer => PredefinedRole::ProjectViewer,
        }
    }
}

/// The roles every organization has, with the stable IDs of the official API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PredefinedRole {
    OrgOwner,
    OrgReader,
    ProjectMember,
    ProjectOwner,
    ProjectViewer,
}

/// Separator of the project-scoped alias `role-api-project-owner__api-project__proj_…`.
const PROJECT_ALIAS_INFIX: &str = "__api-project__";

impl PredefinedRole {
    pub const ORGANIZATION: [PredefinedRole; 2] =
        [PredefinedRole::OrgOwner, PredefinedRole::OrgReader];
    /// In ID order, which is the order lists show them in.
    pub const PROJECT: [PredefinedRole; 3] = [
        PredefinedRole::ProjectMember,
        PredefinedRole::ProjectOwner,
        PredefinedRole::ProjectViewer,
    ];

    pub fn id(self) -> &'static str {
        match self {
            PredefinedRole::OrgOwner => "role-api-organization-owner",
            PredefinedRole::OrgReader => "role-api-organization-reader",
            PredefinedRole::ProjectOwner => "role-api-project-owner",
            PredefinedRole::ProjectMember => "role-api-project-member",
            PredefinedRole::ProjectViewer => "role-api-project-viewer",
        }
    }

    /// The ID as shown on project routes: `role-api-project-owner__api-project__proj_…`.
    pub fn scoped_id(self, project: &ProjectId) -> String {
        format!("{}{PROJECT_ALIAS_INFIX}{project}", self.id())
    }

    pub fn name(self) -> &'static str {
        match self {
            PredefinedRole::OrgOwner | PredefinedRole::ProjectOwner => "owner",
            PredefinedRole::OrgReader => "reader",
            PredefinedRole::ProjectMember => "member",
            PredefinedRole::ProjectViewer => "viewer",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            PredefinedRole::OrgOwner => "Can manage every aspect of the organization.",
            PredefinedRole::OrgReader => {
                "Can view the organization, its users, roles, invites and projects."
            }
            PredefinedRole::ProjectOwner => "Can manage the project, its members and its roles.",
            PredefinedRole::ProjectMember => {
                "Can use the project's models, files, vector stores, fine-tuning and batches."
            }
            PredefinedRole::ProjectViewer => {
                "Can view the project, its members, files and vector stores."
            }
        }
    }

    pub fn resource_type(self) -> ResourceType {
        match self {
            PredefinedRole::OrgOwner | PredefinedRole::OrgReader => ResourceType::Organization,
            _ => ResourceType::Project,
        }
    }

    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            PredefinedRole::OrgOwner => PermissionSet::all_in(PermissionScope::Organization),
            PredefinedRole::OrgReader => [
                OrganizationRead,
                UsersRead,
                RolesRead,
                InvitesRead,
                ProjectsRead,
                ProjectUsersRead,
                GroupsRead,
                ProjectApiKeysRead,
            ]
            .into_iter()
            .collect(),
            PredefinedRole::ProjectOwner => PermissionSet::all_in(PermissionScope::Project),
            PredefinedRole::ProjectMember => [
                ProjectRead,
                ModelRequest,
                ResponsesWrite,
                FilesRead,
                FilesWrite,
                VectorStoresRead,
                VectorStoresWrite,
                FineTuningJobsRead,
                FineTuningJobsWrite,
                BatchesRead,
                BatchesWrite,
            ]
            .into_iter()
            .collect(),
            PredefinedRole::ProjectViewer => [
                ProjectRead,
                ProjectUsersReadInProject,
                FilesRead,
                VectorStoresRead,
            ]
            .into_iter()
            .collect(),
        }
    }

    pub fn org_base_role(self) -> Option<OrgBaseRole> {
        match self {
            PredefinedRole::OrgOwner => Some(OrgBaseRole::Owner),
            PredefinedRole::OrgReader => Some(OrgBaseRole::Reader),
            _ => None,
        }
    }

    pub fn project_base_role(self) -> Option<ProjectBaseRole> {
        match self {
            PredefinedRole::ProjectOwner => Some(ProjectBaseRole::Owner),
            PredefinedRole::ProjectMember => Some(ProjectBaseRole::Member),
            PredefinedRole::ProjectViewer => Some(ProjectBaseRole::Viewer),
            _ => None,
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        [
            PredefinedRole::OrgOwner,
            PredefinedRole::OrgReader,
            PredefinedRole::ProjectOwner,
            PredefinedRole::ProjectMember,
            PredefinedRole::ProjectViewer,
        ]
        .into_iter()
        .find(|r| r.id() == id)
    }

    /// The role as a [`Role`]; on a project route its ID takes the project-scoped form.
    pub fn to_role(self, project: Option<&ProjectId>) -> Role {
        let id = match project {
            Some(p) if self.resource_type() == ResourceType::Project => self.scoped_id(p),
            _ => self.id().to_owned(),
        };
        Role {
            id,
            name: self.name().to_owned(),
            description: Some(self.description().to_owned()),
            permissions: self.permissions(),
            resource_type: self.resource_type(),
            project_id: project
                .filter(|_| self.resource_type() == ResourceType::Project)
                .cloned(),
            predefined: true,
            created_at: None,
            updated_at: None,
            created_by: None,
        }
    }
}

/// A role ID as a client gave it, resolved to what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRef {
    /// A predefined role; `project` is set when the project-scoped alias was used.
    Predefined {
        role: PredefinedRole,
        project: Option<ProjectId>,
    },
    Custom(RoleId),
}

impl RoleRef {
    pub fn parse(raw: &str) -> RoleRef {
        if let Some((base, project)) = raw.split_once(PROJECT_ALIAS_INFIX) {
            if let Some(role) = PredefinedRole::from_id(base) {
                if role.resource_type() == ResourceType::Project {
                    return RoleRef::Predefined {
                        role,
                        project: Some(ProjectId::from_raw(project)),
                    };
                }
            }
        }
        match PredefinedRole::from_id(raw) {
            Some(role) => RoleRef::Predefined {
                role,
                project: None,
            },
            None => RoleRef::Custom(RoleId::from_raw(raw)),
        }
    }

    /// The key this role sorts by in role lists: predefined IDs (`role-…`) sort before custom
    /// ones (`role_…`), and the project-scoped alias sorts like its base ID.
    pub fn sort_key(&self) -> String {
        match self {
            RoleRef::Predefined { role, .. } => role.id().to_owned(),
            RoleRef::Custom(id) => id.as_str().to_owned(),
        }
    }
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleRef::Predefined {
                role,
                project: Some(p),
            } => f.write_str(&role.scoped_id(p)),
            RoleRef::Predefined {
                role,
                project: None,
            } => f.write_str(role.id()),
            RoleRef::Custom(id) => f.write_str(id.as_str()),
        }
    }
}

/// A role, predefined or custom.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// The ID as shown to the client (project-scoped form for predefined roles on project routes).
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub permissions: PermissionSet,
    pub resource_type: ResourceType,
    /// The project a project role is shown in (custom project roles belong to it).
    pub project_id: Option<ProjectId>,
    pub predefined: bool,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub created_by: Option<UserId>,
}

impl Role {
    /// The key this role sorts by in lists (see [`RoleRef::sort_key`]).
    pub fn sort_key(&self) -> String {
        RoleRef::parse(&self.id).sort_key()
    }
}

/// A validated custom role name: non-empty after trimming, at most 255 characters, and not the
/// name of a predefined role of its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleName(String);

impl RoleName {
    pub fn parse(raw: &str, resource_type: ResourceType) -> Result<Self, DomainError> {
        let name = crate::text::name(raw, "role_name")?;
        let name = name.as_str();
        let reserved: &[PredefinedRole] = match resource_type {
            ResourceType::Organization => &PredefinedRole::ORGANIZATION,
            ResourceType::Project => &PredefinedRole::PROJECT,
        };
        if reserved.iter().any(|r| r.name().eq_ignore_ascii_case(name)) {
            return Err(DomainError::conflict(
                crate::error::ConflictKind::AlreadyExists,
                format!("A predefined role is already named '{name}'; choose another name."),
                Some("role_name"),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validate that every permission of a custom role belongs to the role's scope.
pub fn check_permissions_fit(
    permissions: PermissionSet,
    resource_type: ResourceType,
) -> Result<(), DomainError> {
    let scope = resource_type.permission_scope();
    if let Some(wrong) = permissions.iter().find(|p| !p.fits(scope)) {
        return Err(DomainError::invalid(
            "permissions",
            format!(
                "'{wrong}' cannot be granted by a role of resource type '{}'; use only {} permissions.",
                resource_type.as_str(),
                match scope {
                    PermissionScope::Organization => "organization (api.organization.*, api.groups.*)",
                    PermissionScope::Project => "project (api.project.*, api.model.request, …)",
                }
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_scoped_alias_resolves_to_the_predefined_role_and_its_project() {
        let r = RoleRef::parse("role-api-project-owner__api-project__proj_abc");
        assert_eq!(
            r,
            RoleRef::Predefined {
                role: PredefinedRole::ProjectOwner,
                project: Some(ProjectId::from_raw("proj_abc"))
            }
        );
        assert_eq!(r.sort_key(), "role-api-project-owner");
        assert_eq!(
            RoleRef::parse("role_123"),
            RoleRef::Custom(RoleId::from_raw("role_123"))
        );
        // An organization role has no project-scoped form.
        assert!(matches!(
            RoleRef::parse("role-api-organization-owner__api-project__proj_abc"),
            RoleRef::Custom(_)
        ));
    }

    #[test]
    fn predefined_roles_sort_before_custom_roles() {
        assert!(PredefinedRole::ProjectViewer.id() < RoleId::generate(0).as_str());
        let mut ids: Vec<_> = PredefinedRole::PROJECT.iter().map(|r| r.id()).collect();
        let sorted = {
            let mut s = ids.clone();
            s.sort();
            s
        };
        assert_eq!(ids, sorted);
        ids.clear();
    }

    #[test]
    fn reader_cannot_read_admin_keys_or_audit_logs() {
        let reader = PredefinedRole::OrgReader.permissions();
        assert!(reader.contains(Permission::UsersRead));
        assert!(!reader.contains(Permission::AdminKeysRead));
        assert!(!reader.contains(Permission::AuditLogsRead));
        assert!(reader.iter().all(|p| p.as_str().ends_with(".read")));
    }
}
