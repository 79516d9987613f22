//! Projects and their members.

use async_trait::async_trait;
use orgadmin_core::actor::{Actor, ReadAt};
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::model::{MemberRef, NewProject, Project, ProjectChange, ProjectUser};
use orgadmin_core::page::{Page, PageRequest};
use orgadmin_core::role::ProjectBaseRole;
use orgadmin_core::store::ProjectStore;
use orgadmin_core::{ConflictKind, DomainError, Remedy, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{
    finish_page, is_unique_violation, push_keyset, roles, users, Backend, Db, DbResult, Tx,
};
use crate::rows::*;

pub(crate) async fn get<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: &ProjectId,
) -> Result<Project> {
    let row: Option<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_str())
    .bind(project.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    row.map(Project::from)
        .ok_or_else(|| DomainError::not_found("project", project, "project_id"))
}

pub(crate) async fn find_member<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: &ProjectId,
    user: &UserId,
) -> Result<Option<ProjectUser>> {
    let row: Option<MemberRow> = sqlx::query_as(&format!(
        "SELECT {MEMBER_COLUMNS} FROM project_users pu JOIN users u ON u.org_id = pu.org_id AND u.id = pu.user_id \
         WHERE pu.org_id = $1 AND pu.project_id = $2 AND pu.user_id = $3"
    ))
    .bind(org.as_str())
    .bind(project.as_str())
    .bind(user.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    Ok(row.map(ProjectUser::from))
}

fn not_a_member(project: &ProjectId, user: &UserId) -> DomainError {
    DomainError::not_found_because(
        "user_id",
        format!("User {user} is not a member of project {project}."),
    )
}

pub(crate) async fn set_member_role(
    tx: &mut Tx,
    org: &OrgId,
    project: &ProjectId,
    user: &UserId,
    role: ProjectBaseRole,
) -> Result<()> {
    sqlx::query(
        "UPDATE project_users SET role = $1 WHERE org_id = $2 AND project_id = $3 AND user_id = $4",
    )
    .bind(role.as_str())
    .bind(org.as_str())
    .bind(project.as_str())
    .bind(user.as_str())
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn insert_member(
    tx: &mut Tx,
    org: &OrgId,
    project: &ProjectId,
    user: &UserId,
    role: ProjectBaseRole,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO project_users (org_id, project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(org.as_str())
        .bind(project.as_str())
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DomainError::conflict(
                    ConflictKind::AlreadyExists,
                    format!("User {user} is already a member of project {project}"),
                    Some("user_id"),
                )
                .with_remedy(Remedy::ChangeProjectMemberRole {
                    project: project.to_string(),
                    user: user.to_string(),
                })
            } else {
                super::db_error(e)
            }
        })?;
    Ok(())
}

