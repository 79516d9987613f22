//! Roles (predefined and custom) and their assignments to users, at organization and project
//! level. Predefined roles are not stored; a member's base role lives on the membership row, and
//! custom roles they hold live in `role_assignments`.

use async_trait::async_trait;
use orgadmin_core::actor::{Actor, ReadAt};
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::model::{AssignedRole, AssignmentSource, Member};
use orgadmin_core::page::{page_in_memory, Page, PageRequest, SortOrder};
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::role::{
    check_permissions_fit, PredefinedRole, ProjectBaseRole, ResourceType, Role, RoleRef, RoleScope,
};
use orgadmin_core::store::{NewRole, RoleChange};
use orgadmin_core::store::{RoleAssignmentStore, RoleStore};
use orgadmin_core::{ConflictKind, DomainError, Remedy, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{projects, push_in, users, Backend, Conn, Db, DbResult, Tx};
use crate::rows::*;

fn scope_key(scope: &RoleScope) -> &str {
    scope.project().map(|p| p.as_str()).unwrap_or("")
}

pub(crate) fn scope_mismatch_org(role_id: &str) -> DomainError {
    DomainError::invalid(
        "role_id",
        format!("'{role_id}' is a project role; this route takes organization roles (resource_type 'api.organization')."),
    )
}

fn scope_mismatch_project(
    role_id: &str,
    project: &ProjectId,
    role_project: Option<&ProjectId>,
) -> DomainError {
    let why = match role_project {
        None => "it is an organization role".to_owned(),
        Some(other) => format!("it belongs to project {other}"),
    };
    DomainError::invalid(
        "role_id",
        format!("'{role_id}' cannot be used in project {project}: {why}. Use a role of resource_type 'api.project' from this project."),
    )
}

async fn find_custom<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    id: &RoleId,
) -> Result<Option<Role>> {
    let row: Option<RoleRow> = sqlx::query_as(&format!(
        "SELECT {ROLE_COLUMNS} FROM roles WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_optional(db)
    .await
    .db()?;
    Ok(row.map(Role::from))
}

pub(crate) async fn resolve_custom(tx: &mut Tx, org: &OrgId, id: &RoleId) -> Result<Role> {
    find_custom(&mut **tx, org, id)
        .await?
        .ok_or_else(|| DomainError::not_found("role", id, "role_id"))
}

/// What a role ID names in a context (the organization, or one project).
pub(crate) enum Resolved {
    /// A predefined role of the context's kind: a base role.
    Base(PredefinedRole),
    Custom(Role),
}

/// Resolve `role` for use in `project` (or the organization when `None`), refusing a role of the
/// wrong scope with 400 `role_id`.
pub(crate) async fn resolve_in_context<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    project: Option<&ProjectId>,
    role: &RoleRef,
) -> Result<Resolved> {
    let shown = role.to_string();
    match (role, project) {
        (RoleRef::Predefined { role: p, .. }, None) => {
            if p.resource_type() == ResourceType::Organization {
                Ok(Resolved::Base(*p))
            } else {
                Err(scope_mismatch_org(&shown))
            }
        }
        (
            RoleRef::Predefined {
                role: p,
                project: alias,
            },
            Some(project),
        ) => {
            if p.resource_type() == ResourceType::Organization {
                return Err(scope_mismatch_project(&shown, project, None));
            }
            if let Some(alias) = alias.as_ref().filter(|a| *a != project) {
                return Err(scope_mismatch_project(&shown, project, Some(alias)));
            }
            Ok(Resolved::Base(*p))
        }
        (RoleRef::Custom(id), _) => {
            let found = find_custom(db, org, id)
                .await?
                .ok_or_else(|| DomainError::not_found("role", id, "role_id"))?;
            match project {
                None if found.project_id.is_some() => Err(scope_mismatch_org(&shown)),
                Some(p) if found.project_id.as_ref() != Some(p) => {
                    Err(scope_mismatch_project(&shown, p, found.project_id.as_ref()))
                }
                _ => Ok(Resolved::Custom(found)),
            }
        }
    }
}

/// A holder of roles: a user (who also holds what their groups hold) or a group.
#[derive(Clone, Copy)]
pub(crate) enum Principal<'a> {
    User(&'a UserId),
    Group(&'a GroupId),
}

/// Append the condition "assignment `a` reaches this principal": for a user, their own
/// assignments and those of every group they belong to.
fn push_reaches(qb: &mut QueryBuilder<'_, Db>, principal: Principal<'_>) {
    match principal {
        Principal::User(user) => {
            qb.push(" AND ((a.principal_type = 'user' AND a.principal_id = ");
            qb.push_bind(user.as_str().to_owned());
            qb.push(") OR (a.principal_type = 'group' AND a.principal_id IN (SELECT g.group_id FROM group_users g WHERE g.org_id = a.org_id AND g.user_id = ");
            qb.push_bind(user.as_str().to_owned());
            qb.push(")))");
        }
        Principal::Group(group) => {
            qb.push(" AND a.principal_type = 'group' AND a.principal_id = ");
            qb.push_bind(group.as_str().to_owned());
        }
    }
}

fn assignments_in(
    org: &OrgId,
    project: Option<&ProjectId>,
    select: &str,
) -> QueryBuilder<'static, Db> {
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT {select} FROM role_assignments a WHERE a.org_id = "
    ));
    qb.push_bind(org.as_str().to_owned());
    qb.push(" AND a.scope_key = ");
    qb.push_bind(project.map(|p| p.as_str()).unwrap_or("").to_owned());
    qb
}

