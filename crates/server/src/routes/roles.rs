//! `/v1/organization/roles…` and `/v1/projects/{project_id}/roles…`: predefined and custom roles.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{RoleCreateRequest, RoleUpdateRequest};
use orgadmin_api::responses::{Deleted, Role, RoleList};
use orgadmin_core::id::ProjectId;
use orgadmin_core::role::{RoleName, RoleRef, RoleScope};
use orgadmin_core::store::{NewRole, RoleChange};
use orgadmin_core::{Permission, PermissionSet};

use super::required;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;

/// The permission a role route needs: organization-wide, or the project one in that project.
async fn authorize(s: &AppState, auth: &Auth, scope: &RoleScope, write: bool) -> ApiResult<()> {
    let (org, project) = if write {
        (Permission::RolesWrite, Permission::ProjectRolesWrite)
    } else {
        (Permission::RolesRead, Permission::ProjectRolesRead)
    };
    match scope {
        RoleScope::Organization => auth.require(org),
        RoleScope::Project(p) => auth.require_in_project(&s.store, p, org, project).await,
    }
}

/// A role's description follows the one text rule, like every other text field.
fn parse_description(raw: Option<String>) -> ApiResult<Option<String>> {
    if let Some(d) = &raw {
        orgadmin_core::text::check(d, "description", 1000)?;
    }
    Ok(raw)
}

async fn list(s: AppState, auth: Auth, scope: RoleScope, q: Query) -> ApiResult<Json<RoleList>> {
    authorize(&s, &auth, &scope, false).await?;
    let page = q.cursor_page()?;
    Ok(Json(
        s.store
            .list_roles(&auth.0.org_id, &scope, &page)
            .await?
            .into(),
    ))
}

async fn create(
    s: AppState,
    auth: Auth,
    scope: RoleScope,
    body: RoleCreateRequest,
) -> ApiResult<Json<Role>> {
    authorize(&s, &auth, &scope, true).await?;
    let name = RoleName::parse(
        required(&body.role_name, "role_name")?,
        scope.resource_type(),
    )?;
    let permissions = body
        .permissions
        .ok_or_else(|| orgadmin_core::DomainError::missing("permissions"))?;
    let role = NewRole {
        name,
        description: parse_description(body.description)?,
        permissions: PermissionSet::parse_names(&permissions, "permissions")?,
    };
    let role = s.store.create_role(auth.actor(), &scope, role).await?;
    Ok(Json((&role).into()))
}

async fn retrieve(
    s: AppState,
    auth: Auth,
    scope: RoleScope,
    role_id: String,
) -> ApiResult<Json<Role>> {
    authorize(&s, &auth, &scope, false).await?;
    let role = s
        .store
        .get_role(&auth.0.org_id, &scope, &RoleRef::parse(&role_id))
        .await?;
    Ok(Json((&role).into()))
}

async fn update(
    s: AppState,
    auth: Auth,
    scope: RoleScope,
    role_id: String,
    body: RoleUpdateRequest,
) -> ApiResult<Json<Role>> {
    authorize(&s, &auth, &scope, true).await?;
    let change = RoleChange {
        name: body
            .role_name
            .as_deref()
            .map(|n| RoleName::parse(n, scope.resource_type()))
            .transpose()?,
        description: parse_description(body.description)?,
        permissions: body
            .permissions
            .as_deref()
            .map(|p| PermissionSet::parse_names(p, "permissions"))
            .transpose()?,
    };
    let role = s
        .store
        .update_role(auth.actor(), &scope, &RoleRef::parse(&role_id), change)
        .await?;
    Ok(Json((&role).into()))
}

async fn delete(
    s: AppState,
    auth: Auth,
    scope: RoleScope,
    role_id: String,
) -> ApiResult<Json<Deleted>> {
    authorize(&s, &auth, &scope, true).await?;
    let id = s
        .store
        .delete_role(auth.actor(), &scope, &RoleRef::parse(&role_id))
        .await?;
    Ok(Json(Deleted::new("role.deleted", id)))
}

