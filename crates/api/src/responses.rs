//! Response objects and list envelopes, with their conversions from domain models.

use orgadmin_core::audit::AuditEvent;
use orgadmin_core::catalogue::{CatalogueModel, LimitField, RateLimits};
use orgadmin_core::model;
use orgadmin_core::page::Page;
use orgadmin_core::policy::{HostedTool, HostedTools, ModelPermissions};
use orgadmin_core::role;
use orgadmin_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A list with `first_id`/`last_id`/`has_more` (users, projects, project users, invites, admin
/// keys, audit logs).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdList<T> {
    pub object: String,
    pub data: Vec<T>,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub has_more: bool,
    /// Only on the admin key list, which SPEC §4 pages with `next` while the official schema and
    /// SDKs page by `last_id`: both carry the same cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> IdList<T> {
    pub fn new(data: Vec<T>, has_more: bool, id: impl Fn(&T) -> &str) -> Self {
        Self {
            object: "list".into(),
            first_id: data.first().map(|x| id(x).to_owned()),
            last_id: data.last().map(|x| id(x).to_owned()),
            data,
            has_more,
            next: None,
        }
    }
}

/// A list with an opaque `next` cursor (roles, role assignments).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CursorList<T> {
    pub object: String,
    pub data: Vec<T>,
    pub has_more: bool,
    /// Pass as `after` to get the next page; `null` at the end.
    pub next: Option<String>,
}

impl<T> CursorList<T> {
    pub fn new(data: Vec<T>, has_more: bool, cursor: impl Fn(&T) -> String) -> Self {
        let next = if has_more {
            data.last().map(cursor)
        } else {
            None
        };
        Self {
            object: "list".into(),
            data,
            has_more,
            next,
        }
    }
}

/// `{"object": "…deleted", "id": …, "deleted": true}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    pub object: String,
    pub id: String,
    pub deleted: bool,
}

impl Deleted {
    pub fn new(object: &str, id: impl Into<String>) -> Self {
        Self {
            object: object.into(),
            id: id.into(),
            deleted: true,
        }
    }
}

/// `{"object": "user.role.deleted", "deleted": true}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedRoleAssignment {
    pub object: String,
    pub deleted: bool,
}

/// `organization.user`: the member, their person, their projects.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub object: String,
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `owner` or `reader`.
    pub role: Option<String>,
    pub added_at: Timestamp,
    /// The owner the organization was created with.
    #[serde(default)]
    pub is_default: bool,
    /// When this person first joined any organization on the server.
    #[serde(default)]
    pub created: Timestamp,
    /// The person; absent for a service account, which is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserPerson>,
    pub is_service_account: bool,
    #[serde(default)]
    pub is_scale_tier_authorized_purchaser: Option<bool>,
    #[serde(default)]
    pub is_scim_managed: bool,
    /// The latest use of any admin API key the member owns; `null` if none was ever used.
    #[serde(default)]
    pub api_key_last_used_at: Option<Timestamp>,
    pub technical_level: Option<String>,
    pub developer_persona: Option<String>,
    /// The member's project memberships; `null` for a service account.
    #[serde(default)]
    pub projects: Option<UserProjects>,
}

/// The person behind an `organization.user` (`user`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserPerson {
    pub object: String,
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub enabled: Option<bool>,
    pub banned: Option<bool>,
    pub banned_at: Option<Timestamp>,
}

/// A member's projects: `{"object": "list", "data": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserProjects {
    pub object: String,
    pub data: Vec<UserProject>,
}

/// One project of a member, with their base role there (`owner`, `member` or `viewer`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserProject {
    pub id: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
}

impl From<&model::Member> for User {
    fn from(m: &model::Member) -> Self {
        let u = &m.user;
        Self {
            object: "organization.user".into(),
            id: u.id.to_string(),
            name: u.name.clone(),
            email: Some(u.email.to_string()),
            role: Some(u.role.as_str().into()),
            added_at: u.added_at,
            is_default: u.is_default,
            created: u.created,
            user: Some(UserPerson {
                object: "user".into(),
                id: u.id.to_string(),
                email: Some(u.email.to_string()),
                name: u.name.clone(),
                picture: None,
                enabled: Some(true),
                banned: Some(false),
                banned_at: None,
            }),
            is_service_account: false,
            is_scale_tier_authorized_purchaser: Some(u.is_scale_tier_authorized_purchaser),
            is_scim_managed: u.is_scim_managed,
            api_key_last_used_at: m.api_key_last_used_at,
            technical_level: u.technical_level.clone(),
            developer_persona: u.developer_persona.clone(),
            projects: Some(UserProjects {
                object: "list".into(),
                data: m
                    .projects
                    .iter()
                    .map(|p| UserProject {
                        id: Some(p.id.to_string()),
                        name: Some(p.name.clone()),
                        role: Some(p.role.as_str().into()),
                    })
                    .collect(),
            }),
        }
    }
}

