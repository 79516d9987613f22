//! `/v1/organization/projects/{project_id}/model_permissions`, `…/hosted_tool_permissions` and
//! `…/rate_limits…`: what a project may use. Reads need `api.organization.projects.read`, or
//! `api.project.read` held in the project, as retrieving the project does; changes need
//! `api.organization.projects.write`, as modifying it does. The models are those of the server's
//! catalogue (`--models`), and a project's rate limits are the catalogue's organization limits
//! where the project has no lower ones. Kept as data: nothing enforces them yet.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{
    ProjectHostedToolPermissionsUpdateRequest, ProjectModelPermissionsUpdateRequest,
    ProjectRateLimitUpdateRequest,
};
use orgadmin_api::responses::{
    IdList, ProjectHostedToolPermissions, ProjectModelPermissions, ProjectModelPermissionsDeleted,
    ProjectRateLimit, ProjectRateLimitList,
};
use orgadmin_core::catalogue::LimitField;
use orgadmin_core::id::ProjectId;
use orgadmin_core::policy::{self, HostedTool, ModelPermissionMode, ModelPermissions};
use orgadmin_core::{DomainError, Permission};

use super::required;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;

/// Reading what a project may use: as retrieving the project.
async fn require_read(s: &AppState, auth: &Auth, project: &ProjectId) -> ApiResult<()> {
    auth.require_in_project(
        &s.store,
        project,
        Permission::ProjectsRead,
        Permission::ProjectRead,
    )
    .await
}

/// A field of the body that names nothing this route changes.
fn unknown_field(name: &str, what: &str, known: &[&str]) -> crate::error::ApiError {
    let shown = orgadmin_core::text::clip(name);
    DomainError::invalid(
        shown.clone(),
        format!("'{shown}' is not {what}; use {}.", known.join(", ")),
    )
    .into()
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/model_permissions", tag = "Projects",
    params(("project_id" = String, Path)), responses((status = 200, body = ProjectModelPermissions)))]
pub async fn retrieve_model_permissions(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
) -> ApiResult<Json<ProjectModelPermissions>> {
    let project_id = ProjectId::from_raw(project_id);
    require_read(&s, &auth, &project_id).await?;
    let policy = s
        .store
        .get_model_permissions(&auth.0.org_id, &project_id)
        .await?
        .unwrap_or_else(ModelPermissions::unrestricted);
    Ok(Json((&policy).into()))
}

/// Replaces the project's policy: `mode` and `model_ids`, models of the catalogue.
#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/model_permissions", tag = "Projects",
    params(("project_id" = String, Path)), request_body = ProjectModelPermissionsUpdateRequest,
    responses((status = 200, body = ProjectModelPermissions)))]
pub async fn update_model_permissions(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<ProjectModelPermissionsUpdateRequest>,
) -> ApiResult<Json<ProjectModelPermissions>> {
    auth.require(Permission::ProjectsWrite)?;
    let mode = ModelPermissionMode::parse(required(&body.mode, "mode")?, "mode")?;
    let ids = body
        .model_ids
        .ok_or_else(|| DomainError::missing("model_ids"))?;
    let policy = ModelPermissions::new(&s.models, mode, ids)?;
    let policy = s
        .store
        .set_model_permissions(auth.actor(), &ProjectId::from_raw(project_id), policy)
        .await?;
    Ok(Json((&policy).into()))
}

/// Removes the project's policy, so that no model is denied; answered `deleted: true` also when
/// the project had none (the state asked for holds), as the real API answers.
#[utoipa::path(delete, path = "/v1/organization/projects/{project_id}/model_permissions", tag = "Projects",
    params(("project_id" = String, Path)), responses((status = 200, body = ProjectModelPermissionsDeleted)))]
pub async fn delete_model_permissions(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
) -> ApiResult<Json<ProjectModelPermissionsDeleted>> {
    auth.require(Permission::ProjectsWrite)?;
    s.store
        .delete_model_permissions(auth.actor(), &ProjectId::from_raw(project_id))
        .await?;
    Ok(Json(ProjectModelPermissionsDeleted::new()))
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/hosted_tool_permissions", tag = "Hosted tools",
    params(("project_id" = String, Path)), responses((status = 200, body = ProjectHostedToolPermissions)))]
pub async fn retrieve_hosted_tools(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
) -> ApiResult<Json<ProjectHostedToolPermissions>> {
    let project_id = ProjectId::from_raw(project_id);
    require_read(&s, &auth, &project_id).await?;
    let tools = s
        .store
        .get_hosted_tools(&auth.0.org_id, &project_id)
        .await?;
    Ok(Json((&tools).into()))
}

