//! The storage seam: one trait per resource ([`UserStore`], [`ProjectStore`], [`GroupStore`],
//! …), and [`Store`], which is all of them and the one name the server holds
//! (`Arc<dyn Store>`, whose methods need no import). Every method reads
//! like the domain operation it performs; each write runs in one transaction together with the
//! audit event it writes, and enforces the rules of SPEC §3 there, so they hold under concurrent
//! requests and across server replicas.
//!
//! Reads take the organization to look in; writes take the [`Actor`], which carries it. Every
//! lookup is confined to that organization: a foreign ID is "not found", exactly like a missing
//! one.

use async_trait::async_trait;

use crate::actor::{Actor, ReadAt};
use crate::audit::{AuditEvent, AuditFilter};
use crate::catalogue::RateLimits;
use crate::clock::{ClockChange, ClockReading};
use crate::email::Email;
use crate::error::Result;
use crate::fixture::Seed;
use crate::id::{
    AdminKeyId, GroupId, InviteId, OrgId, ProjectApiKeyId, ProjectId, ServiceAccountId, UserId,
};
use crate::import::{ImportOptions, ImportReport, ImportRows};
use crate::model::*;
use crate::page::{Page, PageRequest};
use crate::permission::PermissionSet;
use crate::policy::{HostedTools, HostedToolsChange, ModelPermissions};
use crate::role::{OrgBaseRole, ProjectBaseRole, Role, RoleName, RoleRef, RoleScope};
use crate::snapshot::{OrganizationSnapshot, RestoredOrganization};

/// A connection pool of the store as it is now, for the server's metrics: `size` connections
/// open, `idle` of them idle, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// `writer` and `reader` (a SQLite file), or `shared` (one pool for both: PostgreSQL,
    /// SQLite in memory).
    pub pool: &'static str,
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// A storage outage in progress, as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageOutage {
    pub kind: crate::error::OutageKind,
    /// Unix seconds of the first request that met it.
    pub since: crate::clock::Timestamp,
    /// What the database said first.
    pub detail: String,
}

/// Whether a person has one user ID on the whole server or a fresh one in each organization
/// (`--user-ids`). A store option: it decides what accepting an invite, importing a member and
/// creating an organization's owner give a person already known in another organization.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserIds {
    /// The same ID in every organization, as the real Admin API does. Anyone who can add a
    /// member learns from the ID whether that person belongs to another organization here, and
    /// when they first joined one (IDs are time-ordered).
    #[default]
    Global,
    /// A fresh ID in each organization: nothing about membership elsewhere can be learned.
    PerOrganization,
}

impl UserIds {
    pub fn as_str(self) -> &'static str {
        match self {
            UserIds::Global => "global",
            UserIds::PerOrganization => "per-organization",
        }
    }
}

impl std::str::FromStr for UserIds {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "global" => Ok(UserIds::Global),
            "per-organization" => Ok(UserIds::PerOrganization),
            other => Err(format!(
                "'{other}' is not a user ID mode: expected 'global' or 'per-organization'"
            )),
        }
    }
}

/// How a PostgreSQL server knows an organization's version (`--consistency`): what trades a
/// statement per request against how soon a change made through another replica binds here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Consistency {
    /// Every request reads the organization's version from the database: a change made through
    /// any replica binds the very next request everywhere.
    #[default]
    Strict,
    /// The version is remembered and forgotten when another replica's commit is notified
    /// (`LISTEN`/`NOTIFY`): a request answered from memory issues no statement, and a change
    /// made elsewhere binds here once its notification arrives (milliseconds; the figures are
    /// in BENCHMARKS.md). Strict while the listening connection is down. On SQLite the same as
    /// `Strict`: one process owns the file, so its memory is exact.
    Bounded,
}

impl Consistency {
    pub fn as_str(self) -> &'static str {
        match self {
            Consistency::Strict => "strict",
            Consistency::Bounded => "bounded",
        }
    }
}

impl std::str::FromStr for Consistency {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "strict" => Ok(Consistency::Strict),
            "bounded" => Ok(Consistency::Bounded),
            other => Err(format!(
                "'{other}' is not a consistency mode: expected 'strict' or 'bounded'"
            )),
        }
    }
}

