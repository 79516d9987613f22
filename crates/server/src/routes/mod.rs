//! The route table: every route of the server in one place, and the OpenAPI document generated
//! from the handlers' annotations.

mod admin_keys;
mod audit_logs;
mod groups;
mod health;
mod invites;
mod projects;
mod roles;
mod service_accounts;
mod users;

use axum::routing::{get, post};
use axum::Router;
use orgadmin_core::DomainError;
use utoipa::OpenApi;

use crate::error::ApiResult;
use crate::state::AppState;

/// Most values one array filter (`emails`, `event_types[]`, …) may carry.
pub const MAX_FILTER_VALUES: usize = 1000;

/// A required body field, or `missing_required_parameter` naming it.
pub(crate) fn required<'a>(value: &'a Option<String>, param: &str) -> ApiResult<&'a str> {
    value
        .as_deref()
        .ok_or_else(|| DomainError::missing(param).into())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/v1/openapi.json", get(health::openapi))
        .route("/v1/organization/users", get(users::list))
        .route(
            "/v1/organization/users/{user_id}",
            get(users::retrieve)
                .post(users::modify)
                .delete(users::delete),
        )
        .route(
            "/v1/organization/users/{user_id}/roles",
            get(users::list_roles).post(users::assign_role),
        )
        .route(
            "/v1/organization/users/{user_id}/roles/{role_id}",
            get(users::retrieve_role).delete(users::unassign_role),
        )
        .route(
            "/v1/organization/roles",
            get(roles::list_org).post(roles::create_org),
        )
        .route(
            "/v1/organization/roles/{role_id}",
            get(roles::retrieve_org)
                .post(roles::update_org)
                .delete(roles::delete_org),
        )
        .route(
            "/v1/projects/{project_id}/roles",
            get(roles::list_project).post(roles::create_project),
        )
        .route(
            "/v1/projects/{project_id}/roles/{role_id}",
            get(roles::retrieve_project)
                .post(roles::update_project)
                .delete(roles::delete_project),
        )
        .route(
            "/v1/organization/projects",
            get(projects::list).post(projects::create),
        )
        .route(
            "/v1/organization/projects/{project_id}",
            get(projects::retrieve).post(projects::modify),
        )
        .route(
            "/v1/organization/projects/{project_id}/archive",
            post(projects::archive),
        )
        .route(
            "/v1/organization/projects/{project_id}/users",
            get(projects::list_users).post(projects::add_user),
        )
        .route(
            "/v1/organization/projects/{project_id}/users/{user_id}",
            get(projects::retrieve_user)
                .post(projects::modify_user)
                .delete(projects::remove_user),
        )
        .route(
            "/v1/organization/projects/{project_id}/service_accounts",
            get(service_accounts::list).post(service_accounts::create),
        )
        .route(
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}",
            get(service_accounts::retrieve)
                .post(service_accounts::modify)
                .delete(service_accounts::delete),
        )
        .route(
            "/v1/projects/{project_id}/users/{user_id}/roles",
            get(projects::list_user_roles).post(projects::assign_user_role),
        )
        .route(
            "/v1/projects/{project_id}/users/{user_id}/roles/{role_id}",
            get(projects::retrieve_user_role).delete(projects::unassign_user_role),
        )
        .route(
            "/v1/organization/invites",
            get(invites::list).post(invites::create),
        )
        .route(
            "/v1/organization/invites/{invite_id}",
            get(invites::retrieve).delete(invites::delete),
        )
        .route(
            "/v1/organization/invites/{invite_id}/accept",
            post(invites::accept),
        )
        .route(
            "/v1/organization/admin_api_keys",
            get(admin_keys::list).post(admin_keys::create),
        )
        .route(
            "/v1/organization/admin_api_keys/{key_id}",
            get(admin_keys::retrieve).delete(admin_keys::delete),
        )
        .route("/v1/organization/audit_logs", get(audit_logs::list))
        .route(
            "/v1/organization/users/{user_id}/permissions",
            get(users::permissions),
        )
        .route(
            "/v1/organization/groups",
            get(groups::list).post(groups::create),
        )
        .route(
            "/v1/organization/groups/{group_id}",
            get(groups::retrieve)
                .post(groups::update)
                .delete(groups::delete),
        )
        .route(
            "/v1/organization/groups/{group_id}/users",
            get(groups::list_users).post(groups::add_user),
        )
        .route(
            "/v1/organization/groups/{group_id}/users/{user_id}",
            get(groups::retrieve_user).delete(groups::remove_user),
        )
        .route(
            "/v1/organization/groups/{group_id}/roles",
            get(groups::list_org_roles).post(groups::assign_org_role),
        )
        .route(
            "/v1/organization/groups/{group_id}/roles/{role_id}",
            get(groups::retrieve_org_role).delete(groups::unassign_org_role),
        )
        .route(
            "/v1/organization/projects/{project_id}/groups",
            get(groups::list_project_groups).post(groups::add_project_group),
        )
        .route(
            "/v1/organization/projects/{project_id}/groups/{group_id}",
            get(groups::retrieve_project_group).delete(groups::remove_project_group),
        )
        .route(
            "/v1/projects/{project_id}/groups/{group_id}/roles",
            get(groups::list_project_roles).post(groups::assign_project_role),
        )
        .route(
            "/v1/projects/{project_id}/groups/{group_id}/roles/{role_id}",
            get(groups::retrieve_project_role).delete(groups::unassign_project_role),
        )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "orgadmin",
        description = "The identity-and-access part of the OpenAI Admin API, served by orgadmin. Routes tagged `orgadmin` are extensions."
    ),
    paths(
        users::list, users::retrieve, users::modify, users::delete,
        users::list_roles, users::assign_role, users::retrieve_role, users::unassign_role,
        roles::list_org, roles::create_org, roles::retrieve_org, roles::update_org, roles::delete_org,
        roles::list_project, roles::create_project, roles::retrieve_project, roles::update_project, roles::delete_project,
        projects::list, projects::create, projects::retrieve, projects::modify, projects::archive,
        projects::list_users, projects::add_user, projects::retrieve_user, projects::modify_user, projects::remove_user,
        projects::list_user_roles, projects::assign_user_role, projects::retrieve_user_role, projects::unassign_user_role,
        service_accounts::list, service_accounts::create, service_accounts::retrieve, service_accounts::modify, service_accounts::delete,
        invites::list, invites::create, invites::retrieve, invites::delete, invites::accept,
        admin_keys::list, admin_keys::create, admin_keys::retrieve, admin_keys::delete,
        audit_logs::list,
        users::permissions,
        groups::list, groups::create, groups::retrieve, groups::update, groups::delete,
        groups::list_users, groups::add_user, groups::retrieve_user, groups::remove_user,
        groups::list_org_roles, groups::assign_org_role, groups::retrieve_org_role, groups::unassign_org_role,
        groups::list_project_groups, groups::add_project_group, groups::retrieve_project_group, groups::remove_project_group,
        groups::list_project_roles, groups::assign_project_role, groups::retrieve_project_role, groups::unassign_project_role,
        health::healthz, health::readyz, health::openapi,
    ),
    modifiers(&SecurityAddon),
    tags((name = "orgadmin", description = "Extensions of orgadmin, not in the official Admin API."))
)]
pub struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "AdminApiKeyAuth",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "AdminApiKeyAuth",
            Vec::<String>::new(),
        )]);
    }
}
