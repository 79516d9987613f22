//! The `Store` trait implemented once over the shared operations; compiled into each backend
//! module (see "The store seam" in ARCHITECTURE.md).

use async_trait::async_trait;
use orgadmin_core::actor::{Actor, ReadAt};
use orgadmin_core::audit::{AuditEvent, AuditFilter};
use orgadmin_core::email::Email;
use orgadmin_core::id::*;
use orgadmin_core::import::{ImportOptions, ImportReport, ImportRows};
use orgadmin_core::model::*;
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::role::{ProjectBaseRole, Role, RoleRef, RoleScope};
use orgadmin_core::store::{BootstrapRequest, Bootstrapped, NewRole, RoleChange, StorageOutage};
use orgadmin_core::{Result, Store};

use crate::faults::FaultPoint;

use super::{
    audit, groups, import, invites, keys, projects, roles, service_accounts, users, Backend,
    DbResult, Tx,
};

impl Backend {
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    pub(crate) fn millis(&self) -> u64 {
        self.clock.now_millis()
    }

    /// Begin a write transaction for `actor`'s organization (`write_tx.rs`: the one place write transactions
    /// begin and end). Its first statement increments the organization's write generation,
    /// which cached authentications and reads are checked against (`auth_cache.rs`,
    /// `read_cache.rs`). On PostgreSQL that `UPDATE` is also the row lock that serializes the
    /// organization's writes across replicas until commit; on SQLite the single writer
    /// connection serializes the process's writes, and `BEGIN IMMEDIATE` takes the database's
    /// write lock against other processes.
    ///
    /// A write commits only if what it was authorized with still holds: when the generation
    /// moved since `actor` was authenticated (anything at all was written in the organization
    /// meanwhile), the key and its owner's permissions are checked again under the lock
    /// (`keys::reauthorize`).
    pub(crate) async fn begin_for(&self, actor: &Actor) -> Result<Tx> {
        let (mut tx, generation) = self.begin_in(&actor.org_id).await?;
        if generation != Some(actor.generation + 1) {
            keys::reauthorize(&mut tx, actor, self.now()).await?;
        }
        Ok(tx)
    }

    /// [`begin_for`](Self::begin_for) without a key to re-authorize: for the server-side
    /// administration (`orgadmin org key`), which has no actor. Returns the generation the
    /// transaction wrote (`None` for an organization that does not exist).
    pub(crate) async fn begin_in(&self, org: &OrgId) -> Result<(Tx, Option<i64>)> {
        let mut tx = Tx::begin(&self.writer, &self.guard.health, &self.guard.faults).await?;
        tx.fault_point(FaultPoint::Statement).await?;
        let generation: Option<i64> = sqlx::query_scalar(
            "UPDATE organizations SET generation = generation + 1 WHERE id = $1 RETURNING generation",
        )
        .bind(org.as_str())
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        Ok((tx, generation))
    }

    /// A write that only proves writes commit again (while an outage is in progress, for
    /// `/readyz`): it rewrites the one row of `storage_probe` with 64 KiB that do not compress,
    /// so it commits only where a write of a usual size has room.
    async fn probe_write(&self) -> Result<()> {
        let mut tx = Tx::begin(&self.writer, &self.guard.health, &self.guard.faults).await?;
        sqlx::query("UPDATE storage_probe SET probed_at = $1, pad = $2 WHERE id = 1")
            .bind(self.now())
            .bind(probe_payload())
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await
    }
}

#[async_trait]
impl Store for Backend {
    async fn ping(&self) -> Result<()> {
        self.guard
            .run(async {
                sqlx::query("SELECT 1").execute(&self.reader).await.db()?;
                if self.guard.health.current().is_some() {
                    self.probe_write().await?;
                }
                Ok(())
            })
            .await
    }

    async fn ping_reads(&self) -> Result<()> {
        self.guard
            .run(async {
                sqlx::query("SELECT 1").execute(&self.reader).await.db()?;
                Ok(())
            })
            .await
    }

    fn current_outage(&self) -> Option<StorageOutage> {
        self.guard.health.current()
    }

    async fn bootstrap_if_empty(&self, request: BootstrapRequest) -> Result<Option<Bootstrapped>> {
        self.guard
            .run(users::bootstrap_if_empty(self, request))
            .await
    }

