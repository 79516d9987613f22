//! Organization members: list, modify, remove (and `joining`, `insert` for the members an
//! organization is created with, `organizations.rs`).

use async_trait::async_trait;
use orgadmin_core::actor::OrgVersion;
use orgadmin_core::actor::{Actor, ReadAt};
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::clock::OrgClock;
use orgadmin_core::email::Email;
use orgadmin_core::id::*;
use orgadmin_core::model::{Member, User, UserChange};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::store::{UserIds, UserStore};
use orgadmin_core::{ConflictKind, DomainError, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{finish_member_page, push_in, push_keyset, Backend, Conn, Db, DbResult, Tx};
use crate::rows::*;
use crate::versions::OrgState;

pub(crate) async fn find<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    user: &UserId,
) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_str())
    .bind(user.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    Ok(row.map(User::from))
}

pub(crate) async fn get<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    user: &UserId,
) -> Result<User> {
    find(db, org, user)
        .await?
        .ok_or_else(|| DomainError::not_found("user", user, "user_id"))
}

/// Open the statement of a member answer (`organization.user`): each member's row (`u`, the
/// subquery the caller pushes next, selecting `org_id` and [`USER_COLUMNS`] from `users`), the
/// latest use of the admin keys they own, one row per project membership they hold (NULLs for a
/// member of none), and the organization's version, all in one statement, so the answer is one
/// state, filed in the read cache under the version it shows. A page of members is one
/// statement, however many members or memberships it holds. Close it with
/// [`push_member_joins`].
pub(crate) fn push_member_select<'a>(qb: &mut QueryBuilder<'a, Db>, org: &'a OrgId) {
    qb.push(
        "SELECT u.*, (SELECT MAX(k.last_used_at) FROM admin_api_keys k \
         WHERE k.org_id = u.org_id AND k.owner_user_id = u.id) AS api_key_last_used_at, \
         p.id AS member_project_id, p.name AS member_project_name, \
         pu.role AS member_project_role, ",
    );
    push_version(qb, org);
    qb.push(" FROM (");
}

/// The select-list items `generation` and `key_use`: the organization's version
/// ([`OrgVersion`]) as of this statement.
pub(crate) fn push_version<'a>(qb: &mut QueryBuilder<'a, Db>, org: &'a OrgId) {
    qb.push("(SELECT generation FROM organizations WHERE id = ");
    qb.push_bind(org.as_str());
    qb.push(") AS generation, COALESCE((SELECT epoch FROM key_use WHERE org_id = ");
    qb.push_bind(org.as_str());
    qb.push("), 0) AS key_use");
}

/// The organization's version ([`OrgVersion`]) as `conn` sees it; `None` for an organization
/// that does not exist.
pub(crate) async fn version_in(conn: &mut Conn, org: &OrgId) -> Result<Option<OrgVersion>> {
    let version: Option<(i64, i64)> = sqlx::query_as(
        "SELECT generation, COALESCE((SELECT epoch FROM key_use WHERE org_id = $1), 0) \
         FROM organizations WHERE id = $1",
    )
    .bind(org.as_str())
    .fetch_optional(&mut *conn)
    .await
    .db()?;
    Ok(version.map(|(generation, key_use)| OrgVersion {
        generation,
        key_use,
    }))
}

/// The organization's version and clock as `conn`'s transaction sees them (`None`: no such
/// organization).
pub(crate) async fn state_in(conn: &mut Conn, org: &OrgId) -> Result<Option<OrgState>> {
    let row: Option<(i64, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT generation, COALESCE((SELECT epoch FROM key_use WHERE org_id = $1), 0), \
         clock_offset_seconds, clock_frozen_at FROM organizations WHERE id = $1",
    )
    .bind(org.as_str())
    .fetch_optional(&mut *conn)
    .await
    .db()?;
    Ok(row.map(
        |(generation, key_use, offset_seconds, frozen_at)| OrgState {
            version: OrgVersion {
                generation,
                key_use,
            },
            clock: OrgClock {
                offset_seconds,
                frozen_at,
            },
        },
    ))
}

/// Close what [`push_member_select`] opened: the project memberships, each member's rows
/// together, members in `direction` of ID and their projects by ID.
pub(crate) fn push_member_joins(qb: &mut QueryBuilder<'_, Db>, direction: &str) {
    qb.push(format!(
        ") AS u LEFT JOIN project_users pu ON pu.org_id = u.org_id AND pu.user_id = u.id \
         LEFT JOIN projects p ON p.org_id = pu.org_id AND p.id = pu.project_id \
         ORDER BY u.id {direction}, p.id"
    ));
}

