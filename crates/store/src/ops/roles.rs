//! Roles (predefined and custom) and their assignments to users, at organization and project
//! level. Predefined roles are not stored; a member's base role lives on the membership row, and
//! custom roles they hold live in `role_assignments`.

use orgadmin_core::actor::Actor;
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::id::*;
use orgadmin_core::model::{AssignedRole, AssignmentSource, User};
use orgadmin_core::page::{page_in_memory, Page, PageRequest, SortOrder};
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::role::{
    check_permissions_fit, PredefinedRole, ProjectBaseRole, ResourceType, Role, RoleRef, RoleScope,
};
use orgadmin_core::store::{NewRole, RoleChange};
use orgadmin_core::{ConflictKind, DomainError, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::{projects, users, Backend, Conn, Db, DbResult, Pool, Tx};
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
enum Resolved {
    /// A predefined role of the context's kind: a base role.
    Base(PredefinedRole),
    Custom(Role),
}

/// Resolve `role` for use in `project` (or the organization when `None`), refusing a role of the
/// wrong scope with 400 `role_id`.
async fn resolve_in_context<'e>(
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

/// The union of the permissions of the custom roles `user` holds in a scope.
pub(crate) async fn custom_permissions<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    scope_key: &str,
    user: &UserId,
) -> Result<PermissionSet> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT r.permissions FROM role_assignments a JOIN roles r ON r.org_id = a.org_id AND r.id = a.role_id \
         WHERE a.org_id = $1 AND a.principal_type = 'user' AND a.principal_id = $2 AND a.scope_key = $3",
    )
    .bind(org.as_str())
    .bind(user.as_str())
    .bind(scope_key)
    .fetch_all(db)
    .await
    .db()?;
    Ok(rows.iter().fold(PermissionSet::EMPTY, |acc, p| {
        acc.union(permissions_from_json(p))
    }))
}