#[async_trait]
impl ProjectStore for Backend {
    async fn list_projects(
        &self,
        org: &OrgId,
        include_archived: bool,
        page: &PageRequest,
    ) -> Result<Page<Project>> {
        self.guarded(async {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = "
            ));
            qb.push_bind(org.as_str());
            if !include_archived {
                qb.push(" AND archived_at IS NULL");
            }
            let reversed = push_keyset(&mut qb, "id", page);
            let rows: Vec<ProjectRow> = qb.build_query_as().fetch_all(&self.reader).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(Project::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn get_project(&self, org: &OrgId, project: &ProjectId) -> Result<Project> {
        self.guarded(get(&self.reader, org, project)).await
    }

    async fn create_project(&self, actor: &Actor, new: NewProject) -> Result<Project> {
        self.guarded(async {
            let org = &actor.org_id;
            let id = ProjectId::generate(self.millis());
            let mut tx = self.begin_for(actor).await?;
            sqlx::query("INSERT INTO projects (org_id, id, name, created_at, external_key_id, residency) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(org.as_str())
                .bind(id.as_str())
                .bind(&new.name)
                .bind(tx.now())
                .bind(new.external_key_id.as_deref())
                .bind(new.residency.as_deref())
                .execute(&mut *tx)
                .await
                .db()?;
            let event = NewAuditEvent::new(
                kind::PROJECT_CREATED,
                id.as_str(),
                json!({ "id": id, "data": { "name": new.name, "title": new.name } }),
            )
            .in_project(&id);
            self.audit(&mut tx, actor, event).await?;
            let project = get(&mut *tx, org, &id).await?;
            tx.commit().await?;
            Ok(project)
        })
        .await
    }

    async fn update_project(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        change: ProjectChange,
    ) -> Result<Project> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let project = get(&mut *tx, org, project_id).await?;
            project.ensure_open()?;
            if project.is_default && change.name.as_ref().is_some_and(|n| *n != project.name) {
                return Err(DomainError::invalid(
                    "project_id",
                    format!(
                        "Project {project_id} is the organization's default project and cannot be renamed."
                    ),
                ));
            }
            sqlx::query("UPDATE projects SET name = COALESCE($1, name), external_key_id = COALESCE($2, external_key_id) WHERE org_id = $3 AND id = $4")
                .bind(change.name.as_deref())
                .bind(change.external_key_id.as_deref())
                .bind(org.as_str())
                .bind(project_id.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            let mut requested = serde_json::Map::new();
            if let Some(name) = &change.name {
                requested.insert("title".into(), json!(name));
            }
            if let Some(key) = &change.external_key_id {
                requested.insert("external_key_id".into(), json!(key));
            }
            let event = NewAuditEvent::new(
                kind::PROJECT_UPDATED,
                project_id.as_str(),
                json!({ "id": project_id, "changes_requested": requested }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            let project = get(&mut *tx, org, project_id).await?;
            tx.commit().await?;
            Ok(project)
        })
        .await
    }

    async fn archive_project(&self, actor: &Actor, project_id: &ProjectId) -> Result<Project> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let project = get(&mut *tx, org, project_id).await?;
            if project.is_default {
                return Err(DomainError::invalid(
                    "project_id",
                    format!("Project {project_id} is the organization's default project and cannot be archived."),
                ));
            }
            if project.is_archived() {
                // Archiving is idempotent: the project stays as it was archived.
                return Ok(project);
            }
            sqlx::query("UPDATE projects SET archived_at = $1 WHERE org_id = $2 AND id = $3")
                .bind(tx.now())
                .bind(org.as_str())
                .bind(project_id.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            let event = NewAuditEvent::new(
                kind::PROJECT_ARCHIVED,
                project_id.as_str(),
                json!({ "id": project_id }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            let project = get(&mut *tx, org, project_id).await?;
            tx.commit().await?;
            Ok(project)
        })
        .await
    }

    async fn list_project_users(
        &self,
        at: ReadAt<'_>,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectUser>> {
        let org = at.org_id;
        let key = (org.clone(), project.clone(), page.clone());
        self.guarded(self.remembered(
            &self.read_cache.project_users,
            key,
            at,
            |page| page.items.len(),
            async |conn| {
            get(&mut *conn, org, project).await?;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {MEMBER_COLUMNS} FROM project_users pu JOIN users u ON u.org_id = pu.org_id AND u.id = pu.user_id \
                 WHERE pu.org_id = "
            ));
            qb.push_bind(org.as_str());
            qb.push(" AND pu.project_id = ");
            qb.push_bind(project.as_str());
            let reversed = push_keyset(&mut qb, "pu.user_id", page);
            let rows: Vec<MemberRow> = qb.build_query_as().fetch_all(&mut *conn).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(ProjectUser::from).collect(),
                page,
                reversed,
            ))
        },
        ))
        .await
    }

    async fn get_project_user(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<ProjectUser> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            get(&mut *conn, org, project).await?;
            find_member(&mut *conn, org, project, user)
                .await?
                .ok_or_else(|| not_a_member(project, user))
        })
        .await
    }

    async fn add_project_user(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        who: &MemberRef,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let project = get(&mut *tx, org, project_id).await?;
            let user = match who {
                MemberRef::Id(id) => users::find(&mut *tx, org, id).await?.ok_or_else(|| {
                    DomainError::invalid(
                        "user_id",
                        format!("User {id} is not a member of the organization"),
                    )
                    .with_remedy(Remedy::InviteFirst)
                })?,
                MemberRef::Email(email) => users::find_by_email(&mut *tx, org, email)
                    .await?
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "email",
                            format!("No member of the organization has the email {email}"),
                        )
                        .with_remedy(Remedy::InviteFirst)
                    })?,
            };
            project.ensure_open()?;
            Grants::load(&mut tx, actor)
                .await?
                .check(
                    &mut tx,
                    actor,
                    Some(project_id),
                    role.predefined().permissions(),
                    &format!("Project role '{}'", role.as_str()),
                )
                .await?;
            let now = tx.now();
            insert_member(&mut tx, org, project_id, &user.id, role, now)
                .await
                .map_err(|e| match (e, who) {
                    // Name the field the client used to say who to add.
                    (e @ DomainError::Conflict { .. }, MemberRef::Email(_)) => {
                        e.with_param("email")
                    }
                    (e, _) => e,
                })?;
            let event = NewAuditEvent::new(
                kind::USER_ADDED,
                user.id.as_str(),
                json!({ "id": user.id, "data": { "role": role.as_str() } }),
            )
            .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            let member = find_member(&mut *tx, org, project_id, &user.id)
                .await?
                .ok_or_else(|| {
                    DomainError::internal("project member vanished inside its own transaction")
                })?;
            tx.commit().await?;
            Ok(member)
        })
        .await
    }

    async fn update_project_user(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        user: &UserId,
        role: ProjectBaseRole,
    ) -> Result<ProjectUser> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let project = get(&mut *tx, org, project_id).await?;
            let member = find_member(&mut *tx, org, project_id, user)
                .await?
                .ok_or_else(|| not_a_member(project_id, user))?;
            project.ensure_open()?;
            if member.role != role {
                // What the new role holds beyond the current one: nothing for a demotion.
                let gained = role
                    .predefined()
                    .permissions()
                    .difference(member.role.predefined().permissions());
                Grants::load(&mut tx, actor)
                    .await?
                    .check(
                        &mut tx,
                        actor,
                        Some(project_id),
                        gained,
                        &format!("Project role '{}'", role.as_str()),
                    )
                    .await?;
                set_member_role(&mut tx, org, project_id, user, role).await?;
                let event = NewAuditEvent::new(
                    kind::USER_UPDATED,
                    user.as_str(),
                    json!({ "id": user, "changes_requested": { "role": role.as_str() } }),
                )
                .in_project(project_id);
                self.audit(&mut tx, actor, event).await?;
            }
            let member = find_member(&mut *tx, org, project_id, user)
                .await?
                .ok_or_else(|| not_a_member(project_id, user))?;
            tx.commit().await?;
            Ok(member)
        })
        .await
    }

    async fn remove_project_user(
        &self,
        actor: &Actor,
        project_id: &ProjectId,
        user: &UserId,
    ) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let project = get(&mut *tx, org, project_id).await?;
            find_member(&mut *tx, org, project_id, user)
                .await?
                .ok_or_else(|| not_a_member(project_id, user))?;
            project.ensure_open()?;
            roles::remove_project_assignments(&mut tx, org, project_id, user).await?;
            // Their keys in the project stay, inactive, remembering them as they are now.
            sqlx::query(super::project_keys::REMEMBER_OWNER_IN_PROJECT)
                .bind(org.as_str())
                .bind(user.as_str())
                .bind(project_id.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query(
                "DELETE FROM project_users WHERE org_id = $1 AND project_id = $2 AND user_id = $3",
            )
            .bind(org.as_str())
            .bind(project_id.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let event =
                NewAuditEvent::new(kind::USER_DELETED, user.as_str(), json!({ "id": user }))
                    .in_project(project_id);
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}