pub type UserList = IdList<User>;

impl From<Page<model::Member>> for UserList {
    fn from(p: Page<model::Member>) -> Self {
        IdList::new(p.items.iter().map(User::from).collect(), p.has_more, |u| {
            &u.id
        })
    }
}

/// A project service account as the user list shows it: `is_service_account: true`, no email,
/// no organization role (its role is in its project), no person (`user` absent), no admin keys
/// and no memberships of its own (`projects` null: it belongs to its project, which its own
/// routes name).
impl From<&model::ServiceAccount> for User {
    fn from(a: &model::ServiceAccount) -> Self {
        Self {
            object: "organization.user".into(),
            id: a.id.to_string(),
            name: Some(a.name.clone()),
            email: None,
            role: None,
            added_at: a.created_at,
            is_default: false,
            created: a.created_at,
            user: None,
            is_service_account: true,
            is_scale_tier_authorized_purchaser: Some(false),
            is_scim_managed: false,
            api_key_last_used_at: None,
            technical_level: None,
            developer_persona: None,
            projects: None,
        }
    }
}

impl From<&model::OrgUser> for User {
    fn from(u: &model::OrgUser) -> Self {
        match u {
            model::OrgUser::Person(user) => user.into(),
            model::OrgUser::ServiceAccount(account) => account.into(),
        }
    }
}

impl From<Page<model::OrgUser>> for UserList {
    fn from(p: Page<model::OrgUser>) -> Self {
        IdList::new(p.items.iter().map(User::from).collect(), p.has_more, |u| {
            &u.id
        })
    }
}

/// `role`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Role {
    pub object: String,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    /// `api.organization` or `api.project`.
    pub resource_type: String,
    pub predefined_role: bool,
}

impl From<&role::Role> for Role {
    fn from(r: &role::Role) -> Self {
        Self {
            object: "role".into(),
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            permissions: r.permissions.names(),
            resource_type: r.resource_type.as_str().into(),
            predefined_role: r.predefined,
        }
    }
}

pub type RoleList = CursorList<Role>;

impl From<Page<role::Role>> for RoleList {
    fn from(p: Page<role::Role>) -> Self {
        let has_more = p.has_more;
        let data: Vec<Role> = p.items.iter().map(Role::from).collect();
        CursorList::new(data, has_more, |r| role::RoleRef::parse(&r.id).sort_key())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignmentSource {
    pub principal_id: String,
    /// `user` or `group`.
    pub principal_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedByUser {
    pub id: String,
}

/// A role as held by a principal, with where it comes from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignedRoleDetails {
    pub id: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub resource_type: String,
    pub predefined_role: bool,
    pub description: Option<String>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub created_by: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub created_by_user_obj: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub assignment_sources: Option<Vec<AssignmentSource>>,
}

impl From<&model::AssignedRole> for AssignedRoleDetails {
    fn from(a: &model::AssignedRole) -> Self {
        let r = &a.role;
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            permissions: r.permissions.names(),
            resource_type: r.resource_type.as_str().into(),
            predefined_role: r.predefined,
            description: r.description.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            created_by: r.created_by.as_ref().map(|u| u.to_string()),
            created_by_user_obj: r
                .created_by
                .as_ref()
                .map(|u| serde_json::json!({ "id": u })),
            metadata: Some(Value::Object(Map::new())),
            assignment_sources: Some(
                a.sources
                    .iter()
                    .map(|s| AssignmentSource {
                        principal_id: s.principal_id.clone(),
                        principal_type: s.principal_type.into(),
                    })
                    .collect(),
            ),
        }
    }
}

pub type AssignedRoleList = CursorList<AssignedRoleDetails>;

impl From<Page<model::AssignedRole>> for AssignedRoleList {
    fn from(p: Page<model::AssignedRole>) -> Self {
        let data: Vec<AssignedRoleDetails> =
            p.items.iter().map(AssignedRoleDetails::from).collect();
        CursorList::new(data, p.has_more, |r| role::RoleRef::parse(&r.id).sort_key())
    }
}

/// `user.role`: the result of assigning a role to a user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserRoleAssignment {
    pub object: String,
    pub user: User,
    pub role: Role,
}