/// The permissions a user holds in a scope through role assignments (custom or predefined
/// roles, held directly or through their groups); base roles are not included.
pub(crate) async fn held_permissions(
    conn: &mut Conn,
    org: &OrgId,
    project: Option<&ProjectId>,
    user: &UserId,
) -> Result<PermissionSet> {
    assigned_permissions(conn, org, project, Principal::User(user)).await
}

/// The permissions a principal holds in a scope through role assignments: for a user, their own
/// and their groups'; for a group, its own.
pub(crate) async fn assigned_permissions(
    conn: &mut Conn,
    org: &OrgId,
    project: Option<&ProjectId>,
    principal: Principal<'_>,
) -> Result<PermissionSet> {
    let mut qb = assignments_in(org, project, "DISTINCT a.role_id");
    push_reaches(&mut qb, principal);
    let role_ids: Vec<String> = qb.build_query_scalar().fetch_all(&mut *conn).await.db()?;
    let mut held = PermissionSet::EMPTY;
    let mut custom = Vec::new();
    for id in role_ids {
        match RoleRef::parse(&id) {
            RoleRef::Predefined { role, .. } => held = held.union(role.permissions()),
            RoleRef::Custom(_) => custom.push(id),
        }
    }
    if !custom.is_empty() {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("SELECT permissions FROM roles WHERE org_id = ");
        qb.push_bind(org.as_str().to_owned());
        push_in(&mut qb, "id", &custom);
        let rows: Vec<String> = qb.build_query_scalar().fetch_all(&mut *conn).await.db()?;
        held = rows
            .iter()
            .fold(held, |acc, p| acc.union(permissions_from_json(p)));
    }
    Ok(held)
}

/// What `user` may do in `project`: their base project role if they are a member, and every
/// project role they hold there directly or through a group with access to the project.
pub(crate) async fn project_permissions_in(
    conn: &mut Conn,
    org: &OrgId,
    project: &ProjectId,
    user: &UserId,
) -> Result<PermissionSet> {
    let base: Option<String> = sqlx::query_scalar(
        "SELECT role FROM project_users WHERE org_id = $1 AND project_id = $2 AND user_id = $3",
    )
    .bind(org.as_str())
    .bind(project.as_str())
    .bind(user.as_str())
    .fetch_optional(&mut *conn)
    .await
    .db()?;
    let base = base.map_or(PermissionSet::EMPTY, |b| {
        ProjectBaseRole::from_stored(&b).predefined().permissions()
    });
    Ok(base.union(held_permissions(conn, org, Some(project), user).await?))
}

/// The roles a principal holds through assignments in a scope, each once with all its sources
/// (a user's own assignment first, then their groups'), in role ID order. With `page`, one page
/// of distinct roles after its cursor, fetched one beyond the limit.
pub(crate) async fn assigned_roles(
    conn: &mut Conn,
    org: &OrgId,
    project: Option<&ProjectId>,
    principal: Principal<'_>,
    page: Option<&PageRequest>,
) -> Result<Vec<AssignedRole>> {
    let mut qb = assignments_in(org, project, "DISTINCT a.role_id");
    push_reaches(&mut qb, principal);
    match page {
        Some(page) => push_cursor(&mut qb, "a.role_id", page),
        None => {
            qb.push(" ORDER BY a.role_id");
        }
    }
    let role_ids: Vec<String> = qb.build_query_scalar().fetch_all(&mut *conn).await.db()?;
    if role_ids.is_empty() {
        return Ok(Vec::new());
    }

    let mut qb = assignments_in(org, project, "a.role_id, a.principal_type, a.principal_id");
    push_reaches(&mut qb, principal);
    push_in(&mut qb, "a.role_id", &role_ids);
    qb.push(" ORDER BY a.principal_type DESC, a.principal_id");
    let sources: Vec<(String, String, String)> =
        qb.build_query_as().fetch_all(&mut *conn).await.db()?;

    let custom: Vec<String> = role_ids
        .iter()
        .filter(|id| matches!(RoleRef::parse(id), RoleRef::Custom(_)))
        .cloned()
        .collect();
    let mut details: Vec<Role> = Vec::new();
    if !custom.is_empty() {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new(format!("SELECT {ROLE_COLUMNS} FROM roles WHERE org_id = "));
        qb.push_bind(org.as_str().to_owned());
        push_in(&mut qb, "id", &custom);
        let rows: Vec<RoleRow> = qb.build_query_as().fetch_all(&mut *conn).await.db()?;
        details = rows.into_iter().map(Role::from).collect();
    }

    let mut out = Vec::with_capacity(role_ids.len());
    for id in role_ids {
        let role = match RoleRef::parse(&id) {
            RoleRef::Predefined { role, .. } => role.to_role(project),
            RoleRef::Custom(_) => match details.iter().find(|r| r.id == id) {
                Some(r) => r.clone(),
                None => continue,
            },
        };
        let sources = sources
            .iter()
            .filter(|(role_id, _, _)| *role_id == id)
            .map(|(_, kind, principal)| AssignmentSource {
                principal_id: principal.clone(),
                principal_type: if kind == "group" { "group" } else { "user" },
            })
            .collect();
        out.push(AssignedRole { role, sources });
    }
    Ok(out)
}

