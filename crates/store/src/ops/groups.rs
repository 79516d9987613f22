//! Groups: their members, the roles they hold in the organization and in projects, and their
//! access to projects. What a group holds reaches every member (see `roles::Principal`).

use async_trait::async_trait;
use orgadmin_core::actor::{Actor, ReadAt};
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::model::{AssignedRole, Group, ProjectGroup, User};
use orgadmin_core::page::{page_in_memory, Page, PageRequest};
use orgadmin_core::role::{Role, RoleRef};
use orgadmin_core::store::GroupStore;
use orgadmin_core::{ConflictKind, DomainError, Remedy, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::roles::{self, Principal, Resolved};
use super::{finish_page, projects, push_keyset, users, Backend, Conn, Db, DbResult, Tx};
use crate::rows::*;

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    name: String,
    created_at: i64,
    is_scim_managed: bool,
}

impl From<GroupRow> for Group {
    fn from(r: GroupRow) -> Self {
        Group {
            id: GroupId::from_raw(r.id),
            name: r.name,
            created_at: r.created_at,
            is_scim_managed: r.is_scim_managed,
        }
    }
}

/// The columns of a [`GroupRow`] from `groups` (as `g`): a group is SCIM's once SCIM wrote it.
const GROUP_COLUMNS: &str = "g.id, g.name, g.created_at, \
     EXISTS (SELECT 1 FROM scim_groups sg WHERE sg.org_id = g.org_id AND sg.id = g.id) AS is_scim_managed";

