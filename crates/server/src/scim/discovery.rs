//! Discovery (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, from the
//! schemas `orgadmin_api::scim::schema` states once. They describe the service, not an
//! organization, but answer only to an admin key, like every SCIM route: a provider sends
//! its token with every request.

use axum::http::StatusCode;
use axum::response::Response;
use orgadmin_api::scim::list_response;
use orgadmin_api::scim::schema;

use super::{scim_response, BaseUrl, ResourceId, ScimApiError, ScimAuth, ScimResult};

pub async fn config(_: ScimAuth, BaseUrl(base): BaseUrl) -> Response {
    scim_response(StatusCode::OK, &schema::service_provider_config(&base))
}

pub async fn resource_types(_: ScimAuth, BaseUrl(base): BaseUrl) -> Response {
    let all = schema::resource_types(&base);
    let total = all.len() as u64;
    scim_response(StatusCode::OK, &list_response(total, 1, all))
}

pub async fn resource_type(
    _: ScimAuth,
    BaseUrl(base): BaseUrl,
    ResourceId(id): ResourceId,
) -> ScimResult<Response> {
    schema::resource_types(&base)
        .into_iter()
        .find(|t| {
            t["id"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(&id))
        })
        .map(|t| scim_response(StatusCode::OK, &t))
        .ok_or_else(|| {
            ScimApiError::new(
                StatusCode::NOT_FOUND,
                None,
                format!("No resource type '{id}': there are User and Group."),
            )
        })
}

pub async fn schemas(_: ScimAuth, BaseUrl(base): BaseUrl) -> Response {
    let all = schema::schemas(&base);
    let total = all.len() as u64;
    scim_response(StatusCode::OK, &list_response(total, 1, all))
}

pub async fn schema(
    _: ScimAuth,
    BaseUrl(base): BaseUrl,
    ResourceId(id): ResourceId,
) -> ScimResult<Response> {
    schema::schema_by_id(&id)
        .map(|s| scim_response(StatusCode::OK, &s.to_json(&base)))
        .ok_or_else(|| ScimApiError::new(StatusCode::NOT_FOUND, None, format!("No schema '{id}'.")))
}
