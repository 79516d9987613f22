//! The one error type every layer speaks. The server maps each variant to a status, `type`,
//! `code` and `param` in exactly one place.

use std::fmt;

use crate::permission::{Permission, PermissionSet};

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
    /// An organization that cannot be brought back to its state after creation (the operator
    /// API's reset): what creation made is not known any more.
    NotResettable,
    /// A SCIM change whose `If-Match` names a version the resource no longer has.
    VersionMismatch,
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
            ConflictKind::NotResettable => "not_resettable",
            ConflictKind::VersionMismatch => "version_mismatch",
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

/// Why the storage could not serve a request (HTTP 503 `service_unavailable`). Each kind has
/// one message a person can act on ([`OutageKind::message`]); `detail` is what the database
/// said, for the log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {detail}", kind.message())]
pub struct Outage {
    pub kind: OutageKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutageKind {
    /// The database's disk (or the PostgreSQL server's) is full: writes are refused.
    DiskFull,
    /// The storage failed to read or write (I/O error, read-only file system, corrupt file).
    StorageFailure,
    /// Another process holds the database's write lock, or a row lock, for too long.
    Busy,
    /// The database did not answer in time, or the connection to it failed.
    Unreachable,
    /// The database has stopped answering; requests are refused at once until it answers a
    /// background probe again (the circuit breaker is open).
    CircuitOpen,
}

impl OutageKind {
    /// What the client is told, and what `/readyz` says.
    pub fn message(self) -> &'static str {
        match self {
            OutageKind::DiskFull => "The database's disk is full; writes are refused until space is freed. Reads still work.",
            OutageKind::StorageFailure => "The database's storage failed to read or write (an I/O error); writes are refused until it recovers. Retry in a few seconds.",
            OutageKind::Busy => "The database is busy: another process holds its write lock. Retry in a few seconds.",
            OutageKind::Unreachable => "The database did not answer in time. Retry in a few seconds.",
            OutageKind::CircuitOpen => "The database is not answering; requests are refused at once until it answers again. Retry in a few seconds.",
        }
    }

    /// A short name for logs, metrics and `/readyz`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutageKind::DiskFull => "disk_full",
            OutageKind::StorageFailure => "storage_failure",
            OutageKind::Busy => "busy",
            OutageKind::Unreachable => "unreachable",
            OutageKind::CircuitOpen => "circuit_open",
        }
    }
}

/// What a refused client can do instead, when the store knows it but not how the API spells it:
/// the server words each remedy with its route (`server::error`), and other front ends word it
/// as they need. An error with a remedy keeps its message a clause, without the final period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// The user is not a member of the organization: invite them.
    InviteFirst,
    /// The user is already in the project: change their role there.
    ChangeProjectMemberRole { project: String, user: String },
    /// The role is the user's base role (in the organization, or in `project`): change it.
    ChangeBaseRole {
        project: Option<String>,
        user: String,
    },
    /// The group has no access to the project: add it.
    AddGroupToProject { project: String },
    /// The group already has access to the project: change its roles there.
    ChangeGroupProjectRoles { project: String, group: String },
    /// The user holds the role only through a group (in the organization, or in `project`):
    /// unassign it from the group, or remove the user from the group.
    UnassignFromGroup { project: Option<String> },
}

/// How [`DomainError`]'s `Display` ends a message: a remedied message is a clause.
fn period_if(remedy: &Option<Remedy>) -> &'static str {
    if remedy.is_some() {
        "."
    } else {
        ""
    }
}