/// A member answer and the version it was read at, in one statement.
pub(crate) async fn find_member<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    user: &UserId,
) -> Result<Option<(Member, OrgVersion)>> {
    let mut qb: QueryBuilder<Db> = QueryBuilder::new("");
    push_member_select(&mut qb, org);
    qb.push(format!(
        "SELECT org_id, {USER_COLUMNS} FROM users WHERE org_id = "
    ));
    qb.push_bind(org.as_str());
    qb.push(" AND id = ");
    qb.push_bind(user.as_str());
    push_member_joins(&mut qb, "ASC");
    let rows: Vec<OrgMemberRow> = qb.build_query_as().fetch_all(db).await.db()?;
    let (mut members, version) = fold_members(rows.into_iter().map(Into::into));
    Ok(members.pop().zip(version))
}

/// A member answer (`organization.user`); not found is 404 on `user_id`.
pub(crate) async fn member<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    user: &UserId,
) -> Result<Member> {
    find_member(db, org, user)
        .await?
        .map(|(member, _)| member)
        .ok_or_else(|| DomainError::not_found("user", user, "user_id"))
}

pub(crate) async fn find_by_email<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    email: &Email,
) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND email_norm = $2"
    ))
    .bind(org.as_str())
    .bind(email.normalized())
    .fetch_optional(db)
    .await
    .db()?;
    Ok(row.map(User::from))
}

/// The ID this person already has in another organization, so a person keeps one user ID, and
/// when they first joined one (their `created`); none when the store gives a fresh ID in each
/// organization (`UserIds::PerOrganization`), so that nothing is read from, or revealed about,
/// another organization.
pub(crate) async fn existing_id_for_email(
    store: &Backend,
    tx: &mut Tx,
    email: &Email,
) -> Result<Option<(UserId, i64)>> {
    if store.user_ids == UserIds::PerOrganization {
        return Ok(None);
    }
    let found: Option<(String, i64)> = sqlx::query_as(
        "SELECT id, created FROM users WHERE email_norm = $1 ORDER BY created, id LIMIT 1",
    )
    .bind(email.normalized())
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    Ok(found.map(|(id, created)| (UserId::from_raw(id), created)))
}

/// A member joining at `now`: the ID and first date this person has elsewhere, or new ones.
pub(crate) async fn joining(
    store: &Backend,
    tx: &mut Tx,
    email: &Email,
    name: Option<String>,
    role: OrgBaseRole,
    now: i64,
) -> Result<User> {
    let (id, created) = match existing_id_for_email(store, tx, email).await? {
        Some((id, created)) => (id, Some(created)),
        None => (UserId::generate(store.millis()), None),
    };
    Ok(User::joining(id, email.clone(), name, role, now, created))
}

pub(crate) async fn insert(tx: &mut Tx, org: &OrgId, user: &User) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (org_id, id, email, email_norm, name, role, added_at, created, \
         is_default, is_scim_managed, is_scale_tier_authorized_purchaser) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(org.as_str())
    .bind(user.id.as_str())
    .bind(user.email.as_str())
    .bind(user.email.normalized())
    .bind(user.name.as_deref())
    .bind(user.role.as_str())
    .bind(user.added_at)
    .bind(user.created)
    .bind(user.is_default)
    .bind(user.is_scim_managed)
    .bind(user.is_scale_tier_authorized_purchaser)
    .execute(&mut **tx)
    .await
    .map_err(|e| member_conflict_or_db_error(e, &user.email, "email"))?;
    Ok(())
}

/// `email` is already a member of the organization (named by `param`).
pub(crate) fn already_member(email: &Email, param: &str) -> DomainError {
    DomainError::conflict(
        ConflictKind::AlreadyExists,
        format!("{email} is already a member of the organization."),
        Some(param),
    )
}

/// A write of a member's email that the unique index refused is [`already_member`]; any other
/// failure is the storage's.
pub(crate) fn member_conflict_or_db_error(
    e: sqlx::Error,
    email: &Email,
    param: &str,
) -> DomainError {
    if super::is_unique_violation(&e) {
        already_member(email, param)
    } else {
        super::db_error(e)
    }
}

pub(crate) async fn owner_count(tx: &mut Tx, org: &OrgId) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'owner'")
        .bind(org.as_str())
        .fetch_one(&mut **tx)
        .await
        .db()
}