/// Custom roles of a scope, keyset-paginated on ID, fetched one beyond the limit.
async fn custom_roles_page(
    store: &Backend,
    org: &OrgId,
    scope: &RoleScope,
    page: &PageRequest,
) -> Result<Vec<Role>> {
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new(format!("SELECT {ROLE_COLUMNS} FROM roles WHERE org_id = "));
    qb.push_bind(org.as_str());
    qb.push(" AND scope_key = ");
    qb.push_bind(scope_key(scope).to_owned());
    push_cursor(&mut qb, "id", page);
    let rows: Vec<RoleRow> = qb.build_query_as().fetch_all(&store.reader).await.db()?;
    Ok(rows.into_iter().map(Role::from).collect())
}

/// Keyset condition for `next`-cursor lists (no `before`).
pub(crate) fn push_cursor(qb: &mut QueryBuilder<'_, Db>, column: &str, page: &PageRequest) {
    let desc = page.order == SortOrder::Desc;
    if let Some(after) = &page.after {
        qb.push(format!(" AND {column} {} ", if desc { "<" } else { ">" }));
        qb.push_bind(RoleRef::parse(after).sort_key());
    }
    qb.push(format!(
        " ORDER BY {column} {} LIMIT ",
        if desc { "DESC" } else { "ASC" }
    ));
    qb.push_bind(i64::from(page.limit) + 1);
}

/// The cursor normalized to a sort key, so an alias cursor pages like its base ID.
pub(crate) fn normalized(page: &PageRequest) -> PageRequest {
    PageRequest {
        after: page.after.as_deref().map(|a| RoleRef::parse(a).sort_key()),
        ..page.clone()
    }
}

fn predefined_for(scope: &RoleScope) -> Vec<Role> {
    match scope {
        RoleScope::Organization => PredefinedRole::ORGANIZATION
            .iter()
            .map(|r| r.to_role(None))
            .collect(),
        RoleScope::Project(p) => PredefinedRole::PROJECT
            .iter()
            .map(|r| r.to_role(Some(p)))
            .collect(),
    }
}

async fn ensure_scope_exists<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    scope: &RoleScope,
) -> Result<()> {
    if let RoleScope::Project(p) = scope {
        projects::get(db, org, p).await?;
    }
    Ok(())
}

#[async_trait]
impl RoleStore for Backend {
    async fn list_roles(
        &self,
        org: &OrgId,
        scope: &RoleScope,
        page: &PageRequest,
    ) -> Result<Page<Role>> {
        self.guarded(async {
            ensure_scope_exists(&self.reader, org, scope).await?;
            let mut all = predefined_for(scope);
            all.extend(custom_roles_page(self, org, scope, page).await?);
            all.sort_by_key(Role::sort_key);
            Ok(page_in_memory(all, &normalized(page), Role::sort_key))
        })
        .await
    }

    async fn get_role(&self, org: &OrgId, scope: &RoleScope, role: &RoleRef) -> Result<Role> {
        self.guarded(async {
            ensure_scope_exists(&self.reader, org, scope).await?;
            let not_found = || DomainError::not_found("role", role, "role_id");
            match (role, scope) {
                (RoleRef::Predefined { role: p, .. }, RoleScope::Organization)
                    if p.resource_type() == ResourceType::Organization =>
                {
                    Ok(p.to_role(None))
                }
                (
                    RoleRef::Predefined {
                        role: p,
                        project: alias,
                    },
                    RoleScope::Project(project),
                ) if p.resource_type() == ResourceType::Project
                    && alias.as_ref().is_none_or(|a| a == project) =>
                {
                    Ok(p.to_role(Some(project)))
                }
                (RoleRef::Predefined { .. }, _) => Err(not_found()),
                (RoleRef::Custom(id), _) => {
                    let found = find_custom(&self.reader, org, id)
                        .await?
                        .ok_or_else(not_found)?;
                    if found.project_id.as_ref() != scope.project() {
                        return Err(not_found());
                    }
                    Ok(found)
                }
            }
        })
        .await
    }

