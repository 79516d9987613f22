//! The domain objects as the store returns them and the changes it accepts.

use crate::clock::Timestamp;
use crate::email::Email;
use crate::error::DomainError;
use crate::id::{AdminKeyId, InviteId, OrgId, ProjectId, UserId};
use crate::permission::PermissionSet;
use crate::role::{OrgBaseRole, PredefinedRole, ProjectBaseRole, Role, RoleRef};

/// Invites expire this long after they are sent (SPEC §3).
pub const INVITE_TTL_SECONDS: i64 = 7 * 24 * 3600;

/// A member of an organization: their membership row.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: Option<String>,
    pub role: OrgBaseRole,
    pub added_at: Timestamp,
    pub developer_persona: Option<String>,
    pub technical_level: Option<String>,
    /// When this person first joined any organization on the server (the same person keeps
    /// their first date in every organization they join later).
    pub created: Timestamp,
    /// The owner the organization was created with (first start, `init`, `org create`).
    pub is_default: bool,
    /// Provisioned through SCIM.
    pub is_scim_managed: bool,
    pub is_scale_tier_authorized_purchaser: bool,
}

impl User {
    /// A member joining now, with `created` the first time this person joined an organization
    /// (`added_at` for a person new to the server).
    pub fn joining(
        id: UserId,
        email: Email,
        name: Option<String>,
        role: OrgBaseRole,
        added_at: Timestamp,
        created: Option<Timestamp>,
    ) -> Self {
        User {
            id,
            email,
            name,
            role,
            added_at,
            developer_persona: None,
            technical_level: None,
            created: created.unwrap_or(added_at),
            is_default: false,
            is_scim_managed: false,
            is_scale_tier_authorized_purchaser: false,
        }
    }
}

/// A member as the user routes answer them (the official `organization.user`): their row and
/// what is read beside it, in the same statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user: User,
    /// The latest use of any admin API key they own in the organization; `None` if none was
    /// ever used.
    pub api_key_last_used_at: Option<Timestamp>,
    /// Their direct project memberships in the organization, ordered by project ID.
    pub projects: Vec<MemberProject>,
}

/// One project a member belongs to, with their base role there.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberProject {
    pub id: ProjectId,
    pub name: String,
    pub role: ProjectBaseRole,
}

/// What a modify-user request asks for, after `role` and `role_id` have been reconciled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChange {
    pub base_role: Option<OrgBaseRole>,
    pub assign_custom_role: Option<crate::id::RoleId>,
    pub developer_persona: Option<String>,
    pub technical_level: Option<String>,
}

impl UserChange {
    /// Reconcile the `role` and `role_id` fields of a modify-user request: `role_id` naming a
    /// predefined base role changes the base role, naming a custom role assigns it; the two
    /// fields must not disagree.
    pub fn from_request(
        role: Option<&str>,
        role_id: Option<&str>,
        developer_persona: Option<String>,
        technical_level: Option<String>,
    ) -> Result<Self, DomainError> {
        let by_name = role.map(|r| OrgBaseRole::parse(r, "role")).transpose()?;
        let mut change = UserChange {
            base_role: by_name,
            developer_persona: developer_persona
                .map(|v| profile_field(v, "developer_persona"))
                .transpose()?,
            technical_level: technical_level
                .map(|v| profile_field(v, "technical_level"))
                .transpose()?,
            ..Default::default()
        };
        if let Some(raw) = role_id {
            match RoleRef::parse(raw) {
                RoleRef::Predefined {
                    role: predefined,
                    project: None,
                } => {
                    let Some(base) = predefined.org_base_role() else {
                        return Err(DomainError::invalid(
                            "role_id",
                            format!("'{raw}' is a project role; a user's organization role must be an organization role."),
                        ));
                    };
                    if by_name.is_some_and(|r| r != base) {
                        return Err(DomainError::invalid(
                            "role_id",
                            format!(
                                "role '{}' and role_id '{raw}' disagree; send one of them.",
                                by_name.map(|r| r.as_str()).unwrap_or_default()
                            ),
                        ));
                    }
                    change.base_role = Some(base);
                }
                RoleRef::Predefined {
                    project: Some(_), ..
                } => {
                    return Err(DomainError::invalid(
                        "role_id",
                        format!("'{raw}' is a project role; a user's organization role must be an organization role."),
                    ));
                }
                RoleRef::Custom(id) => {
                    if by_name.is_some() {
                        return Err(DomainError::invalid(
                            "role_id",
                            format!("role_id '{raw}' is a custom role and role names a base role; send one of them."),
                        ));
                    }
                    change.assign_custom_role = Some(id);
                }
            }
        }
        Ok(change)
    }
}

