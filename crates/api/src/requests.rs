//! Request bodies. Every field is optional at the serde level so that the server, not serde,
//! reports a missing required field with its name; unknown fields are ignored, as the SDKs'
//! `extra_body` expects, except by the two bodies whose fields are all optional names of things
//! to change (hosted tools, rate limits), where a misspelt name would change nothing silently.

use std::collections::BTreeMap;

use orgadmin_core::catalogue::LimitField;
use orgadmin_core::policy::HostedTool;
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
    /// 1 to 31,536,000; omitted for a key that does not expire. A whole number written as a
    /// float (`3600.0`) is accepted, as JSON Schema's `integer` does.
    #[serde(default, deserialize_with = "whole_number")]
    pub expires_in_seconds: Option<i64>,
    /// orgadmin extension: permissions the key is limited to (least privilege for scripts).
    pub scopes: Option<Vec<String>>,
}

/// `POST /organization/groups` and `POST /organization/groups/{group_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GroupRequest {
    /// 1 to 255 characters, unique in the organization (ignoring case).
    pub name: Option<String>,
}

/// `POST /organization/groups/{group_id}/users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GroupUserAddRequest {
    pub user_id: Option<String>,
}

/// `POST /organization/projects/{project_id}/groups`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectGroupAddRequest {
    pub group_id: Option<String>,
    /// A project role ID (predefined, in either form, or a custom role of the project); the
    /// names `owner`, `member` and `viewer` are accepted for the predefined ones.
    pub role: Option<String>,
}

/// `POST /organization/projects/{project_id}/service_accounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccountCreateRequest {
    pub name: Option<String>,
    /// Create the account with role `none` and no API key.
    pub create_service_account_only: Option<bool>,
    /// Seconds until the first API key expires, 1 to 31,536,000; omitted for a key that does not
    /// expire. Not with `create_service_account_only`, which creates no key.
    #[serde(default, deserialize_with = "whole_number")]
    pub expires_in_seconds: Option<i64>,
}

/// `POST /organization/projects/{project_id}/service_accounts/{service_account_id}`: absent
/// fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccountUpdateRequest {
    pub name: Option<String>,
    /// `owner` or `member`.
    pub role: Option<String>,
}

/// `POST /organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys`:
/// another key of a service account.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccountKeyCreateRequest {
    /// Defaults to `Secret Key`, the name of an account's first key.
    pub name: Option<String>,
    /// Permissions the key is limited to; omitted or `[]`: every permission of the account.
    pub scopes: Option<Vec<String>>,
    /// 1 to 31,536,000; omitted or `null` for a key that does not expire.
    #[serde(default, deserialize_with = "whole_number")]
    pub expires_in_seconds: Option<i64>,
}

/// orgadmin extension, `POST /organization/projects/{project_id}/api_keys`: a key owned by a
/// project member, which the real API makes only in its dashboard.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectKeyCreateRequest {
    pub name: Option<String>,
    /// The project member who owns the key.
    pub user_id: Option<String>,
    /// Permissions the key is limited to; omitted or `[]`: every permission of its owner.
    pub scopes: Option<Vec<String>>,
    /// 1 to 31,536,000; omitted for a key that does not expire.
    #[serde(default, deserialize_with = "whole_number")]
    pub expires_in_seconds: Option<i64>,
}

/// `POST /organization/projects/{project_id}/api_keys/{api_key_id}`, as the official SDK sends
/// it: at least one field; neither may be `null` (a present `null` is `Some(None)`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectKeyUpdateRequest {
    // A field left out (`None`) is not sent, so the command line's update sends only what it
    // changes.
    /// Replaces the key's scopes; `[]` lifts them (every permission of its owner).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Vec<String>>)]
    pub scopes: Option<Option<Vec<String>>>,
    /// Seconds from this request until the key expires, 1 to 31,536,000.
    #[serde(
        default,
        deserialize_with = "present_whole_number",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<i64>)]
    pub expires_in_seconds: Option<Option<i64>>,
}

/// `POST /organization/projects/{project_id}/model_permissions`: the policy that replaces the
/// project's, both fields required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectModelPermissionsUpdateRequest {
    /// `allow_list` or `deny_list`.
    pub mode: Option<String>,
    /// Models of the server's catalogue; each kept once, in the order first given.
    pub model_ids: Option<Vec<String>>,
}

