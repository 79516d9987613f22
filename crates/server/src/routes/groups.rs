//! `/v1/organization/groups…`, `/v1/organization/projects/{project_id}/groups…` and
//! `/v1/projects/{project_id}/groups/{group_id}/roles…`: groups, their members, their roles, and
//! their access to projects.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{
    GroupRequest, GroupUserAddRequest, ProjectGroupAddRequest, RoleAssignRequest,
};
use orgadmin_api::responses::{
    AssignedRoleDetails, AssignedRoleList, Deleted, DeletedLink, Group, GroupList, GroupMemberUser,
    GroupRoleAssignment, GroupUserAssignment, GroupUserList, ProjectGroup, ProjectGroupList,
};
use orgadmin_core::id::{GroupId, ProjectId, UserId};
use orgadmin_core::page::SortOrder;
use orgadmin_core::role::{ProjectBaseRole, RoleRef};
use orgadmin_core::Permission;

use super::required;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;

#[utoipa::path(get, path = "/v1/organization/groups", tag = "Groups",
    params(("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = GroupList)))]
pub async fn list(State(s): State<AppState>, auth: Auth, q: Query) -> ApiResult<Json<GroupList>> {
    auth.require(Permission::GroupsRead)?;
    let page = q.bounded_page(0, 1000, 100, SortOrder::Asc)?;
    Ok(Json(
        s.store.list_groups(&auth.0.org_id, &page).await?.into(),
    ))
}

#[utoipa::path(post, path = "/v1/organization/groups", tag = "Groups", request_body = GroupRequest, responses((status = 200, body = Group)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody<GroupRequest>,
) -> ApiResult<Json<Group>> {
    auth.require(Permission::GroupsWrite)?;
    let name = orgadmin_core::text::name(required(&body.name, "name")?, "name")?;
    let group = s.store.create_group(auth.actor(), name).await?;
    Ok(Json((&group).into()))
}

#[utoipa::path(get, path = "/v1/organization/groups/{group_id}", tag = "Groups", params(("group_id" = String, Path)), responses((status = 200, body = Group)))]
pub async fn retrieve(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(group_id): ApiPath<String>,
) -> ApiResult<Json<Group>> {
    auth.require(Permission::GroupsRead)?;
    let group = s
        .store
        .get_group(&auth.0.org_id, &GroupId::from_raw(group_id))
        .await?;
    Ok(Json((&group).into()))
}

#[utoipa::path(post, path = "/v1/organization/groups/{group_id}", tag = "Groups", params(("group_id" = String, Path)),
    request_body = GroupRequest, responses((status = 200, body = Group)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(group_id): ApiPath<String>,
    JsonBody(body): JsonBody<GroupRequest>,
) -> ApiResult<Json<Group>> {
    auth.require(Permission::GroupsWrite)?;
    let name = orgadmin_core::text::name(required(&body.name, "name")?, "name")?;
    let group = s
        .store
        .rename_group(auth.actor(), &GroupId::from_raw(group_id), name)
        .await?;
    Ok(Json((&group).into()))
}

#[utoipa::path(delete, path = "/v1/organization/groups/{group_id}", tag = "Groups", params(("group_id" = String, Path)), responses((status = 200, body = Deleted)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(group_id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    auth.require(Permission::GroupsWrite)?;
    s.store
        .delete_group(auth.actor(), &GroupId::from_raw(group_id.clone()))
        .await?;
    Ok(Json(Deleted::new("group.deleted", group_id)))
}

