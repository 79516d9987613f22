//! `/v1/organization/projects…` and `/v1/projects/{project_id}/users/{user_id}/roles…`:
//! projects, their members, and members' project roles.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{
    ProjectCreateRequest, ProjectUpdateRequest, ProjectUserCreateRequest, ProjectUserUpdateRequest,
    RoleAssignRequest,
};
use orgadmin_api::responses::{
    AssignedRoleDetails, AssignedRoleList, Deleted, DeletedRoleAssignment, Project, ProjectList,
    ProjectUser, ProjectUserList, UserRoleAssignment,
};
use orgadmin_core::id::{ProjectId, UserId};
use orgadmin_core::model::{MemberRef, NewProject, ProjectChange};
use orgadmin_core::role::{ProjectBaseRole, RoleRef};
use orgadmin_core::{Email, Permission};

use super::required;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;
use orgadmin_core::DomainError;

/// Residencies the official API names (`PublicProjectResidency`).
const RESIDENCIES: &[&str] = &[
    "GLOBAL",
    "US_STORAGE_PROCESSING",
    "EU_STORAGE_PROCESSING",
    "JP_STORAGE",
    "KR_STORAGE",
    "CA_STORAGE",
    "SG_STORAGE",
    "IN_STORAGE",
    "AU_STORAGE",
    "GB_STORAGE",
    "AE_STORAGE",
    "AE_STORAGE_PROCESSING",
];

fn external_key(raw: Option<String>) -> ApiResult<Option<String>> {
    if let Some(k) = &raw {
        orgadmin_core::text::check(k, "external_key_id", 255)?;
    }
    Ok(raw)
}

#[utoipa::path(get, path = "/v1/organization/projects", tag = "Projects",
    params(("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("include_archived" = Option<bool>, Query)),
    responses((status = 200, body = ProjectList)))]
pub async fn list(State(s): State<AppState>, auth: Auth, q: Query) -> ApiResult<Json<ProjectList>> {
    auth.require(Permission::ProjectsRead)?;
    let page = q.id_page()?;
    let include_archived = q.boolean("include_archived")?.unwrap_or(false);
    Ok(Json(
        s.store
            .list_projects(&auth.0.org_id, include_archived, &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/v1/organization/projects", tag = "Projects", request_body = ProjectCreateRequest, responses((status = 200, body = Project)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody<ProjectCreateRequest>,
) -> ApiResult<Json<Project>> {
    auth.require(Permission::ProjectsWrite)?;
    let name = orgadmin_core::text::name(required(&body.name, "name")?, "name")?;
    if let Some(r) = body
        .residency
        .as_deref()
        .filter(|r| !RESIDENCIES.contains(r))
    {
        return Err(DomainError::invalid(
            "residency",
            format!(
                "'{}' is not a residency; use one of {}.",
                orgadmin_core::text::clip(r),
                RESIDENCIES.join(", ")
            ),
        )
        .into());
    }
    let project = NewProject {
        name,
        external_key_id: external_key(body.external_key_id)?,
        residency: body.residency,
    };
    let project = s.store.create_project(auth.actor(), project).await?;
    Ok(Json((&project).into()))
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}", tag = "Projects", params(("project_id" = String, Path)), responses((status = 200, body = Project)))]
pub async fn retrieve(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
) -> ApiResult<Json<Project>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_in_project(
        &s.store,
        &project_id,
        Permission::ProjectsRead,
        Permission::ProjectRead,
    )
    .await?;
    let project = s.store.get_project(&auth.0.org_id, &project_id).await?;
    Ok(Json((&project).into()))
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}", tag = "Projects", params(("project_id" = String, Path)),
    request_body = ProjectUpdateRequest, responses((status = 200, body = Project)))]
