//! The PostgreSQL backend, for running several server replicas against one database.
//!
//! Correctness across replicas comes from the database, never from process memory: every write
//! transaction first locks its organization's row (`SELECT … FOR UPDATE`), so the writes of one
//! organization are serialized across all replicas exactly as the SQLite backend serializes them
//! on its single writer connection, and a rule checked at the start of a transaction still holds
//! at its commit. Unique keys back the membership and role-name rules as well. The first-start
//! bootstrap holds a transaction-scoped advisory lock, so replicas starting together create one
//! organization. An unreachable database makes requests fail fast (`Unavailable`, HTTP 503); the
//! pool reconnects by itself when the database is back.

mod audit;
mod invites;
mod keys;
mod projects;
mod roles;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use orgadmin_core::actor::Actor;
use orgadmin_core::audit::{AuditEvent, AuditFilter, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::model::*;
use orgadmin_core::page::{Page, PageRequest, SortOrder};
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::role::{ProjectBaseRole, Role, RoleRef, RoleScope};
use orgadmin_core::store::{BootstrapRequest, Bootstrapped, NewRole, RoleChange};
use orgadmin_core::{Clock, DomainError, Result, Store};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder};

pub(crate) type Tx = sqlx::Transaction<'static, Postgres>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Key of the advisory lock the bootstrap holds ("orgadmin" in ASCII).
const BOOTSTRAP_LOCK_KEY: i64 = 0x6f72_6761_646d_696e;

/// How long a request waits for a pooled connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct PgStore {
    /// Reads and writes share one pool; the names mirror the SQLite backend's two pools.
    reader: PgPool,
    writer: PgPool,
    clock: Arc<dyn Clock>,
}