pub(crate) async fn get<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    group: &GroupId,
) -> Result<Group> {
    let row: Option<GroupRow> = sqlx::query_as(&format!(
        "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.org_id = $1 AND g.id = $2"
    ))
    .bind(org.as_str())
    .bind(group.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    row.map(Group::from)
        .ok_or_else(|| DomainError::not_found("group", group, "group_id"))
}

#[async_trait]
impl GroupStore for Backend {
    async fn list_groups(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Group>> {
        self.guarded(async {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.org_id = "
            ));
            qb.push_bind(org.as_str());
            let reversed = push_keyset(&mut qb, "id", page);
            let rows: Vec<GroupRow> = qb.build_query_as().fetch_all(&self.reader).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(Group::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn get_group(&self, org: &OrgId, group: &GroupId) -> Result<Group> {
        self.guarded(get(&self.reader, org, group)).await
    }

    async fn create_group(&self, actor: &Actor, name: String) -> Result<Group> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            let id = insert_group(self, &mut tx, actor, &name).await?;
            let group = get(&mut *tx, &actor.org_id, &id).await?;
            tx.commit().await?;
            Ok(group)
        })
        .await
    }

    async fn rename_group(&self, actor: &Actor, group: &GroupId, name: String) -> Result<Group> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            rename(self, &mut tx, actor, group, &name).await?;
            let renamed = get(&mut *tx, &actor.org_id, group).await?;
            tx.commit().await?;
            Ok(renamed)
        })
        .await
    }

    async fn delete_group(&self, actor: &Actor, group: &GroupId) -> Result<()> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            delete(self, &mut tx, actor, group).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn list_group_users(
        &self,
        org: &OrgId,
        group: &GroupId,
        page: &PageRequest,
    ) -> Result<Page<User>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            get(&mut *conn, org, group).await?;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT u.* FROM group_users gu JOIN (SELECT org_id, {USER_COLUMNS} FROM users) AS u \
                 ON u.org_id = gu.org_id AND u.id = gu.user_id WHERE gu.org_id = "
            ));
            qb.push_bind(org.as_str());
            qb.push(" AND gu.group_id = ");
            qb.push_bind(group.as_str());
            let reversed = push_keyset(&mut qb, "gu.user_id", page);
            let rows: Vec<UserRow> = qb.build_query_as().fetch_all(&mut *conn).await.db()?;
            Ok(finish_page(
                rows.into_iter().map(User::from).collect(),
                page,
                reversed,
            ))
        })
        .await
    }

    async fn get_group_user(&self, org: &OrgId, group: &GroupId, user: &UserId) -> Result<User> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            get(&mut *conn, org, group).await?;
            let member: Option<String> = sqlx::query_scalar(
                "SELECT user_id FROM group_users WHERE org_id = $1 AND group_id = $2 AND user_id = $3",
            )
            .bind(org.as_str())
            .bind(group.as_str())
            .bind(user.as_str())
            .fetch_optional(&mut *conn)
            .await
            .db()?;
            if member.is_none() {
                return Err(not_a_member(group, user));
            }
            users::get(&mut *conn, org, user).await
        })
        .await
    }

    async fn add_group_user(&self, actor: &Actor, group: &GroupId, user: &UserId) -> Result<()> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            get(&mut *tx, &actor.org_id, group).await?;
            add_member(self, &mut tx, actor, group, user).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn remove_group_user(&self, actor: &Actor, group: &GroupId, user: &UserId) -> Result<()> {
        self.guarded(async {
            let mut tx = self.begin_for(actor).await?;
            get(&mut *tx, &actor.org_id, group).await?;
            remove_member(self, &mut tx, actor, group, user).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn list_group_roles(
        &self,
        at: ReadAt<'_>,
        project: Option<&ProjectId>,
        group: &GroupId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        let org = at.org_id;
        let holder = (org.clone(), project.cloned(), "group", group.to_string());
        self.guarded(self.remembered(
            &self.read_cache.role_pages,
            (holder, page.clone()),
            at,
            |page| page.items.len(),
            async |conn| {
                group_in_context(conn, org, project, group).await?;
                let page = roles::normalized(page);
                let mut held =
                    roles::assigned_roles(conn, org, project, Principal::Group(group), Some(&page))
                        .await?;
                // Fetched in the page's direction; `page_in_memory` takes them ascending.
                held.sort_by_key(|r| r.role.sort_key());
                Ok(page_in_memory(held, &page, |r| r.role.sort_key()))
            },
        ))
        .await
    }

    async fn get_group_role(
        &self,
        org: &OrgId,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            group_in_context(&mut conn, org, project, group).await?;
            let wanted =
                roles::stored_id(&roles::resolve_in_context(&mut *conn, org, project, role).await?);
            roles::assigned_roles(&mut conn, org, project, Principal::Group(group), None)
                .await?
                .into_iter()
                .find(|r| r.role.sort_key() == wanted)
                .ok_or_else(|| {
                    DomainError::not_found_because(
                        "role_id",
                        format!("Group {group} does not hold role '{role}'."),
                    )
                })
        })
        .await
    }

    async fn assign_group_role(
        &self,
        actor: &Actor,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<(Group, Role)> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let found = group_in_context(&mut tx, org, project, group).await?;
            if let Some(p) = project {
                projects::get(&mut *tx, org, p).await?.ensure_open()?;
            }
            let resolved = roles::resolve_in_context(&mut *tx, org, project, role).await?;
            let role = grant(self, &mut tx, actor, project, group, &resolved).await?;
            tx.commit().await?;
            Ok((found, role))
        })
        .await
    }

    async fn unassign_group_role(
        &self,
        actor: &Actor,
        project: Option<&ProjectId>,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            group_in_context(&mut tx, org, project, group).await?;
            if let Some(p) = project {
                projects::get(&mut *tx, org, p).await?.ensure_open()?;
            }
            let resolved = roles::resolve_in_context(&mut *tx, org, project, role).await?;
            let removed = sqlx::query(
                "DELETE FROM role_assignments WHERE org_id = $1 AND principal_type = 'group' AND principal_id = $2 AND scope_key = $3 AND role_id = $4",
            )
            .bind(org.as_str())
            .bind(group.as_str())
            .bind(project.map(|p| p.as_str()).unwrap_or(""))
            .bind(roles::stored_id(&resolved))
            .execute(&mut *tx)
            .await
            .db()?;
            if removed.rows_affected() == 0 {
                return Err(DomainError::not_found_because("role_id", format!("Group {group} does not hold role '{role}'.")));
            }
            let shown = match &resolved {
                Resolved::Base(p) => p.to_role(project),
                Resolved::Custom(r) => r.clone(),
            };
            let event = roles::assignment_event(
                kind::ROLE_ASSIGNMENT_DELETED,
                org,
                &shown,
                "group",
                group.as_str(),
            );
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn list_project_groups(
        &self,
        org: &OrgId,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ProjectGroup>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            projects::get(&mut *conn, org, project).await?;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {GROUP_COLUMNS}, pg.added_at FROM project_groups pg \
                 JOIN groups g ON g.org_id = pg.org_id AND g.id = pg.group_id WHERE pg.org_id = "
            ));
            qb.push_bind(org.as_str());
            qb.push(" AND pg.project_id = ");
            qb.push_bind(project.as_str());
            let reversed = push_keyset(&mut qb, "pg.group_id", page);
            let rows: Vec<ProjectGroupRow> =
                qb.build_query_as().fetch_all(&mut *conn).await.db()?;
            let items = rows
                .into_iter()
                .map(|r| project_group(project, r))
                .collect();
            Ok(finish_page(items, page, reversed))
        })
        .await
    }

    async fn get_project_group(
        &self,
        org: &OrgId,
        project: &ProjectId,
        group: &GroupId,
    ) -> Result<ProjectGroup> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            let found = group_in_context(&mut conn, org, Some(project), group).await?;
            let added_at = find_project_group(&mut conn, org, project, group)
                .await?
                .ok_or_else(|| no_access(project, group))?;
            Ok(ProjectGroup {
                project_id: project.clone(),
                group: found,
                added_at,
            })
        })
        .await
    }

    async fn add_project_group(
        &self,
        actor: &Actor,
        project: &ProjectId,
        group: &GroupId,
        role: &RoleRef,
    ) -> Result<ProjectGroup> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let proj = projects::get(&mut *tx, org, project).await?;
            let found = get(&mut *tx, org, group).await?;
            proj.ensure_open()?;
            let resolved = roles::resolve_in_context(&mut *tx, org, Some(project), role).await?;
            let now = tx.now();
            let added = sqlx::query(
                "INSERT INTO project_groups (org_id, project_id, group_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(org.as_str())
            .bind(project.as_str())
            .bind(group.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            if added.rows_affected() == 0 {
                return Err(DomainError::conflict(
                    ConflictKind::AlreadyExists,
                    format!("Group {group} already has access to project {project}"),
                    Some("group_id"),
                )
                .with_remedy(Remedy::ChangeGroupProjectRoles {
                    project: project.to_string(),
                    group: group.to_string(),
                }));
            }
            let event = NewAuditEvent::new(
                kind::GROUP_UPDATED,
                group.as_str(),
                json!({ "id": group, "changes_requested": { "projects_added": [project] } }),
            )
            .in_project(project);
            self.audit(&mut tx, actor, event).await?;
            grant(self, &mut tx, actor, Some(project), group, &resolved).await?;
            tx.commit().await?;
            Ok(ProjectGroup {
                project_id: project.clone(),
                group: found,
                added_at: now,
            })
        })
        .await
    }

    async fn remove_project_group(
        &self,
        actor: &Actor,
        project: &ProjectId,
        group: &GroupId,
    ) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            group_in_context(&mut tx, org, Some(project), group).await?;
            projects::get(&mut *tx, org, project).await?.ensure_open()?;
            drop_assignments(self, &mut tx, actor, group, Some(project)).await?;
            sqlx::query(
                "DELETE FROM project_groups WHERE org_id = $1 AND project_id = $2 AND group_id = $3",
            )
            .bind(org.as_str())
            .bind(project.as_str())
            .bind(group.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let event = NewAuditEvent::new(
                kind::GROUP_UPDATED,
                group.as_str(),
                json!({ "id": group, "changes_requested": { "projects_removed": [project] } }),
            )
            .in_project(project);
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}

