//! `/v1/organization/users…`: organization members and their organization roles.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{RoleAssignRequest, UserUpdateRequest};
use orgadmin_api::responses::{
    AssignedRoleDetails, AssignedRoleList, Deleted, DeletedRoleAssignment, User, UserList,
    UserPermissions, UserRoleAssignment,
};
use orgadmin_core::id::{ProjectId, ServiceAccountId, UserId};
use orgadmin_core::model::UserChange;
use orgadmin_core::page::Page;
use orgadmin_core::role::RoleRef;
use orgadmin_core::{Email, Permission, ReadAt};

use super::{required, MAX_FILTER_VALUES};
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;
use orgadmin_core::DomainError;

#[utoipa::path(get, path = "/v1/organization/users", tag = "Users",
    params(("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("emails" = Option<Vec<String>>, Query)),
    responses((status = 200, body = UserList)))]
pub async fn list(State(s): State<AppState>, auth: Auth, q: Query) -> ApiResult<Json<UserList>> {
    auth.require(Permission::UsersRead)?;
    let page = q.id_page()?;
    let given: Vec<String> = q
        .many("emails")
        .iter()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect();
    if given.len() > MAX_FILTER_VALUES {
        return Err(DomainError::invalid(
            "emails",
            format!("Give at most {MAX_FILTER_VALUES} emails per request."),
        )
        .into());
    }
    // Compared by the rule that decides who is a member (`Email`): a value that is no address
    // (or a refused look-alike) matches nobody.
    let emails: Vec<String> = given.iter().filter_map(|e| Email::filter_key(e)).collect();
    if !given.is_empty() && emails.is_empty() {
        return Ok(Json(
            Page::<orgadmin_core::model::Member> {
                items: Vec::new(),
                has_more: false,
            }
            .into(),
        ));
    }
    // Service accounts have no email: a filtered list holds people only.
    if emails.is_empty() {
        return Ok(Json(
            s.store
                .list_users_with_service_accounts(auth.0.read_at(), &page)
                .await?
                .into(),
        ));
    }
    Ok(Json(
        s.store
            .list_users(auth.0.read_at(), &emails, &page)
            .await?
            .into(),
    ))
}

/// The project service account `user_id` names, if it names one: the user list shows service
/// accounts among people, but they are changed through their project's routes.
async fn service_account(
    s: &AppState,
    auth: &Auth,
    user_id: &str,
) -> ApiResult<Option<orgadmin_core::model::ServiceAccount>> {
    if !user_id.starts_with(ServiceAccountId::PREFIX) {
        return Ok(None);
    }
    Ok(s.store
        .find_service_account(&auth.0.org_id, &ServiceAccountId::from_raw(user_id))
        .await?)
}

/// Refuse a user route that changes a user or reads their roles for a service account, pointing
/// at where it is managed.
async fn refuse_service_account(s: &AppState, auth: &Auth, user_id: &str) -> ApiResult<()> {
    match service_account(s, auth, user_id).await? {
        None => Ok(()),
        Some(account) => Err(DomainError::invalid(
            "user_id",
            format!(
                "{user_id} is a service account of project {project}; manage it with /v1/organization/projects/{project}/service_accounts/{user_id}.",
                project = account.project_id
            ),
        ).into()),
    }
}

#[utoipa::path(get, path = "/v1/organization/users/{user_id}", tag = "Users",
    params(("user_id" = String, Path)), responses((status = 200, body = User)))]
pub async fn retrieve(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<Json<User>> {
    auth.require(Permission::UsersRead)?;
    if let Some(account) = service_account(&s, &auth, &user_id).await? {
        return Ok(Json((&account).into()));
    }
    let user = s
        .store
        .get_user(auth.0.read_at(), &UserId::from_raw(user_id))
        .await?;
    Ok(Json((&user).into()))
}

#[utoipa::path(post, path = "/v1/organization/users/{user_id}", tag = "Users",
    params(("user_id" = String, Path)), request_body = UserUpdateRequest, responses((status = 200, body = User)))]
pub async fn modify(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(user_id): ApiPath<String>,
    JsonBody(body): JsonBody<UserUpdateRequest>,
) -> ApiResult<Json<User>> {
    auth.require(Permission::UsersWrite)?;
    refuse_service_account(&s, &auth, &user_id).await?;
    let change = UserChange::from_request(
        body.role.as_deref(),
        body.role_id.as_deref(),
        body.developer_persona,
        body.technical_level,
    )?;
    let user = s
        .store
        .update_user(auth.actor(), &UserId::from_raw(user_id), change)
        .await?;
    Ok(Json((&user).into()))
}