pub async fn modify(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<ProjectUpdateRequest>,
) -> ApiResult<Json<Project>> {
    auth.require(Permission::ProjectsWrite)?;
    let change = ProjectChange {
        name: body
            .name
            .as_deref()
            .map(|n| orgadmin_core::text::name(n, "name"))
            .transpose()?,
        external_key_id: external_key(body.external_key_id)?,
    };
    let project = s
        .store
        .update_project(auth.actor(), &ProjectId::from_raw(project_id), change)
        .await?;
    Ok(Json((&project).into()))
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/archive", tag = "Projects", params(("project_id" = String, Path)), responses((status = 200, body = Project)))]
pub async fn archive(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
) -> ApiResult<Json<Project>> {
    auth.require(Permission::ProjectsWrite)?;
    let project = s
        .store
        .archive_project(auth.actor(), &ProjectId::from_raw(project_id))
        .await?;
    Ok(Json((&project).into()))
}

fn project_role(raw: Option<&String>) -> ApiResult<ProjectBaseRole> {
    Ok(ProjectBaseRole::parse(
        required(&raw.cloned(), "role")?,
        "role",
    )?)
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/users", tag = "Projects",
    params(("project_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = ProjectUserList)))]
pub async fn list_users(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<ProjectUserList>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, false)
        .await?;
    let page = q.id_page()?;
    Ok(Json(
        s.store
            .list_project_users(auth.0.read_at(), &project_id, &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/users", tag = "Projects", params(("project_id" = String, Path)),
    request_body = ProjectUserCreateRequest, responses((status = 200, body = ProjectUser)))]
pub async fn add_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<ProjectUserCreateRequest>,
) -> ApiResult<Json<ProjectUser>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    let who = match (&body.user_id, &body.email) {
        (Some(id), _) => MemberRef::Id(UserId::from_raw(id.clone())),
        (None, Some(email)) => MemberRef::Email(Email::parse(email, "email")?),
        (None, None) => {
            return Err(DomainError::missing_one_of(
                "user_id",
                "Give the member to add as 'user_id' or 'email'.",
            )
            .into())
        }
    };
    let role = project_role(body.role.as_ref())?;
    let member = s
        .store
        .add_project_user(auth.actor(), &project_id, &who, role)
        .await?;
    Ok(Json((&member).into()))
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/users/{user_id}", tag = "Projects",
    params(("project_id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = ProjectUser)))]
pub async fn retrieve_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProjectUser>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, false)
        .await?;
    let member = s
        .store
        .get_project_user(&auth.0.org_id, &project_id, &UserId::from_raw(user_id))
        .await?;
    Ok(Json((&member).into()))
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/users/{user_id}", tag = "Projects",
    params(("project_id" = String, Path), ("user_id" = String, Path)), request_body = ProjectUserUpdateRequest, responses((status = 200, body = ProjectUser)))]
pub async fn modify_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, user_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<ProjectUserUpdateRequest>,
) -> ApiResult<Json<ProjectUser>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    let role = project_role(body.role.as_ref())?;
    let member = s
        .store
        .update_project_user(auth.actor(), &project_id, &UserId::from_raw(user_id), role)
        .await?;
    Ok(Json((&member).into()))
}

#[utoipa::path(delete, path = "/v1/organization/projects/{project_id}/users/{user_id}", tag = "Projects",
    params(("project_id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = Deleted)))]
pub async fn remove_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    s.store
        .remove_project_user(
            auth.actor(),
            &project_id,
            &UserId::from_raw(user_id.clone()),
        )
        .await?;
    Ok(Json(Deleted::new(
        "organization.project.user.deleted",
        user_id,
    )))
}

#[utoipa::path(get, path = "/v1/projects/{project_id}/users/{user_id}/roles", tag = "Project user role assignments",
    params(("project_id" = String, Path), ("user_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = AssignedRoleList)))]
pub async fn list_user_roles(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, user_id)): ApiPath<(String, String)>,
    q: Query,
) -> ApiResult<Json<AssignedRoleList>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, false)
        .await?;
    let page = q.cursor_page()?;
    Ok(Json(
        s.store
            .list_project_user_roles(
                auth.0.read_at(),
                &project_id,
                &UserId::from_raw(user_id),
                &page,
            )
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/v1/projects/{project_id}/users/{user_id}/roles", tag = "Project user role assignments",
    params(("project_id" = String, Path), ("user_id" = String, Path)), request_body = RoleAssignRequest, responses((status = 200, body = UserRoleAssignment)))]
pub async fn assign_user_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, user_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<RoleAssignRequest>,
) -> ApiResult<Json<UserRoleAssignment>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    let role = RoleRef::parse(required(&body.role_id, "role_id")?);
    let (user, role) = s
        .store
        .assign_project_user_role(auth.actor(), &project_id, &UserId::from_raw(user_id), &role)
        .await?;
    Ok(Json(UserRoleAssignment::new(&user, &role)))
}

#[utoipa::path(get, path = "/v1/projects/{project_id}/users/{user_id}/roles/{role_id}", tag = "Project user role assignments",
    params(("project_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = AssignedRoleDetails)))]
pub async fn retrieve_user_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, user_id, role_id)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<AssignedRoleDetails>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, false)
        .await?;
    let assigned = s
        .store
        .get_project_user_role(
            &auth.0.org_id,
            &project_id,
            &UserId::from_raw(user_id),
            &RoleRef::parse(&role_id),
        )
        .await?;
    Ok(Json((&assigned).into()))
}

#[utoipa::path(delete, path = "/v1/projects/{project_id}/users/{user_id}/roles/{role_id}", tag = "Project user role assignments",
    params(("project_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = DeletedRoleAssignment)))]
pub async fn unassign_user_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, user_id, role_id)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<DeletedRoleAssignment>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    s.store
        .unassign_project_user_role(
            auth.actor(),
            &project_id,
            &UserId::from_raw(user_id),
            &RoleRef::parse(&role_id),
        )
        .await?;
    Ok(Json(DeletedRoleAssignment {
        object: "user.role.deleted".into(),
        deleted: true,
    }))
}
