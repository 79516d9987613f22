//! The route table: every route of the server stated once, from which both the router and the
//! OpenAPI document (generated from the handlers' annotations) are built.

mod admin_keys;
mod audit_logs;
mod groups;
mod health;
pub(crate) mod import;
mod invites;
mod project_keys;
mod project_policies;
mod projects;
mod roles;
mod service_accounts;
mod users;

use std::sync::Arc;

use axum::{Extension, Router};
use orgadmin_core::DomainError;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// The server's routes: the route table with the OpenAPI document it describes, which
/// `/v1/openapi.json` serves (`health::openapi` reads it from the request's extensions).
pub fn router() -> Router<AppState> {
    let (router, document) = route_table().split_for_parts();
    router
        .nest(crate::scim::PREFIX, crate::scim::router())
        .layer(Extension(Arc::new(document)))
}

/// The route table: every route once, as the handlers that serve its methods. Each handler's
/// `#[utoipa::path]` states its method and path, so the same line routes requests and adds the
/// operation to the OpenAPI document (started from [`Frame`]).
fn route_table() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Frame::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::openapi))
        .routes(routes!(users::list))
        .routes(routes!(users::retrieve, users::modify, users::delete))
        .routes(routes!(users::list_roles, users::assign_role))
        .routes(routes!(users::retrieve_role, users::unassign_role))
        .routes(routes!(roles::list_org, roles::create_org))
        .routes(routes!(
            roles::retrieve_org,
            roles::update_org,
            roles::delete_org
        ))
        .routes(routes!(roles::list_project, roles::create_project))
        .routes(routes!(
            roles::retrieve_project,
            roles::update_project,
            roles::delete_project
        ))
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(projects::retrieve, projects::modify))
        .routes(routes!(projects::archive))
        .routes(routes!(projects::list_users, projects::add_user))
        .routes(routes!(
            projects::retrieve_user,
            projects::modify_user,
            projects::remove_user
        ))
        .routes(routes!(service_accounts::list, service_accounts::create))
        .routes(routes!(
            service_accounts::retrieve,
            service_accounts::modify,
            service_accounts::delete
        ))
        .routes(routes!(project_keys::create_for_service_account))
        .routes(routes!(project_keys::list, project_keys::create))
        .routes(routes!(
            project_keys::retrieve,
            project_keys::update,
            project_keys::delete
        ))
        .routes(routes!(
            project_policies::retrieve_model_permissions,
            project_policies::update_model_permissions,
            project_policies::delete_model_permissions
        ))
        .routes(routes!(
            project_policies::retrieve_hosted_tools,
            project_policies::update_hosted_tools
        ))
        .routes(routes!(project_policies::list_rate_limits))
        .routes(routes!(project_policies::update_rate_limit))
        .routes(routes!(
            projects::list_user_roles,
            projects::assign_user_role
        ))
        .routes(routes!(
            projects::retrieve_user_role,
            projects::unassign_user_role
        ))
        .routes(routes!(invites::list, invites::create))
        .routes(routes!(invites::retrieve, invites::delete))
        .routes(routes!(invites::accept))
        .routes(routes!(admin_keys::list, admin_keys::create))
        .routes(routes!(admin_keys::retrieve, admin_keys::delete))
        .routes(routes!(audit_logs::list))
        .routes(routes!(users::permissions))
        .routes(routes!(import::import_users))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::retrieve, groups::update, groups::delete))
        .routes(routes!(groups::list_users, groups::add_user))
        .routes(routes!(groups::retrieve_user, groups::remove_user))
        .routes(routes!(groups::list_org_roles, groups::assign_org_role))
        .routes(routes!(
            groups::retrieve_org_role,
            groups::unassign_org_role
        ))
        .routes(routes!(
            groups::list_project_groups,
            groups::add_project_group
        ))
        .routes(routes!(
            groups::retrieve_project_group,
            groups::remove_project_group
        ))
        .routes(routes!(
            groups::list_project_roles,
            groups::assign_project_role
        ))
        .routes(routes!(
            groups::retrieve_project_role,
            groups::unassign_project_role
        ))
        .merge(crate::operator::routes())
}

/// The server's OpenAPI document, as `/v1/openapi.json` serves it: [`Frame`] and the route
/// table's operations.
pub struct ApiDoc;

impl OpenApi for ApiDoc {
    fn openapi() -> utoipa::openapi::OpenApi {
        route_table().into_openapi()
    }
}

/// What the document says besides its operations (which the route table adds): its title and
/// description, the `orgadmin` tag, and the admin key as the security scheme of every operation.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "orgadmin",
        description = "The identity-and-access part of the OpenAI Admin API, served by orgadmin. Routes tagged `orgadmin` are extensions."
    ),
    modifiers(&SecurityAddon),
    // The import's 400 for invalid rows, which its operation documents as the envelope (a
    // refusal is one, with `summary` beside `error`).
    components(schemas(orgadmin_api::import::ImportRefusal)),
    tags(
        (name = "orgadmin", description = "Extensions of orgadmin, not in the official Admin API."),
        (name = "operator", description = "The operator API: the server's organizations, for test harnesses and operators. Not part of the Admin API; it answers to the server's operator key (`sk-operator-…`) alone.")
    )
)]
struct Frame;

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
        components.add_security_scheme(
            "OperatorKeyAuth",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "AdminApiKeyAuth",
            Vec::<String>::new(),
        )]);
    }
}