/// An organization: the tenant every other object belongs to. Only the operator API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub created_at: Timestamp,
    pub archived_at: Option<Timestamp>,
    pub is_default: bool,
    pub external_key_id: Option<String>,
    pub residency: Option<String>,
}

impl Project {
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// Refuse a change to an archived project ([`ensure_project_open`]).
    pub fn ensure_open(&self) -> Result<(), DomainError> {
        ensure_project_open(&self.id, self.is_archived())
    }
}

/// How long a new key (admin or service account) may live: from 1 s to a year, or unbounded
/// when not given. The one place that rule is written.
pub struct KeyLifetime;

impl KeyLifetime {
    /// The longest lifetime a key may be given (one year).
    pub const MAX_SECONDS: i64 = 31_536_000;

    /// Refuse an `expires_in_seconds` outside 1 s to a year (400 on `expires_in_seconds`).
    pub fn check(expires_in_seconds: Option<i64>) -> Result<Option<i64>, DomainError> {
        match expires_in_seconds {
            Some(secs) if !(1..=Self::MAX_SECONDS).contains(&secs) => Err(DomainError::invalid(
                "expires_in_seconds",
                format!(
                    "expires_in_seconds must be from 1 to {} (one year); omit it for a key that does not expire.",
                    Self::MAX_SECONDS
                ),
            )),
            other => Ok(other),
        }
    }
}

/// The one refusal of a change to an archived project: 409 `project_archived`, `param`
/// `project_id`. Archived projects keep their data, readable, and refuse every change.
pub fn ensure_project_open(project: &ProjectId, archived: bool) -> Result<(), DomainError> {
    if !archived {
        return Ok(());
    }
    Err(DomainError::conflict(
        crate::error::ConflictKind::ProjectArchived,
        format!(
            "Project {project} is archived: it keeps its data, but its settings, members, roles and service accounts can no longer be changed."
        ),
        Some("project_id"),
    ))
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewProject {
    pub name: String,
    pub external_key_id: Option<String>,
    pub residency: Option<String>,
}

/// A free-text profile field of a member (`developer_persona`, `technical_level`): at most 255
/// characters and no control characters, like a name.
fn profile_field(value: String, param: &str) -> Result<String, DomainError> {
    crate::text::check(&value, param, 255)?;
    Ok(value)
}

/// Absent fields are left unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectChange {
    pub name: Option<String>,
    pub external_key_id: Option<String>,
}

/// A user's membership of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectUser {
    pub user_id: UserId,
    pub email: Email,
    pub name: Option<String>,
    pub role: ProjectBaseRole,
    pub added_at: Timestamp,
}

/// Who to add to a project: an organization member named by ID or by email.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberRef {
    Id(UserId),
    Email(Email),
}

/// The status of an invite at a moment in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteStatus {
    Pending,
    Accepted,
    Expired,
}

impl InviteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Accepted => "accepted",
            InviteStatus::Expired => "expired",
        }
    }
}

/// The project role an invite grants; the official API allows `member` and `owner` here.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteProject {
    pub project_id: ProjectId,
    pub role: ProjectBaseRole,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    pub id: InviteId,
    pub email: Email,
    pub role: OrgBaseRole,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub projects: Vec<InviteProject>,
}