/// Refuse a change that would leave the organization without an owner. Runs inside the write
/// transaction, which is serialized, so concurrent demotions cannot both pass.
pub(crate) async fn ensure_not_last_owner(
    tx: &mut Tx,
    org: &OrgId,
    user: &User,
    action: &str,
) -> Result<()> {
    if user.role == OrgBaseRole::Owner && owner_count(tx, org).await? <= 1 {
        return Err(DomainError::conflict(
            ConflictKind::LastOwner,
            format!(
                "Cannot {action} {}: they are the organization's last owner. Make another member an owner first.",
                user.id
            ),
            Some("user_id"),
        ));
    }
    Ok(())
}

/// Change a member's base role, keeping at least one owner.
pub(crate) async fn set_base_role(
    tx: &mut Tx,
    org: &OrgId,
    user: &User,
    role: OrgBaseRole,
) -> Result<bool> {
    if user.role == role {
        return Ok(false);
    }
    if role == OrgBaseRole::Reader {
        ensure_not_last_owner(tx, org, user, "demote").await?;
    }
    sqlx::query("UPDATE users SET role = $1 WHERE org_id = $2 AND id = $3")
        .bind(role.as_str())
        .bind(org.as_str())
        .bind(user.id.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(true)
}

#[async_trait]
impl UserStore for Backend {
    async fn list_users(
        &self,
        at: ReadAt<'_>,
        emails: &[String],
        page: &PageRequest,
    ) -> Result<Page<Member>> {
        self.guarded(async {
            let key = (at.org_id.clone(), emails.to_vec(), page.clone());
            self.read_cache
                .member_pages
                .get_or_load(key, at.version, || async {
                    let mut qb: QueryBuilder<Db> = QueryBuilder::new("");
                    push_member_select(&mut qb, at.org_id);
                    qb.push(format!(
                        "SELECT org_id, {USER_COLUMNS} FROM users WHERE org_id = "
                    ));
                    qb.push_bind(at.org_id.as_str());
                    push_in(&mut qb, "email_norm", emails);
                    let reversed = push_keyset(&mut qb, "id", page);
                    push_member_joins(&mut qb, page_direction(page, reversed));
                    let rows: Vec<OrgMemberRow> =
                        qb.build_query_as().fetch_all(&self.reader).await.db()?;
                    Ok(finish_member_page(
                        rows.into_iter().map(Into::into),
                        page,
                        reversed,
                    ))
                })
                .await
        })
        .await
    }

    /// A member, answered from the read cache when the request's generation allows it.
    async fn get_user(&self, at: ReadAt<'_>, user: &UserId) -> Result<Member> {
        self.guarded(async {
            let key = (at.org_id.clone(), user.clone());
            self.read_cache
                .users
                .get_or_load(key, at.version, || async {
                    let (member, version) = find_member(&self.reader, at.org_id, user)
                        .await?
                        .ok_or_else(|| DomainError::not_found("user", user, "user_id"))?;
                    let weight = 1 + member.projects.len();
                    Ok((member, Some(version), weight))
                })
                .await
        })
        .await
    }

    async fn update_user(
        &self,
        actor: &Actor,
        user_id: &UserId,
        change: UserChange,
    ) -> Result<Member> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            // Read once and kept up to date below: the answer is what was committed.
            let mut member = member(&mut *tx, org, user_id).await?;
            let user = &mut member.user;
            let mut changes = serde_json::Map::new();

            if change.base_role.is_some() || change.assign_custom_role.is_some() {
                let grants = Grants::load(&mut tx, actor).await?;
                if let Some(role) = change.base_role {
                    // What the new base role holds beyond the current one: nothing for a demotion.
                    let gained = role
                        .predefined()
                        .permissions()
                        .difference(user.role.predefined().permissions());
                    let what = format!("Role '{}'", role.as_str());
                    grants.check(&mut tx, actor, None, gained, &what).await?;
                }
                if let Some(role_id) = &change.assign_custom_role {
                    let role = super::roles::resolve_custom(&mut tx, org, role_id).await?;
                    if role.project_id.is_none() {
                        let what = format!("Role {}", role.id);
                        grants
                            .check(&mut tx, actor, None, role.permissions, &what)
                            .await?;
                    }
                }
            }
            if let Some(role) = change.base_role {
                set_base_role(&mut tx, org, user, role).await?;
                user.role = role;
                changes.insert("role".into(), json!(role.as_str()));
            }
            if let Some(role_id) = &change.assign_custom_role {
                let role = super::roles::resolve_custom(&mut tx, org, role_id).await?;
                if role.project_id.is_some() {
                    return Err(super::roles::scope_mismatch_org(&role.id));
                }
                super::roles::insert_assignment(self, &mut tx, actor, user_id, &role, None).await?;
                changes.insert("role_id".into(), json!(role_id.as_str()));
            }
            if let Some(persona) = change.developer_persona {
                sqlx::query(
                    "UPDATE users SET developer_persona = $1 WHERE org_id = $2 AND id = $3",
                )
                .bind(&persona)
                .bind(org.as_str())
                .bind(user_id.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
                changes.insert("developer_persona".into(), json!(persona));
                user.developer_persona = Some(persona);
            }
            if let Some(level) = change.technical_level {
                sqlx::query("UPDATE users SET technical_level = $1 WHERE org_id = $2 AND id = $3")
                    .bind(&level)
                    .bind(org.as_str())
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .db()?;
                changes.insert("technical_level".into(), json!(level));
                user.technical_level = Some(level);
            }
            if !changes.is_empty() {
                self.audit(
                    &mut tx,
                    actor,
                    NewAuditEvent::new(
                        kind::USER_UPDATED,
                        user_id.as_str(),
                        json!({ "id": user_id, "changes_requested": changes }),
                    ),
                )
                .await?;
            }
            tx.commit().await?;
            Ok(member)
        })
        .await
    }

    async fn remove_user(&self, actor: &Actor, user_id: &UserId) -> Result<()> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            let user = get(&mut *tx, &actor.org_id, user_id).await?;
            remove_member(self, &mut tx, actor, &user).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}