impl UserRoleAssignment {
    pub fn new(user: &model::Member, role: &role::Role) -> Self {
        Self {
            object: "user.role".into(),
            user: user.into(),
            role: role.into(),
        }
    }
}

/// `organization.project`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub object: String,
    pub name: Option<String>,
    pub created_at: Timestamp,
    pub archived_at: Option<Timestamp>,
    /// `active` or `archived`.
    pub status: Option<String>,
    pub external_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residency: Option<String>,
}

impl From<&model::Project> for Project {
    fn from(p: &model::Project) -> Self {
        Self {
            id: p.id.to_string(),
            object: "organization.project".into(),
            name: Some(p.name.clone()),
            created_at: p.created_at,
            archived_at: p.archived_at,
            status: Some(
                if p.is_archived() {
                    "archived"
                } else {
                    "active"
                }
                .into(),
            ),
            external_key_id: p.external_key_id.clone(),
            residency: p.residency.clone(),
        }
    }
}

pub type ProjectList = IdList<Project>;

impl From<Page<model::Project>> for ProjectList {
    fn from(p: Page<model::Project>) -> Self {
        IdList::new(
            p.items.iter().map(Project::from).collect(),
            p.has_more,
            |x| &x.id,
        )
    }
}

/// `organization.project.user`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectUser {
    pub object: String,
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `owner`, `member` or `viewer`.
    pub role: String,
    pub added_at: Timestamp,
}

impl From<&model::ProjectUser> for ProjectUser {
    fn from(u: &model::ProjectUser) -> Self {
        Self {
            object: "organization.project.user".into(),
            id: u.user_id.to_string(),
            name: u.name.clone(),
            email: Some(u.email.to_string()),
            role: u.role.as_str().into(),
            added_at: u.added_at,
        }
    }
}

pub type ProjectUserList = IdList<ProjectUser>;

