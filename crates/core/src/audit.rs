//! Audit events: what the store writes beside every change, in the change's own transaction.

use serde_json::Value;

use crate::clock::Timestamp;
use crate::id::{AuditLogId, ProjectId};

/// The event types this server writes (a subset of the official `AuditLogEventType`).
pub mod kind {
    pub const API_KEY_CREATED: &str = "api_key.created";
    pub const API_KEY_DELETED: &str = "api_key.deleted";
    pub const INVITE_SENT: &str = "invite.sent";
    pub const INVITE_ACCEPTED: &str = "invite.accepted";
    pub const INVITE_DELETED: &str = "invite.deleted";
    pub const PROJECT_CREATED: &str = "project.created";
    pub const PROJECT_UPDATED: &str = "project.updated";
    pub const PROJECT_ARCHIVED: &str = "project.archived";
    pub const ROLE_CREATED: &str = "role.created";
    pub const ROLE_UPDATED: &str = "role.updated";
    pub const ROLE_DELETED: &str = "role.deleted";
    pub const ROLE_ASSIGNMENT_CREATED: &str = "role.assignment.created";
    pub const ROLE_ASSIGNMENT_DELETED: &str = "role.assignment.deleted";
    pub const USER_ADDED: &str = "user.added";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DELETED: &str = "user.deleted";
}

/// An event about to be written. `details` becomes the object under the key named like the
/// event type (`"user.updated": {"id": …, "changes_requested": {…}}`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub kind: &'static str,
    pub resource_id: String,
    pub project_id: Option<ProjectId>,
    pub details: Value,
}

impl NewAuditEvent {
    pub fn new(kind: &'static str, resource_id: impl Into<String>, details: Value) -> Self {
        Self {
            kind,
            resource_id: resource_id.into(),
            project_id: None,
            details,
        }
    }

    pub fn in_project(mut self, project: &ProjectId) -> Self {
        self.project_id = Some(project.clone());
        self
    }
}

/// Who did it: an admin key and the user it acts for. `None` for changes made by the server
/// itself (the first-start bootstrap).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditActor {
    pub key_id: String,
    pub user_id: String,
    pub user_email: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditLogId,
    pub kind: String,
    pub effective_at: Timestamp,
    pub actor: Option<AuditActor>,
    pub project: Option<(ProjectId, Option<String>)>,
    pub details: Value,
}

/// The filters of the audit log list; empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub effective_at_gt: Option<Timestamp>,
    pub effective_at_gte: Option<Timestamp>,
    pub effective_at_lt: Option<Timestamp>,
    pub effective_at_lte: Option<Timestamp>,
    pub event_types: Vec<String>,
    /// User IDs or admin key IDs.
    pub actor_ids: Vec<String>,
    /// Lower-cased.
    pub actor_emails: Vec<String>,
    pub resource_ids: Vec<String>,
    pub project_ids: Vec<String>,
}
