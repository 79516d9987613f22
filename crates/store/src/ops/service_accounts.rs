//! Project service accounts and their API keys.

use async_trait::async_trait;
use orgadmin_core::actor::{Actor, OrgVersion, ReadAt};
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::model::{
    NewServiceAccount, OrgUser, ProjectApiKey, ServiceAccount, ServiceAccountChange,
    ServiceAccountRole,
};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::store::ServiceAccountStore;
use orgadmin_core::{DomainError, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{
    finish_member_page, finish_page, project_keys, projects, push_keyset, users, Backend, Db,
    DbResult,
};
use crate::rows::*;

/// The name the official API gives a service account's first key.
const FIRST_KEY_NAME: &str = orgadmin_core::model::SERVICE_ACCOUNT_KEY_NAME;

pub(crate) async fn find<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: &ProjectId,
    account: &ServiceAccountId,
) -> Result<ServiceAccount> {
    let row: Option<ServiceAccountRow> = sqlx::query_as(&format!(
        "SELECT {SERVICE_ACCOUNT_COLUMNS} FROM service_accounts \
         WHERE org_id = $1 AND project_id = $2 AND id = $3"
    ))
    .bind(org.as_str())
    .bind(project.as_str())
    .bind(account.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    row.map(ServiceAccount::from).ok_or_else(|| {
        DomainError::not_found_because(
            "service_account_id",
            format!(
                "No service account found with id '{}' in project {project}.",
                orgadmin_core::text::clip_to(account.as_str(), 128)
            ),
        )
    })
}

#[async_trait]
impl ServiceAccountStore for Backend {
    async fn list_service_accounts(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ServiceAccount>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {SERVICE_ACCOUNT_COLUMNS} FROM service_accounts WHERE org_id = "
            ));
            qb.push_bind(org.as_str());
            qb.push(" AND project_id = ");
            qb.push_bind(project.as_str());
            let reversed = push_keyset(&mut qb, "id", page);
            let rows: Vec<ServiceAccountRow> =
                qb.build_query_as().fetch_all(&mut *conn).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(ServiceAccount::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn get_service_account(
        &self,
        org: &OrgId,
        project: &ProjectId,
        account: &ServiceAccountId,
    ) -> Result<ServiceAccount> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            find(&mut *conn, org, project, account).await
        })
        .await
    }

    async fn create_service_account(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        new: NewServiceAccount,
    ) -> Result<(ServiceAccount, Option<ProjectApiKey>)> {
        self.guarded(async {
            let org = &actor.org_id;
            let id = ServiceAccountId::generate(self.millis());
            let role = if new.api_key.is_some() {
                ServiceAccountRole::Member
            } else {
                ServiceAccountRole::None
            };
            let mut tx = self.begin_for(actor).await?;
            let now = tx.now();
            let project = projects::get(&mut *tx, org, project_id).await?;
            project.ensure_open()?;
            // The account's key can do what its role holds in the project, and lives no longer than the
            // key that made it.
            let grants = Grants::load(&mut tx, actor).await?;
            let what = format!("A service account with role '{}'", role.as_str());
            grants
                .check(&mut tx, actor, Some(project_id), role.permissions(), &what)
                .await?;
            let key_expires_at = match &new.api_key {
                Some(key) => grants
                    .granter()
                    .expiry_for_new_key(now, key.expires_in_seconds)?,
                None => None,
            };
            sqlx::query(
                "INSERT INTO service_accounts (org_id, id, project_id, name, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(project_id.as_str())
            .bind(&new.name)
            .bind(role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            let key = match new.api_key {
                None => None,
                Some(key) => {
                    let key_id = ProjectApiKeyId::generate(self.millis());
                    let expires_at = key_expires_at;
                    project_keys::insert_service_account_key(
                        &mut tx,
                        org,
                        project_id,
                        &key_id,
                        &id,
                        FIRST_KEY_NAME,
                        &key,
                        None,
                        now,
                        expires_at,
                    )
                    .await?;
                    // A project key made, as any other: `api_key.created` in the project.
                    let event = NewAuditEvent::new(
                        kind::API_KEY_CREATED,
                        key_id.as_str(),
                        json!({ "id": key_id, "data": { "scopes": [] } }),
                    )
                    .in_project(project_id);
                    self.audit(&mut tx, actor, event).await?;
                    Some(ProjectApiKey {
                        id: key_id,
                        name: FIRST_KEY_NAME.into(),
                        redacted_value: key.redacted_value,
                        created_at: now,
                        expires_at,
                    })
                }
            };
            let event = NewAuditEvent::new(
                kind::SERVICE_ACCOUNT_CREATED,
                id.as_str(),
                json!({ "id": id, "data": { "role": role.as_str() } }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            let account = find(&mut *tx, org, project_id, &id).await?;
            tx.commit().await?;
            Ok((account, key))
        })
        .await
    }

    async fn update_service_account(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        account_id: &ServiceAccountId,
        change: ServiceAccountChange,
    ) -> Result<ServiceAccount> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let project = projects::get(&mut *tx, org, project_id).await?;
            let account = find(&mut *tx, org, project_id, account_id).await?;
            project.ensure_open()?;
            // Only what actually changes is written and audited.
            let name = change.name.filter(|n| *n != account.name);
            let role = change.role.filter(|r| *r != account.role);
            if name.is_none() && role.is_none() {
                return Ok(account);
            }
            if let Some(role) = role {
                // What the new role holds beyond the current one: nothing for a demotion.
                let gained = role.permissions().difference(account.role.permissions());
                let what = format!("Service account role '{}'", role.as_str());
                Grants::load(&mut tx, actor)
                    .await?
                    .check(&mut tx, actor, Some(project_id), gained, &what)
                    .await?;
            }
            sqlx::query(
                "UPDATE service_accounts SET name = COALESCE($1, name), role = COALESCE($2, role) \
                 WHERE org_id = $3 AND project_id = $4 AND id = $5",
            )
            .bind(name.as_deref())
            .bind(role.map(ServiceAccountRole::as_str))
            .bind(org.as_str())
            .bind(project_id.as_str())
            .bind(account_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let mut requested = serde_json::Map::new();
            if let Some(role) = role {
                requested.insert("role".into(), json!(role.as_str()));
            }
            if let Some(name) = &name {
                requested.insert("name".into(), json!(name));
            }
            let event = NewAuditEvent::new(
                kind::SERVICE_ACCOUNT_UPDATED,
                account_id.as_str(),
                json!({ "id": account_id, "changes_requested": requested }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            let account = find(&mut *tx, org, project_id, account_id).await?;
            tx.commit().await?;
            Ok(account)
        })
        .await
    }

    async fn delete_service_account(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        account_id: &ServiceAccountId,
    ) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let project = projects::get(&mut *tx, org, project_id).await?;
            find(&mut *tx, org, project_id, account_id).await?;
            project.ensure_open()?;
            // Its keys go with it (also by the foreign key's cascade; said here so it does not depend
            // on a connection setting).
            sqlx::query(
                "DELETE FROM project_api_keys WHERE org_id = $1 AND owner_service_account_id = $2",
            )
            .bind(org.as_str())
            .bind(account_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            sqlx::query(
                "DELETE FROM service_accounts WHERE org_id = $1 AND project_id = $2 AND id = $3",
            )
            .bind(org.as_str())
            .bind(project_id.as_str())
            .bind(account_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let event = NewAuditEvent::new(
                kind::SERVICE_ACCOUNT_DELETED,
                account_id.as_str(),
                json!({ "id": account_id }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The organization's members and its service accounts in one list ordered by ID. Each side is
    /// a keyset range scan of its own table limited to one page, and the two are merged: a page
    /// costs the same wherever it is.
    async fn list_users_with_service_accounts(
        &self,
        at: ReadAt<'_>,
        page: &PageRequest,
    ) -> Result<Page<OrgUser>> {
        self.guarded(async {
            let key = (at.org_id.clone(), page.clone());
            self.read_cache
                .directory_pages
                .get_or_load(key, at.version, || directory_page(self, at.org_id, page))
                .await
        })
        .await
    }

    async fn find_service_account(
        &self,
        org: &OrgId,
        account: &ServiceAccountId,
    ) -> Result<Option<ServiceAccount>> {
        self.guarded(find_in_org(&self.reader, org, account)).await
    }
}

/// A service account of any project of the organization.
pub(crate) async fn find_in_org<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    account: &ServiceAccountId,
) -> Result<Option<ServiceAccount>> {
    let row: Option<ServiceAccountRow> = sqlx::query_as(&format!(
        "SELECT {SERVICE_ACCOUNT_COLUMNS} FROM service_accounts WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_str())
    .bind(account.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    Ok(row.map(ServiceAccount::from))
}

/// One page of members and service accounts, read with the organization's version: the two
/// keyset ranges merged (`listed`), then, as for a member answer (`users::push_member_select`),
/// each member's last key use and project memberships, in the same statement. A service account
/// has no admin keys and no memberships of its own: its row has NULLs there.
async fn directory_page(
    store: &Backend,
    org: &OrgId,
    page: &PageRequest,
) -> Result<(Page<OrgUser>, Option<OrgVersion>, usize)> {
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(
        "SELECT listed.*, (SELECT MAX(k.last_used_at) FROM admin_api_keys k \
         WHERE k.org_id = listed.org_id AND k.owner_user_id = listed.id) AS api_key_last_used_at, \
         p.id AS member_project_id, p.name AS member_project_name, \
         pu.role AS member_project_role, ",
    );
    users::push_version(&mut qb, org);
    qb.push(
        " FROM (SELECT * FROM (SELECT org_id, id, CAST(NULL AS TEXT) AS project_id, email, name, \
         role, added_at, developer_persona, technical_level, created, is_default, \
         is_scim_managed, is_scale_tier_authorized_purchaser FROM users WHERE org_id = ",
    );
    qb.push_bind(org.as_str());
    let reversed = push_keyset(&mut qb, "id", page);
    qb.push(
        ") AS u UNION ALL SELECT * FROM (SELECT org_id, id, project_id, CAST(NULL AS TEXT) AS email, \
         name, role, created_at AS added_at, CAST(NULL AS TEXT) AS developer_persona, \
         CAST(NULL AS TEXT) AS technical_level, created_at AS created, FALSE AS is_default, \
         FALSE AS is_scim_managed, FALSE AS is_scale_tier_authorized_purchaser \
         FROM service_accounts WHERE org_id = ",
    );
    qb.push_bind(org.as_str());
    push_keyset(&mut qb, "id", page);
    let direction = users::page_direction(page, reversed);
    qb.push(format!(") AS s ORDER BY id {direction} LIMIT "));
    qb.push_bind(i64::from(page.limit) + 1);
    qb.push(format!(
        ") AS listed LEFT JOIN project_users pu ON listed.project_id IS NULL \
         AND pu.org_id = listed.org_id AND pu.user_id = listed.id \
         LEFT JOIN projects p ON p.org_id = pu.org_id AND p.id = pu.project_id \
         ORDER BY listed.id {direction}, p.id"
    ));
    let rows: Vec<DirectoryRow> = qb.build_query_as().fetch_all(&store.reader).await.db()?;
    Ok(finish_member_page(
        rows.into_iter().map(Into::into),
        page,
        reversed,
    ))
}