impl From<Page<model::ProjectUser>> for ProjectUserList {
    fn from(p: Page<model::ProjectUser>) -> Self {
        IdList::new(
            p.items.iter().map(ProjectUser::from).collect(),
            p.has_more,
            |x| &x.id,
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteProject {
    pub id: String,
    pub role: String,
}

/// `organization.invite`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invite {
    pub object: String,
    pub id: String,
    pub email: String,
    /// `owner` or `reader`.
    pub role: String,
    /// `pending`, `accepted` or `expired`.
    pub status: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub accepted_at: Option<Timestamp>,
    pub projects: Vec<InviteProject>,
}

impl Invite {
    pub fn new(i: &model::Invite, now: Timestamp) -> Self {
        Self {
            object: "organization.invite".into(),
            id: i.id.to_string(),
            email: i.email.to_string(),
            role: i.role.as_str().into(),
            status: i.status(now).as_str().into(),
            created_at: i.created_at,
            expires_at: Some(i.expires_at),
            accepted_at: i.accepted_at,
            projects: i
                .projects
                .iter()
                .map(|p| InviteProject {
                    id: p.project_id.to_string(),
                    role: p.role.as_str().into(),
                })
                .collect(),
        }
    }
}

pub type InviteList = IdList<Invite>;

impl InviteList {
    pub fn from_page(p: Page<model::Invite>, now: Timestamp) -> Self {
        IdList::new(
            p.items.iter().map(|i| Invite::new(i, now)).collect(),
            p.has_more,
            |x| &x.id,
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminKeyOwner {
    /// Always `user`.
    #[serde(rename = "type")]
    pub kind: String,
    pub object: String,
    pub id: String,
    pub name: Option<String>,
    pub created_at: Timestamp,
    pub role: String,
}

/// `organization.admin_api_key`; `value` only in the answer to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminKey {
    pub object: String,
    pub id: String,
    pub name: Option<String>,
    pub redacted_value: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub owner: AdminKeyOwner,
    /// orgadmin extension: the permissions a scoped key is limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl From<&model::AdminKey> for AdminKey {
    fn from(k: &model::AdminKey) -> Self {
        Self {
            object: "organization.admin_api_key".into(),
            id: k.id.to_string(),
            name: k.name.clone(),
            redacted_value: k.redacted_value.clone(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            owner: AdminKeyOwner {
                kind: "user".into(),
                object: "organization.user".into(),
                id: k.owner.id.to_string(),
                name: k.owner.name.clone(),
                created_at: k.owner.added_at,
                role: k.owner.role.as_str().into(),
            },
            scopes: k.scopes.map(|s| s.names()),
            value: None,
        }
    }
}

pub type AdminKeyList = IdList<AdminKey>;

impl From<Page<model::AdminKey>> for AdminKeyList {
    fn from(p: Page<model::AdminKey>) -> Self {
        let mut list = IdList::new(
            p.items.iter().map(AdminKey::from).collect(),
            p.has_more,
            |x| &x.id,
        );
        if list.has_more {
            list.next = list.last_id.clone();
        }
        list
    }
}

/// `organization.project.service_account`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccount {
    pub object: String,
    pub id: String,
    pub name: String,
    /// `owner`, `member` or `none`.
    pub role: String,
    pub created_at: Timestamp,
}

impl From<&model::ServiceAccount> for ServiceAccount {
    fn from(a: &model::ServiceAccount) -> Self {
        Self {
            object: "organization.project.service_account".into(),
            id: a.id.to_string(),
            name: a.name.clone(),
            role: a.role.as_str().into(),
            created_at: a.created_at,
        }
    }
}

pub type ServiceAccountList = IdList<ServiceAccount>;

impl From<Page<model::ServiceAccount>> for ServiceAccountList {
    fn from(p: Page<model::ServiceAccount>) -> Self {
        IdList::new(
            p.items.iter().map(ServiceAccount::from).collect(),
            p.has_more,
            |x| &x.id,
        )
    }
}

/// `organization.project.service_account.api_key`: a new key with its secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccountApiKey {
    pub object: String,
    pub value: String,
    pub name: String,
    pub created_at: Timestamp,
    pub id: String,
    pub expires_at: Option<Timestamp>,
}

impl ServiceAccountApiKey {
    pub fn new(key: &model::ProjectApiKey, secret: String) -> Self {
        Self {
            object: "organization.project.service_account.api_key".into(),
            value: secret,
            name: key.name.clone(),
            created_at: key.created_at,
            id: key.id.to_string(),
            expires_at: key.expires_at,
        }
    }
}

/// The owner of a project API key: `type` and the `user` or `service_account` it names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectKeyOwner {
    /// `user` or `service_account`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<ProjectKeyOwnerUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ProjectKeyOwnerServiceAccount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectKeyOwnerUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: Timestamp,
    /// Their project role.
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectKeyOwnerServiceAccount {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    /// Its project role.
    pub role: String,
}

/// `organization.project.api_key`. `expires_at` and `scopes` (`[]`: every permission of the
/// owner) are beside the official fields, as the SDK's model reads `expires_at`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectKey {
    pub object: String,
    pub redacted_value: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub id: String,
    /// `active` or `inactive`: whether the owner has access to the project now.
    pub owner_project_access: String,
    pub owner: ProjectKeyOwner,
    pub expires_at: Option<Timestamp>,
    pub scopes: Vec<String>,
}

impl From<&model::ProjectKey> for ProjectKey {
    fn from(k: &model::ProjectKey) -> Self {
        let owner = match &k.owner {
            model::ProjectKeyOwner::User(u) => ProjectKeyOwner {
                kind: "user".into(),
                user: Some(ProjectKeyOwnerUser {
                    id: u.id.to_string(),
                    email: u.email.clone(),
                    name: u.name.clone().unwrap_or_default(),
                    created_at: u.created,
                    role: u.role.clone(),
                }),
                service_account: None,
            },
            model::ProjectKeyOwner::ServiceAccount(a) => ProjectKeyOwner {
                kind: "service_account".into(),
                user: None,
                service_account: Some(ProjectKeyOwnerServiceAccount {
                    id: a.id.to_string(),
                    name: a.name.clone(),
                    created_at: a.created_at,
                    role: a.role.as_str().into(),
                }),
            },
        };
        Self {
            object: "organization.project.api_key".into(),
            redacted_value: k.redacted_value.clone(),
            name: k.name.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            id: k.id.to_string(),
            owner_project_access: if k.owner_has_access {
                "active"
            } else {
                "inactive"
            }
            .into(),
            owner,
            expires_at: k.expires_at,
            scopes: k.scopes.map(|s| s.names()).unwrap_or_default(),
        }
    }
}

pub type ProjectKeyList = IdList<ProjectKey>;

impl From<Page<model::ProjectKey>> for ProjectKeyList {
    fn from(p: Page<model::ProjectKey>) -> Self {
        IdList::new(
            p.items.iter().map(ProjectKey::from).collect(),
            p.has_more,
            |x| &x.id,
        )
    }
}

/// orgadmin extension: a new member's key, [`ProjectKey`] with its secret (`value`), shown
/// this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectKeyCreated {
    #[serde(flatten)]
    pub key: ProjectKey,
    pub value: String,
}

impl ServiceAccountApiKey {
    /// A later key of a service account, with its secret.
    pub fn from_key(key: &model::ProjectKey, secret: String) -> Self {
        Self {
            object: "organization.project.service_account.api_key".into(),
            value: secret,
            name: key.name.clone(),
            created_at: key.created_at,
            id: key.id.to_string(),
            expires_at: key.expires_at,
        }
    }
}

/// The answer to creating a service account: the account and its first API key (`null` for
/// `create_service_account_only`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccountCreated {
    pub object: String,
    pub id: String,
    pub name: String,
    /// `member`, or `none` for `create_service_account_only`.
    pub role: String,
    pub created_at: Timestamp,
    pub api_key: Option<ServiceAccountApiKey>,
}