/// Create a group, as the Admin API's create does (and SCIM's): its name free in the
/// organization, `group.created` written.
pub(crate) async fn insert_group(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    name: &str,
) -> Result<GroupId> {
    let org = &actor.org_id;
    ensure_name_free(tx, org, name, None).await?;
    let id = GroupId::generate(store.millis());
    sqlx::query(
        "INSERT INTO groups (org_id, id, name, name_norm, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(name)
    .bind(name.to_lowercase())
    .bind(tx.now())
    .execute(&mut **tx)
    .await
    .db()?;
    let event = NewAuditEvent::new(
        kind::GROUP_CREATED,
        id.as_str(),
        json!({ "id": id, "data": { "group_name": name } }),
    );
    store.audit(tx, actor, event).await?;
    Ok(id)
}

/// Rename an existing group (its new name free), `group.updated` written.
pub(crate) async fn rename(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    group: &GroupId,
    name: &str,
) -> Result<()> {
    let org = &actor.org_id;
    get(&mut **tx, org, group).await?;
    ensure_name_free(tx, org, name, Some(group)).await?;
    sqlx::query("UPDATE groups SET name = $1, name_norm = $2 WHERE org_id = $3 AND id = $4")
        .bind(name)
        .bind(name.to_lowercase())
        .bind(org.as_str())
        .bind(group.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    let event = NewAuditEvent::new(
        kind::GROUP_UPDATED,
        group.as_str(),
        json!({ "id": group, "changes_requested": { "group_name": name } }),
    );
    store.audit(tx, actor, event).await
}

/// Delete an existing group with its role assignments (memberships and project access go with
/// it), `group.deleted` written.
pub(crate) async fn delete(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    group: &GroupId,
) -> Result<()> {
    let org = &actor.org_id;
    get(&mut **tx, org, group).await?;
    drop_assignments(store, tx, actor, group, None).await?;
    // Memberships and project access go with the group (ON DELETE CASCADE).
    sqlx::query("DELETE FROM groups WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(group.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    store
        .audit(
            tx,
            actor,
            NewAuditEvent::new(kind::GROUP_DELETED, group.as_str(), json!({ "id": group })),
        )
        .await
}

/// Add a member of the organization to an existing group (idempotent), as a grant of what the
/// group holds; `group.updated` written when they were not in it.
pub(crate) async fn add_member(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    group: &GroupId,
    user: &UserId,
) -> Result<()> {
    let org = &actor.org_id;
    if users::find(&mut **tx, org, user).await?.is_none() {
        return Err(DomainError::invalid(
            "user_id",
            format!("User {user} is not a member of the organization"),
        )
        .with_remedy(Remedy::InviteFirst));
    }
    // The new member holds whatever the group holds, in the organization and its projects.
    Grants::load(tx, actor)
        .await?
        .check_group_membership(tx, actor, group)
        .await?;
    let added = sqlx::query(
        "INSERT INTO group_users (org_id, group_id, user_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(org.as_str())
    .bind(group.as_str())
    .bind(user.as_str())
    .bind(tx.now())
    .execute(&mut **tx)
    .await
    .db()?;
    if added.rows_affected() > 0 {
        let event = NewAuditEvent::new(
            kind::GROUP_UPDATED,
            group.as_str(),
            json!({ "id": group, "changes_requested": { "users_added": [user] } }),
        );
        store.audit(tx, actor, event).await?;
    }
    Ok(())
}

/// Remove a member from an existing group; `group.updated` written.
pub(crate) async fn remove_member(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    group: &GroupId,
    user: &UserId,
) -> Result<()> {
    let org = &actor.org_id;
    let removed =
        sqlx::query("DELETE FROM group_users WHERE org_id = $1 AND group_id = $2 AND user_id = $3")
            .bind(org.as_str())
            .bind(group.as_str())
            .bind(user.as_str())
            .execute(&mut **tx)
            .await
            .db()?;
    if removed.rows_affected() == 0 {
        return Err(not_a_member(group, user));
    }
    let event = NewAuditEvent::new(
        kind::GROUP_UPDATED,
        group.as_str(),
        json!({ "id": group, "changes_requested": { "users_removed": [user] } }),
    );
    store.audit(tx, actor, event).await
}

async fn ensure_name_free(
    tx: &mut Tx,
    org: &OrgId,
    name: &str,
    except: Option<&GroupId>,
) -> Result<()> {
    let clash: Option<String> =
        sqlx::query_scalar("SELECT id FROM groups WHERE org_id = $1 AND name_norm = $2")
            .bind(org.as_str())
            .bind(name.to_lowercase())
            .fetch_optional(&mut **tx)
            .await
            .db()?;
    match clash {
        Some(id) if Some(id.as_str()) != except.map(|g| g.as_str()) => Err(DomainError::conflict(
            ConflictKind::AlreadyExists,
            format!("A group named '{name}' already exists ({id}); group names are unique in the organization."),
            Some("name"),
        )),
        _ => Ok(()),
    }
}

/// Delete every role assignment of `group` in a scope (`None`: every scope), recording each.
async fn drop_assignments(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    group: &GroupId,
    project: Option<&ProjectId>,
) -> Result<()> {
    let org = &actor.org_id;
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new("SELECT role_id, scope_key FROM role_assignments WHERE principal_type = 'group' AND org_id = ");
    qb.push_bind(org.as_str().to_owned());
    qb.push(" AND principal_id = ");
    qb.push_bind(group.as_str().to_owned());
    if let Some(p) = project {
        qb.push(" AND scope_key = ");
        qb.push_bind(p.as_str().to_owned());
    }
    let held: Vec<(String, String)> = qb.build_query_as().fetch_all(&mut **tx).await.db()?;
    for (role_id, scope_key) in &held {
        let scope = (!scope_key.is_empty()).then(|| ProjectId::from_raw(scope_key.clone()));
        let role = shown_role(tx, org, role_id, scope.as_ref()).await?;
        let event = roles::assignment_event(
            kind::ROLE_ASSIGNMENT_DELETED,
            org,
            &role,
            "group",
            group.as_str(),
        );
        store.audit(tx, actor, event).await?;
    }
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(
        "DELETE FROM role_assignments WHERE principal_type = 'group' AND org_id = ",
    );
    qb.push_bind(org.as_str().to_owned());
    qb.push(" AND principal_id = ");
    qb.push_bind(group.as_str().to_owned());
    if let Some(p) = project {
        qb.push(" AND scope_key = ");
        qb.push_bind(p.as_str().to_owned());
    }
    qb.build().execute(&mut **tx).await.db()?;
    Ok(())
}

/// A stored role ID as the role it names (for audit details).
async fn shown_role(
    tx: &mut Tx,
    org: &OrgId,
    role_id: &str,
    project: Option<&ProjectId>,
) -> Result<Role> {
    Ok(match RoleRef::parse(role_id) {
        RoleRef::Predefined { role, .. } => role.to_role(project),
        RoleRef::Custom(id) => roles::resolve_custom(tx, org, &id).await?,
    })
}

fn not_a_member(group: &GroupId, user: &UserId) -> DomainError {
    DomainError::not_found_because(
        "user_id",
        format!("User {user} is not a member of group {group}."),
    )
}

async fn find_project_group(
    conn: &mut Conn,
    org: &OrgId,
    project: &ProjectId,
    group: &GroupId,
) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT added_at FROM project_groups WHERE org_id = $1 AND project_id = $2 AND group_id = $3")
        .bind(org.as_str())
        .bind(project.as_str())
        .bind(group.as_str())
        .fetch_optional(&mut *conn)
        .await
        .db()
}

fn no_access(project: &ProjectId, group: &GroupId) -> DomainError {
    DomainError::not_found_because(
        "group_id",
        format!("Group {group} has no access to project {project}"),
    )
    .with_remedy(Remedy::AddGroupToProject {
        project: project.to_string(),
    })
}

/// The group, checked to exist, and in a project context to have access to the project.
async fn group_in_context(
    conn: &mut Conn,
    org: &OrgId,
    project: Option<&ProjectId>,
    group: &GroupId,
) -> Result<Group> {
    if let Some(p) = project {
        projects::get(&mut *conn, org, p).await?;
    }
    let found = get(&mut *conn, org, group).await?;
    if let Some(p) = project {
        find_project_group(conn, org, p, group)
            .await?
            .ok_or_else(|| no_access(p, group))?;
    }
    Ok(found)
}

/// Give `group` a role in a scope (idempotent), recording it when new. Every member will hold
/// it, so the acting key must hold what the role holds there.
async fn grant(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    project: Option<&ProjectId>,
    group: &GroupId,
    resolved: &Resolved,
) -> Result<Role> {
    let org = &actor.org_id;
    let role = match resolved {
        Resolved::Base(p) => p.to_role(project),
        Resolved::Custom(r) => r.clone(),
    };
    Grants::load(tx, actor)
        .await?
        .check(
            tx,
            actor,
            project,
            role.permissions,
            &format!("Role '{}'", roles::stored_id(resolved)),
        )
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO role_assignments (org_id, principal_type, principal_id, role_id, scope_key, created_at) \
         VALUES ($1, 'group', $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(org.as_str())
    .bind(group.as_str())
    .bind(roles::stored_id(resolved))
    .bind(project.map(|p| p.as_str()).unwrap_or(""))
    .bind(tx.now())
    .execute(&mut **tx)
    .await
    .db()?;
    if inserted.rows_affected() > 0 {
        let event = roles::assignment_event(
            kind::ROLE_ASSIGNMENT_CREATED,
            org,
            &role,
            "group",
            group.as_str(),
        );
        store.audit(tx, actor, event).await?;
    }
    Ok(role)
}

#[derive(sqlx::FromRow)]
struct ProjectGroupRow {
    id: String,
    name: String,
    created_at: i64,
    is_scim_managed: bool,
    added_at: i64,
}

fn project_group(project: &ProjectId, r: ProjectGroupRow) -> ProjectGroup {
    ProjectGroup {
        project_id: project.clone(),
        group: Group {
            id: GroupId::from_raw(r.id),
            name: r.name,
            created_at: r.created_at,
            is_scim_managed: r.is_scim_managed,
        },
        added_at: r.added_at,
    }
}