#[utoipa::path(get, path = "/v1/organization/roles", tag = "Roles",
    params(("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = RoleList)))]
pub async fn list_org(
    State(s): State<AppState>,
    auth: Auth,
    q: Query,
) -> ApiResult<Json<RoleList>> {
    list(s, auth, RoleScope::Organization, q).await
}

#[utoipa::path(post, path = "/v1/organization/roles", tag = "Roles", request_body = RoleCreateRequest, responses((status = 200, body = Role)))]
pub async fn create_org(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody<RoleCreateRequest>,
) -> ApiResult<Json<Role>> {
    create(s, auth, RoleScope::Organization, body).await
}

#[utoipa::path(get, path = "/v1/organization/roles/{role_id}", tag = "Roles", params(("role_id" = String, Path)), responses((status = 200, body = Role)))]
pub async fn retrieve_org(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(role_id): ApiPath<String>,
) -> ApiResult<Json<Role>> {
    retrieve(s, auth, RoleScope::Organization, role_id).await
}

#[utoipa::path(post, path = "/v1/organization/roles/{role_id}", tag = "Roles", params(("role_id" = String, Path)),
    request_body = RoleUpdateRequest, responses((status = 200, body = Role)))]
pub async fn update_org(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(role_id): ApiPath<String>,
    JsonBody(body): JsonBody<RoleUpdateRequest>,
) -> ApiResult<Json<Role>> {
    update(s, auth, RoleScope::Organization, role_id, body).await
}

#[utoipa::path(delete, path = "/v1/organization/roles/{role_id}", tag = "Roles", params(("role_id" = String, Path)), responses((status = 200, body = Deleted)))]
pub async fn delete_org(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(role_id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    delete(s, auth, RoleScope::Organization, role_id).await
}

#[utoipa::path(get, path = "/v1/projects/{project_id}/roles", tag = "Roles",
    params(("project_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = RoleList)))]
pub async fn list_project(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<RoleList>> {
    list(
        s,
        auth,
        RoleScope::Project(ProjectId::from_raw(project_id)),
        q,
    )
    .await
}

#[utoipa::path(post, path = "/v1/projects/{project_id}/roles", tag = "Roles", params(("project_id" = String, Path)),
    request_body = RoleCreateRequest, responses((status = 200, body = Role)))]
pub async fn create_project(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<RoleCreateRequest>,
) -> ApiResult<Json<Role>> {
    create(
        s,
        auth,
        RoleScope::Project(ProjectId::from_raw(project_id)),
        body,
    )
    .await
}

#[utoipa::path(get, path = "/v1/projects/{project_id}/roles/{role_id}", tag = "Roles",
    params(("project_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = Role)))]
pub async fn retrieve_project(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, role_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Role>> {
    retrieve(
        s,
        auth,
        RoleScope::Project(ProjectId::from_raw(project_id)),
        role_id,
    )
    .await
}

#[utoipa::path(post, path = "/v1/projects/{project_id}/roles/{role_id}", tag = "Roles",
    params(("project_id" = String, Path), ("role_id" = String, Path)), request_body = RoleUpdateRequest, responses((status = 200, body = Role)))]
pub async fn update_project(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, role_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<RoleUpdateRequest>,
) -> ApiResult<Json<Role>> {
    update(
        s,
        auth,
        RoleScope::Project(ProjectId::from_raw(project_id)),
        role_id,
        body,
    )
    .await
}

#[utoipa::path(delete, path = "/v1/projects/{project_id}/roles/{role_id}", tag = "Roles",
    params(("project_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = Deleted)))]
pub async fn delete_project(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, role_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    delete(
        s,
        auth,
        RoleScope::Project(ProjectId::from_raw(project_id)),
        role_id,
    )
    .await
}