    async fn create_role(&self, actor: &Actor, scope: &RoleScope, new: NewRole) -> Result<Role> {
        self.guarded(async {
            check_permissions_fit(new.permissions, scope.resource_type())?;
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            ensure_project_writable(&mut tx, org, scope).await?;
            ensure_name_free(&mut tx, org, scope, new.name.as_str(), None).await?;
            Grants::load(&mut tx, actor)
                .await?
                .check(
                    &mut tx,
                    actor,
                    scope.project(),
                    new.permissions,
                    "The new role",
                )
                .await?;
            let id = RoleId::generate(self.millis());
            let now = tx.now();
            sqlx::query(
                "INSERT INTO roles (org_id, id, project_id, scope_key, name, name_norm, description, permissions, created_at, updated_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(scope.project().map(|p| p.as_str()))
            .bind(scope_key(scope))
            .bind(new.name.as_str())
            .bind(new.name.as_str().to_lowercase())
            .bind(new.description.as_deref())
            .bind(permissions_json(new.permissions))
            .bind(now)
            .bind(now)
            .bind(actor.user_id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let resource_id = scope
                .project()
                .map(|p| p.to_string())
                .unwrap_or_else(|| org.to_string());
            let mut event = NewAuditEvent::new(
                kind::ROLE_CREATED,
                id.as_str(),
                json!({
                    "id": id,
                    "role_name": new.name.as_str(),
                    "permissions": new.permissions.names(),
                    "resource_type": scope.resource_type().as_str(),
                    "resource_id": resource_id,
                }),
            );
            if let Some(p) = scope.project() {
                event = event.in_project(p);
            }
            self.audit(&mut tx, actor, event).await?;
            let role = resolve_custom(&mut tx, org, &id).await?;
            tx.commit().await?;
            Ok(role)
        })
        .await
    }

    async fn update_role(
        &self,
        actor: &Actor,
        scope: &RoleScope,
        role: &RoleRef,
        change: RoleChange,
    ) -> Result<Role> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            if let RoleScope::Project(p) = scope {
                projects::get(&mut *tx, org, p).await?;
            }
            let current = custom_in_scope(&mut tx, org, scope, role).await?;
            ensure_project_writable(&mut tx, org, scope).await?;
            let mut changes = serde_json::Map::new();
            if let Some(name) = &change.name {
                ensure_name_free(&mut tx, org, scope, name.as_str(), Some(&current.id)).await?;
                changes.insert("role_name".into(), json!(name.as_str()));
            }
            if let Some(perms) = change.permissions {
                check_permissions_fit(perms, scope.resource_type())?;
                // Permissions the role keeps were granted before; only what it gains is granted now.
                Grants::load(&mut tx, actor)
                    .await?
                    .check(
                        &mut tx,
                        actor,
                        scope.project(),
                        perms.difference(current.permissions),
                        &format!("The change to role {}", current.id),
                    )
                    .await?;
                let added: Vec<String> = perms
                    .iter()
                    .filter(|p| !current.permissions.contains(*p))
                    .map(|p| p.to_string())
                    .collect();
                let removed: Vec<String> = current
                    .permissions
                    .iter()
                    .filter(|p| !perms.contains(*p))
                    .map(|p| p.to_string())
                    .collect();
                changes.insert("permissions_added".into(), json!(added));
                changes.insert("permissions_removed".into(), json!(removed));
            }
            if let Some(description) = &change.description {
                changes.insert("description".into(), json!(description));
            }
            sqlx::query(
                "UPDATE roles SET name = COALESCE($1, name), name_norm = COALESCE($2, name_norm), \
                 description = COALESCE($3, description), permissions = COALESCE($4, permissions), updated_at = $5 \
                 WHERE org_id = $6 AND id = $7",
            )
            .bind(change.name.as_ref().map(|n| n.as_str()))
            .bind(change.name.as_ref().map(|n| n.as_str().to_lowercase()))
            .bind(change.description.as_deref())
            .bind(change.permissions.map(permissions_json))
            .bind(tx.now())
            .bind(org.as_str())
            .bind(&current.id)
            .execute(&mut *tx)
            .await
            .db()?;
            let mut event = NewAuditEvent::new(
                kind::ROLE_UPDATED,
                current.id.as_str(),
                json!({ "id": current.id, "changes_requested": changes }),
            );
            if let Some(p) = scope.project() {
                event = event.in_project(p);
            }
            self.audit(&mut tx, actor, event).await?;
            let updated = resolve_custom(&mut tx, org, &RoleId::from_raw(current.id.clone())).await?;
            tx.commit().await?;
            Ok(updated)
        })
        .await
    }

    async fn delete_role(
        &self,
        actor: &Actor,
        scope: &RoleScope,
        role: &RoleRef,
    ) -> Result<String> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            if let RoleScope::Project(p) = scope {
                projects::get(&mut *tx, org, p).await?;
            }
            let current = custom_in_scope(&mut tx, org, scope, role).await?;
            ensure_project_writable(&mut tx, org, scope).await?;
            // Assignments go with the role; record each removal.
            let holders: Vec<(String, String)> = sqlx::query_as(
                "SELECT principal_type, principal_id FROM role_assignments WHERE org_id = $1 AND role_id = $2",
            )
            .bind(org.as_str())
            .bind(&current.id)
            .fetch_all(&mut *tx)
            .await
            .db()?;
            for (principal_type, principal_id) in holders {
                let event = assignment_event(
                    kind::ROLE_ASSIGNMENT_DELETED,
                    org,
                    &current,
                    &principal_type,
                    &principal_id,
                );
                self.audit(&mut tx, actor, event).await?;
            }
            sqlx::query("DELETE FROM role_assignments WHERE org_id = $1 AND role_id = $2")
                .bind(org.as_str())
                .bind(&current.id)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("DELETE FROM roles WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(&current.id)
                .execute(&mut *tx)
                .await
                .db()?;
            let mut event = NewAuditEvent::new(
                kind::ROLE_DELETED,
                current.id.as_str(),
                json!({ "id": current.id }),
            );
            if let Some(p) = scope.project() {
                event = event.in_project(p);
            }
            self.audit(&mut tx, actor, event).await?;
            tx.commit().await?;
            Ok(current.id)
        })
        .await
    }
}