#[utoipa::path(delete, path = "/v1/organization/users/{user_id}", tag = "Users",
    params(("user_id" = String, Path)), responses((status = 200, body = Deleted)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(user_id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    auth.require(Permission::UsersWrite)?;
    refuse_service_account(&s, &auth, &user_id).await?;
    s.store
        .remove_user(auth.actor(), &UserId::from_raw(user_id.clone()))
        .await?;
    Ok(Json(Deleted::new("organization.user.deleted", user_id)))
}

#[utoipa::path(get, path = "/v1/organization/users/{user_id}/roles", tag = "User organization role assignments",
    params(("user_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = AssignedRoleList)))]
pub async fn list_roles(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(user_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<AssignedRoleList>> {
    auth.require(Permission::UsersRead)?;
    refuse_service_account(&s, &auth, &user_id).await?;
    let page = q.cursor_page()?;
    Ok(Json(
        s.store
            .list_user_roles(auth.0.read_at(), &UserId::from_raw(user_id), &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/v1/organization/users/{user_id}/roles", tag = "User organization role assignments",
    params(("user_id" = String, Path)), request_body = RoleAssignRequest, responses((status = 200, body = UserRoleAssignment)))]
pub async fn assign_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(user_id): ApiPath<String>,
    JsonBody(body): JsonBody<RoleAssignRequest>,
) -> ApiResult<Json<UserRoleAssignment>> {
    auth.require(Permission::UsersWrite)?;
    refuse_service_account(&s, &auth, &user_id).await?;
    let role = RoleRef::parse(required(&body.role_id, "role_id")?);
    let (user, role) = s
        .store
        .assign_user_role(auth.actor(), &UserId::from_raw(user_id), &role)
        .await?;
    Ok(Json(UserRoleAssignment::new(&user, &role)))
}

#[utoipa::path(get, path = "/v1/organization/users/{user_id}/roles/{role_id}", tag = "User organization role assignments",
    params(("user_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = AssignedRoleDetails)))]
pub async fn retrieve_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((user_id, role_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<AssignedRoleDetails>> {
    auth.require(Permission::UsersRead)?;
    refuse_service_account(&s, &auth, &user_id).await?;
    let assigned = s
        .store
        .get_user_role(
            &auth.0.org_id,
            &UserId::from_raw(user_id),
            &RoleRef::parse(&role_id),
        )
        .await?;
    Ok(Json((&assigned).into()))
}

#[utoipa::path(delete, path = "/v1/organization/users/{user_id}/roles/{role_id}", tag = "User organization role assignments",
    params(("user_id" = String, Path), ("role_id" = String, Path)), responses((status = 200, body = DeletedRoleAssignment)))]
pub async fn unassign_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((user_id, role_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<DeletedRoleAssignment>> {
    auth.require(Permission::UsersWrite)?;
    refuse_service_account(&s, &auth, &user_id).await?;
    s.store
        .unassign_user_role(
            auth.actor(),
            &UserId::from_raw(user_id),
            &RoleRef::parse(&role_id),
        )
        .await?;
    Ok(Json(DeletedRoleAssignment {
        object: "user.role.deleted".into(),
        deleted: true,
    }))
}

/// What a user may do, and which roles and sources grant each permission (orgadmin extension,
/// for gateways and for debugging access). With `project_id`, the project's roles count too.
#[utoipa::path(get, path = "/v1/organization/users/{user_id}/permissions", tag = "orgadmin",
    params(("user_id" = String, Path), ("project_id" = Option<String>, Query)),
    responses((status = 200, body = UserPermissions)))]
pub async fn permissions(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(user_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<UserPermissions>> {
    auth.require(Permission::UsersRead)?;
    refuse_service_account(&s, &auth, &user_id).await?;
    let user_id = UserId::from_raw(user_id);
    let project = q
        .one("project_id")?
        .filter(|p| !p.is_empty())
        .map(ProjectId::from_raw);
    let org = &auth.0.org_id;
    // Read from the database, like the roles below: one state for the whole answer.
    let user = s.store.get_user(ReadAt::latest(org), &user_id).await?;
    if let Some(p) = &project {
        s.store.get_project(org, p).await?;
    }
    let roles = s.store.user_access(org, &user_id, project.as_ref()).await?;
    Ok(Json(UserPermissions::new(
        &user.user,
        project.as_ref().map(|p| p.as_str()),
        &roles,
    )))
}
