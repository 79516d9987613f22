//! The one place where errors become HTTP responses: status, `type`, `code` and `param` of the
//! OpenAI error envelope. Axum's own rejections are routed here too (see `extract`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use orgadmin_api::import::{ImportRefusal, ImportSummary};
use orgadmin_api::{ErrorBody, ErrorDetail};
use orgadmin_core::error::{ConflictKind, KeyRejection, Remedy};
use orgadmin_core::DomainError;

/// The closed table of the errors the API answers with: each row is a status, the envelope's
/// `type` and its `code` (none for a missing permission, as the real API answers it). Every error
/// response is built from one of these, here and nowhere else; handlers return [`DomainError`]s,
/// and only what the HTTP layer alone can see (routes, bodies, rate limits) names a code directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidValue,
    MissingRequiredParameter,
    MissingApiKey,
    InvalidApiKey,
    InsufficientPermissions,
    NotFound,
    MethodNotAllowed,
    Conflict(ConflictKind),
    RequestTooLarge,
    RequestTimeout,
    /// A body in a format the route does not read (the import's `Content-Type`).
    UnsupportedMediaType,
    /// An import file with invalid rows, imported without `skip_invalid`: nothing was written.
    InvalidRows,
    RateLimitExceeded,
    ServiceUnavailable,
    InternalError,
    /// Only ever injected by an operator's fault (`operator/faults.rs`).
    BadGateway,
    /// Only ever injected by an operator's fault.
    GatewayTimeout,
}

impl Code {
    /// `(status, type, code)`, one row each.
    pub fn row(self) -> (StatusCode, &'static str, Option<&'static str>) {
        const INVALID: &str = "invalid_request_error";
        let (status, kind, code) = match self {
            Code::InvalidValue => (StatusCode::BAD_REQUEST, INVALID, "invalid_value"),
            Code::MissingRequiredParameter => (
                StatusCode::BAD_REQUEST,
                INVALID,
                "missing_required_parameter",
            ),
            Code::MissingApiKey => (StatusCode::UNAUTHORIZED, INVALID, "missing_api_key"),
            Code::InvalidApiKey => (StatusCode::UNAUTHORIZED, INVALID, "invalid_api_key"),
            // The real API's answer to a key that lacks a permission: 401, and no code.
            Code::InsufficientPermissions => return (StatusCode::UNAUTHORIZED, INVALID, None),
            Code::NotFound => (StatusCode::NOT_FOUND, INVALID, "not_found"),
            Code::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                INVALID,
                "method_not_allowed",
            ),
            Code::Conflict(kind) => (StatusCode::CONFLICT, INVALID, kind.code()),
            Code::RequestTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, INVALID, "request_too_large"),
            Code::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, INVALID, "request_timeout"),
            Code::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                INVALID,
                "unsupported_media_type",
            ),
            Code::InvalidRows => (StatusCode::BAD_REQUEST, INVALID, "invalid_rows"),
            // The real API's type for rate limits.
            Code::RateLimitExceeded => (
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                "rate_limit_exceeded",
            ),
            Code::ServiceUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "service_unavailable",
            ),
            Code::InternalError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
            ),
            Code::BadGateway => (StatusCode::BAD_GATEWAY, "server_error", "bad_gateway"),
            Code::GatewayTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "server_error",
                "gateway_timeout",
            ),
        };
        (status, kind, Some(code))
    }
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: ErrorDetail,
}

impl ApiError {
    pub fn new(code: Code, param: Option<&str>, message: impl Into<String>) -> Self {
        let (status, kind, code) = code.row();
        Self {
            status,
            detail: ErrorDetail {
                message: message.into(),
                kind: kind.into(),
                param: param.map(str::to_owned),
                code: code.map(str::to_owned),
            },
        }
    }