impl PgStore {
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DomainError::invalid("database", format!("invalid PostgreSQL URL: {e}")))?
            .application_name("orgadmin")
            // A request never waits long on a lock or a runaway statement.
            .options([("lock_timeout", "10s"), ("statement_timeout", "30s")]);
        let max_connections = std::env::var("ORGADMIN_DATABASE_MAX_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n: &u32| *n > 0)
            .unwrap_or(16);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Duration::from_secs(300))
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .db()?;
        MIGRATOR.run(&pool).await.map_err(DomainError::internal)?;
        Ok(Self {
            reader: pool.clone(),
            writer: pool,
            clock,
        })
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    pub(crate) fn millis(&self) -> u64 {
        self.clock.now_millis()
    }

    /// Begin a write transaction for `org`, holding its row lock until commit.
    pub(crate) async fn begin_in(&self, org: &OrgId) -> Result<Tx> {
        let mut tx = self.writer.begin().await.db()?;
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
            .bind(org.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        Ok(tx)
    }

    /// Begin the bootstrap transaction, holding the bootstrap advisory lock until commit.
    pub(crate) async fn begin_bootstrap(&self) -> Result<Tx> {
        let mut tx = self.writer.begin().await.db()?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOTSTRAP_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .db()?;
        Ok(tx)
    }

    /// Write an audit event inside the change's transaction.
    pub(crate) async fn audit(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        event: NewAuditEvent,
    ) -> Result<()> {
        let id = AuditLogId::generate(self.millis());
        sqlx::query(
            "INSERT INTO audit_logs (org_id, id, type, effective_at, actor_key_id, actor_user_id, \
             actor_email, actor_email_norm, project_id, resource_id, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(actor.org_id.as_str())
        .bind(id.as_str())
        .bind(event.kind)
        .bind(self.now())
        .bind(actor.key_id.as_str())
        .bind(actor.user_id.as_str())
        .bind(actor.user_email.as_str())
        .bind(actor.user_email.normalized())
        .bind(event.project_id.as_ref().map(|p| p.as_str()))
        .bind(&event.resource_id)
        .bind(event.details.to_string())
        .execute(&mut **tx)
        .await
        .db()?;
        Ok(())
    }
}

/// Turn storage failures into domain errors: an unreachable, restarting or overloaded database is
/// `Unavailable` (retryable, HTTP 503), anything else is a bug and `Internal`.
pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

pub(crate) fn db_error(e: sqlx::Error) -> DomainError {
    let unavailable = match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P0x: shutdown or starting up; 53: insufficient
            // resources; 40001/40P01: serialization failure or deadlock, safe to retry.
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || code == "40001"
                || code == "40P01"
                || code == "55P03"
        }),
        _ => false,
    };
    if unavailable {
        DomainError::Unavailable(e.to_string())
    } else {
        DomainError::internal(e)
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Append the keyset condition and ordering for a page over `column`, fetching one row more
/// than the limit to learn `has_more` exactly. Returns whether rows come back in reverse of the
/// requested order (a `before` page), to be flipped by [`finish_page`].
pub(crate) fn push_keyset(
    qb: &mut QueryBuilder<'_, Postgres>,
    column: &str,
    page: &PageRequest,
) -> bool {
    let desc = page.order == SortOrder::Desc;
    if let Some(after) = &page.after {
        qb.push(format!(" AND {column} {} ", if desc { "<" } else { ">" }));
        qb.push_bind(after.clone());
    }
    if let Some(before) = &page.before {
        qb.push(format!(" AND {column} {} ", if desc { ">" } else { "<" }));
        qb.push_bind(before.clone());
    }
    let reversed = page.before.is_some();
    let travel_desc = desc != reversed;
    qb.push(format!(
        " ORDER BY {column} {} LIMIT ",
        if travel_desc { "DESC" } else { "ASC" }
    ));
    qb.push_bind(i64::from(page.limit) + 1);
    reversed
}

pub(crate) fn finish_page<T>(rows: Vec<T>, page: &PageRequest, reversed: bool) -> Page<T> {
    let mut page = Page::from_overfetch(rows, page.limit);
    if reversed {
        page.items.reverse();
    }
    page
}

/// Append `AND column IN (…)` unless `values` is empty.
pub(crate) fn push_in(qb: &mut QueryBuilder<'_, Postgres>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    qb.push(format!(" AND {column} = ANY("));
    qb.push_bind(values.to_vec());
    qb.push(")");
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.db()?;
        Ok(())
    }

    async fn bootstrap_if_empty(&self, request: BootstrapRequest) -> Result<Option<Bootstrapped>> {
        users::bootstrap_if_empty(self, request).await
    }

    async fn authenticate(&self, secret_hash: &str) -> Result<Option<Actor>> {
        keys::authenticate(self, secret_hash).await
    }

    async fn project_permissions(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<PermissionSet> {
        roles::project_permissions(&self.reader, org, project, user).await
    }

    async fn list_users(
        &self,
        org: &OrgId,
        emails: &[String],
        page: &PageRequest,
    ) -> Result<Page<User>> {
        users::list(self, org, emails, page).await
    }

    async fn get_user(&self, org: &OrgId, user: &UserId) -> Result<User> {
        users::get(&self.reader, org, user).await
    }

    async fn update_user(&self, actor: &Actor, user: &UserId, change: UserChange) -> Result<User> {
        users::update(self, actor, user, change).await
    }

    async fn remove_user(&self, actor: &Actor, user: &UserId) -> Result<()> {
        users::remove(self, actor, user).await
    }

    async fn list_user_roles(
        &self,
        org: &OrgId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        roles::list_user_roles(self, org, None, user, page).await
    }

    async fn get_user_role(
        &self,
        org: &OrgId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        roles::get_user_role(self, org, None, user, role).await
    }

    async fn assign_user_role(
        &self,
        actor: &Actor,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(User, Role)> {
        roles::assign_user_role(self, actor, None, user, role).await
    }

    async fn unassign_user_role(&self, actor: &Actor, user: &UserId, role: &RoleRef) -> Result<()> {
        roles::unassign_user_role(self, actor, None, user, role).await
    }

    async fn list_roles(
        &self,
        org: &OrgId,
        scope: &RoleScope,
        page: &PageRequest,
    ) -> Result<Page<Role>> {
        roles::list(self, org, scope, page).await
    }

    async fn get_role(&self, org: &OrgId, scope: &RoleScope, role: &RoleRef) -> Result<Role> {
        roles::get(self, org, scope, role).await
    }

    async fn create_role(&self, actor: &Actor, scope: &RoleScope, role: NewRole) -> Result<Role> {
        roles::create(self, actor, scope, role).await
    }

    async fn update_role(
        &self,
        actor: &Actor,
        scope: &RoleScope,
        role: &RoleRef,
        change: RoleChange,
    ) -> Result<Role> {
        roles::update(self, actor, scope, role, change).await
    }

    async fn delete_role(
        &self,
        actor: &Actor,
        scope: &RoleScope,
        role: &RoleRef,
    ) -> Result<String> {
        roles::delete(self, actor, scope, role).await
    }

    async fn list_projects(
        &self,
        org: &OrgId,
        include_archived: bool,
        page: &PageRequest,
    ) -> Result<Page<Project>> {
        projects::list(self, org, include_archived, page).await
    }

    async fn get_project(&self, org: &OrgId, project: &ProjectId) -> Result<Project> {
        projects::get(&self.reader, org, project).await
    }

    async fn create_project(&self, actor: &Actor, project: NewProject) -> Result<Project> {
        projects::create(self, actor, project).await
    }

    async fn update_project(
        &self,
        actor: &Actor,
        project: &ProjectId,
        change: ProjectChange,
    ) -> Result<Project> {
        projects::update(self, actor, project, change).await
    }

    async fn archive_project(&self, actor: &Actor, project: &ProjectId) -> Result<Project> {
        projects::archive(self, actor, project).await
    }

    async fn list_project_users(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectUser>> {
        projects::list_users(self, org, project, page).await
    }

    async fn get_project_user(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<ProjectUser> {
        projects::get_user(self, org, project, user).await
    }

    async fn add_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        who: &MemberRef,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser> {
        projects::add_user(self, actor, project, who, role).await
    }

    async fn update_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser> {
        projects::update_user(self, actor, project, user, role).await
    }

    async fn remove_project_user(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<()> {
        projects::remove_user(self, actor, project, user).await
    }

    async fn list_project_user_roles(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        roles::list_user_roles(self, org, Some(project), user, page).await
    }

    async fn get_project_user_role(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        roles::get_user_role(self, org, Some(project), user, role).await
    }

    async fn assign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(User, Role)> {
        roles::assign_user_role(self, actor, Some(project), user, role).await
    }

    async fn unassign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<()> {
        roles::unassign_user_role(self, actor, Some(project), user, role).await
    }

    async fn list_invites(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Invite>> {
        invites::list(self, org, page).await
    }

    async fn get_invite(&self, org: &OrgId, invite: &InviteId) -> Result<Invite> {
        invites::get(&self.reader, org, invite).await
    }

    async fn create_invite(&self, actor: &Actor, invite: NewInvite) -> Result<Invite> {
        invites::create(self, actor, invite).await
    }

    async fn delete_invite(&self, actor: &Actor, invite: &InviteId) -> Result<()> {
        invites::delete(self, actor, invite).await
    }

    async fn accept_invite(
        &self,
        actor: &Actor,
        invite: &InviteId,
        name: Option<String>,
    ) -> Result<User> {
        invites::accept(self, actor, invite, name).await
    }

    async fn list_admin_keys(&self, org: &OrgId, page: &PageRequest) -> Result<Page<AdminKey>> {
        keys::list(self, org, page).await
    }

    async fn get_admin_key(&self, org: &OrgId, key: &AdminKeyId) -> Result<AdminKey> {
        keys::get(&self.reader, org, key).await
    }

    async fn create_admin_key(&self, actor: &Actor, key: NewAdminKey) -> Result<AdminKey> {
        keys::create(self, actor, key).await
    }

    async fn delete_admin_key(&self, actor: &Actor, key: &AdminKeyId) -> Result<()> {
        keys::delete(self, actor, key).await
    }

    async fn list_audit_logs(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>> {
        audit::list(self, org, filter, page).await
    }
}