/// What the first start of an empty database creates.
#[derive(Debug, Clone)]
pub struct BootstrapRequest {
    pub organization_name: String,
    pub owner_email: Email,
    pub owner_name: Option<String>,
    /// The secret of the first admin key (already chosen: supplied by the operator or random).
    pub admin_key_secret: String,
    /// What a fixture adds to creation (`crate::fixture`), written in the same transaction and
    /// kept, so that a reset writes it again.
    pub fixture: Option<SeededFixture>,
}

/// A compiled fixture as creation takes it: the owner's fixed ID, if the fixture gives one, and
/// the seed (whose default project is the one creation makes).
#[derive(Debug, Clone)]
pub struct SeededFixture {
    pub owner_id: Option<UserId>,
    pub seed: Seed,
}

/// What creating an organization made (or what a reset made again), as the store wrote it:
/// answered from the insert, with no read after the commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrapped {
    pub organization: Organization,
    /// The owner as a member answer shows them: in the default project alone, no key used yet.
    pub owner: Member,
    pub default_project: Project,
    /// The owner's first admin key (its secret is the caller's: the store keeps only its hash).
    pub admin_key: AdminKey,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewRole {
    pub name: RoleName,
    pub description: Option<String>,
    pub permissions: PermissionSet,
}

/// Absent fields are left unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleChange {
    pub name: Option<RoleName>,
    pub description: Option<String>,
    pub permissions: Option<PermissionSet>,
}

/// Everything the server asks of its storage: one name for all the per-resource traits, which
/// every backend implements (beside its operations, in `crates/store/src/ops/`). Their methods are
/// called through `dyn Store` with no import, as a trait object's supertrait methods are.
pub trait Store:
    HealthStore
    + OrganizationStore
    + AdminKeyStore
    + UserStore
    + RoleStore
    + RoleAssignmentStore
    + ProjectStore
    + InviteStore
    + GroupStore
    + ServiceAccountStore
    + ProjectKeyStore
    + ProjectPolicyStore
    + ImportStore
    + AuditStore
    + crate::scim::ScimStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: HealthStore
        + OrganizationStore
        + AdminKeyStore
        + UserStore
        + RoleStore
        + RoleAssignmentStore
        + ProjectStore
        + InviteStore
        + GroupStore
        + ServiceAccountStore
        + ProjectKeyStore
        + ProjectPolicyStore
        + ImportStore
        + AuditStore
        + crate::scim::ScimStore
        + Send
        + Sync
        + 'static
{
}

/// Whether the database answers, for `/healthz` and `/readyz`.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Is the database reachable, and, while a storage outage is in progress, does a write
    /// commit again? `Ok` when both hold.
    async fn ping(&self) -> Result<()>;

    /// Do reads work? (They go on while writes are refused, on a full disk for example.)
    async fn ping_reads(&self) -> Result<()>;

    /// The storage outage in progress (the first request that met it opened it; the first
    /// commit after it closes it), if any.
    fn current_outage(&self) -> Option<StorageOutage>;

    /// The store's connection pools as they are now (read at each scrape of `/metrics`).
    fn pool_use(&self) -> Vec<PoolUse>;
}