    pub fn unknown_route(method: &str, path: &str) -> Self {
        Self::new(
            Code::NotFound,
            None,
            format!("Unknown request URL: {method} {path}. Please check the URL for typos, or see the API reference."),
        )
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            Code::MethodNotAllowed,
            None,
            format!("Method {method} is not allowed on {path}."),
        )
    }

    /// 413 for a body over `limit` bytes (a whole number of MiB).
    pub fn too_large_for(limit: u64) -> Self {
        Self::new(
            Code::RequestTooLarge,
            None,
            format!(
                "The request body is larger than the limit of {} MiB.",
                limit / (1024 * 1024)
            ),
        )
    }

    /// 408 for a streamed body that stopped arriving.
    pub fn body_stalled(timeout: std::time::Duration) -> Self {
        Self::new(
            Code::RequestTimeout,
            None,
            format!(
                "The request body stopped arriving: nothing came for {} seconds.",
                timeout.as_secs()
            ),
        )
    }

    /// The error's message, for a caller that reports it elsewhere too.
    pub fn message(&self) -> &str {
        &self.detail.message
    }

    /// The answer to an import with invalid rows: the envelope and the summary beside it.
    pub fn with_import_summary(self, summary: ImportSummary) -> Response {
        let body = ImportRefusal {
            error: self.detail,
            summary,
        };
        (self.status, Json(body)).into_response()
    }

    pub fn body_too_slow(timeout: std::time::Duration) -> Self {
        Self::new(
            Code::RequestTimeout,
            None,
            format!(
                "The request body did not arrive within {} seconds.",
                timeout.as_secs()
            ),
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { param, message, missing, remedy } => {
                let code = if missing { Code::MissingRequiredParameter } else { Code::InvalidValue };
                Self::new(code, param.as_deref(), with_remedy(message, remedy))
            }
            DomainError::NotFound { param, message, remedy } => {
                Self::new(Code::NotFound, param.as_deref(), with_remedy(message, remedy))
            }
            DomainError::Conflict { kind, message, param, remedy } => {
                Self::new(Code::Conflict(kind), param.as_deref(), with_remedy(message, remedy))
            }
            DomainError::Unauthenticated(KeyRejection::Missing) => Self::new(
                Code::MissingApiKey,
                None,
                "You didn't provide an API key. Provide your admin API key in the Authorization header using Bearer auth (Authorization: Bearer sk-admin-…).",
            ),
            DomainError::Unauthenticated(KeyRejection::Invalid) => Self::new(
                Code::InvalidApiKey,
                None,
                "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",
            ),
            e @ DomainError::Forbidden { .. } => {
                Self::new(Code::InsufficientPermissions, None, e.to_string())
            }
            // Logged once per episode by the store (`health.rs`), not once per request.
            DomainError::Unavailable(outage) => {
                Self::new(Code::ServiceUnavailable, None, outage.kind.message())
            }
            DomainError::Internal(reason) => {
                tracing::error!(error.reason = %reason, "internal error");
                Self::new(
                    Code::InternalError,
                    None,
                    "The server had an error while processing your request. Retry, and report the x-request-id if it persists.",
                )
            }
        }
    }
}