pub(crate) async fn project_permissions(
    pool: &Pool,
    org: &OrgId,
    project: &ProjectId,
    user: &UserId,
) -> Result<PermissionSet> {
    let base: Option<String> = sqlx::query_scalar(
        "SELECT pu.role FROM project_users pu JOIN projects p ON p.org_id = pu.org_id AND p.id = pu.project_id \
         WHERE pu.org_id = $1 AND pu.project_id = $2 AND pu.user_id = $3",
    )
    .bind(org.as_str())
    .bind(project.as_str())
    .bind(user.as_str())
    .fetch_optional(pool)
    .await
    .db()?;
    let Some(base) = base else {
        return Ok(PermissionSet::EMPTY);
    };
    let custom = custom_permissions(pool, org, project.as_str(), user).await?;
    Ok(ProjectBaseRole::from_stored(&base)
        .predefined()
        .permissions()
        .union(custom))
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
fn push_cursor(qb: &mut QueryBuilder<'_, Db>, column: &str, page: &PageRequest) {
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
fn normalized(page: &PageRequest) -> PageRequest {
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

pub(crate) async fn list(
    store: &Backend,
    org: &OrgId,
    scope: &RoleScope,
    page: &PageRequest,
) -> Result<Page<Role>> {
    ensure_scope_exists(&store.reader, org, scope).await?;
    let mut all = predefined_for(scope);
    all.extend(custom_roles_page(store, org, scope, page).await?);
    all.sort_by_key(Role::sort_key);
    Ok(page_in_memory(all, &normalized(page), Role::sort_key))
}

pub(crate) async fn get(
    store: &Backend,
    org: &OrgId,
    scope: &RoleScope,
    role: &RoleRef,
) -> Result<Role> {
    ensure_scope_exists(&store.reader, org, scope).await?;
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
            let found = find_custom(&store.reader, org, id)
                .await?
                .ok_or_else(not_found)?;
            if found.project_id.as_ref() != scope.project() {
                return Err(not_found());
            }
            Ok(found)
        }
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
        projects::ensure_active(&project)?;
    }
    Ok(())
}

pub(crate) async fn create(
    store: &Backend,
    actor: &Actor,
    scope: &RoleScope,
    new: NewRole,
) -> Result<Role> {
    check_permissions_fit(new.permissions, scope.resource_type())?;
    let org = &actor.org_id;
    let mut tx = store.begin_in(org).await?;
    ensure_project_writable(&mut tx, org, scope).await?;
    ensure_name_free(&mut tx, org, scope, new.name.as_str(), None).await?;
    let id = RoleId::generate(store.millis());
    let now = store.now();
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
    store.audit(&mut tx, actor, event).await?;
    let role = resolve_custom(&mut tx, org, &id).await?;
    tx.commit().await.db()?;
    Ok(role)
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

pub(crate) async fn update(
    store: &Backend,
    actor: &Actor,
    scope: &RoleScope,
    role: &RoleRef,
    change: RoleChange,
) -> Result<Role> {
    let org = &actor.org_id;
    let mut tx = store.begin_in(org).await?;
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
    .bind(store.now())
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
    store.audit(&mut tx, actor, event).await?;
    let updated = resolve_custom(&mut tx, org, &RoleId::from_raw(current.id.clone())).await?;
    tx.commit().await.db()?;
    Ok(updated)
}

pub(crate) async fn delete(
    store: &Backend,
    actor: &Actor,
    scope: &RoleScope,
    role: &RoleRef,
) -> Result<String> {
    let org = &actor.org_id;
    let mut tx = store.begin_in(org).await?;
    if let RoleScope::Project(p) = scope {
        projects::get(&mut *tx, org, p).await?;
    }
    let current = custom_in_scope(&mut tx, org, scope, role).await?;
    ensure_project_writable(&mut tx, org, scope).await?;
    // Assignments go with the role (ON DELETE CASCADE); record each removal.
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
        store.audit(&mut tx, actor, event).await?;
    }
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
    store.audit(&mut tx, actor, event).await?;
    tx.commit().await.db()?;
    Ok(current.id)
}

fn assignment_event(
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
    .bind(store.now())
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

/// The member's base role in the context: organization base role, or project base role (the
/// user must then be a member of the project).
async fn base_role_in_context(
    db: &mut Conn,
    org: &OrgId,
    project: Option<&ProjectId>,
    user: &UserId,
) -> Result<PredefinedRole> {
    match project {
        None => Ok(users::get(&mut *db, org, user).await?.role.predefined()),
        Some(p) => {
            projects::get(&mut *db, org, p).await?;
            users::get(&mut *db, org, user).await?;
            let membership = projects::find_member(&mut *db, org, p, user)
                .await?
                .ok_or_else(|| DomainError::NotFound {
                    param: Some("user_id".into()),
                    message: format!("User {user} is not a member of project {p}."),
                })?;
            Ok(membership.role.predefined())
        }
    }
}

fn direct(user: &UserId) -> Vec<AssignmentSource> {
    vec![AssignmentSource {
        principal_id: user.to_string(),
        principal_type: "user",
    }]
}

pub(crate) async fn list_user_roles(
    store: &Backend,
    org: &OrgId,
    project: Option<&ProjectId>,
    user: &UserId,
    page: &PageRequest,
) -> Result<Page<AssignedRole>> {
    let mut conn = store.reader.acquire().await.db()?;
    let base = base_role_in_context(&mut conn, org, project, user).await?;
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(
        "SELECT r.id, r.project_id, r.name, r.description, r.permissions, r.created_at, r.updated_at, r.created_by \
         FROM role_assignments a JOIN roles r ON r.org_id = a.org_id AND r.id = a.role_id \
         WHERE a.principal_type = 'user' AND a.org_id = ",
    );
    qb.push_bind(org.as_str());
    qb.push(" AND a.principal_id = ");
    qb.push_bind(user.as_str());
    qb.push(" AND a.scope_key = ");
    qb.push_bind(project.map(|p| p.as_str()).unwrap_or("").to_owned());
    push_cursor(&mut qb, "r.id", page);
    let rows: Vec<RoleRow> = qb.build_query_as().fetch_all(&mut *conn).await.db()?;
    let mut all = vec![base.to_role(project)];
    all.extend(rows.into_iter().map(Role::from));
    all.sort_by_key(Role::sort_key);
    let page = page_in_memory(all, &normalized(page), Role::sort_key);
    Ok(page.map(|role| AssignedRole {
        role,
        sources: direct(user),
    }))
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
    let not_held = || DomainError::NotFound {
        param: Some("role_id".into()),
        message: format!("User {user} does not hold role '{role}'."),
    };
    match resolve_in_context(&mut *conn, org, project, role).await? {
        Resolved::Base(p) if p == base => Ok(AssignedRole {
            role: p.to_role(project),
            sources: direct(user),
        }),
        Resolved::Base(_) => Err(not_held()),
        Resolved::Custom(r) => {
            let held: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(1 AS BIGINT) FROM role_assignments WHERE org_id = $1 AND principal_type = 'user' AND principal_id = $2 AND role_id = $3",
            )
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(&r.id)
            .fetch_optional(&mut *conn)
            .await
            .db()?;
            held.map(|_| AssignedRole {
                role: r,
                sources: direct(user),
            })
            .ok_or_else(not_held)
        }
    }
}

pub(crate) async fn assign_user_role(
    store: &Backend,
    actor: &Actor,
    project: Option<&ProjectId>,
    user_id: &UserId,
    role: &RoleRef,
) -> Result<(User, Role)> {
    let org = &actor.org_id;
    let mut tx = store.begin_in(org).await?;
    if let Some(p) = project {
        let proj = projects::get(&mut *tx, org, p).await?;
        projects::ensure_active(&proj)?;
    }
    let base = base_role_in_context(&mut tx, org, project, user_id).await?;
    let resolved = resolve_in_context(&mut *tx, org, project, role).await?;
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
    let user = users::get(&mut *tx, org, user_id).await?;
    tx.commit().await.db()?;
    Ok((user, assigned))
}

pub(crate) async fn unassign_user_role(
    store: &Backend,
    actor: &Actor,
    project: Option<&ProjectId>,
    user_id: &UserId,
    role: &RoleRef,
) -> Result<()> {
    let org = &actor.org_id;
    let mut tx = store.begin_in(org).await?;
    if let Some(p) = project {
        let proj = projects::get(&mut *tx, org, p).await?;
        projects::ensure_active(&proj)?;
    }
    let base = base_role_in_context(&mut tx, org, project, user_id).await?;
    let not_held = || DomainError::NotFound {
        param: Some("role_id".into()),
        message: format!("User {user_id} does not hold role '{role}'."),
    };
    match resolve_in_context(&mut *tx, org, project, role).await? {
        Resolved::Base(p) if p == base => {
            let route = match project {
                None => format!("POST /v1/organization/users/{user_id} with a new 'role'"),
                Some(proj) => format!(
                    "POST /v1/organization/projects/{proj}/users/{user_id} with a new 'role'"
                ),
            };
            return Err(DomainError::invalid(
                "role_id",
                format!("'{role}' is the user's base role and cannot be unassigned; change it with {route}."),
            ));
        }
        Resolved::Base(_) => return Err(not_held()),
        Resolved::Custom(r) => {
            let deleted = sqlx::query(
                "DELETE FROM role_assignments WHERE org_id = $1 AND principal_type = 'user' AND principal_id = $2 AND role_id = $3",
            )
            .bind(org.as_str())
            .bind(user_id.as_str())
            .bind(&r.id)
            .execute(&mut *tx)
            .await
            .db()?;
            if deleted.rows_affected() == 0 {
                return Err(not_held());
            }
            let event = assignment_event(
                kind::ROLE_ASSIGNMENT_DELETED,
                org,
                &r,
                "user",
                user_id.as_str(),
            );
            store.audit(&mut tx, actor, event).await?;
        }
    }
    tx.commit().await.db()?;
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
