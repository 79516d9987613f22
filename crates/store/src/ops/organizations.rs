//! The server's organizations: creation (the first start's bootstrap and the operator API's
//! create), list and retrieve, delete and reset.
//!
//! [`ORGANIZATION_TABLES`] is the one list of the tables that hold an organization's rows: delete
//! empties all of them and reset those it does not keep, so a table added without a row there
//! would leave a deleted organization's data behind. `tests/organization_tables.rs` reads the
//! schema and fails on any table with an `org_id` column that the list lacks.

use async_trait::async_trait;
use orgadmin_core::clock::{ClockChange, ClockReading};
use orgadmin_core::email::Email;
use orgadmin_core::fixture::{self, Seed};
use orgadmin_core::id::*;
use orgadmin_core::model::{
    AdminKey, KeyOwner, Member, MemberProject, Organization, Project, User,
};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::role::{OrgBaseRole, ProjectBaseRole};
use orgadmin_core::secret;
use orgadmin_core::snapshot::{OrganizationSnapshot, RestoredOrganization};
use orgadmin_core::store::{BootstrapRequest, Bootstrapped, OrganizationStore};
use orgadmin_core::{ConflictKind, DomainError, Result};
use sqlx::QueryBuilder;

use super::{
    db_error, finish_page, is_unique_violation, push_keyset, seed, users, Backend, Db, DbResult, Tx,
};

/// What reset does with a table's rows of the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnReset {
    /// Deleted: made after the organization's creation (creation's own rows are written again
    /// from [`Origin`]).
    Cleared,
    /// Kept: bookkeeping of the organization itself, not its contents.
    Kept,
}

/// Every table holding rows of an organization (each by its `org_id` column), in the order delete
/// and reset empty them: rows before the rows they refer to. `admin_api_keys` comes before
/// `key_use`, as a key's use touches them in that order (`keys::touch_last_used`), so a use that
/// committed while a delete was waiting for the key's row lock has its epoch deleted too.
/// The `organizations` row itself goes last, after all of them.
pub const ORGANIZATION_TABLES: [(&str, OnReset); 21] = [
    ("audit_logs", OnReset::Cleared),
    ("scim_group_members", OnReset::Cleared),
    ("scim_users", OnReset::Cleared),
    ("scim_groups", OnReset::Cleared),
    ("invites", OnReset::Cleared),
    ("role_assignments", OnReset::Cleared),
    ("roles", OnReset::Cleared),
    ("project_groups", OnReset::Cleared),
    ("group_users", OnReset::Cleared),
    ("groups", OnReset::Cleared),
    ("project_users", OnReset::Cleared),
    ("project_model_permissions", OnReset::Cleared),
    ("project_hosted_tools", OnReset::Cleared),
    ("project_rate_limits", OnReset::Cleared),
    ("project_api_keys", OnReset::Cleared),
    ("service_accounts", OnReset::Cleared),
    ("admin_api_keys", OnReset::Cleared),
    // The key-use epoch is a version number the remembered member answers are filed under
    // (`read_cache.rs`): it only ever goes up while the organization exists.
    ("key_use", OnReset::Kept),
    ("projects", OnReset::Cleared),
    ("users", OnReset::Cleared),
    // What creation made, which reset writes back.
    ("organization_origins", OnReset::Kept),
];

/// The name creation gives the first admin key.
const INITIAL_KEY_NAME: &str = "Initial admin key";

/// What creating an organization made (`organization_origins`), from which reset writes it again.
/// A restore as a new organization writes one too (`snapshot.rs`), so that its copy resets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Origin {
    pub(super) owner_user_id: String,
    pub(super) owner_email: String,
    pub(super) owner_name: Option<String>,
    pub(super) owner_created: i64,
    pub(super) default_project_id: String,
    pub(super) admin_key_id: String,
    pub(super) admin_key_name: Option<String>,
    pub(super) admin_key_secret_hash: String,
    pub(super) admin_key_redacted_value: String,
    /// The fixture's seed the organization was created with (JSON of `core::fixture::Seed`, its
    /// users' IDs settled), which reset writes again after the rest; `None` for none (and for a
    /// copy restored from a snapshot).
    pub(super) fixture: Option<String>,
}

const ORIGIN_COLUMNS: &str = "owner_user_id, owner_email, owner_name, owner_created, \
     default_project_id, admin_key_id, admin_key_name, admin_key_secret_hash, admin_key_redacted_value, \
     fixture";

