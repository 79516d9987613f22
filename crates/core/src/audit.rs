//! Audit events: what the store writes beside every change, in the change's own transaction.

use serde_json::Value;

use crate::clock::Timestamp;
use crate::id::{AuditLogId, ProjectId};

/// The event types this server writes (a subset of the official `AuditLogEventType`).
pub mod kind {
    pub const API_KEY_CREATED: &str = "api_key.created";
    pub const API_KEY_UPDATED: &str = "api_key.updated";
    pub const API_KEY_DELETED: &str = "api_key.deleted";
    pub const INVITE_SENT: &str = "invite.sent";
    pub const INVITE_ACCEPTED: &str = "invite.accepted";
    pub const INVITE_DELETED: &str = "invite.deleted";
    pub const PROJECT_CREATED: &str = "project.created";
    pub const PROJECT_UPDATED: &str = "project.updated";
    pub const PROJECT_ARCHIVED: &str = "project.archived";
    pub const RATE_LIMIT_UPDATED: &str = "rate_limit.updated";
    pub const ROLE_CREATED: &str = "role.created";
    pub const ROLE_UPDATED: &str = "role.updated";
    pub const ROLE_DELETED: &str = "role.deleted";
    pub const ROLE_ASSIGNMENT_CREATED: &str = "role.assignment.created";
    pub const ROLE_ASSIGNMENT_DELETED: &str = "role.assignment.deleted";
    pub const GROUP_CREATED: &str = "group.created";
    pub const GROUP_UPDATED: &str = "group.updated";
    pub const GROUP_DELETED: &str = "group.deleted";
    pub const SERVICE_ACCOUNT_CREATED: &str = "service_account.created";
    pub const SERVICE_ACCOUNT_UPDATED: &str = "service_account.updated";
    pub const SERVICE_ACCOUNT_DELETED: &str = "service_account.deleted";
    pub const USER_ADDED: &str = "user.added";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DELETED: &str = "user.deleted";
}

/// Every event type of the official `AuditLogEventType` enum: the values the `event_types[]`
/// filter accepts (most are never written by orgadmin, and simply match nothing).
pub const KNOWN_EVENT_TYPES: &[&str] = &[
    "api_key.created",
    "api_key.updated",
    "api_key.deleted",
    "certificate.created",
    "certificate.updated",
    "certificate.deleted",
    "certificates.activated",
    "certificates.deactivated",
    "checkpoint.permission.created",
    "checkpoint.permission.deleted",
    "external_key.registered",
    "external_key.removed",
    "group.created",
    "group.updated",
    "group.deleted",
    "invite.sent",
    "invite.accepted",
    "invite.deleted",
    "ip_allowlist.created",
    "ip_allowlist.updated",
    "ip_allowlist.deleted",
    "ip_allowlist.config.activated",
    "ip_allowlist.config.deactivated",
    "login.succeeded",
    "login.failed",
    "logout.succeeded",
    "logout.failed",
    "organization.updated",
    "project.created",
    "project.updated",
    "project.archived",
    "project.deleted",
    "rate_limit.updated",
    "rate_limit.deleted",
    "resource.deleted",
    "tunnel.created",
    "tunnel.updated",
    "tunnel.deleted",
    "workload_identity_provider.created",
    "workload_identity_provider.updated",
    "workload_identity_provider.deleted",
    "workload_identity_provider_mapping.created",
    "workload_identity_provider_mapping.updated",
    "workload_identity_provider_mapping.deleted",
    "role.created",
    "role.updated",
    "role.deleted",
    "role.assignment.created",
    "role.assignment.deleted",
    "role.bound_to_resource",
    "role.unbound_from_resource",
    "scim.enabled",
    "scim.disabled",
    "service_account.created",
    "service_account.updated",
    "service_account.deleted",
    "user.added",
    "user.updated",
    "user.deleted",
    "tenant.metadata.updated",
    "tenant.microsoft_entra_mapping.upserted",
    "tenant.microsoft_entra_mapping.deleted",
    "tenant.workload_identity.provider.created",
    "tenant.workload_identity.provider.updated",
    "tenant.workload_identity.provider.archived",
    "tenant.workload_identity.mapping.created",
    "tenant.workload_identity.mapping.updated",
    "tenant.workload_identity.mapping.archived",
    "tenant.workload_identity.binding.created",
    "tenant.workload_identity.principal.provisioned",
    "tenant.workload_identity.access_token.issued",
    "tenant.admin_api_key.created",
    "tenant.admin_api_key.updated",
    "tenant.admin_api_key.deleted",
    "tenant.project_api_key.created",
    "tenant.chatgpt_access_token.revoked",
    "tenant.migration.completed",
    "tenant.sso.migrated",
    "tenant.domains.migrated",
    "tenant.sso_connection.created",
    "tenant.sso_connection.updated",
    "tenant.sso_connection.deleted",
    "tenant.sso_connection.setup.started",
    "tenant.policy.created",
    "tenant.policy.updated",
    "tenant.policy.deleted",
    "tenant.policy.attached",
    "tenant.policy.detached",
    "tenant.principal_authentication_policy.resolved",
    "tenant.scim.setup.started",
    "tenant.scim.deletion.requested",
    "tenant.scim.directory.created",
    "tenant.product_access_policy.updated",
    "tenant.resource_share_grant.created",
    "tenant.resource_share_grant.updated",
    "tenant.resource_share_grant.accepted",
    "tenant.resource_share_grant.declined",
    "tenant.resource_share_grant.revoked",
    "tenant.resource_share_grant.deleted",
    "tenant.service_account.updated",
    "tenant.service_account.deleted",
    "tenant.service_account.token.revoked",
    "tenant.billing.overage_limit.updated",
    "tenant.billing.alerts.updated",
    "tenant.billing.info.updated",
    "tenant.usage_limit.workspace.updated",
    "tenant.usage_limit.group.updated",
    "tenant.usage_limit.user.updated",
    "tenant.usage_limit.increase_request.updated",
    "tenant.usage_limit.increase_request.resolved",
    "tenant.group.created",
    "tenant.group.updated",
    "tenant.group.deleted",
    "tenant.group.member.added",
    "tenant.group.member.removed",
    "tenant.migration_rollout.status.updated",
    "tenant.migration_rollout.tier.updated",
    "tenant.role.metadata.updated",
    "tenant.custom_role.created",
    "tenant.custom_role.updated",
    "tenant.custom_role.deleted",
    "tenant.role_assignment.created",
    "tenant.role_assignment.deleted",
    "tenant.resource_role_assignment.created",
    "tenant.resource_role_assignment.deleted",
    "tenant.resource_access.updated",
    "tenant.resource_access.deleted",
    "tenant.ads_account.onboarding.redemption",
    "tenant.session_policy.created",
    "tenant.session_policy.updated",
    "tenant.session_policy.deleted",
    "tenant.session_revocation.started",
    "tenant.third_party_app_policy.updated",
    "tenant.user.added",
    "tenant.user.updated",
    "tenant.user.removed",
    "tenant.user.looked_up",
    "tenant.user.invited",
    "tenant.membership.revoked",
    "tenant.api_organization_invite.upserted",
    "tenant.api_organization_invite.deleted",
    "tenant.chatgpt_workspace_invite.upserted",
    "tenant.membership.accepted",
    "tenant.membership.declined",
    "tenant.workspace_invite_email_settings.updated",
];

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
