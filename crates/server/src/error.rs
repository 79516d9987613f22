//! The one place where errors become HTTP responses: status, `type`, `code` and `param` of the
//! OpenAI error envelope. Axum's own rejections are routed here too (see `extract`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use orgadmin_api::{ErrorBody, ErrorDetail};
use orgadmin_core::error::KeyRejection;
use orgadmin_core::DomainError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: ErrorDetail,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: &str,
        code: Option<&str>,
        param: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
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

    pub fn invalid(param: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("invalid_value"),
            param,
            message,
        )
    }

    pub fn unknown_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("not_found"),
            None,
            format!("Unknown request URL: {method} {path}. Please check the URL for typos, or see the API reference."),
        )
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            Some("method_not_allowed"),
            None,
            format!("Method {method} is not allowed on {path}."),
        )
    }

    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            None,
            "The request body is larger than the limit of 1 MiB.",
        )
    }

    pub fn body_too_slow(timeout: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            Some("request_timeout"),
            None,
            format!(
                "The request body did not arrive within {} seconds.",
                timeout.as_secs()
            ),
        )
    }

    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let invalid = "invalid_request_error";
        match e {
            DomainError::Invalid { param, message, missing } => {
                let code = if missing { "missing_required_parameter" } else { "invalid_value" };
                Self::new(StatusCode::BAD_REQUEST, invalid, Some(code), param.as_deref(), message)
            }
            DomainError::NotFound { param, message } => {
                Self::new(StatusCode::NOT_FOUND, invalid, Some("not_found"), param.as_deref(), message)
            }
            DomainError::Conflict { kind, message, param } => {
                Self::new(StatusCode::CONFLICT, invalid, Some(kind.code()), param.as_deref(), message)
            }
            DomainError::Unauthenticated(KeyRejection::Missing) => Self::new(
                StatusCode::UNAUTHORIZED,
                invalid,
                Some("missing_api_key"),
                None,
                "You didn't provide an API key. Provide your admin API key in the Authorization header using Bearer auth (Authorization: Bearer sk-admin-…).",
            ),
            DomainError::Unauthenticated(KeyRejection::Invalid) => Self::new(
                StatusCode::UNAUTHORIZED,
                invalid,
                Some("invalid_api_key"),
                None,
                "Incorrect admin API key provided. The key is unknown, malformed, revoked or expired; create a new one with an owner's key.",
            ),
            DomainError::Forbidden { message } => {
                Self::new(StatusCode::FORBIDDEN, invalid, Some("insufficient_permissions"), None, message)
            }
            // Logged once per episode by the store (`health.rs`), not once per request.
            DomainError::Unavailable(outage) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                Some("service_unavailable"),
                None,
                outage.kind.message(),
            ),
            DomainError::Internal(reason) => {
                tracing::error!(error.reason = %reason, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    Some("internal_error"),
                    None,
                    "The server had an error while processing your request. Retry, and report the x-request-id if it persists.",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.detail })).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