impl ServiceAccountCreated {
    pub fn new(account: &model::ServiceAccount, api_key: Option<ServiceAccountApiKey>) -> Self {
        let a = ServiceAccount::from(account);
        Self {
            object: a.object,
            id: a.id,
            name: a.name,
            role: a.role,
            created_at: a.created_at,
            api_key,
        }
    }
}

/// `project.model_permissions`: a project's allow or deny list of models.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectModelPermissions {
    pub object: String,
    /// `allow_list` or `deny_list`.
    pub mode: String,
    pub model_ids: Vec<String>,
}

impl From<&ModelPermissions> for ProjectModelPermissions {
    fn from(p: &ModelPermissions) -> Self {
        Self {
            object: "project.model_permissions".into(),
            mode: p.mode.as_str().into(),
            model_ids: p.model_ids.clone(),
        }
    }
}

/// `project.model_permissions.deleted`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectModelPermissionsDeleted {
    pub object: String,
    pub deleted: bool,
}

impl ProjectModelPermissionsDeleted {
    pub fn new() -> Self {
        Self {
            object: "project.model_permissions.deleted".into(),
            deleted: true,
        }
    }
}

impl Default for ProjectModelPermissionsDeleted {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HostedToolPermission {
    pub enabled: bool,
}

/// A project's hosted tools, each enabled or not.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectHostedToolPermissions {
    pub file_search: HostedToolPermission,
    pub web_search: HostedToolPermission,
    pub image_generation: HostedToolPermission,
    pub mcp: HostedToolPermission,
    pub code_interpreter: HostedToolPermission,
}

impl From<&HostedTools> for ProjectHostedToolPermissions {
    fn from(t: &HostedTools) -> Self {
        let tool = |tool| HostedToolPermission {
            enabled: t.enabled(tool),
        };
        Self {
            file_search: tool(HostedTool::FileSearch),
            web_search: tool(HostedTool::WebSearch),
            image_generation: tool(HostedTool::ImageGeneration),
            mcp: tool(HostedTool::Mcp),
            code_interpreter: tool(HostedTool::CodeInterpreter),
        }
    }
}

/// `project.rate_limit`: a project's limits for one model. The optional limits appear only for
/// models that have them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectRateLimit {
    pub object: String,
    /// `rl-` and the model ID.
    pub id: String,
    pub model: String,
    pub max_requests_per_1_minute: i64,
    pub max_tokens_per_1_minute: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_images_per_1_minute: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_audio_megabytes_per_1_minute: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests_per_1_day: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_1_day_max_input_tokens: Option<i64>,
}