/// One hosted tool of [`ProjectHostedToolPermissionsUpdateRequest`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct HostedToolPermissionUpdate {
    /// Required.
    pub enabled: Option<bool>,
}

/// `POST /organization/projects/{project_id}/hosted_tool_permissions`: the tools to change, each
/// `{"enabled": …}`; a tool absent or `null` stays as it is. A field that names no tool is
/// refused rather than ignored (`unknown`), since a misspelt tool would otherwise change nothing
/// without a word.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectHostedToolPermissionsUpdateRequest {
    pub file_search: Option<HostedToolPermissionUpdate>,
    pub web_search: Option<HostedToolPermissionUpdate>,
    pub image_generation: Option<HostedToolPermissionUpdate>,
    pub mcp: Option<HostedToolPermissionUpdate>,
    pub code_interpreter: Option<HostedToolPermissionUpdate>,
    /// Every other field of the body.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl ProjectHostedToolPermissionsUpdateRequest {
    /// Each tool with what the body gives for it.
    pub fn tools(&self) -> [(HostedTool, Option<&HostedToolPermissionUpdate>); 5] {
        [
            (HostedTool::FileSearch, self.file_search.as_ref()),
            (HostedTool::WebSearch, self.web_search.as_ref()),
            (HostedTool::ImageGeneration, self.image_generation.as_ref()),
            (HostedTool::Mcp, self.mcp.as_ref()),
            (HostedTool::CodeInterpreter, self.code_interpreter.as_ref()),
        ]
    }
}

/// `POST /organization/projects/{project_id}/rate_limits/{rate_limit_id}`: the limits to change,
/// at least one; none may be `null` (a present `null` is `Some(None)`). A field that is no limit
/// is refused rather than ignored (`unknown`): a misspelt limit would otherwise change nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProjectRateLimitUpdateRequest {
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub max_requests_per_1_minute: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub max_tokens_per_1_minute: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub max_images_per_1_minute: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub max_audio_megabytes_per_1_minute: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub max_requests_per_1_day: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub batch_1_day_max_input_tokens: Option<Option<i64>>,
    /// Every other field of the body.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl ProjectRateLimitUpdateRequest {
    /// Each limit with what the body gives for it, in [`LimitField::ALL`]'s order.
    pub fn limits(&self) -> [(LimitField, Option<Option<i64>>); 6] {
        [
            (
                LimitField::RequestsPerMinute,
                self.max_requests_per_1_minute,
            ),
            (LimitField::TokensPerMinute, self.max_tokens_per_1_minute),
            (LimitField::ImagesPerMinute, self.max_images_per_1_minute),
            (
                LimitField::AudioMegabytesPerMinute,
                self.max_audio_megabytes_per_1_minute,
            ),
            (LimitField::RequestsPerDay, self.max_requests_per_1_day),
            (
                LimitField::BatchInputTokensPerDay,
                self.batch_1_day_max_input_tokens,
            ),
        ]
    }
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub(crate) fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// [`present`] for a whole number (see [`whole_number`]).
pub(crate) fn present_whole_number<'de, D: serde::Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<i64>>, D::Error> {
    whole_number(de).map(Some)
}

/// An optional integer that also accepts integral floats (`3600.0`).
fn whole_number<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(de)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        _ => Err(D::Error::custom(format!(
            "expected a whole number of seconds, got {n}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_seconds_accepts_whole_floats_and_refuses_fractions() {
        let parse = |body: &str| {
            serde_json::from_str::<AdminKeyCreateRequest>(body).map(|r| r.expires_in_seconds)
        };
        assert_eq!(
            parse(r#"{"expires_in_seconds": 3600}"#).unwrap(),
            Some(3600)
        );
        assert_eq!(
            parse(r#"{"expires_in_seconds": 3600.0}"#).unwrap(),
            Some(3600)
        );
        assert_eq!(parse(r#"{"expires_in_seconds": null}"#).unwrap(), None);
        assert_eq!(parse(r#"{}"#).unwrap(), None);
        assert!(parse(r#"{"expires_in_seconds": 1.5}"#).is_err());
        assert!(parse(r#"{"expires_in_seconds": "60"}"#).is_err());
    }
}