impl Invite {
    pub fn status(&self, now: Timestamp) -> InviteStatus {
        if self.accepted_at.is_some() {
            InviteStatus::Accepted
        } else if now >= self.expires_at {
            InviteStatus::Expired
        } else {
            InviteStatus::Pending
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewInvite {
    pub email: Email,
    pub role: OrgBaseRole,
    /// `None`: the default project as `member`; `Some(vec![])`: no project.
    pub projects: Option<Vec<InviteProject>>,
}

/// The user an admin key acts for, as shown in the key's `owner` field.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyOwner {
    pub id: UserId,
    pub name: Option<String>,
    pub added_at: Timestamp,
    pub role: OrgBaseRole,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdminKey {
    pub id: AdminKeyId,
    pub name: Option<String>,
    pub redacted_value: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub owner: KeyOwner,
    pub scopes: Option<PermissionSet>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAdminKey {
    pub name: Option<String>,
    /// SHA-256 of the secret; the secret itself is never stored.
    pub secret_hash: String,
    pub redacted_value: String,
    pub expires_in_seconds: Option<i64>,
    pub scopes: Option<PermissionSet>,
}

/// Where a principal's role comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentSource {
    pub principal_id: String,
    pub principal_type: &'static str,
}

/// A role held by a principal, with where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedRole {
    pub role: Role,
    pub sources: Vec<AssignmentSource>,
}

/// Is this predefined role a base role (changed through modify, never unassigned)?
pub fn is_base_role(role: PredefinedRole) -> bool {
    role.org_base_role().is_some() || role.project_base_role().is_some()
}

/// A group of organization members; roles granted to it reach every member.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: crate::id::GroupId,
    pub name: String,
    pub created_at: Timestamp,
    /// Written by SCIM provisioning (`/scim/v2/Groups`).
    pub is_scim_managed: bool,
}

/// A group's access to a project.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectGroup {
    pub project_id: ProjectId,
    pub group: Group,
    pub added_at: Timestamp,
}

impl AssignmentSource {
    pub fn user(id: &UserId) -> Self {
        AssignmentSource {
            principal_id: id.to_string(),
            principal_type: "user",
        }
    }

    pub fn group(id: &crate::id::GroupId) -> Self {
        AssignmentSource {
            principal_id: id.to_string(),
            principal_type: "group",
        }
    }
}

/// A service account's role in its project. `None` is the role of an account created with
/// `create_service_account_only`: it exists but holds no project role yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ServiceAccountRole {
    Owner,
    Member,
    /// Not a role a client gives, so not a command-line value.
    #[cfg_attr(feature = "clap", value(skip))]
    None,
}

impl ServiceAccountRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceAccountRole::Owner => "owner",
            ServiceAccountRole::Member => "member",
            ServiceAccountRole::None => "none",
        }
    }

    /// A role a client may give a service account (`owner` or `member`), named by `param`.
    pub fn parse(raw: &str, param: &str) -> Result<Self, DomainError> {
        match raw {
            "owner" => Ok(ServiceAccountRole::Owner),
            "member" => Ok(ServiceAccountRole::Member),
            other => Err(DomainError::invalid(
                param,
                format!(
                    "'{}' is not a service account role; use 'owner' or 'member'.",
                    crate::text::clip(other)
                ),
            )),
        }
    }

    /// What the role lets the account (and its keys) do in its project: the predefined project
    /// role of the same name, nothing for `none`.
    pub fn permissions(self) -> PermissionSet {
        match self {
            ServiceAccountRole::Owner => PredefinedRole::ProjectOwner.permissions(),
            ServiceAccountRole::Member => PredefinedRole::ProjectMember.permissions(),
            ServiceAccountRole::None => PermissionSet::EMPTY,
        }
    }

    pub fn from_stored(raw: &str) -> Self {
        match raw {
            "owner" => ServiceAccountRole::Owner,
            "member" => ServiceAccountRole::Member,
            _ => ServiceAccountRole::None,
        }
    }
}

/// A project service account: a principal of one project that is not a person. It belongs to
/// the project, not to the user who created it, and outlives them.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccount {
    pub id: crate::id::ServiceAccountId,
    pub project_id: ProjectId,
    pub name: String,
    pub role: ServiceAccountRole,
    pub created_at: Timestamp,
}

/// A new API key as the answer that shows its secret describes it: never the secret, which the
/// handler holds and shows this once.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectApiKey {
    pub id: crate::id::ProjectApiKeyId,
    pub name: String,
    pub redacted_value: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// The name the official API gives a service account's first key, and orgadmin a later one made