async fn ensure_name_free(
    tx: &mut Tx,
    org: &OrgId,
    scope: &RoleScope,
    name: &str,
    except: Option<&str>,
) -> Result<()> {
    let clash: Option<String> = sqlx::query_scalar(
        "SELECT id FROM roles WHERE org_id = $1 AND scope_key = $2 AND name_norm = $3",
    )
    .bind(org.as_str())
    .bind(scope_key(scope))
    .bind(name.to_lowercase())
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    match clash {
        Some(id) if Some(id.as_str()) != except => Err(DomainError::conflict(
            ConflictKind::AlreadyExists,
            format!("A role named '{name}' already exists ({id}); role names are unique in their scope."),
            Some("role_name"),
        )),
        _ => Ok(()),
    }
}

async fn ensure_project_writable(tx: &mut Tx, org: &OrgId, scope: &RoleScope) -> Result<()> {
    if let RoleScope::Project(p) = scope {
        let project = projects::get(&mut **tx, org, p).await?;
        project.ensure_open()?;
    }
    Ok(())
}

/// Resolve a custom role for change on its own route; predefined roles are immutable.
async fn custom_in_scope(
    tx: &mut Tx,
    org: &OrgId,
    scope: &RoleScope,
    role: &RoleRef,
) -> Result<Role> {
    match role {
        RoleRef::Predefined { role: p, .. } => Err(DomainError::conflict(
            ConflictKind::ImmutableRole,
            format!("'{}' is a predefined role and cannot be changed or deleted; create a custom role instead.", p.id()),
            Some("role_id"),
        )),
        RoleRef::Custom(id) => {
            let found = find_custom(&mut **tx, org, id)
                .await?
                .filter(|r| r.project_id.as_ref() == scope.project())
                .ok_or_else(|| DomainError::not_found("role", id, "role_id"))?;
            Ok(found)
        }
    }
}

pub(crate) fn assignment_event(
    kind: &'static str,
    org: &OrgId,
    role: &Role,
    principal_type: &str,
    principal_id: &str,
) -> NewAuditEvent {
    let (resource_id, resource_type) = match &role.project_id {
        Some(p) => (p.to_string(), "api.project"),
        None => (org.to_string(), "api.organization"),
    };
    let event = NewAuditEvent::new(
        kind,
        role.id.as_str(),
        json!({
            "id": role.id,
            "principal_id": principal_id,
            "principal_type": principal_type,
            "resource_id": resource_id,
            "resource_type": resource_type,
        }),
    );
    match &role.project_id {
        Some(p) => event.in_project(p),
        None => event,
    }
}

