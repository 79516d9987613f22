//! The one place where errors become HTTP responses: status, `type`, `code` and `param` of the
//! OpenAI error envelope. Axum's own rejections are routed here too (see `extract`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use orgadmin_api::{ErrorBody, ErrorDetail};
use orgadmin_core::error::{ConflictKind, KeyRejection};
use orgadmin_core::DomainError;

/// The closed table of the errors the API answers with: each row is a status, the envelope's
/// `type` and its `code`. Every error response is built from one of these, here and nowhere
/// else; handlers return [`DomainError`]s, and only what the HTTP layer alone can see (routes,
/// bodies, rate limits) names a code directly.
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
    RateLimitExceeded,
    ServiceUnavailable,
    InternalError,
}

impl Code {
    /// `(status, type, code)`, one row each.
    pub fn row(self) -> (StatusCode, &'static str, &'static str) {
        const INVALID: &str = "invalid_request_error";
        match self {
            Code::InvalidValue => (StatusCode::BAD_REQUEST, INVALID, "invalid_value"),
            Code::MissingRequiredParameter => (
                StatusCode::BAD_REQUEST,
                INVALID,
                "missing_required_parameter",
            ),
            Code::MissingApiKey => (StatusCode::UNAUTHORIZED, INVALID, "missing_api_key"),
            Code::InvalidApiKey => (StatusCode::UNAUTHORIZED, INVALID, "invalid_api_key"),
            Code::InsufficientPermissions => {
                (StatusCode::FORBIDDEN, INVALID, "insufficient_permissions")
            }
            Code::NotFound => (StatusCode::NOT_FOUND, INVALID, "not_found"),
            Code::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                INVALID,
                "method_not_allowed",
            ),
            Code::Conflict(kind) => (StatusCode::CONFLICT, INVALID, kind.code()),
            Code::RequestTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, INVALID, "request_too_large"),
            Code::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, INVALID, "request_timeout"),
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
        }
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
                code: Some(code.to_owned()),
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

    pub fn too_large() -> Self {
        Self::new(
            Code::RequestTooLarge,
            None,
            "The request body is larger than the limit of 1 MiB.",
        )
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

    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { param, message, missing } => {
                let code = if missing { Code::MissingRequiredParameter } else { Code::InvalidValue };
                Self::new(code, param.as_deref(), message)
            }
            DomainError::NotFound { param, message } => {
                Self::new(Code::NotFound, param.as_deref(), message)
            }
            DomainError::Conflict { kind, message, param } => {
                Self::new(Code::Conflict(kind), param.as_deref(), message)
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
            DomainError::Forbidden { message } => {
                Self::new(Code::InsufficientPermissions, None, message)
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.detail })).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