/// Enables or disables the tools the body names (`{"enabled": …}` each; absent or `null`:
/// unchanged) and answers all of them.
#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/hosted_tool_permissions", tag = "Hosted tools",
    params(("project_id" = String, Path)), request_body = ProjectHostedToolPermissionsUpdateRequest,
    responses((status = 200, body = ProjectHostedToolPermissions)))]
pub async fn update_hosted_tools(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<ProjectHostedToolPermissionsUpdateRequest>,
) -> ApiResult<Json<ProjectHostedToolPermissions>> {
    auth.require(Permission::ProjectsWrite)?;
    if let Some(name) = body.unknown.keys().next() {
        let tools: Vec<&str> = HostedTool::ALL.iter().map(|t| t.name()).collect();
        return Err(unknown_field(name, "a hosted tool", &tools));
    }
    let mut change = Vec::new();
    for (tool, update) in body.tools() {
        if let Some(update) = update {
            let enabled = update
                .enabled
                .ok_or_else(|| DomainError::missing(format!("{}.enabled", tool.name())))?;
            change.push((tool, enabled));
        }
    }
    let tools = s
        .store
        .update_hosted_tools(auth.actor(), &ProjectId::from_raw(project_id), &change)
        .await?;
    Ok(Json((&tools).into()))
}

/// The project's rate limit for every model of the catalogue, in its order.
#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/rate_limits", tag = "Projects",
    params(("project_id" = String, Path), ("limit" = Option<i64>, Query, description = "1 to 100, default 100"),
        ("after" = Option<String>, Query), ("before" = Option<String>, Query)),
    responses((status = 200, body = ProjectRateLimitList)))]
pub async fn list_rate_limits(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<ProjectRateLimitList>> {
    let project_id = ProjectId::from_raw(project_id);
    require_read(&s, &auth, &project_id).await?;
    let (models, has_more) = s.models.page(&q.rate_limit_page()?)?;
    let overrides: HashMap<String, _> = s
        .store
        .rate_limit_overrides(&auth.0.org_id, &project_id)
        .await?
        .into_iter()
        .collect();
    let data = models
        .iter()
        .map(|m| ProjectRateLimit::new(m, &m.effective(overrides.get(&m.id))))
        .collect();
    Ok(Json(IdList::new(data, has_more, |r| &r.id)))
}

/// Lowers (or raises back, up to the organization's limit) some of a project's limits for one
/// model: at least one field, each a positive integer no greater than the organization's limit,
/// and only fields the model has.
#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/rate_limits/{rate_limit_id}", tag = "Projects",
    params(("project_id" = String, Path), ("rate_limit_id" = String, Path)),
    request_body = ProjectRateLimitUpdateRequest, responses((status = 200, body = ProjectRateLimit)))]
pub async fn update_rate_limit(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, rate_limit_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<ProjectRateLimitUpdateRequest>,
) -> ApiResult<Json<ProjectRateLimit>> {
    auth.require(Permission::ProjectsWrite)?;
    let project_id = ProjectId::from_raw(project_id);
    if let Some(name) = body.unknown.keys().next() {
        let fields: Vec<&str> = LimitField::ALL.iter().map(|f| f.name()).collect();
        return Err(unknown_field(name, "a rate limit field", &fields));
    }
    let mut given = Vec::new();
    for (field, value) in body.limits() {
        match value {
            None => {}
            Some(None) => {
                return Err(DomainError::invalid(
                    field.name(),
                    format!(
                        "{} cannot be null; give a positive integer, or leave it out to keep it.",
                        field.name()
                    ),
                )
                .into())
            }
            Some(Some(n)) => given.push((field, n)),
        }
    }
    let Some(model) = s.models.model_of_rate_limit(&rate_limit_id) else {
        // A missing project is named as such, before the rate limit it would hold.
        s.store.get_project(&auth.0.org_id, &project_id).await?;
        return Err(DomainError::not_found_because(
            "rate_limit_id",
            format!(
                "No rate limit found with id '{}' in project {project_id}.",
                orgadmin_core::text::clip(&rate_limit_id)
            ),
        )
        .into());
    };
    let change = policy::rate_limit_change(model, &given)?;
    let stored = s
        .store
        .update_rate_limit(
            auth.actor(),
            &project_id,
            &model.rate_limit_id(),
            &model.id,
            change,
        )
        .await?;
    Ok(Json(ProjectRateLimit::new(
        model,
        &model.effective(Some(&stored)),
    )))
}