/// without a name.
pub const SERVICE_ACCOUNT_KEY_NAME: &str = "Secret Key";

/// The secret of a new project API key (a service account's first, or any later one).
#[derive(Debug, Clone, PartialEq)]
pub struct NewProjectApiKey {
    /// SHA-256 of the secret; the secret itself is never stored.
    pub secret_hash: String,
    pub redacted_value: String,
    pub expires_in_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewServiceAccount {
    pub name: String,
    /// `None` for `create_service_account_only`: no key, and role `none`.
    pub api_key: Option<NewProjectApiKey>,
}

/// Absent fields are left unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceAccountChange {
    pub name: Option<String>,
    pub role: Option<ServiceAccountRole>,
}

/// Who owns a project API key.
#[derive(Debug, Clone, PartialEq)]
pub enum ProjectKeyOwnerRef {
    User(UserId),
    ServiceAccount(crate::id::ServiceAccountId),
}

/// The user owning a project API key, as of now if they are a project member, otherwise as they
/// were when they lost access (their last project role).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectKeyUser {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    /// When the person first joined an organization here (`organization.user.created`).
    pub created: Timestamp,
    /// `owner`, `member` or `viewer`: their project role.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProjectKeyOwner {
    User(ProjectKeyUser),
    ServiceAccount(ServiceAccount),
}

/// A project API key (`organization.project.api_key`), owned by a project member or a service
/// account. Only the hash of its secret is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectKey {
    pub id: crate::id::ProjectApiKeyId,
    pub project_id: ProjectId,
    pub name: String,
    pub redacted_value: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// `None`: every permission its owner holds in the project.
    pub scopes: Option<PermissionSet>,
    pub owner: ProjectKeyOwner,
    /// Whether the owner has access to the project now (`owner_project_access`): a user who is
    /// a project member, or a service account (which exists only while it has access).
    pub owner_has_access: bool,
}

impl ProjectKey {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// `owner_project_access` of the project key list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OwnerAccess {
    /// Keys whose owner has access to the project (also what the list shows when not asked).
    #[default]
    Active,
    /// Keys whose owner has lost access to the project (removed from it or from the
    /// organization), kept until they are added back.
    Inactive,
    /// Both.
    Any,
}

impl OwnerAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerAccess::Active => "active",
            OwnerAccess::Inactive => "inactive",
            OwnerAccess::Any => "any",
        }
    }

    pub fn parse(raw: &str, param: &str) -> Result<Self, DomainError> {
        match raw {
            "active" => Ok(OwnerAccess::Active),
            "inactive" => Ok(OwnerAccess::Inactive),
            "any" => Ok(OwnerAccess::Any),
            other => Err(DomainError::invalid(
                param,
                format!(
                    "'{}' is not a value of {param}; use 'active', 'inactive' or 'any'.",
                    crate::text::clip(other)
                ),
            )),
        }
    }
}

/// A project key to create: its owner, name, secret (as a hash), scopes and lifetime.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProjectKey {
    pub owner: ProjectKeyOwnerRef,
    pub name: String,
    pub secret: NewProjectApiKey,
    /// `None`: every permission of the owner in the project.
    pub scopes: Option<PermissionSet>,
}

/// The update the official SDK sends: at least one field. `scopes: Some(None)` (an empty
/// array on the wire) lifts the key's restrictions, leaving it every permission of its owner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectKeyChange {
    pub scopes: Option<Option<PermissionSet>>,
    /// Seconds from the request until the key expires.
    pub expires_in_seconds: Option<i64>,
}

/// A presented project key that may act: active owner, unexpired, project not archived. What a
/// gateway asks before letting a request through.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedProjectKey {
    pub org_id: crate::id::OrgId,
    pub key: ProjectKey,
    /// What the key may do in its project: its owner's project permissions, limited by its scopes.
    pub permissions: PermissionSet,
}

/// One entry of the organization's user list: a person, or a project service account, which the
/// official API lists among users with `is_service_account: true`.
#[derive(Debug, Clone, PartialEq)]
pub enum OrgUser {
    Person(Member),
    ServiceAccount(ServiceAccount),
}