/// Give `user` the custom `role` (idempotent). Returns whether it was new.
pub(crate) async fn insert_assignment(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    user: &UserId,
    role: &Role,
    project: Option<&ProjectId>,
) -> Result<bool> {
    let result = sqlx::query(
        "INSERT INTO role_assignments (org_id, principal_type, principal_id, role_id, scope_key, created_at) \
         VALUES ($1, 'user', $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(actor.org_id.as_str())
    .bind(user.as_str())
    .bind(&role.id)
    .bind(project.map(|p| p.as_str()).unwrap_or(""))
    .bind(tx.now())
    .execute(&mut **tx)
    .await
    .db()?;
    let inserted = result.rows_affected() > 0;
    if inserted {
        let event = assignment_event(
            kind::ROLE_ASSIGNMENT_CREATED,
            &actor.org_id,
            role,
            "user",
            user.as_str(),
        );
        store.audit(tx, actor, event).await?;
    }
    Ok(inserted)
}

/// The member's base role in the context: their organization base role, or their base role in
/// the project if they are a direct member of it (`None` otherwise).
async fn base_role_in_context(
    db: &mut Conn,
    org: &OrgId,
    project: Option<&ProjectId>,
    user: &UserId,
) -> Result<Option<PredefinedRole>> {
    match project {
        None => Ok(Some(
            users::get(&mut *db, org, user).await?.role.predefined(),
        )),
        Some(p) => {
            projects::get(&mut *db, org, p).await?;
            users::get(&mut *db, org, user).await?;
            let membership = projects::find_member(&mut *db, org, p, user).await?;
            Ok(membership.map(|m| m.role.predefined()))
        }
    }
}

fn not_in_project(project: &ProjectId, user: &UserId) -> DomainError {
    DomainError::not_found_because(
        "user_id",
        format!("User {user} is not a member of project {project}, directly or through a group."),
    )
}

/// Does the user hold any role in the scope through an assignment?
async fn holds_any(
    conn: &mut Conn,
    org: &OrgId,
    project: Option<&ProjectId>,
    user: &UserId,
) -> Result<bool> {
    let mut qb = assignments_in(org, project, "a.role_id");
    push_reaches(&mut qb, Principal::User(user));
    qb.push(" LIMIT 1");
    let any: Option<String> = qb
        .build_query_scalar()
        .fetch_optional(&mut *conn)
        .await
        .db()?;
    Ok(any.is_some())
}

/// Fold the base role into the assigned roles: as a source of its own when a group also grants
/// it, else as one more entry.
fn with_base(
    mut roles: Vec<AssignedRole>,
    base: Option<PredefinedRole>,
    project: Option<&ProjectId>,
    user: &UserId,
) -> Vec<AssignedRole> {
    if let Some(base) = base {
        match roles.iter_mut().find(|r| r.role.sort_key() == base.id()) {
            Some(entry) => entry.sources.insert(0, AssignmentSource::user(user)),
            None => roles.push(AssignedRole {
                role: base.to_role(project),
                sources: vec![AssignmentSource::user(user)],
            }),
        }
    }
    roles.sort_by_key(|r| r.role.sort_key());
    roles
}

/// A user's roles in the organization or in `project`, a page of them, remembered per version.
pub(crate) async fn list_user_roles(
    store: &Backend,
    at: ReadAt<'_>,
    project: Option<&ProjectId>,
    user: &UserId,
    page: &PageRequest,
) -> Result<Page<AssignedRole>> {
    let org = at.org_id;
    let holder = (org.clone(), project.cloned(), "user", user.to_string());
    store
        .remembered(
            &store.read_cache.role_pages,
            (holder, page.clone()),
            at,
            |page| page.items.len(),
            async |conn| {
                let base = base_role_in_context(conn, org, project, user).await?;
                if let (None, Some(p)) = (base, project) {
                    if !holds_any(conn, org, project, user).await? {
                        return Err(not_in_project(p, user));
                    }
                }
                let page = normalized(page);
                let assigned =
                    assigned_roles(conn, org, project, Principal::User(user), Some(&page)).await?;
                let all = with_base(assigned, base, project, user);
                Ok(page_in_memory(all, &page, |r| r.role.sort_key()))
            },
        )
        .await
}

#[async_trait]
impl RoleAssignmentStore for Backend {
    async fn list_user_roles(
        &self,
        at: ReadAt<'_>,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        self.guarded(list_user_roles(self, at, None, user, page))
            .await
    }

    async fn get_user_role(
        &self,
        org: &OrgId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        self.guarded(get_user_role(self, org, None, user, role))
            .await
    }

    async fn assign_user_role(
        &self,
        actor: &Actor,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(Member, Role)> {
        self.guarded(assign_user_role(self, actor, None, user, role))
            .await
    }

    async fn unassign_user_role(&self, actor: &Actor, user: &UserId, role: &RoleRef) -> Result<()> {
        self.guarded(unassign_user_role(self, actor, None, user, role))
            .await
    }

    async fn list_project_user_roles(
        &self,
        at: ReadAt<'_>,
        project: &ProjectId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedRole>> {
        self.guarded(list_user_roles(self, at, Some(project), user, page))
            .await
    }

    async fn get_project_user_role(
        &self,
        org: &OrgId,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<AssignedRole> {
        self.guarded(get_user_role(self, org, Some(project), user, role))
            .await
    }

    async fn assign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<(Member, Role)> {
        self.guarded(assign_user_role(self, actor, Some(project), user, role))
            .await
    }

    async fn unassign_project_user_role(
        &self,
        actor: &Actor,
        project: &ProjectId,
        user: &UserId,
        role: &RoleRef,
    ) -> Result<()> {
        self.guarded(unassign_user_role(self, actor, Some(project), user, role))
            .await
    }

    async fn project_permissions(
        &self,
        at: ReadAt<'_>,
        project: &ProjectId,
        user: &UserId,
    ) -> Result<PermissionSet> {
        let key = (at.org_id.clone(), project.clone(), user.clone());
        self.guarded(self.remembered(
            &self.read_cache.project_permissions,
            key,
            at,
            |_| 1,
            async |conn| project_permissions_in(conn, at.org_id, project, user).await,
        ))
        .await
    }

    /// Every role the user holds in the organization, and in `project` if given, with sources.
    async fn user_access(
        &self,
        org: &OrgId,
        user: &UserId,
        project: Option<&ProjectId>,
    ) -> Result<Vec<AssignedRole>> {
        self.guarded(async {
            let mut conn = self.reader.acquire().await.db()?;
            let base = base_role_in_context(&mut conn, org, None, user).await?;
            let assigned =
                assigned_roles(&mut conn, org, None, Principal::User(user), None).await?;
            let mut all = with_base(assigned, base, None, user);
            if let Some(p) = project {
                let base = base_role_in_context(&mut conn, org, Some(p), user).await?;
                let assigned =
                    assigned_roles(&mut conn, org, Some(p), Principal::User(user), None).await?;
                all.extend(with_base(assigned, base, Some(p), user));
            }
            Ok(all)
        })
        .await
    }
}

/// The ID a resolved role is stored under in `role_assignments`.
pub(crate) fn stored_id(resolved: &Resolved) -> String {
    match resolved {
        Resolved::Base(p) => p.id().to_owned(),
        Resolved::Custom(r) => r.id.clone(),
    }
}

pub(crate) async fn get_user_role(
    store: &Backend,
    org: &OrgId,
    project: Option<&ProjectId>,
    user: &UserId,
    role: &RoleRef,
) -> Result<AssignedRole> {
    let mut conn = store.reader.acquire().await.db()?;
    let base = base_role_in_context(&mut conn, org, project, user).await?;
    let resolved = resolve_in_context(&mut *conn, org, project, role).await?;
    let assigned = assigned_roles(&mut conn, org, project, Principal::User(user), None).await?;
    if let (None, Some(p), true) = (base, project, assigned.is_empty()) {
        return Err(not_in_project(p, user));
    }
    let wanted = stored_id(&resolved);
    with_base(assigned, base, project, user)
        .into_iter()
        .find(|r| r.role.sort_key() == wanted)
        .ok_or_else(|| {
            DomainError::not_found_because(
                "role_id",
                format!("User {user} does not hold role '{role}'."),
            )
        })
}

pub(crate) async fn assign_user_role(
    store: &Backend,
    actor: &Actor,
    project: Option<&ProjectId>,
    user_id: &UserId,
    role: &RoleRef,
) -> Result<(Member, Role)> {
    let org = &actor.org_id;
    let mut tx = store.begin_for(actor).await?;
    if let Some(p) = project {
        let proj = projects::get(&mut *tx, org, p).await?;
        proj.ensure_open()?;
    }
    let base = base_role_in_context(&mut tx, org, project, user_id).await?;
    // Roles are assigned to direct members; a user only reached through a group has no
    // membership to attach them to. (The organization context always has a base role.)
    let base = match (base, project) {
        (Some(base), _) => base,
        (None, Some(p)) => return Err(not_in_project(p, user_id)),
        (None, None) => {
            return Err(DomainError::internal(
                "organization member without a base role",
            ))
        }
    };
    let resolved = resolve_in_context(&mut *tx, org, project, role).await?;
    // A new base role grants what it holds beyond the one it replaces; a custom role, all of it.
    let granted = match &resolved {
        Resolved::Base(p) if *p == base => PermissionSet::EMPTY,
        Resolved::Base(p) => p.permissions().difference(base.permissions()),
        Resolved::Custom(r) => r.permissions,
    };
    Grants::load(&mut tx, actor)
        .await?
        .check(
            &mut tx,
            actor,
            project,
            granted,
            &format!("Role '{}'", stored_id(&resolved)),
        )
        .await?;
    let assigned = match resolved {
        Resolved::Base(p) => {
            if p != base {
                match project {
                    None => {
                        let user = users::get(&mut *tx, org, user_id).await?;
                        let new_role = p
                            .org_base_role()
                            .ok_or_else(|| scope_mismatch_org(p.id()))?;
                        users::set_base_role(&mut tx, org, &user, new_role).await?;
                    }
                    Some(proj) => {
                        let new_role = p
                            .project_base_role()
                            .ok_or_else(|| scope_mismatch_project(p.id(), proj, None))?;
                        projects::set_member_role(&mut tx, org, proj, user_id, new_role).await?;
                    }
                }
                let as_role = p.to_role(project);
                let event = assignment_event(
                    kind::ROLE_ASSIGNMENT_CREATED,
                    org,
                    &as_role,
                    "user",
                    user_id.as_str(),
                );
                store.audit(&mut tx, actor, event).await?;
            }
            p.to_role(project)
        }
        Resolved::Custom(r) => {
            insert_assignment(store, &mut tx, actor, user_id, &r, project).await?;
            r
        }
    };
    let member = users::member(&mut *tx, org, user_id).await?;
    tx.commit().await?;
    Ok((member, assigned))
}

pub(crate) async fn unassign_user_role(
    store: &Backend,
    actor: &Actor,
    project: Option<&ProjectId>,
    user_id: &UserId,
    role: &RoleRef,
) -> Result<()> {
    let org = &actor.org_id;
    let mut tx = store.begin_for(actor).await?;
    if let Some(p) = project {
        let proj = projects::get(&mut *tx, org, p).await?;
        proj.ensure_open()?;
    }
    let base = base_role_in_context(&mut tx, org, project, user_id).await?;
    if let (None, Some(p)) = (base, project) {
        if !holds_any(&mut tx, org, project, user_id).await? {
            return Err(not_in_project(p, user_id));
        }
    }
    let resolved = resolve_in_context(&mut *tx, org, project, role).await?;
    if let (Resolved::Base(p), Some(base)) = (&resolved, base) {
        if *p == base {
            return Err(DomainError::invalid(
                "role_id",
                format!("'{role}' is the user's base role and cannot be unassigned"),
            )
            .with_remedy(Remedy::ChangeBaseRole {
                project: project.map(ToString::to_string),
                user: user_id.to_string(),
            }));
        }
    }
    let id = stored_id(&resolved);
    let deleted = sqlx::query(
        "DELETE FROM role_assignments WHERE org_id = $1 AND principal_type = 'user' AND principal_id = $2 AND scope_key = $3 AND role_id = $4",
    )
    .bind(org.as_str())
    .bind(user_id.as_str())
    .bind(project.map(|p| p.as_str()).unwrap_or(""))
    .bind(&id)
    .execute(&mut *tx)
    .await
    .db()?;
    if deleted.rows_affected() == 0 {
        let held = assigned_roles(&mut tx, org, project, Principal::User(user_id), None).await?;
        let groups: Vec<String> = held
            .iter()
            .filter(|r| r.role.sort_key() == id)
            .flat_map(|r| {
                r.sources
                    .iter()
                    .filter(|s| s.principal_type == "group")
                    .map(|s| s.principal_id.clone())
            })
            .collect();
        if groups.is_empty() {
            return Err(DomainError::not_found_because(
                "role_id",
                format!("User {user_id} does not hold role '{role}'."),
            ));
        }
        return Err(DomainError::conflict(
            ConflictKind::InheritedRole,
            format!(
                "User {user_id} holds '{role}' only through group(s) {}",
                groups.join(", ")
            ),
            Some("role_id"),
        )
        .with_remedy(Remedy::UnassignFromGroup {
            project: project.map(ToString::to_string),
        }));
    }
    let as_role = match &resolved {
        Resolved::Base(p) => p.to_role(project),
        Resolved::Custom(r) => r.clone(),
    };
    let event = assignment_event(
        kind::ROLE_ASSIGNMENT_DELETED,
        org,
        &as_role,
        "user",
        user_id.as_str(),
    );
    store.audit(&mut tx, actor, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Remove `user`'s custom role assignments in `project` (when they leave it).
pub(crate) async fn remove_project_assignments(
    tx: &mut Tx,
    org: &OrgId,
    project: &ProjectId,
    user: &UserId,
) -> Result<()> {
    sqlx::query("DELETE FROM role_assignments WHERE org_id = $1 AND principal_type = 'user' AND principal_id = $2 AND scope_key = $3")
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(project.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}