/// The server's organizations: the first start's bootstrap, and the operator API's create, list,
/// retrieve, delete and reset (`/_orgadmin/organizations…`), and each organization's clock.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Create the first organization, its owner, default project and admin key, unless an
    /// organization exists already (then `None`). Safe when several servers start at once.
    async fn bootstrap_if_empty(&self, request: BootstrapRequest) -> Result<Option<Bootstrapped>>;

    /// Create another organization (with its owner, default project and admin key) in the same
    /// database: one server can hold many isolated organizations.
    async fn create_organization(&self, request: BootstrapRequest) -> Result<Bootstrapped>;
    /// One organization; `NotFound` (param `org_id`) for one that does not exist.
    async fn get_organization(&self, org: &OrgId) -> Result<Organization>;

    /// Every row of the organization, table by table (`snapshot.rs`); `NotFound` for an
    /// organization that does not exist.
    async fn snapshot_organization(&self, org: &OrgId) -> Result<OrganizationSnapshot>;
    /// Replace everything in the organization by the snapshot's rows and take its name and
    /// creation time, in one transaction that also increments its write generation (so every
    /// server forgets what it remembered of it). A snapshot of another backend or schema
    /// version, or one the schema refuses, is `Invalid` and changes nothing.
    async fn restore_organization(&self, org: &OrgId, snapshot: OrganizationSnapshot)
        -> Result<()>;
    /// The snapshot restored as a new organization: a new organization ID, every other ID
    /// kept, every admin and project API key given a new secret.
    async fn restore_organization_as_new(
        &self,
        snapshot: OrganizationSnapshot,
    ) -> Result<RestoredOrganization>;

    /// What `org`'s clock shows now (NotFound for an unknown organization).
    async fn get_org_clock(&self, org: &OrgId) -> Result<ClockReading>;

    /// Change `org`'s clock, in a transaction that increments its write generation, so every
    /// authentication and answer remembered by any server sees the new time at its next
    /// request. Writes no audit event: the operator moves the clock, not an admin.
    async fn change_org_clock(&self, org: &OrgId, change: ClockChange) -> Result<ClockReading>;
    /// A page of the server's organizations, oldest first, keyset-paged by ID.
    async fn list_organizations(&self, page: &PageRequest) -> Result<Page<Organization>>;
    /// Remove an organization and everything in it, in one transaction; its keys authenticate
    /// nothing from the commit on, on every server. `NotFound` (param `org_id`) for one that does
    /// not exist.
    async fn delete_organization(&self, org: &OrgId) -> Result<()>;
    /// Bring an organization back to the state right after it was created, in one transaction:
    /// the owner, default project and first admin key it was created with, under the same IDs
    /// (the key with the same secret, recreated if it was deleted), and nothing else. Answers
    /// those IDs. `NotFound` (param `org_id`) for one that does not exist; a conflict
    /// (`not_resettable`) for one created before the server recorded what creation made and
    /// whose first owner or admin key was gone by then; a conflict on `admin_key` when another
    /// organization uses that secret now.
    async fn reset_organization(&self, org: &OrgId) -> Result<Bootstrapped>;
}

/// Admin API keys: authenticating a presented key, and the keys' lifecycle.
#[async_trait]
pub trait AdminKeyStore: Send + Sync {
    /// Resolve a presented secret (by its hash) to the acting principal with its current
    /// organization permissions. `None` when the key is unknown, revoked or expired.
    async fn authenticate(&self, secret_hash: &str) -> Result<Option<Actor>>;
    async fn list_admin_keys(&self, org: &OrgId, page: &PageRequest) -> Result<Page<AdminKey>>;
    async fn get_admin_key(&self, org: &OrgId, key: &AdminKeyId) -> Result<AdminKey>;

    /// The new key is owned by the actor's user.
    async fn create_admin_key(&self, actor: &Actor, key: NewAdminKey) -> Result<AdminKey>;
    async fn delete_admin_key(&self, actor: &Actor, key: &AdminKeyId) -> Result<()>;

    /// Server-side recovery (`orgadmin org key`): a new unscoped, unexpiring key owned by the
    /// member of `org` with `owner_email`, who must be an owner, or by its longest-standing
    /// owner. For an organization whose every key was deleted; no actor is needed.
    async fn recover_admin_key(
        &self,
        org: &OrgId,
        owner_email: Option<&Email>,
        key: NewAdminKey,
    ) -> Result<AdminKey>;
}

/// The organization's members.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Members ordered by ID; `emails` (lower-cased) filters when not empty.
    async fn list_users(
        &self,
        at: ReadAt<'_>,
        emails: &[String],
        page: &PageRequest,
    ) -> Result<Page<Member>>;
    async fn get_user(&self, at: ReadAt<'_>, user: &UserId) -> Result<Member>;
    async fn update_user(&self, actor: &Actor, user: &UserId, change: UserChange)
        -> Result<Member>;

    /// Remove from the organization, with every project membership, role assignment and admin
    /// key of theirs. Refused for the last owner.
    async fn remove_user(&self, actor: &Actor, user: &UserId) -> Result<()>;
}