    async fn create_organization(&self, request: BootstrapRequest) -> Result<Bootstrapped> {
        self.guard
            .run(users::create_organization(self, request))
            .await
    }

    async fn authenticate(&self, secret_hash: &str) -> Result<Option<Actor>> {
        self.guard.run(keys::authenticate(self, secret_hash)).await
    }

    async fn project_permissions(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<PermissionSet> {
        self.guard
            .run(roles::project_permissions(&self.reader, org, project, user))
            .await
    }

    async fn list_users(
        &self,
        at: ReadAt<'_>,
        emails: &[String],
        page: &PageRequest,
    ) -> Result<Page<User>> {
        self.guard.run(users::list(self, at, emails, page)).await
    }

    async fn get_user(&self, at: ReadAt<'_>, user: &UserId) -> Result<User> {
        self.guard.run(users::get_at(self, at, user)).await
    }

    async fn update_user(&self, actor: &Actor, user: &UserId, change: UserChange) -> Result<User> {
        self.guard
            .run(users::update(self, actor, user, change))
            .await
    }

    async fn remove_user(&self, actor: &Actor, user: &UserId) -> Result<()> {
        self.guard.run(users::remove(self, actor, user)).await
    }

    async fn list_user_roles(
        &self,
        org: &OrgId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        self.guard
            .run(roles::list_user_roles(self, org, None, user, page))
            .await
    }

    async fn get_user_role(
        &self,
        org: &OrgId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        self.guard
            .run(roles::get_user_role(self, org, None, user, role))
            .await
    }

    async fn assign_user_role(
        &self,
        actor: &Actor,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(User, Role)> {
        self.guard
            .run(roles::assign_user_role(self, actor, None, user, role))
            .await
    }

    async fn unassign_user_role(&self, actor: &Actor, user: &UserId, role: &RoleRef) -> Result<()> {
        self.guard
            .run(roles::unassign_user_role(self, actor, None, user, role))
            .await
    }

    async fn list_roles(
        &self,
        org: &OrgId,
        scope: &RoleScope,
        page: &PageRequest,
    ) -> Result<Page<Role>> {
        self.guard.run(roles::list(self, org, scope, page)).await
    }

    async fn get_role(&self, org: &OrgId, scope: &RoleScope, role: &RoleRef) -> Result<Role> {
        self.guard.run(roles::get(self, org, scope, role)).await
    }

    async fn create_role(&self, actor: &Actor, scope: &RoleScope, role: NewRole) -> Result<Role> {
        self.guard
            .run(roles::create(self, actor, scope, role))
            .await
    }

    async fn update_role(
        &self,
        actor: &Actor,
        scope: &RoleScope,
        role: &RoleRef,
        change: RoleChange,
    ) -> Result<Role> {
        self.guard
            .run(roles::update(self, actor, scope, role, change))
            .await
    }

    async fn delete_role(
        &self,
        actor: &Actor,
        scope: &RoleScope,
        role: &RoleRef,
    ) -> Result<String> {
        self.guard
            .run(roles::delete(self, actor, scope, role))
            .await
    }

    async fn list_projects(
        &self,
        org: &OrgId,
        include_archived: bool,
        page: &PageRequest,
    ) -> Result<Page<Project>> {
        self.guard
            .run(projects::list(self, org, include_archived, page))
            .await
    }

    async fn get_project(&self, org: &OrgId, project: &ProjectId) -> Result<Project> {
        self.guard
            .run(projects::get(&self.reader, org, project))
            .await
    }

    async fn create_project(&self, actor: &Actor, project: NewProject) -> Result<Project> {
        self.guard.run(projects::create(self, actor, project)).await
    }

    async fn update_project(
        &self,
        actor: &Actor,
        project: &ProjectId,
        change: ProjectChange,
    ) -> Result<Project> {
        self.guard
            .run(projects::update(self, actor, project, change))
            .await
    }

    async fn archive_project(&self, actor: &Actor, project: &ProjectId) -> Result<Project> {
        self.guard
            .run(projects::archive(self, actor, project))
            .await
    }

    async fn list_project_users(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectUser>> {
        self.guard
            .run(projects::list_users(self, org, project, page))
            .await
    }

    async fn get_project_user(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<ProjectUser> {
        self.guard
            .run(projects::get_user(self, org, project, user))
            .await
    }

    async fn add_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        who: &MemberRef,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser> {
        self.guard
            .run(projects::add_user(self, actor, project, who, role))
            .await
    }

    async fn update_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser> {
        self.guard
            .run(projects::update_user(self, actor, project, user, role))
            .await
    }

    async fn remove_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<()> {
        self.guard
            .run(projects::remove_user(self, actor, project, user))
            .await
    }

    async fn list_project_user_roles(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        self.guard
            .run(roles::list_user_roles(self, org, Some(project), user, page))
            .await
    }

    async fn get_project_user_role(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        self.guard
            .run(roles::get_user_role(self, org, Some(project), user, role))
            .await
    }

    async fn assign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(User, Role)> {
        self.guard
            .run(roles::assign_user_role(
                self,
                actor,
                Some(project),
                user,
                role,
            ))
            .await
    }

    async fn unassign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<()> {
        self.guard
            .run(roles::unassign_user_role(
                self,
                actor,
                Some(project),
                user,
                role,
            ))
            .await
    }

    async fn list_invites(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Invite>> {
        self.guard.run(invites::list(self, org, page)).await
    }

    async fn get_invite(&self, org: &OrgId, invite: &InviteId) -> Result<Invite> {
        self.guard
            .run(invites::get(&self.reader, org, invite))
            .await
    }

    async fn create_invite(&self, actor: &Actor, invite: NewInvite) -> Result<Invite> {
        self.guard.run(invites::create(self, actor, invite)).await
    }

    async fn delete_invite(&self, actor: &Actor, invite: &InviteId) -> Result<()> {
        self.guard.run(invites::delete(self, actor, invite)).await
    }

    async fn accept_invite(
        &self,
        actor: &Actor,
        invite: &InviteId,
        name: Option<String>,
    ) -> Result<User> {
        self.guard
            .run(invites::accept(self, actor, invite, name))
            .await
    }

    async fn list_admin_keys(&self, org: &OrgId, page: &PageRequest) -> Result<Page<AdminKey>> {
        self.guard.run(keys::list(self, org, page)).await
    }

    async fn get_admin_key(&self, org: &OrgId, key: &AdminKeyId) -> Result<AdminKey> {
        self.guard.run(keys::get(&self.reader, org, key)).await
    }

    async fn create_admin_key(&self, actor: &Actor, key: NewAdminKey) -> Result<AdminKey> {
        self.guard.run(keys::create(self, actor, key)).await
    }

    async fn recover_admin_key(
        &self,
        org: &OrgId,
        owner_email: Option<&Email>,
        key: NewAdminKey,
    ) -> Result<AdminKey> {
        keys::recover(self, org, owner_email, key).await
    }

    async fn delete_admin_key(&self, actor: &Actor, key: &AdminKeyId) -> Result<()> {
        self.guard.run(keys::delete(self, actor, key)).await
    }

    async fn list_groups(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Group>> {
        self.guard.run(groups::list(self, org, page)).await
    }

    async fn get_group(&self, org: &OrgId, group: &GroupId) -> Result<Group> {
        self.guard.run(groups::get(&self.reader, org, group)).await
    }

    async fn create_group(&self, actor: &Actor, name: String) -> Result<Group> {
        self.guard.run(groups::create(self, actor, name)).await
    }

    async fn rename_group(&self, actor: &Actor, group: &GroupId, name: String) -> Result<Group> {
        self.guard
            .run(groups::rename(self, actor, group, name))
            .await
    }

    async fn delete_group(&self, actor: &Actor, group: &GroupId) -> Result<()> {
        self.guard.run(groups::delete(self, actor, group)).await
    }

    async fn list_group_users(
        &self,
        org: &OrgId,
        group: &GroupId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        self.guard
            .run(groups::list_users(self, org, group, page))
            .await
    }

    async fn get_group_user(&self, org: &OrgId, group: &GroupId, user: &UserId) -> Result<User> {
        self.guard
            .run(groups::get_user(self, org, group, user))
            .await
    }

    async fn add_group_user(&self, actor: &Actor, group: &GroupId, user: &UserId) -> Result<()> {
        self.guard
            .run(groups::add_user(self, actor, group, user))
            .await
    }

    async fn remove_group_user(&self, actor: &Actor, group: &GroupId, user: &UserId) -> Result<()> {
        self.guard
            .run(groups::remove_user(self, actor, group, user))
            .await
    }

    async fn list_group_roles(
        &self,
        org: &OrgId,
        project: Option<&ProjectId>,
        group: &GroupId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        self.guard
            .run(groups::list_roles(self, org, project, group, page))
            .await
    }

    async fn get_group_role(
        &self,
        org: &OrgId,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        self.guard
            .run(groups::get_role(self, org, project, group, role))
            .await
    }

    async fn assign_group_role(
        &self,
        actor: &Actor,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<(Group, Role)> {
        self.guard
            .run(groups::assign_role(self, actor, project, group, role))
            .await
    }

    async fn unassign_group_role(
        &self,
        actor: &Actor,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<()> {
        self.guard
            .run(groups::unassign_role(self, actor, project, group, role))
            .await
    }

    async fn list_project_groups(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectGroup>> {
        self.guard
            .run(groups::list_project_groups(self, org, project, page))
            .await
    }

    async fn get_project_group(
        &self,
        org: &OrgId,
        project: &ProjectId,
        group: &GroupId,
    ) -> Result<ProjectGroup> {
        self.guard
            .run(groups::get_project_group(self, org, project, group))
            .await
    }

    async fn add_project_group(
        &self,
        actor: &Actor,
        project: &ProjectId,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<ProjectGroup> {
        self.guard
            .run(groups::add_project_group(self, actor, project, group, role))
            .await
    }

    async fn remove_project_group(
        &self,
        actor: &Actor,
        project: &ProjectId,
        group: &GroupId,
    ) -> Result<()> {
        self.guard
            .run(groups::remove_project_group(self, actor, project, group))
            .await
    }

    async fn user_access(
        &self,
        org: &OrgId,
        user: &UserId,
        project: Option<&ProjectId>,
    ) -> Result<Vec<AssignedRole>> {
        self.guard
            .run(roles::user_access(self, org, user, project))
            .await
    }

    async fn list_service_accounts(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ServiceAccount>> {
        self.guard
            .run(service_accounts::list(self, org, project, page))
            .await
    }

    async fn get_service_account(
        &self,
        org: &OrgId,
        project: &ProjectId,
        account: &ServiceAccountId,
    ) -> Result<ServiceAccount> {
        self.guard
            .run(service_accounts::get(self, org, project, account))
            .await
    }

    async fn create_service_account(
        &self,
        actor: &Actor,
        project: &ProjectId,
        new: NewServiceAccount,
    ) -> Result<(ServiceAccount, Option<ProjectApiKey>)> {
        self.guard
            .run(service_accounts::create(self, actor, project, new))
            .await
    }

    async fn update_service_account(
        &self,
        actor: &Actor,
        project: &ProjectId,
        account: &ServiceAccountId,
        change: ServiceAccountChange,
    ) -> Result<ServiceAccount> {
        self.guard
            .run(service_accounts::update(
                self, actor, project, account, change,
            ))
            .await
    }

    async fn delete_service_account(
        &self,
        actor: &Actor,
        project: &ProjectId,
        account: &ServiceAccountId,
    ) -> Result<()> {
        self.guard
            .run(service_accounts::delete(self, actor, project, account))
            .await
    }

    async fn list_users_with_service_accounts(
        &self,
        at: ReadAt<'_>,
        page: &PageRequest,
    ) -> Result<Page<OrgUser>> {
        self.guard
            .run(service_accounts::list_with_users(self, at, page))
            .await
    }

    async fn find_service_account(
        &self,
        org: &OrgId,
        account: &ServiceAccountId,
    ) -> Result<Option<ServiceAccount>> {
        self.guard
            .run(service_accounts::find_in_org(&self.reader, org, account))
            .await
    }

    async fn import_users(
        &self,
        actor: &Actor,
        rows: ImportRows<'_>,
        options: &ImportOptions,
    ) -> Result<ImportReport> {
        import::import_users(self, actor, rows, options).await
    }

    async fn list_audit_logs(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>> {
        self.guard.run(audit::list(self, org, filter, page)).await
    }
}

/// 64 KiB of bytes that do not compress (PostgreSQL would shrink zeros to nothing).
fn probe_payload() -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..64 * 1024)
        .map(|_| {
            // xorshift32: cheap bytes that no compressor shrinks.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}