#[utoipa::path(get, path = "/v1/organization/groups/{group_id}/users", tag = "Group users",
    params(("group_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = GroupUserList)))]
pub async fn list_users(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(group_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<GroupUserList>> {
    auth.require(Permission::GroupsRead)?;
    // The official API lists group members newest first unless asked otherwise.
    let page = q.bounded_page(0, 1000, 100, SortOrder::Desc)?;
    Ok(Json(
        s.store
            .list_group_users(&auth.0.org_id, &GroupId::from_raw(group_id), &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/v1/organization/groups/{group_id}/users", tag = "Group users", params(("group_id" = String, Path)),
    request_body = GroupUserAddRequest, responses((status = 200, body = GroupUserAssignment)))]
pub async fn add_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(group_id): ApiPath<String>,
    JsonBody(body): JsonBody<GroupUserAddRequest>,
) -> ApiResult<Json<GroupUserAssignment>> {
    require_group_access_write(&auth)?;
    let user_id = required(&body.user_id, "user_id")?.to_owned();
    s.store
        .add_group_user(
            auth.actor(),
            &GroupId::from_raw(group_id.clone()),
            &UserId::from_raw(user_id.clone()),
        )
        .await?;
    Ok(Json(GroupUserAssignment {
        object: "group.user".into(),
        user_id,
        group_id,
    }))
}

#[utoipa::path(get, path = "/v1/organization/groups/{group_id}/users/{user_id}", tag = "Group users",
    params(("group_id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = GroupMemberUser)))]
pub async fn retrieve_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((group_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<GroupMemberUser>> {
    auth.require(Permission::GroupsRead)?;
    let user = s
        .store
        .get_group_user(
            &auth.0.org_id,
            &GroupId::from_raw(group_id),
            &UserId::from_raw(user_id),
        )
        .await?;
    Ok(Json((&user).into()))
}

#[utoipa::path(delete, path = "/v1/organization/groups/{group_id}/users/{user_id}", tag = "Group users",
    params(("group_id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = DeletedLink)))]
pub async fn remove_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((group_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<DeletedLink>> {
    require_group_access_write(&auth)?;
    s.store
        .remove_group_user(
            auth.actor(),
            &GroupId::from_raw(group_id),
            &UserId::from_raw(user_id),
        )
        .await?;
    Ok(Json(DeletedLink::new("group.user.deleted")))
}

/// Who may read or change a group's roles: `api.groups.*` in the organization; on a project,
/// also `api.project.users.*` held in it.
async fn authorize_roles(
    s: &AppState,
    auth: &Auth,
    project: Option<&ProjectId>,
    write: bool,
) -> ApiResult<()> {
    match project {
        None if write => require_group_access_write(auth),
        None => auth.require(Permission::GroupsRead),
        Some(p) => auth.require_project_principals(&s.store, p, write).await,
    }
}

/// The route permission for changing what a group's members may do (its organization roles, its
/// members): `api.organization.users.write` as well as `api.groups.write`, as assigning a role to
/// a user needs. What the change grants is checked by the store, inside its transaction, against
/// what the key holds (`orgadmin_core::grant`): nobody grants more than they hold.
fn require_group_access_write(auth: &Auth) -> ApiResult<()> {
    auth.require(Permission::GroupsWrite)?;
    auth.require(Permission::UsersWrite)
}

async fn list_roles(
    s: AppState,
    auth: Auth,
    project: Option<ProjectId>,
    group_id: String,
    q: Query,
) -> ApiResult<Json<AssignedRoleList>> {
    authorize_roles(&s, &auth, project.as_ref(), false).await?;
    let page = q.cursor_page()?;
    let roles = s
        .store
        .list_group_roles(
            auth.0.read_at(),
            project.as_ref(),
            &GroupId::from_raw(group_id),
            &page,
        )
        .await?;
    Ok(Json(roles.into()))
}

async fn assign_role(
    s: AppState,
    auth: Auth,
    project: Option<ProjectId>,
    group_id: String,
    body: RoleAssignRequest,
) -> ApiResult<Json<GroupRoleAssignment>> {
    authorize_roles(&s, &auth, project.as_ref(), true).await?;
    let role = RoleRef::parse(required(&body.role_id, "role_id")?);
    let (group, role) = s
        .store
        .assign_group_role(
            auth.actor(),
            project.as_ref(),
            &GroupId::from_raw(group_id),
            &role,
        )
        .await?;
    Ok(Json(GroupRoleAssignment::new(&group, &role)))
}

async fn retrieve_role(
    s: AppState,
    auth: Auth,
    project: Option<ProjectId>,
    group_id: String,
    role_id: String,
) -> ApiResult<Json<AssignedRoleDetails>> {
    authorize_roles(&s, &auth, project.as_ref(), false).await?;
    let held = s
        .store
        .get_group_role(
            &auth.0.org_id,
            project.as_ref(),
            &GroupId::from_raw(group_id),
            &RoleRef::parse(&role_id),
        )
        .await?;
    Ok(Json((&held).into()))
}

async fn unassign_role(
    s: AppState,
    auth: Auth,
    project: Option<ProjectId>,
    group_id: String,
    role_id: String,
) -> ApiResult<Json<DeletedLink>> {
    authorize_roles(&s, &auth, project.as_ref(), true).await?;
    s.store
        .unassign_group_role(
            auth.actor(),
            project.as_ref(),
            &GroupId::from_raw(group_id),
            &RoleRef::parse(&role_id),
        )
        .await?;
    Ok(Json(DeletedLink::new("group.role.deleted")))
}

#[utoipa::path(get, path = "/v1/organization/groups/{group_id}/roles", tag = "Group organization role assignments",
    params(("group_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = AssignedRoleList)))]
pub async fn list_org_roles(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(group_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<AssignedRoleList>> {
    list_roles(s, auth, None, group_id, q).await
}

#[utoipa::path(post, path = "/v1/organization/groups/{group_id}/roles", tag = "Group organization role assignments",
    params(("group_id" = String, Path)), request_body = RoleAssignRequest, responses((status = 200, body = GroupRoleAssignment)))]
pub async fn assign_org_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(group_id): ApiPath<String>,
    JsonBody(body): JsonBody<RoleAssignRequest>,
) -> ApiResult<Json<GroupRoleAssignment>> {
    assign_role(s, auth, None, group_id, body).await
}

#[utoipa::path(get, path = "/v1/organization/groups/{group_id}/roles/{role_id}", tag = "Group organization role assignments",
    params(("group_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = AssignedRoleDetails)))]
pub async fn retrieve_org_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((group_id, role_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<AssignedRoleDetails>> {
    retrieve_role(s, auth, None, group_id, role_id).await
}

#[utoipa::path(delete, path = "/v1/organization/groups/{group_id}/roles/{role_id}", tag = "Group organization role assignments",
    params(("group_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = DeletedLink)))]
pub async fn unassign_org_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((group_id, role_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<DeletedLink>> {
    unassign_role(s, auth, None, group_id, role_id).await
}

#[utoipa::path(get, path = "/v1/projects/{project_id}/groups/{group_id}/roles", tag = "Project group role assignments",
    params(("project_id" = String, Path), ("group_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = AssignedRoleList)))]
pub async fn list_project_roles(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, group_id)): ApiPath<(String, String)>,
    q: Query,
) -> ApiResult<Json<AssignedRoleList>> {
    list_roles(s, auth, Some(ProjectId::from_raw(project_id)), group_id, q).await
}

#[utoipa::path(post, path = "/v1/projects/{project_id}/groups/{group_id}/roles", tag = "Project group role assignments",
    params(("project_id" = String, Path), ("group_id" = String, Path)), request_body = RoleAssignRequest, responses((status = 200, body = GroupRoleAssignment)))]
pub async fn assign_project_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, group_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<RoleAssignRequest>,
) -> ApiResult<Json<GroupRoleAssignment>> {
    assign_role(
        s,
        auth,
        Some(ProjectId::from_raw(project_id)),
        group_id,
        body,
    )
    .await
}

#[utoipa::path(get, path = "/v1/projects/{project_id}/groups/{group_id}/roles/{role_id}", tag = "Project group role assignments",
    params(("project_id" = String, Path), ("group_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = AssignedRoleDetails)))]
pub async fn retrieve_project_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, group_id, role_id)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<AssignedRoleDetails>> {
    retrieve_role(
        s,
        auth,
        Some(ProjectId::from_raw(project_id)),
        group_id,
        role_id,
    )
    .await
}

#[utoipa::path(delete, path = "/v1/projects/{project_id}/groups/{group_id}/roles/{role_id}", tag = "Project group role assignments",
    params(("project_id" = String, Path), ("group_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = DeletedLink)))]
pub async fn unassign_project_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, group_id, role_id)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<DeletedLink>> {
    unassign_role(
        s,
        auth,
        Some(ProjectId::from_raw(project_id)),
        group_id,
        role_id,
    )
    .await
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/groups", tag = "Project groups",
    params(("project_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = ProjectGroupList)))]
pub async fn list_project_groups(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<ProjectGroupList>> {
    let project = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project, false)
        .await?;
    let page = q.bounded_page(0, 100, 20, SortOrder::Asc)?;
    Ok(Json(
        s.store
            .list_project_groups(&auth.0.org_id, &project, &page)
            .await?
            .into(),
    ))
}

/// The role a group gets in a project: a role ID, or one of the base role names.
fn project_role(raw: &str) -> RoleRef {
    match ProjectBaseRole::parse(raw, "role") {
        Ok(base) => RoleRef::Predefined {
            role: base.predefined(),
            project: None,
        },
        Err(_) => RoleRef::parse(raw),
    }
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/groups", tag = "Project groups", params(("project_id" = String, Path)),
    request_body = ProjectGroupAddRequest, responses((status = 200, body = ProjectGroup)))]
pub async fn add_project_group(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<ProjectGroupAddRequest>,
) -> ApiResult<Json<ProjectGroup>> {
    let project = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project, true)
        .await?;
    let group = GroupId::from_raw(required(&body.group_id, "group_id")?);
    let role = project_role(required(&body.role, "role")?);
    let added = s
        .store
        .add_project_group(auth.actor(), &project, &group, &role)
        .await
        // The body names the role `role`, not `role_id`.
        .map_err(|e| match e.param() {
            Some("role_id") => e.with_param("role"),
            _ => e,
        })?;
    Ok(Json((&added).into()))
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/groups/{group_id}", tag = "Project groups",
    params(("project_id" = String, Path), ("group_id" = String, Path)), responses((status = 200, body = ProjectGroup)))]
pub async fn retrieve_project_group(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, group_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProjectGroup>> {
    let project = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project, false)
        .await?;
    let found = s
        .store
        .get_project_group(&auth.0.org_id, &project, &GroupId::from_raw(group_id))
        .await?;
    Ok(Json((&found).into()))
}

#[utoipa::path(delete, path = "/v1/organization/projects/{project_id}/groups/{group_id}", tag = "Project groups",
    params(("project_id" = String, Path), ("group_id" = String, Path)), responses((status = 200, body = DeletedLink)))]
pub async fn remove_project_group(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, group_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<DeletedLink>> {
    let project = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project, true)
        .await?;
    s.store
        .remove_project_group(auth.actor(), &project, &GroupId::from_raw(group_id))
        .await?;
    Ok(Json(DeletedLink::new("project.group.deleted")))
}
