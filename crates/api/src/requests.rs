//! Request bodies. Every field is optional at the serde level so that the server, not serde,
//! reports a missing required field with its name; unknown fields are ignored, as the SDKs'
//! `extra_body` expects.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /organization/users/{user_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UserUpdateRequest {
    /// `owner` or `reader`.
    pub role: Option<String>,
    /// A predefined organization role ID (changes the base role) or a custom one (assigns it).
    pub role_id: Option<String>,
    pub technical_level: Option<String>,
    pub developer_persona: Option<String>,
}

/// `POST …/roles` on a user: the role to assign.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RoleAssignRequest {
    pub role_id: Option<String>,
}

/// `POST /organization/roles`, `POST /projects/{project_id}/roles`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RoleCreateRequest {
    pub role_name: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub description: Option<String>,
}

/// `POST …/roles/{role_id}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RoleUpdateRequest {
    pub role_name: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub description: Option<String>,
}

/// `POST /organization/projects`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectCreateRequest {
    pub name: Option<String>,
    pub external_key_id: Option<String>,
    pub residency: Option<String>,
}

/// `POST /organization/projects/{project_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectUpdateRequest {
    pub name: Option<String>,
    pub external_key_id: Option<String>,
}

/// `POST /organization/projects/{project_id}/users`: `user_id` or `email`, and a role.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectUserCreateRequest {
    pub user_id: Option<String>,
    pub email: Option<String>,
    /// `owner`, `member` or `viewer`.
    pub role: Option<String>,
}

/// `POST /organization/projects/{project_id}/users/{user_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectUserUpdateRequest {
    pub role: Option<String>,
}

/// `POST /organization/invites`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct InviteCreateRequest {
    pub email: Option<String>,
    /// `owner` or `reader`.
    pub role: Option<String>,
    /// Omitted: the default project as `member`. Empty: no project.
    pub projects: Option<Vec<InviteProjectRequest>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct InviteProjectRequest {
    pub id: Option<String>,
    /// `member` or `owner`.
    pub role: Option<String>,
}

/// `POST /organization/invites/{invite_id}/accept` (orgadmin extension).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct InviteAcceptRequest {
    /// Display name of the new member.
    pub name: Option<String>,
}

/// `POST /organization/admin_api_keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AdminKeyCreateRequest {
    pub name: Option<String>,
    /// 1 to 31,536,000; omitted for a key that does not expire.
    pub expires_in_seconds: Option<i64>,
    /// orgadmin extension: permissions the key is limited to (least privilege for scripts).
    pub scopes: Option<Vec<String>>,
}
