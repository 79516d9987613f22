//! The one error type every layer speaks. The server maps each variant to a status, `type`,
//! `code` and `param` in exactly one place.

use std::fmt;

use crate::permission::Permission;

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

/// Why a change was refused because of the state it would conflict with (HTTP 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    AlreadyExists,
    LastOwner,
    ProjectArchived,
    ImmutableRole,
    InviteNotPending,
    InheritedRole,
}

impl ConflictKind {
    pub fn code(self) -> &'static str {
        match self {
            ConflictKind::AlreadyExists => "already_exists",
            ConflictKind::LastOwner => "last_owner",
            ConflictKind::ProjectArchived => "project_archived",
            ConflictKind::ImmutableRole => "immutable_role",
            ConflictKind::InviteNotPending => "invite_not_pending",
            ConflictKind::InheritedRole => "inherited_role",
        }
    }
}

/// Why a presented admin key was not accepted (HTTP 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRejection {
    /// No `Authorization` header at all.
    Missing,
    /// Not a bearer admin key, unknown, revoked, or expired.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// Bad input: malformed, wrong type, out of range, unknown enum value, or missing.
    #[error("{message}")]
    Invalid {
        param: Option<String>,
        message: String,
        /// A required field was absent (code `missing_required_parameter`).
        missing: bool,
    },
    /// The object does not exist in the caller's organization (or at all).
    #[error("{message}")]
    NotFound {
        param: Option<String>,
        message: String,
    },
    #[error("{message}")]
    Conflict {
        kind: ConflictKind,
        message: String,
        param: Option<String>,
    },
    #[error("{}", match .0 { KeyRejection::Missing => "missing admin API key", KeyRejection::Invalid => "invalid admin API key" })]
    Unauthenticated(KeyRejection),
    /// The key (or its owner) lacks a permission; the message names it.
    #[error("{message}")]
    Forbidden { message: String },
    /// The database cannot be reached; the request may be retried.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected storage failure. The message is logged, never sent to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            param: Some(param.into()),
            message: message.into(),
            missing: false,
        }
    }

    pub fn missing(param: impl Into<String>) -> Self {
        let param = param.into();
        DomainError::Invalid {
            message: format!("Missing required parameter: '{param}'."),
            param: Some(param),
            missing: true,
        }
    }

    /// `what` names the kind of object ("user", "project"), `id` the ID asked for, `param` the
    /// field that carried it.
    pub fn not_found(what: &str, id: impl fmt::Display, param: &str) -> Self {
        let id = id.to_string();
        let shown: String = id.chars().take(128).collect();
        DomainError::NotFound {
            param: Some(param.to_owned()),
            message: format!("No {what} found with id '{shown}'."),
        }
    }

    pub fn conflict(kind: ConflictKind, message: impl Into<String>, param: Option<&str>) -> Self {
        DomainError::Conflict {
            kind,
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// The caller lacks `permission` (and, on a project route, `in_project` too).
    pub fn forbidden(permission: Permission, in_project: Option<(Permission, &str)>) -> Self {
        let message = match in_project {
            None => format!("Your admin API key lacks the permission '{permission}' needed for this request."),
            Some((project_permission, project)) => format!(
                "Your admin API key lacks the permission '{permission}', or '{project_permission}' in project {project}, needed for this request."
            ),
        };
        DomainError::Forbidden { message }
    }

    /// The caller would grant `missing` (not empty), which its key does not hold in the
    /// organization (`project` `None`) or in `project`; `what` names the grant.
    pub fn cannot_grant(
        missing: crate::permission::PermissionSet,
        what: &str,
        project: Option<&str>,
    ) -> Self {
        let place = match project {
            None => "in the organization".to_owned(),
            Some(p) => format!("in project {p}"),
        };
        let them = if missing.iter().count() == 1 {
            "it"
        } else {
            "them"
        };
        DomainError::Forbidden {
            message: format!(
                "You have insufficient permissions for this operation. Missing scopes: {}. {what} would grant {them}, and an admin API key may grant only permissions it holds {place}.",
                missing.names().join(", ")
            ),
        }
    }

    pub fn internal(e: impl fmt::Display) -> Self {
        DomainError::Internal(e.to_string())
    }

    pub fn param(&self) -> Option<&str> {
        match self {
            DomainError::Invalid { param, .. }
            | DomainError::NotFound { param, .. }
            | DomainError::Conflict { param, .. } => param.as_deref(),
            _ => None,
        }
    }
}