/// A refusal's message, and after it what the client can do instead, worded with the route
/// that does it. Only the server knows its routes, so the store names the remedy and this
/// words it.
fn with_remedy(message: String, remedy: Option<Remedy>) -> String {
    let Some(remedy) = remedy else {
        return message;
    };
    let hint = match remedy {
        Remedy::InviteFirst => "invite them first (POST /v1/organization/invites)".to_owned(),
        Remedy::ChangeProjectMemberRole { project, user } => {
            format!("change their role with POST /v1/organization/projects/{project}/users/{user}")
        }
        Remedy::ChangeBaseRole {
            project: None,
            user,
        } => {
            format!("change it with POST /v1/organization/users/{user} with a new 'role'")
        }
        Remedy::ChangeBaseRole {
            project: Some(project),
            user,
        } => format!(
            "change it with POST /v1/organization/projects/{project}/users/{user} with a new 'role'"
        ),
        Remedy::AddGroupToProject { project } => {
            format!("add it with POST /v1/organization/projects/{project}/groups")
        }
        Remedy::ChangeGroupProjectRoles { project, group } => {
            format!("change its roles with /v1/projects/{project}/groups/{group}/roles")
        }
        Remedy::UnassignFromGroup { project } => {
            let route = match project {
                None => "/v1/organization/groups/{group_id}/roles/{role_id}".to_owned(),
                Some(p) => format!("/v1/projects/{p}/groups/{{group_id}}/roles/{{role_id}}"),
            };
            format!("unassign it from the group (DELETE {route}) or remove the user from the group")
        }
    };
    format!("{message}; {hint}.")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.detail })).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn message_of(e: DomainError) -> String {
        ApiError::from(e).detail.message
    }

    #[test]
    fn a_remedy_is_worded_with_its_route_after_the_stores_clause() {
        let e = DomainError::invalid("user_id", "User user-1 is not a member of the organization")
            .with_remedy(Remedy::InviteFirst);
        assert_eq!(
            message_of(e),
            "User user-1 is not a member of the organization; invite them first (POST /v1/organization/invites)."
        );
        let e = DomainError::conflict(
            ConflictKind::InheritedRole,
            "User user-1 holds 'r' only through group(s) group_1",
            Some("role_id"),
        )
        .with_remedy(Remedy::UnassignFromGroup {
            project: Some("proj_1".into()),
        });
        assert_eq!(
            message_of(e),
            "User user-1 holds 'r' only through group(s) group_1; unassign it from the group (DELETE /v1/projects/proj_1/groups/{group_id}/roles/{role_id}) or remove the user from the group."
        );
        let e = DomainError::invalid(
            "role_id",
            "'owner' is the user's base role and cannot be unassigned",
        )
        .with_remedy(Remedy::ChangeBaseRole {
            project: None,
            user: "user-1".into(),
        });
        assert_eq!(
            message_of(e),
            "'owner' is the user's base role and cannot be unassigned; change it with POST /v1/organization/users/user-1 with a new 'role'."
        );
    }

    #[test]
    fn a_missing_permission_is_answered_as_the_real_api_answers_it() {
        use orgadmin_core::Permission;
        let e = ApiError::from(DomainError::forbidden(
            Permission::ProjectUsersWrite,
            Some((Permission::ProjectUsersWriteInProject, "proj_1")),
        ));
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert_eq!(e.detail.kind, "invalid_request_error");
        assert_eq!((&e.detail.code, &e.detail.param), (&None, &None));
        assert_eq!(
            e.detail.message,
            "You have insufficient permissions for this operation. Missing scopes: api.organization.projects.users.write. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes. 'api.project.users.write' held in project proj_1 would allow this request too."
        );
        let body = serde_json::to_value(ErrorBody { error: e.detail }).unwrap();
        assert!(body["error"]["code"].is_null(), "{body}");
        assert!(body["error"].as_object().unwrap().contains_key("code"));
        // A key that is not accepted keeps its code.
        let (status, _, code) = Code::InvalidApiKey.row();
        assert_eq!(
            (status, code),
            (StatusCode::UNAUTHORIZED, Some("invalid_api_key"))
        );
    }

    #[test]
    fn a_refusal_without_a_remedy_keeps_its_message_and_its_display_is_a_sentence() {
        let e = DomainError::not_found("user", "user-9", "user_id");
        assert_eq!(message_of(e.clone()), "No user found with id 'user-9'.");
        let remedied =
            DomainError::not_found_because("group_id", "Group g has no access to project p")
                .with_remedy(Remedy::AddGroupToProject {
                    project: "p".into(),
                });
        assert_eq!(remedied.to_string(), "Group g has no access to project p.");
        assert_eq!(remedied.param(), Some("group_id"));
    }
}