/// Remove `user` from the organization, as the Admin API's delete does (and SCIM's
/// `active: false`): refused for the last owner; their admin keys are revoked (each with its
/// audit event), everything of [`REMOVE_MEMBER`] goes, and `user.deleted` is written.
pub(crate) async fn remove_member(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    user: &User,
) -> Result<()> {
    let org = &actor.org_id;
    let user_id = &user.id;
    ensure_not_last_owner(tx, org, user, "remove").await?;

    // Revoke the keys they own, each with its own audit event.
    let key_ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM admin_api_keys WHERE org_id = $1 AND owner_user_id = $2",
    )
    .bind(org.as_str())
    .bind(user_id.as_str())
    .fetch_all(&mut **tx)
    .await
    .db()?;
    for key_id in &key_ids {
        store
            .audit(
                tx,
                actor,
                NewAuditEvent::new(
                    kind::API_KEY_DELETED,
                    key_id.as_str(),
                    json!({ "id": key_id }),
                ),
            )
            .await?;
    }
    // The whole cascade, said here rather than left to foreign keys: what the member owns and
    // holds goes in this transaction, and the member last.
    for delete in REMOVE_MEMBER {
        sqlx::query(delete)
            .bind(org.as_str())
            .bind(user_id.as_str())
            .execute(&mut **tx)
            .await
            .db()?;
    }
    store
        .audit(
            tx,
            actor,
            NewAuditEvent::new(
                kind::USER_DELETED,
                user_id.as_str(),
                json!({ "id": user_id }),
            ),
        )
        .await?;
    Ok(())
}

/// The direction rows of a page come back in: the requested order, or its reverse for a
/// `before` page (`reversed`, from [`push_keyset`]).
pub(crate) fn page_direction(page: &PageRequest, reversed: bool) -> &'static str {
    let desc = page.order == orgadmin_core::page::SortOrder::Desc;
    if desc != reversed {
        "DESC"
    } else {
        "ASC"
    }
}

/// Everything removing a member deletes, in order (`$1` the organization, `$2` the member): the
/// admin keys they own, their role assignments, their project and group memberships, then the
/// member. Their project API keys are not deleted: they remember the member as they are now and
/// become inactive with the memberships (`project_keys::REMEMBER_OWNER`).
const REMOVE_MEMBER: [&str; 6] = [
    super::project_keys::REMEMBER_OWNER,
    "DELETE FROM admin_api_keys WHERE org_id = $1 AND owner_user_id = $2",
    "DELETE FROM role_assignments WHERE org_id = $1 AND principal_type = 'user' AND principal_id = $2",
    "DELETE FROM project_users WHERE org_id = $1 AND user_id = $2",
    "DELETE FROM group_users WHERE org_id = $1 AND user_id = $2",
    "DELETE FROM users WHERE org_id = $1 AND id = $2",
];