/// Custom roles of the organization and of its projects (the predefined ones listed among them).
#[async_trait]
pub trait RoleStore: Send + Sync {
    async fn list_roles(
        &self,
        org: &OrgId,
        scope: &RoleScope,
        page: &PageRequest,
    ) -> Result<Page<Role>>;
    async fn get_role(&self, org: &OrgId, scope: &RoleScope, role: &RoleRef) -> Result<Role>;
    async fn create_role(&self, actor: &Actor, scope: &RoleScope, role: NewRole) -> Result<Role>;
    async fn update_role(
        &self,
        actor: &Actor,
        scope: &RoleScope,
        role: &RoleRef,
        change: RoleChange,
    ) -> Result<Role>;
    async fn delete_role(&self, actor: &Actor, scope: &RoleScope, role: &RoleRef)
        -> Result<String>;
}

/// Roles assigned to users, in the organization and in projects, and what a user holds.
#[async_trait]
pub trait RoleAssignmentStore: Send + Sync {
    /// Remembered per organization version (`at`), as every list of roles is.
    async fn list_user_roles(
        &self,
        at: ReadAt<'_>,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>>;
    async fn get_user_role(
        &self,
        org: &OrgId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole>;
    async fn assign_user_role(
        &self,
        actor: &Actor,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(Member, Role)>;
    async fn unassign_user_role(&self, actor: &Actor, user: &UserId, role: &RoleRef) -> Result<()>;
    async fn list_project_user_roles(
        &self,
        at: ReadAt<'_>,
        project: &ProjectId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>>;
    async fn get_project_user_role(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole>;
    async fn assign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(Member, Role)>;
    async fn unassign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<()>;

    /// The project permissions `user` holds in `project` (base project role and custom project
    /// roles); empty when not a member. Remembered per organization version (`at`): every
    /// project route asks it of a key without the permission in the organization.
    async fn project_permissions(
        &self,
        at: ReadAt<'_>,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<PermissionSet>;

    /// Every role `user` holds in the organization (and, with `project`, in that project), with
    /// where each comes from: the answer to "why may this user do that".
    async fn user_access(
        &self,
        org: &OrgId,
        user: &UserId,
        project: Option<&ProjectId>,
    ) -> Result<Vec<AssignedRole>>;
}

/// Projects and their members.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    async fn list_projects(
        &self,
        org: &OrgId,
        include_archived: bool,
        page: &PageRequest,
    ) -> Result<Page<Project>>;
    async fn get_project(&self, org: &OrgId, project: &ProjectId) -> Result<Project>;
    async fn create_project(&self, actor: &Actor, project: NewProject) -> Result<Project>;
    async fn update_project(
        &self,
        actor: &Actor,
        project: &ProjectId,
        change: ProjectChange,
    ) -> Result<Project>;
    async fn archive_project(&self, actor: &Actor, project: &ProjectId) -> Result<Project>;
    /// Remembered per organization version (`at`).
    async fn list_project_users(
        &self,
        at: ReadAt<'_>,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectUser>>;
    async fn get_project_user(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<ProjectUser>;
    async fn add_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        who: &MemberRef,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser>;
    async fn update_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser>;
    async fn remove_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<()>;
}

/// Invitations to the organization.
#[async_trait]
pub trait InviteStore: Send + Sync {
    async fn list_invites(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Invite>>;
    async fn get_invite(&self, org: &OrgId, invite: &InviteId) -> Result<Invite>;
    async fn create_invite(&self, actor: &Actor, invite: NewInvite) -> Result<Invite>;
    async fn delete_invite(&self, actor: &Actor, invite: &InviteId) -> Result<()>;

    /// Accept as the invitee would: they become a member with the invite's role and projects.
    async fn accept_invite(
        &self,
        actor: &Actor,
        invite: &InviteId,
        name: Option<String>,
    ) -> Result<Member>;
}

/// Groups, their members, their roles and their access to projects.
#[async_trait]
pub trait GroupStore: Send + Sync {
    async fn list_groups(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Group>>;
    async fn get_group(&self, org: &OrgId, group: &GroupId) -> Result<Group>;
    async fn create_group(&self, actor: &Actor, name: String) -> Result<Group>;
    async fn rename_group(&self, actor: &Actor, group: &GroupId, name: String) -> Result<Group>;

    /// Delete the group with its memberships, project access and role assignments: what it
    /// granted its members is withdrawn at once.
    async fn delete_group(&self, actor: &Actor, group: &GroupId) -> Result<()>;
    async fn list_group_users(
        &self,
        org: &OrgId,
        group: &GroupId,
        page: &PageRequest,
    ) -> Result<Page<User>>;
    async fn get_group_user(&self, org: &OrgId, group: &GroupId, user: &UserId) -> Result<User>;

    /// Idempotent: adding a member twice leaves one membership.
    async fn add_group_user(&self, actor: &Actor, group: &GroupId, user: &UserId) -> Result<()>;
    async fn remove_group_user(&self, actor: &Actor, group: &GroupId, user: &UserId) -> Result<()>;

    /// Roles granted to a group in the organization (`project` `None`) or in a project the group
    /// has access to.
    async fn list_group_roles(
        &self,
        at: ReadAt<'_>,
        project: Option<&ProjectId>,
        group: &GroupId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>>;
    async fn get_group_role(
        &self,
        org: &OrgId,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<AssignedRole>;
    async fn assign_group_role(
        &self,
        actor: &Actor,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<(Group, Role)>;
    async fn unassign_group_role(
        &self,
        actor: &Actor,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<()>;
    async fn list_project_groups(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectGroup>>;
    async fn get_project_group(
        &self,
        org: &OrgId,
        project: &ProjectId,
        group: &GroupId,
    ) -> Result<ProjectGroup>;

    /// Give a group access to a project with a project role.
    async fn add_project_group(
        &self,
        actor: &Actor,
        project: &ProjectId,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<ProjectGroup>;

    /// Revoke a group's access to a project, with every role it held there.
    async fn remove_project_group(
        &self,
        actor: &Actor,
        project: &ProjectId,
        group: &GroupId,
    ) -> Result<()>;
}

/// Projects' service accounts.
#[async_trait]
pub trait ServiceAccountStore: Send + Sync {
    /// The service accounts of `project`, ordered by ID.
    async fn list_service_accounts(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ServiceAccount>>;
    async fn get_service_account(
        &self,
        org: &OrgId,
        project: &ProjectId,
        account: &ServiceAccountId,
    ) -> Result<ServiceAccount>;

    /// Create a service account in an active project: role `member` with its first API key, or
    /// role `none` and no key when `new.api_key` is `None`.
    async fn create_service_account(
        &self,
        actor: &Actor,
        project: &ProjectId,
        new: NewServiceAccount,
    ) -> Result<(ServiceAccount, Option<ProjectApiKey>)>;
    async fn update_service_account(
        &self,
        actor: &Actor,
        project: &ProjectId,
        account: &ServiceAccountId,
        change: ServiceAccountChange,
    ) -> Result<ServiceAccount>;

    /// Delete the service account together with its API keys.
    async fn delete_service_account(
        &self,
        actor: &Actor,
        project: &ProjectId,
        account: &ServiceAccountId,
    ) -> Result<()>;

    /// The organization's members with its service accounts (of every project) among them,
    /// ordered by ID: what the official user list shows, service accounts marked
    /// `is_service_account`.
    async fn list_users_with_service_accounts(
        &self,
        at: ReadAt<'_>,
        page: &PageRequest,
    ) -> Result<Page<OrgUser>>;

    /// A service account of any project of the organization, by ID alone.
    async fn find_service_account(
        &self,
        org: &OrgId,
        account: &ServiceAccountId,
    ) -> Result<Option<ServiceAccount>>;
}

/// Projects' API keys, owned by project members and by service accounts.
#[async_trait]
pub trait ProjectKeyStore: Send + Sync {
    /// The project's API keys whose owner's access is `access`, ordered by ID.
    async fn list_project_keys(
        &self,
        org: &OrgId,
        project: &ProjectId,
        access: OwnerAccess,
        page: &PageRequest,
    ) -> Result<Page<ProjectKey>>;
    async fn get_project_key(
        &self,
        org: &OrgId,
        project: &ProjectId,
        key: &ProjectApiKeyId,
    ) -> Result<ProjectKey>;

    /// A new key of a project member or of a service account of the (active) project; its
    /// scopes, or the owner's permissions for an unscoped key, must be within what the acting
    /// key holds there, and it may not outlive the acting key.
    async fn create_project_key(
        &self,
        actor: &Actor,
        project: &ProjectId,
        new: NewProjectKey,
    ) -> Result<ProjectKey>;

    /// Change an unexpired key's scopes and/or expiry, under the same rules as creation.
    async fn update_project_key(
        &self,
        actor: &Actor,
        project: &ProjectId,
        key: &ProjectApiKeyId,
        change: ProjectKeyChange,
    ) -> Result<ProjectKey>;
    async fn delete_project_key(
        &self,
        actor: &Actor,
        project: &ProjectId,
        key: &ProjectApiKeyId,
    ) -> Result<()>;

    /// The key whose secret hashes to `secret_hash`, if it may act now: its owner has access to
    /// the project, it has not expired and the project is not archived. Otherwise `None`, as
    /// for an unknown secret. A use refreshes its `last_used_at` (at most once a minute).
    async fn resolve_project_key(&self, secret_hash: &str) -> Result<Option<ResolvedProjectKey>>;
}

/// What a project may use: its model permissions, hosted tools and rate limit overrides. The
/// store keeps what was set; the model catalogue (configuration, in the server) gives the models
/// and the organization's limits, and checks a change before it reaches the store. Reads work on
/// archived projects; changes are refused there (409 `project_archived`). Each change is audited:
/// `project.updated` for model permissions and hosted tools, `rate_limit.updated` for a limit.
#[async_trait]
pub trait ProjectPolicyStore: Send + Sync {
    /// The project's model permissions; `None` when none are set.
    async fn get_model_permissions(
        &self,
        org: &OrgId,
        project: &ProjectId,
    ) -> Result<Option<ModelPermissions>>;

    /// Replace the project's model permissions.
    async fn set_model_permissions(
        &self,
        actor: &Actor,
        project: &ProjectId,
        policy: ModelPermissions,
    ) -> Result<ModelPermissions>;

    /// Remove the project's model permissions (nothing denied again); whether there were any.
    /// Removing none writes no audit event.
    async fn delete_model_permissions(&self, actor: &Actor, project: &ProjectId) -> Result<bool>;

    async fn get_hosted_tools(&self, org: &OrgId, project: &ProjectId) -> Result<HostedTools>;

    /// Enable or disable the named tools; the others stay as they are.
    async fn update_hosted_tools(
        &self,
        actor: &Actor,
        project: &ProjectId,
        change: &HostedToolsChange,
    ) -> Result<HostedTools>;

    /// The project's stored rate limit overrides, by model ID (any order).
    async fn rate_limit_overrides(
        &self,
        org: &OrgId,
        project: &ProjectId,
    ) -> Result<Vec<(String, RateLimits)>>;

    /// Store `change` over the project's override for `model` (fields it leaves out keep their
    /// value), audited as `rate_limit.updated` of `rate_limit_id`; the whole override after it.
    async fn update_rate_limit(
        &self,
        actor: &Actor,
        project: &ProjectId,
        rate_limit_id: &str,
        model: &str,
        change: RateLimits,
    ) -> Result<RateLimits>;
}

/// Bulk import of members (`POST /v1/organization/users/import`).
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Import members (`POST /v1/organization/users/import`) in ONE transaction, holding the organization's
    /// write lock throughout: each row creates a member (with its project memberships), updates
    /// one whose role, name or listed memberships differ, or is skipped when nothing differs;
    /// nothing is ever removed. Every change writes the audit events the API writes for it, with
    /// `actor` as actor. Invalid rows are reported by line; unless `options.skip_invalid`, one
    /// invalid row means nothing is written, and a dry run writes nothing either.
    async fn import_users(
        &self,
        actor: &Actor,
        rows: ImportRows<'_>,
        options: &ImportOptions,
    ) -> Result<ImportReport>;
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn list_audit_logs(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>>;
}

/// Convenience for role-scope checks shared by the backends.
pub fn org_base_role_of(role: &RoleRef) -> Option<OrgBaseRole> {
    match role {
        RoleRef::Predefined {
            role,
            project: None,
        } => role.org_base_role(),
        _ => None,
    }
}
