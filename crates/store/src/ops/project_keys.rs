//! Project API keys: a project member's (`sk-proj-…`) and a service account's (`sk-svcacct-…`),
//! in one table (`project_api_keys`, migration 0008); whether their owner has access to the
//! project; and resolving a presented secret to the key that may act, for a gateway.

use async_trait::async_trait;
use orgadmin_core::actor::Actor;
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::clock::OrgClock;
use orgadmin_core::id::*;
use orgadmin_core::model::{
    NewProjectApiKey, NewProjectKey, OwnerAccess, ProjectKey, ProjectKeyChange, ProjectKeyOwner,
    ProjectKeyOwnerRef, ResolvedProjectKey,
};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::secret::constant_time_eq;
use orgadmin_core::store::ProjectKeyStore;
use orgadmin_core::{DomainError, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{finish_page, keys, projects, push_keyset, roles, service_accounts, Backend, Conn, Db};
use super::{DbResult, Tx};
use crate::rows::*;

/// A key and its owner as answers show them (`rows::ProjectKeyRow`). A member's details are
/// current while they are a project member (`pu` found) and remembered otherwise; a key is
/// active while its owner has access: a member of the project, or a service account (whose keys
/// go with it).
const KEY_SELECT: &str = "SELECT k.id, k.project_id, k.name, k.redacted_value, k.created_at, \
     k.expires_at, k.last_used_at, k.scopes, k.owner_user_id, k.owner_service_account_id, \
     CASE WHEN pu.user_id IS NULL THEN k.owner_email ELSE u.email END AS owner_email, \
     CASE WHEN pu.user_id IS NULL THEN k.owner_name ELSE u.name END AS owner_name, \
     CASE WHEN pu.user_id IS NULL THEN k.owner_created ELSE u.created END AS owner_created, \
     CASE WHEN pu.user_id IS NULL THEN k.owner_role ELSE pu.role END AS owner_role, \
     s.name AS account_name, s.role AS account_role, s.created_at AS account_created_at, \
     CAST(CASE WHEN pu.user_id IS NOT NULL OR s.id IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS active \
     FROM project_api_keys k \
     LEFT JOIN project_users pu ON pu.org_id = k.org_id AND pu.project_id = k.project_id \
     AND pu.user_id = k.owner_user_id \
     LEFT JOIN users u ON u.org_id = pu.org_id AND u.id = pu.user_id \
     LEFT JOIN service_accounts s ON s.org_id = k.org_id AND s.id = k.owner_service_account_id";

macro_rules! remember_owner_sql {
    () => {
        "UPDATE project_api_keys SET \
         owner_email = COALESCE((SELECT u.email FROM users u WHERE u.org_id = project_api_keys.org_id \
         AND u.id = project_api_keys.owner_user_id), owner_email), \
         owner_name = (SELECT u.name FROM users u WHERE u.org_id = project_api_keys.org_id \
         AND u.id = project_api_keys.owner_user_id), \
         owner_created = COALESCE((SELECT u.created FROM users u WHERE u.org_id = project_api_keys.org_id \
         AND u.id = project_api_keys.owner_user_id), owner_created), \
         owner_role = COALESCE((SELECT pu.role FROM project_users pu \
         WHERE pu.org_id = project_api_keys.org_id AND pu.project_id = project_api_keys.project_id \
         AND pu.user_id = project_api_keys.owner_user_id), owner_role) \
         WHERE org_id = $1 AND owner_user_id = $2"
    };
}

/// Before a member leaves the organization (`$1` the organization, `$2` the member): their
/// project keys stay (inactive) and remember them as they are now, with their project roles.
pub(crate) const REMEMBER_OWNER: &str = remember_owner_sql!();
/// The same before a member leaves one project (`$3`).
pub(crate) const REMEMBER_OWNER_IN_PROJECT: &str =
    concat!(remember_owner_sql!(), " AND project_id = $3");

pub(crate) async fn get<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: &ProjectId,
    key: &ProjectApiKeyId,
) -> Result<ProjectKey> {
    let row: Option<ProjectKeyRow> = sqlx::query_as(&format!(
        "{KEY_SELECT} WHERE k.org_id = $1 AND k.project_id = $2 AND k.id = $3"
    ))
    .bind(org.as_str())
    .bind(project.as_str())
    .bind(key.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    row.map(ProjectKey::from).ok_or_else(|| {
        DomainError::not_found_because(
            "api_key_id",
            format!(
                "No API key found with id '{}' in project {project}.",
                orgadmin_core::text::clip_to(key.as_str(), 128)
            ),
        )
    })
}

/// Insert a service account's key (its first, made with the account, or a later one).
#[expect(clippy::too_many_arguments, reason = "the columns of one row")]
pub(crate) async fn insert_service_account_key(
    tx: &mut Tx,
    org: &OrgId,
    project: &ProjectId,
    id: &ProjectApiKeyId,
    account: &ServiceAccountId,
    name: &str,
    secret: &NewProjectApiKey,
    scopes: Option<PermissionSet>,
    now: i64,
    expires_at: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO project_api_keys (org_id, id, project_id, name, secret_hash, redacted_value, \
         created_at, expires_at, scopes, owner_service_account_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(project.as_str())
    .bind(name)
    .bind(&secret.secret_hash)
    .bind(&secret.redacted_value)
    .bind(now)
    .bind(expires_at)
    .bind(scopes.map(permissions_json))
    .bind(account.as_str())
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// What the owner of a key holds in its project: a member's project permissions (base role,
/// roles held directly and through groups), a service account's role.
async fn owner_permissions(
    conn: &mut Conn,
    org: &OrgId,
    key: &ProjectKey,
) -> Result<PermissionSet> {
    match &key.owner {
        ProjectKeyOwner::User(user) => {
            roles::project_permissions_in(conn, org, &key.project_id, &user.id).await
        }
        ProjectKeyOwner::ServiceAccount(account) => Ok(account.role.permissions()),
    }
}

/// What a key may do at most: its scopes, or everything its owner holds.
fn reach(scopes: Option<PermissionSet>, owner: PermissionSet) -> PermissionSet {
    scopes.unwrap_or(owner)
}

/// `data.scopes` / `changes_requested.scopes`: the scopes, `[]` for an unscoped key.
fn scope_names(scopes: Option<PermissionSet>) -> Vec<String> {
    scopes.map(PermissionSet::names).unwrap_or_default()
}

#[async_trait]
impl ProjectKeyStore for Backend {
    async fn list_project_keys(
        &self,
        org: &OrgId,
        project: &ProjectId,
        access: OwnerAccess,
        page: &PageRequest,
    ) -> Result<Page<ProjectKey>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new(format!("{KEY_SELECT} WHERE k.org_id = "));
            qb.push_bind(org.as_str());
            qb.push(" AND k.project_id = ");
            qb.push_bind(project.as_str());
            qb.push(match access {
                OwnerAccess::Active => {
                    " AND (k.owner_service_account_id IS NOT NULL OR pu.user_id IS NOT NULL)"
                }
                OwnerAccess::Inactive => " AND k.owner_user_id IS NOT NULL AND pu.user_id IS NULL",
                OwnerAccess::Any => "",
            });
            let reversed = push_keyset(&mut qb, "k.id", page);
            let rows: Vec<ProjectKeyRow> = qb.build_query_as().fetch_all(&mut *conn).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(ProjectKey::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn get_project_key(
        &self,
        org: &OrgId,
        project: &ProjectId,
        key: &ProjectApiKeyId,
    ) -> Result<ProjectKey> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            get(&mut *conn, org, project, key).await
        })
        .await
    }

    async fn create_project_key(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        new: NewProjectKey,
    ) -> Result<ProjectKey> {
        self.guarded(async {
            let org = &actor.org_id;
            let id = ProjectApiKeyId::generate(self.millis());
            let mut tx = self.begin_for(actor).await?;
            let now = tx.now();
            let project = projects::get(&mut *tx, org, project_id).await?;
            let owner_holds = match &new.owner {
                ProjectKeyOwnerRef::User(user) => {
                    if projects::find_member(&mut *tx, org, project_id, user)
                        .await?
                        .is_none()
                    {
                        return Err(DomainError::invalid(
                            "user_id",
                            format!(
                                "User {} is not a member of project {project_id}: a project API key belongs to a project member.",
                                orgadmin_core::text::clip_to(user.as_str(), 128)
                            ),
                        ));
                    }
                    roles::project_permissions_in(&mut tx, org, project_id, user).await?
                }
                ProjectKeyOwnerRef::ServiceAccount(account) => {
                    service_accounts::find(&mut *tx, org, project_id, account)
                        .await?
                        .role
                        .permissions()
                }
            };
            project.ensure_open()?;
            // The new key may do no more than the key creating it holds in the project, nor
            // outlive it.
            let grants = Grants::load(&mut tx, actor).await?;
            let what = match new.scopes {
                Some(_) => "A project API key with these scopes",
                None => "A project API key with every permission of its owner",
            };
            grants
                .check(
                    &mut tx,
                    actor,
                    Some(project_id),
                    reach(new.scopes, owner_holds),
                    what,
                )
                .await?;
            let expires_at = grants
                .granter()
                .expiry_for_new_key(now, new.secret.expires_in_seconds)?;
            match &new.owner {
                ProjectKeyOwnerRef::User(user) => {
                    // The owner is remembered as they are now, for when they lose access.
                    sqlx::query(
                        "INSERT INTO project_api_keys (org_id, id, project_id, name, secret_hash, \
                         redacted_value, created_at, expires_at, scopes, owner_user_id, owner_email, \
                         owner_name, owner_created, owner_role) \
                         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, u.id, u.email, u.name, u.created, pu.role \
                         FROM project_users pu JOIN users u ON u.org_id = pu.org_id AND u.id = pu.user_id \
                         WHERE pu.org_id = $1 AND pu.project_id = $3 AND pu.user_id = $10",
                    )
                    .bind(org.as_str())
                    .bind(id.as_str())
                    .bind(project_id.as_str())
                    .bind(&new.name)
                    .bind(&new.secret.secret_hash)
                    .bind(&new.secret.redacted_value)
                    .bind(now)
                    .bind(expires_at)
                    .bind(new.scopes.map(permissions_json))
                    .bind(user.as_str())
                    .execute(&mut *tx)
                    .await
                    .db()?;
                }
                ProjectKeyOwnerRef::ServiceAccount(account) => {
                    insert_service_account_key(
                        &mut tx,
                        org,
                        project_id,
                        &id,
                        account,
                        &new.name,
                        &new.secret,
                        new.scopes,
                        now,
                        expires_at,
                    )
                    .await?;
                }
            }
            let event = NewAuditEvent::new(
                kind::API_KEY_CREATED,
                id.as_str(),
                json!({ "id": id, "data": { "scopes": scope_names(new.scopes) } }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            let key = get(&mut *tx, org, project_id, &id).await?;
            tx.commit().await?;
            Ok(key)
        })
        .await
    }

    async fn update_project_key(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        key_id: &ProjectApiKeyId,
        change: ProjectKeyChange,
    ) -> Result<ProjectKey> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let now = tx.now();
            let project = projects::get(&mut *tx, org, project_id).await?;
            let key = get(&mut *tx, org, project_id, key_id).await?;
            project.ensure_open()?;
            if let Some(at) = key.expires_at.filter(|_| key.is_expired(now)) {
                return Err(DomainError::invalid(
                    "api_key_id",
                    format!(
                        "API key {key_id} expired at {at}; an expired key cannot be updated. Create a new key instead."
                    ),
                ));
            }
            let grants = Grants::load(&mut tx, actor).await?;
            let scopes = match change.scopes {
                Some(scopes) => {
                    // What the new scopes reach beyond the current ones: nothing for a narrowing.
                    let owner_holds = owner_permissions(&mut tx, org, &key).await?;
                    let gained =
                        reach(scopes, owner_holds).difference(reach(key.scopes, owner_holds));
                    grants
                        .check(
                            &mut tx,
                            actor,
                            Some(project_id),
                            gained,
                            "The new scopes of this project API key",
                        )
                        .await?;
                    scopes
                }
                None => key.scopes,
            };
            let expires_at = match change.expires_in_seconds {
                Some(seconds) => grants.granter().expiry_for_new_key(now, Some(seconds))?,
                None => key.expires_at,
            };
            sqlx::query(
                "UPDATE project_api_keys SET scopes = $1, expires_at = $2 \
                 WHERE org_id = $3 AND project_id = $4 AND id = $5",
            )
            .bind(scopes.map(permissions_json))
            .bind(expires_at)
            .bind(org.as_str())
            .bind(project_id.as_str())
            .bind(key_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let mut requested = serde_json::Map::new();
            if change.scopes.is_some() {
                requested.insert("scopes".into(), json!(scope_names(scopes)));
            }
            if change.expires_in_seconds.is_some() {
                requested.insert("expires_at".into(), json!(expires_at));
            }
            let event = NewAuditEvent::new(
                kind::API_KEY_UPDATED,
                key_id.as_str(),
                json!({ "id": key_id, "changes_requested": requested }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            let key = get(&mut *tx, org, project_id, key_id).await?;
            tx.commit().await?;
            Ok(key)
        })
        .await
    }

    async fn delete_project_key(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        key_id: &ProjectApiKeyId,
    ) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            projects::get(&mut *tx, org, project_id).await?;
            get(&mut *tx, org, project_id, key_id).await?;
            // Withdrawing a credential is allowed in an archived project too: it only takes away.
            sqlx::query(
                "DELETE FROM project_api_keys WHERE org_id = $1 AND project_id = $2 AND id = $3",
            )
            .bind(org.as_str())
            .bind(project_id.as_str())
            .bind(key_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let event = NewAuditEvent::new(
                kind::API_KEY_DELETED,
                key_id.as_str(),
                json!({ "id": key_id }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn resolve_project_key(&self, secret_hash: &str) -> Result<Option<ResolvedProjectKey>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            // The organization's clock comes with the key: expiry and the use are its time.
            let row: Option<(String, String, String, String, Option<i64>, i64, Option<i64>)> =
                sqlx::query_as(
                    "SELECT k.org_id, k.id, k.project_id, k.secret_hash, p.archived_at, \
                     o.clock_offset_seconds, o.clock_frozen_at \
                     FROM project_api_keys k JOIN projects p ON p.org_id = k.org_id AND p.id = k.project_id \
                     JOIN organizations o ON o.id = k.org_id \
                     WHERE k.secret_hash = $1",
                )
                .bind(secret_hash)
                .fetch_optional(&mut *conn)
                .await
                .db()?;
            let Some((org, id, project, stored_hash, archived_at, offset_seconds, frozen_at)) = row
            else {
                return Ok(None);
            };
            // Found by the index; decided by a comparison whose time does not depend on the bytes.
            if !constant_time_eq(stored_hash.as_bytes(), secret_hash.as_bytes())
                || archived_at.is_some()
            {
                return Ok(None);
            }
            let now = OrgClock {
                offset_seconds,
                frozen_at,
            }
            .now(self.wall());
            let org = OrgId::from_raw(org);
            let project = ProjectId::from_raw(project);
            let mut key = get(&mut *conn, &org, &project, &ProjectApiKeyId::from_raw(id)).await?;
            if !key.owner_has_access || key.is_expired(now) {
                return Ok(None);
            }
            let permissions = match key.scopes {
                Some(scopes) => owner_permissions(&mut conn, &org, &key)
                    .await?
                    .intersection(scopes),
                None => owner_permissions(&mut conn, &org, &key).await?,
            };
            drop(conn);
            // A use is no write transaction: it changes nothing anyone is authorized by.
            if keys::last_use_is_stale(key.last_used_at, now) {
                sqlx::query(
                    "UPDATE project_api_keys SET last_used_at = $1 WHERE org_id = $2 AND id = $3",
                )
                .bind(now)
                .bind(org.as_str())
                .bind(key.id.as_str())
                .execute(&self.writer)
                .await
                .db()?;
                key.last_used_at = Some(now);
            }
            Ok(Some(ResolvedProjectKey {
                org_id: org,
                key,
                permissions,
            }))
        })
        .await
    }
}