impl ProjectRateLimit {
    /// The limits `limits` of the catalogue's `model` (the project's effective ones).
    pub fn new(model: &CatalogueModel, limits: &RateLimits) -> Self {
        Self {
            object: "project.rate_limit".into(),
            id: model.rate_limit_id(),
            model: model.id.clone(),
            max_requests_per_1_minute: limits.get(LimitField::RequestsPerMinute).unwrap_or(0),
            max_tokens_per_1_minute: limits.get(LimitField::TokensPerMinute).unwrap_or(0),
            max_images_per_1_minute: limits.get(LimitField::ImagesPerMinute),
            max_audio_megabytes_per_1_minute: limits.get(LimitField::AudioMegabytesPerMinute),
            max_requests_per_1_day: limits.get(LimitField::RequestsPerDay),
            batch_1_day_max_input_tokens: limits.get(LimitField::BatchInputTokensPerDay),
        }
    }
}

pub type ProjectRateLimitList = IdList<ProjectRateLimit>;

/// An audit log event. The event's details sit under a key named like its `type`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditLog {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub effective_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub project: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub actor: Option<Value>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub details: Map<String, Value>,
}

impl From<&AuditEvent> for AuditLog {
    fn from(e: &AuditEvent) -> Self {
        let actor = e.actor.as_ref().map(|a| {
            serde_json::json!({
                "type": "api_key",
                "api_key": {
                    "id": a.key_id,
                    "type": "user",
                    "user": { "id": a.user_id, "email": a.user_email },
                },
            })
        });
        let project = e.project.as_ref().map(|(id, name)| match name {
            Some(name) => serde_json::json!({ "id": id, "name": name }),
            None => serde_json::json!({ "id": id }),
        });
        let mut details = Map::new();
        details.insert(e.kind.clone(), e.details.clone());
        Self {
            id: e.id.to_string(),
            kind: e.kind.clone(),
            effective_at: e.effective_at,
            project,
            actor,
            details,
        }
    }
}

pub type AuditLogList = IdList<AuditLog>;

impl From<Page<AuditEvent>> for AuditLogList {
    fn from(p: Page<AuditEvent>) -> Self {
        IdList::new(
            p.items.iter().map(AuditLog::from).collect(),
            p.has_more,
            |x| &x.id,
        )
    }
}

/// A group (`GroupResponse`; also the answer to an update).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub object: String,
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub is_scim_managed: bool,
    /// Always `group`.
    pub group_type: String,
}

impl From<&model::Group> for Group {
    fn from(g: &model::Group) -> Self {
        Self {
            object: "group".into(),
            id: g.id.to_string(),
            name: g.name.clone(),
            created_at: g.created_at,
            is_scim_managed: g.is_scim_managed,
            group_type: "group".into(),
        }
    }
}

pub type GroupList = CursorList<Group>;

impl From<Page<model::Group>> for GroupList {
    fn from(p: Page<model::Group>) -> Self {
        CursorList::new(p.items.iter().map(Group::from).collect(), p.has_more, |g| {
            g.id.clone()
        })
    }
}

/// The group as shown inside a `group.role` assignment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupSummary {
    pub object: String,
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub scim_managed: bool,
}

/// `group.role`: the result of assigning a role to a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupRoleAssignment {
    pub object: String,
    pub group: GroupSummary,
    pub role: Role,
}

impl GroupRoleAssignment {
    pub fn new(group: &model::Group, role: &role::Role) -> Self {
        Self {
            object: "group.role".into(),
            group: GroupSummary {
                object: "group".into(),
                id: group.id.to_string(),
                name: group.name.clone(),
                created_at: group.created_at,
                scim_managed: group.is_scim_managed,
            },
            role: role.into(),
        }
    }
}

/// A member as listed in a group (`GroupUser`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupUser {
    pub id: String,
    /// The member's name, or their email when they have none.
    pub name: String,
    pub email: Option<String>,
}