#[async_trait]
impl OrganizationStore for Backend {
    async fn bootstrap_if_empty(&self, request: BootstrapRequest) -> Result<Option<Bootstrapped>> {
        self.guarded(async {
            let mut tx = self.begin_bootstrap().await?;
            let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                .fetch_one(&mut *tx)
                .await
                .db()?;
            if existing > 0 {
                return Ok(None);
            }
            let created = insert_organization(self, &mut tx, &request).await?;
            tx.commit().await?;
            Ok(Some(created))
        })
        .await
    }

    /// Create another organization with its owner, default project and admin key.
    async fn create_organization(&self, request: BootstrapRequest) -> Result<Bootstrapped> {
        self.guarded(async {
            let mut tx = self.begin_bootstrap().await?;
            let created = insert_organization(self, &mut tx, &request).await?;
            tx.commit().await?;
            Ok(created)
        })
        .await
    }

    async fn get_organization(&self, org: &OrgId) -> Result<Organization> {
        self.guarded(async {
            let row: Option<(String, String, i64)> =
                sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                    .bind(org.as_str())
                    .fetch_optional(&self.reader)
                    .await
                    .db()?;
            row.map(organization).ok_or_else(|| not_found(org))
        })
        .await
    }

    async fn list_organizations(&self, page: &PageRequest) -> Result<Page<Organization>> {
        self.guarded(async {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("SELECT id, name, created_at FROM organizations WHERE TRUE");
            let reversed = push_keyset(&mut qb, "id", page);
            let rows: Vec<(String, String, i64)> =
                qb.build_query_as().fetch_all(&self.reader).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(organization).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn snapshot_organization(&self, org: &OrgId) -> Result<OrganizationSnapshot> {
        self.take_snapshot(org).await
    }

    async fn restore_organization(
        &self,
        org: &OrgId,
        snapshot: OrganizationSnapshot,
    ) -> Result<()> {
        self.restore_in_place(org, snapshot).await
    }

    async fn restore_organization_as_new(
        &self,
        snapshot: OrganizationSnapshot,
    ) -> Result<RestoredOrganization> {
        self.restore_as_new(snapshot).await
    }

    async fn get_org_clock(&self, org: &OrgId) -> Result<ClockReading> {
        self.guarded(self.read_org_clock(org)).await
    }

    async fn change_org_clock(&self, org: &OrgId, change: ClockChange) -> Result<ClockReading> {
        self.guarded(self.apply_org_clock(org, change)).await
    }

    async fn delete_organization(&self, org: &OrgId) -> Result<()> {
        self.guarded(async {
            // The generation `UPDATE` locks the organization's row (PostgreSQL) or the database
            // (SQLite): writes in the organization wait, then find it gone and write nothing.
            let (mut tx, generation) = self.begin_in(org).await?;
            if generation.is_none() {
                return Err(not_found(org));
            }
            tx.forget_organization_version();
            for (table, _) in ORGANIZATION_TABLES {
                empty(&mut tx, table, org).await?;
            }
            sqlx::query("DELETE FROM organizations WHERE id = $1")
                .bind(org.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            tx.commit().await
        })
        .await
    }

    async fn reset_organization(&self, org: &OrgId) -> Result<Bootstrapped> {
        self.guarded(async {
            // A new generation: every answer and authentication remembered before is dropped.
            let (mut tx, generation) = self.begin_in(org).await?;
            if generation.is_none() {
                return Err(not_found(org));
            }
            let origin: Option<Origin> = sqlx::query_as(&format!(
                "SELECT {ORIGIN_COLUMNS} FROM organization_origins WHERE org_id = $1"
            ))
            .bind(org.as_str())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            let origin = origin.ok_or_else(|| {
                DomainError::conflict(
                    ConflictKind::NotResettable,
                    format!(
                        "Organization {org} was created before this server recorded what creation makes, and by then it had no admin key held by an owner, so it cannot be reset. Delete it and create a new one."
                    ),
                    Some("org_id"),
                )
            })?;
            let organization =
                sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                    .bind(org.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .db()
                    .map(organization)?;
            for (table, on_reset) in ORGANIZATION_TABLES {
                if on_reset == OnReset::Cleared {
                    empty(&mut tx, table, org).await?;
                }
            }
            // Its clock runs with the process clock again, as it did at creation.
            tx.forget_organization_version();
            sqlx::query(
                "UPDATE organizations SET clock_offset_seconds = 0, clock_frozen_at = NULL WHERE id = $1",
            )
            .bind(org.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let key_in_use = format!(
                "The first admin key of {org} cannot be made again: another organization on this server uses its secret now. Delete that organization or its key, or delete {org} and create a new one."
            );
            let (owner, default_project, admin_key) =
                write_origin(&mut tx, org, &origin, organization.created_at, &key_in_use).await?;
            let (owner, default_project) = match &origin.fixture {
                None => (owner, default_project),
                Some(stored) => {
                    let seed: Seed = serde_json::from_str(stored).map_err(|e| {
                        DomainError::internal(format!(
                            "the fixture kept for {org} does not read back: {e}"
                        ))
                    })?;
                    seed::write(self, &mut tx, org, &seed, origin.owner(), organization.created_at)
                        .await?;
                    seeded(&mut tx, org, owner, default_project, &seed).await?
                }
            };
            tx.commit().await?;
            Ok(Bootstrapped {
                organization,
                owner,
                default_project,
                admin_key,
            })
        })
        .await
    }
}

fn organization((id, name, created_at): (String, String, i64)) -> Organization {
    Organization {
        id: OrgId::from_raw(id),
        name,
        created_at,
    }
}

fn not_found(org: &OrgId) -> DomainError {
    DomainError::not_found("organization", org, "org_id")
}

/// Delete the organization's rows of `table` (a name from [`ORGANIZATION_TABLES`], never input).
async fn empty(tx: &mut Tx, table: &str, org: &OrgId) -> Result<()> {
    sqlx::query(&format!("DELETE FROM {table} WHERE org_id = $1"))
        .bind(org.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

/// An organization, its owner (keeping the user ID this person has elsewhere), its default
/// project with the owner as project owner, and the owner's first admin key; and the record of
/// them that reset writes back.
async fn insert_organization(
    store: &Backend,
    tx: &mut Tx,
    request: &BootstrapRequest,
) -> Result<Bootstrapped> {
    let now = store.wall();
    let org_id = OrgId::generate(store.millis());
    let mut seed = request.fixture.as_ref().map(|f| f.seed.clone());
    let owner = match (&request.fixture, seed.as_mut()) {
        (Some(fixture), Some(seed)) => {
            let (id, created) = seed::settle_users(
                store,
                tx,
                seed,
                &request.owner_email,
                fixture.owner_id.as_ref(),
                &secret::hash_secret(&request.admin_key_secret),
            )
            .await?;
            User::joining(
                id,
                request.owner_email.clone(),
                request.owner_name.clone(),
                OrgBaseRole::Owner,
                now,
                created,
            )
        }
        _ => {
            users::joining(
                store,
                tx,
                &request.owner_email,
                request.owner_name.clone(),
                OrgBaseRole::Owner,
                now,
            )
            .await?
        }
    };
    let default_project_id = match &seed {
        Some(seed) => seed.default_project.id.clone(),
        None => ProjectId::generate(store.millis()),
    };
    let origin = Origin {
        owner_user_id: owner.id.to_string(),
        owner_email: owner.email.as_str().to_owned(),
        owner_name: owner.name.clone(),
        owner_created: owner.created,
        default_project_id: default_project_id.to_string(),
        admin_key_id: AdminKeyId::generate(store.millis()).to_string(),
        admin_key_name: Some(INITIAL_KEY_NAME.to_owned()),
        admin_key_secret_hash: secret::hash_secret(&request.admin_key_secret),
        admin_key_redacted_value: secret::redact(&request.admin_key_secret),
        fixture: seed
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(DomainError::internal)?,
    };

    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(org_id.as_str())
        .bind(&request.organization_name)
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    insert_origin(tx, &org_id, &origin).await?;
    let (owner, default_project, admin_key) = write_origin(
        tx,
        &org_id,
        &origin,
        now,
        "That admin key is already in use on this server; choose another secret, or omit it for a random one.",
    )
    .await?;
    let (owner, default_project) = match &seed {
        None => (owner, default_project),
        Some(seed) => {
            seed::write(store, tx, &org_id, seed, origin.owner(), now).await?;
            seeded(tx, &org_id, owner, default_project, seed).await?
        }
    };
    Ok(Bootstrapped {
        organization: Organization {
            id: org_id,
            name: request.organization_name.clone(),
            created_at: now,
        },
        owner,
        default_project,
        admin_key,
    })
}

/// Record `origin` as what creation made in `org`, which reset writes back.
pub(super) async fn insert_origin(tx: &mut Tx, org: &OrgId, origin: &Origin) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO organization_origins (org_id, {ORIGIN_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(org.as_str())
    .bind(&origin.owner_user_id)
    .bind(&origin.owner_email)
    .bind(origin.owner_name.as_deref())
    .bind(origin.owner_created)
    .bind(&origin.default_project_id)
    .bind(&origin.admin_key_id)
    .bind(origin.admin_key_name.as_deref())
    .bind(&origin.admin_key_secret_hash)
    .bind(&origin.admin_key_redacted_value)
    .bind(origin.fixture.as_deref())
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

impl Origin {
    /// The first owner, as a seed's rows refer to them.
    fn owner(&self) -> seed::SeededMember {
        seed::SeededMember {
            id: UserId::from_raw(self.owner_user_id.clone()),
            email: self.owner_email.clone(),
            name: self.owner_name.clone(),
            created: self.owner_created,
        }
    }
}

/// The owner and default project creation made, as they are once `seed` was written after it:
/// the default project with the fixture's name, the owner with the projects the fixture put them
/// in (read again, in the transaction).
async fn seeded(
    tx: &mut Tx,
    org: &OrgId,
    owner: Member,
    mut default_project: Project,
    seed: &Seed,
) -> Result<(Member, Project)> {
    default_project.name = seed.default_project.name.clone();
    let owner = users::member(&mut **tx, org, &owner.user.id).await?;
    Ok((owner, default_project))
}

/// What creation makes, as it made it at `created_at`: the owner, the default project with the
/// owner as its owner, and the owner's first admin key (unscoped, never expiring, never used).
/// `key_in_use` is the refusal when another organization holds a key with the same secret.
/// Answers the owner, the project and the key as written, which are what a read would find.
async fn write_origin(
    tx: &mut Tx,
    org: &OrgId,
    origin: &Origin,
    created_at: i64,
    key_in_use: &str,
) -> Result<(Member, Project, AdminKey)> {
    let mut owner = User::joining(
        UserId::from_raw(origin.owner_user_id.clone()),
        Email::from_stored(origin.owner_email.clone()),
        origin.owner_name.clone(),
        OrgBaseRole::Owner,
        created_at,
        Some(origin.owner_created),
    );
    owner.is_default = true;
    users::insert(tx, org, &owner).await?;
    let project = Project {
        id: ProjectId::from_raw(origin.default_project_id.clone()),
        name: fixture::DEFAULT_PROJECT_NAME.to_owned(),
        created_at,
        archived_at: None,
        is_default: true,
        external_key_id: None,
        residency: None,
    };
    sqlx::query(
        "INSERT INTO projects (org_id, id, name, created_at, is_default) VALUES ($1, $2, $3, $4, TRUE)",
    )
    .bind(org.as_str())
    .bind(&origin.default_project_id)
    .bind(fixture::DEFAULT_PROJECT_NAME)
    .bind(created_at)
    .execute(&mut **tx)
    .await
    .db()?;
    sqlx::query("INSERT INTO project_users (org_id, project_id, user_id, role, added_at) VALUES ($1, $2, $3, 'owner', $4)")
        .bind(org.as_str())
        .bind(&origin.default_project_id)
        .bind(&origin.owner_user_id)
        .bind(created_at)
        .execute(&mut **tx)
        .await
        .db()?;
    sqlx::query(
        "INSERT INTO admin_api_keys (org_id, id, name, secret_hash, redacted_value, owner_user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.as_str())
    .bind(&origin.admin_key_id)
    .bind(origin.admin_key_name.as_deref())
    .bind(&origin.admin_key_secret_hash)
    .bind(&origin.admin_key_redacted_value)
    .bind(&origin.owner_user_id)
    .bind(created_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            DomainError::conflict(ConflictKind::AlreadyExists, key_in_use, Some("admin_key"))
        } else {
            db_error(e)
        }
    })?;
    let key = AdminKey {
        id: AdminKeyId::from_raw(origin.admin_key_id.clone()),
        name: origin.admin_key_name.clone(),
        redacted_value: origin.admin_key_redacted_value.clone(),
        created_at,
        expires_at: None,
        last_used_at: None,
        owner: KeyOwner {
            id: owner.id.clone(),
            name: owner.name.clone(),
            added_at: owner.added_at,
            role: owner.role,
        },
        scopes: None,
    };
    let owner = Member {
        user: owner,
        api_key_last_used_at: None,
        projects: vec![MemberProject {
            id: project.id.clone(),
            name: project.name.clone(),
            role: ProjectBaseRole::Owner,
        }],
    };
    Ok((owner, project, key))
}