/// The message of a refusal for missing permissions, in the real API's words (`missing` named as
/// it names them), then our `detail` where there is one. Built here only.
pub fn insufficient_permissions(missing: &PermissionSet, detail: Option<&str>) -> String {
    let mut message = format!(
        "You have insufficient permissions for this operation. Missing scopes: {}. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        missing.names().join(", ")
    );
    if let Some(detail) = detail {
        message.push(' ');
        message.push_str(detail);
    }
    message
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// Bad input: malformed, wrong type, out of range, unknown enum value, or missing.
    #[error("{message}{}", period_if(.remedy))]
    Invalid {
        param: Option<String>,
        message: String,
        /// A required field was absent (code `missing_required_parameter`).
        missing: bool,
        remedy: Option<Remedy>,
    },
    /// The object does not exist in the caller's organization (or at all).
    #[error("{message}{}", period_if(.remedy))]
    NotFound {
        param: Option<String>,
        message: String,
        remedy: Option<Remedy>,
    },
    #[error("{message}{}", period_if(.remedy))]
    Conflict {
        kind: ConflictKind,
        message: String,
        param: Option<String>,
        remedy: Option<Remedy>,
    },
    #[error("{}", match .0 { KeyRejection::Missing => "missing admin API key", KeyRejection::Invalid => "invalid admin API key" })]
    Unauthenticated(KeyRejection),
    /// The key (or its owner) lacks permissions: `missing` (not empty) names them, `detail`
    /// (a sentence) says more where there is more to say. Answered as the real API answers it
    /// (HTTP 401, no code), with the message of [`insufficient_permissions`].
    #[error("{}", insufficient_permissions(.missing, .detail.as_deref()))]
    Forbidden {
        missing: PermissionSet,
        detail: Option<String>,
    },
    /// The storage cannot serve the request right now (unreachable, disk full, I/O errors, …);
    /// nothing was written and the request may be retried.
    #[error("service unavailable: {0}")]
    Unavailable(Outage),
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
            remedy: None,
        }
    }

    pub fn missing(param: impl Into<String>) -> Self {
        let param = param.into();
        DomainError::Invalid {
            message: format!("Missing required parameter: '{param}'."),
            param: Some(param),
            missing: true,
            remedy: None,
        }
    }

    /// A required value given in one of several fields (`param` is the first), none present.
    pub fn missing_one_of(param: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            param: Some(param.into()),
            message: message.into(),
            missing: true,
            remedy: None,
        }
    }

    /// `what` names the kind of object ("user", "project"), `id` the ID asked for, `param` the
    /// field that carried it.
    pub fn not_found(what: &str, id: impl fmt::Display, param: &str) -> Self {
        let id = id.to_string();
        let shown = crate::text::clip_to(&id, 128);
        DomainError::NotFound {
            param: Some(param.to_owned()),
            message: format!("No {what} found with id '{shown}'."),
            remedy: None,
        }
    }

    /// Not found for a reason the message gives, as a sentence ("User … is not a member of
    /// project …."), rather than an unknown ID.
    pub fn not_found_because(param: &str, message: impl Into<String>) -> Self {
        DomainError::NotFound {
            param: Some(param.to_owned()),
            message: message.into(),
            remedy: None,
        }
    }

    pub fn conflict(kind: ConflictKind, message: impl Into<String>, param: Option<&str>) -> Self {
        DomainError::Conflict {
            kind,
            message: message.into(),
            param: param.map(str::to_owned),
            remedy: None,
        }
    }

    /// The same refusal with what the client can do instead. The message must then be a
    /// clause, without its final period: whoever shows the error words the remedy after it.
    pub fn with_remedy(mut self, to: Remedy) -> Self {
        match &mut self {
            DomainError::Invalid { remedy, .. }
            | DomainError::NotFound { remedy, .. }
            | DomainError::Conflict { remedy, .. } => *remedy = Some(to),
            _ => debug_assert!(false, "only a refusal of input or state has a remedy"),
        }
        self
    }

    /// The same refusal, blamed on the field the client used (`role` rather than `role_id`).
    pub fn with_param(mut self, to: &str) -> Self {
        match &mut self {
            DomainError::Invalid { param, .. }
            | DomainError::NotFound { param, .. }
            | DomainError::Conflict { param, .. } => *param = Some(to.to_owned()),
            _ => {}
        }
        self
    }

    /// The caller lacks `permission` (and, on a project route, `in_project` too).
    pub fn forbidden(permission: Permission, in_project: Option<(Permission, &str)>) -> Self {
        DomainError::Forbidden {
            missing: [permission].into_iter().collect(),
            detail: in_project.map(|(project_permission, project)| {
                format!("'{project_permission}' held in project {project} would allow this request too.")
            }),
        }
    }

    pub fn unavailable(kind: OutageKind, detail: impl fmt::Display) -> Self {
        DomainError::Unavailable(Outage {
            kind,
            detail: detail.to_string(),
        })
    }

    /// The caller would grant `missing` (not empty), which its key does not hold in the
    /// organization (`project` `None`) or in `project`; `what` names the grant.
    pub fn cannot_grant(missing: PermissionSet, what: &str, project: Option<&str>) -> Self {
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
            missing,
            detail: Some(format!(
                "{what} would grant {them}, and an admin API key may grant only permissions it holds {place}."
            )),
        }
    }

    /// The key's permissions were narrowed (its owner's roles changed) while the request was in
    /// flight: it no longer holds `missing` (not empty), which it held when it was
    /// authenticated. Nothing was written.
    pub fn narrowed_in_flight(missing: PermissionSet) -> Self {
        DomainError::Forbidden {
            missing,
            detail: Some("The permissions of your admin API key were narrowed while this request was in flight (its owner's roles changed); nothing was written. Retry the request if the key may still make it.".to_owned()),
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