impl From<&model::User> for GroupUser {
    fn from(u: &model::User) -> Self {
        Self {
            id: u.id.to_string(),
            name: u.name.clone().unwrap_or_else(|| u.email.to_string()),
            email: Some(u.email.to_string()),
        }
    }
}

pub type GroupUserList = CursorList<GroupUser>;

impl From<Page<model::User>> for GroupUserList {
    fn from(p: Page<model::User>) -> Self {
        CursorList::new(
            p.items.iter().map(GroupUser::from).collect(),
            p.has_more,
            |u| u.id.clone(),
        )
    }
}

/// A member retrieved from a group (`GroupMemberUser`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupMemberUser {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub picture: Option<String>,
    pub is_service_account: Option<bool>,
    /// Always `user`.
    pub user_type: String,
}

impl From<&model::User> for GroupMemberUser {
    fn from(u: &model::User) -> Self {
        Self {
            id: u.id.to_string(),
            name: u.name.clone().unwrap_or_else(|| u.email.to_string()),
            email: Some(u.email.to_string()),
            picture: None,
            is_service_account: Some(false),
            user_type: "user".into(),
        }
    }
}

/// `group.user`: the result of adding a member to a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupUserAssignment {
    pub object: String,
    pub user_id: String,
    pub group_id: String,
}

/// `{"object": "…deleted", "deleted": true}` without an ID (group users, project groups, role
/// assignments).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedLink {
    pub object: String,
    pub deleted: bool,
}

impl DeletedLink {
    pub fn new(object: &str) -> Self {
        Self {
            object: object.into(),
            deleted: true,
        }
    }
}

/// `project.group`: a group's access to a project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectGroup {
    pub object: String,
    pub project_id: String,
    pub group_id: String,
    pub group_name: String,
    pub group_type: String,
    pub created_at: Timestamp,
}

impl From<&model::ProjectGroup> for ProjectGroup {
    fn from(pg: &model::ProjectGroup) -> Self {
        Self {
            object: "project.group".into(),
            project_id: pg.project_id.to_string(),
            group_id: pg.group.id.to_string(),
            group_name: pg.group.name.clone(),
            group_type: "group".into(),
            created_at: pg.added_at,
        }
    }
}

pub type ProjectGroupList = CursorList<ProjectGroup>;

impl From<Page<model::ProjectGroup>> for ProjectGroupList {
    fn from(p: Page<model::ProjectGroup>) -> Self {
        CursorList::new(
            p.items.iter().map(ProjectGroup::from).collect(),
            p.has_more,
            |g| g.group_id.clone(),
        )
    }
}

/// One role that grants a permission, and where the user holds it from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionGrant {
    pub role_id: String,
    pub role_name: String,
    /// `api.organization` or `api.project`.
    pub resource_type: String,
    pub assignment_sources: Vec<AssignmentSource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EffectivePermission {
    pub permission: String,
    pub granted_by: Vec<PermissionGrant>,
}

/// orgadmin extension: what a user may do, and why (`organization.user.permissions`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserPermissions {
    pub object: String,
    pub user_id: String,
    pub project_id: Option<String>,
    pub permissions: Vec<EffectivePermission>,
}

impl UserPermissions {
    /// Gather, for every permission the roles grant, the roles and sources granting it.
    pub fn new(user: &model::User, project: Option<&str>, roles: &[model::AssignedRole]) -> Self {
        let mut permissions: Vec<EffectivePermission> = Vec::new();
        for permission in orgadmin_core::Permission::ALL {
            let granted_by: Vec<PermissionGrant> = roles
                .iter()
                .filter(|r| r.role.permissions.contains(*permission))
                .map(|r| PermissionGrant {
                    role_id: r.role.id.clone(),
                    role_name: r.role.name.clone(),
                    resource_type: r.role.resource_type.as_str().into(),
                    assignment_sources: r
                        .sources
                        .iter()
                        .map(|s| AssignmentSource {
                            principal_id: s.principal_id.clone(),
                            principal_type: s.principal_type.into(),
                        })
                        .collect(),
                })
                .collect();
            if !granted_by.is_empty() {
                permissions.push(EffectivePermission {
                    permission: permission.as_str().into(),
                    granted_by,
                });
            }
        }
        Self {
            object: "organization.user.permissions".into(),
            user_id: user.id.to_string(),
            project_id: project.map(str::to_owned),
            permissions,
        }
    }
}
