//! `/v1/organization/invites…`, with the accept extension.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{InviteAcceptRequest, InviteCreateRequest};
use orgadmin_api::responses::{Deleted, Invite, InviteList, User};
use orgadmin_core::id::{InviteId, ProjectId};
use orgadmin_core::model::{InviteProject, NewInvite};
use orgadmin_core::role::{OrgBaseRole, ProjectBaseRole};
use orgadmin_core::{Email, Permission};

use super::required;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;
use orgadmin_core::DomainError;

/// Projects one invite may name.
const MAX_INVITE_PROJECTS: usize = 100;

#[utoipa::path(get, path = "/v1/organization/invites", tag = "Invites",
    params(("limit" = Option<i64>, Query), ("after" = Option<String>, Query)), responses((status = 200, body = InviteList)))]
pub async fn list(State(s): State<AppState>, auth: Auth, q: Query) -> ApiResult<Json<InviteList>> {
    auth.require(Permission::InvitesRead)?;
    let page = q.id_page()?;
    let invites = s.store.list_invites(&auth.0.org_id, &page).await?;
    Ok(Json(InviteList::from_page(invites, auth.0.now)))
}

#[utoipa::path(post, path = "/v1/organization/invites", tag = "Invites", request_body = InviteCreateRequest, responses((status = 200, body = Invite)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody<InviteCreateRequest>,
) -> ApiResult<Json<Invite>> {
    auth.require(Permission::InvitesWrite)?;
    let email = Email::parse(required(&body.email, "email")?, "email")?;
    let role = OrgBaseRole::parse(required(&body.role, "role")?, "role")?;
    let projects = match body.projects {
        None => None,
        Some(list) => {
            if list.len() > MAX_INVITE_PROJECTS {
                return Err(DomainError::invalid(
                    "projects",
                    format!("An invite may name at most {MAX_INVITE_PROJECTS} projects."),
                )
                .into());
            }
            let mut parsed: Vec<InviteProject> = Vec::with_capacity(list.len());
            for (i, p) in list.iter().enumerate() {
                let id = required(&p.id, &format!("projects[{i}].id"))?;
                let role_param = format!("projects[{i}].role");
                let role = match required(&p.role, &role_param)? {
                    "member" => ProjectBaseRole::Member,
                    "owner" => ProjectBaseRole::Owner,
                    other => {
                        return Err(DomainError::invalid(
                            &role_param,
                            format!(
                                "'{}' is not an invite project role; use 'member' or 'owner'.",
                                orgadmin_core::text::clip(other)
                            ),
                        )
                        .into())
                    }
                };
                if parsed.iter().any(|q| q.project_id.as_str() == id) {
                    return Err(DomainError::invalid(
                        "projects",
                        format!("Project {id} is named more than once."),
                    )
                    .into());
                }
                parsed.push(InviteProject {
                    project_id: ProjectId::from_raw(id),
                    role,
                });
            }
            Some(parsed)
        }
    };
    let invite = s
        .store
        .create_invite(
            auth.actor(),
            NewInvite {
                email,
                role,
                projects,
            },
        )
        .await?;
    Ok(Json(Invite::new(&invite, auth.0.now)))
}

#[utoipa::path(get, path = "/v1/organization/invites/{invite_id}", tag = "Invites", params(("invite_id" = String, Path)), responses((status = 200, body = Invite)))]
pub async fn retrieve(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(invite_id): ApiPath<String>,
) -> ApiResult<Json<Invite>> {
    auth.require(Permission::InvitesRead)?;
    let invite = s
        .store
        .get_invite(&auth.0.org_id, &InviteId::from_raw(invite_id))
        .await?;
    Ok(Json(Invite::new(&invite, auth.0.now)))
}

#[utoipa::path(delete, path = "/v1/organization/invites/{invite_id}", tag = "Invites", params(("invite_id" = String, Path)), responses((status = 200, body = Deleted)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(invite_id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    auth.require(Permission::InvitesWrite)?;
    s.store
        .delete_invite(auth.actor(), &InviteId::from_raw(invite_id.clone()))
        .await?;
    Ok(Json(Deleted::new("organization.invite.deleted", invite_id)))
}

/// Accept a pending invite as the invitee would by email (orgadmin extension).
#[utoipa::path(post, path = "/v1/organization/invites/{invite_id}/accept", tag = "orgadmin", params(("invite_id" = String, Path)),
    request_body = InviteAcceptRequest, responses((status = 200, body = User)))]
pub async fn accept(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(invite_id): ApiPath<String>,
    JsonBody(body): JsonBody<InviteAcceptRequest>,
) -> ApiResult<Json<User>> {
    auth.require(Permission::InvitesWrite)?;
    let name = match body
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    {
        Some(n) => {
            orgadmin_core::text::check(&n, "name", 255)?;
            Some(n)
        }
        None => None,
    };
    let user = s
        .store
        .accept_invite(auth.actor(), &InviteId::from_raw(invite_id), name)
        .await?;
    Ok(Json((&user).into()))
}
