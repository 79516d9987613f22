//! `/scim/v2/Users`: the organization's members as SCIM users. Reads need
//! `api.organization.users.read`, changes `api.organization.users.write` (and, when people are
//! provisioned by invite, `api.organization.invites.write`), as the Admin API's routes do.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use orgadmin_api::scim::{
    list_response, patch, project, schema, user_patch_base, user_resource, user_write, USER_SCHEMAS,
};
use orgadmin_core::id::UserId;
use orgadmin_core::scim::Provisioning;
use orgadmin_core::Permission;
use serde_json::Value;

use super::{
    if_match, not_modified, resource_response, scim_response, BaseUrl, ListRequest, ResourceId,
    ScimAuth, ScimBody, ScimResult,
};
use crate::state::AppState;

fn require_write(auth: &ScimAuth, state: &AppState) -> ScimResult<()> {
    auth.require(&[Permission::UsersWrite])?;
    if state.scim_provisioning == Provisioning::Invite {
        auth.require(&[Permission::InvitesWrite])?;
    }
    Ok(())
}

pub async fn list(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    uri: Uri,
) -> ScimResult<Response> {
    auth.require(&[Permission::UsersRead])?;
    let request = ListRequest::from_query(&uri)?;
    answer_list(&auth, &state, &base, request).await
}

pub async fn search(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    auth.require(&[Permission::UsersRead])?;
    let request = ListRequest::from_search(&body)?;
    answer_list(&auth, &state, &base, request).await
}

async fn answer_list(
    auth: &ScimAuth,
    state: &AppState,
    base: &str,
    request: ListRequest,
) -> ScimResult<Response> {
    let page = state
        .store
        .scim_list_users(&auth.0, &request.query(false))
        .await?;
    let resources = page
        .items
        .iter()
        .map(|u| {
            project(
                user_resource(u, base),
                schema::USER,
                &request.attributes,
                &request.excluded,
            )
        })
        .collect();
    Ok(scim_response(
        StatusCode::OK,
        &list_response(page.total, request.start_index, resources),
    ))
}

pub async fn create(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    require_write(&auth, &state)?;
    let write = user_write(&body, None, true)?;
    let user = state
        .store
        .scim_create_user(&auth.0, state.scim_provisioning, write)
        .await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &user_resource(&user, &base),
    ))
}

pub async fn retrieve(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    uri: Uri,
) -> ScimResult<Response> {
    auth.require(&[Permission::UsersRead])?;
    let request = ListRequest::from_query(&uri)?;
    let user = state
        .store
        .scim_get_user(&auth.0, &UserId::from_raw(id))
        .await?;
    if not_modified(&headers, &user.version) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let resource = project(
        user_resource(&user, &base),
        schema::USER,
        &request.attributes,
        &request.excluded,
    );
    let mut response = resource_response(StatusCode::OK, &resource);
    if let Ok(tag) = user.version.parse() {
        response.headers_mut().insert(axum::http::header::ETAG, tag);
    }
    Ok(response)
}

pub async fn replace(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    require_write(&auth, &state)?;
    let if_match = if_match(&headers)?;
    // Checked before the transaction, so bad input never holds the write lock.
    user_write(&body, None, true)?;
    let user = state
        .store
        .scim_edit_user(
            &auth.0,
            state.scim_provisioning,
            &UserId::from_raw(id),
            if_match.as_deref(),
            Box::new(move |current| user_write(&body, Some(current), true)),
        )
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        &user_resource(&user, &base),
    ))
}

pub async fn modify(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    require_write(&auth, &state)?;
    let if_match = if_match(&headers)?;
    let operations = patch::operations(&body)?;
    let user = state
        .store
        .scim_edit_user(
            &auth.0,
            state.scim_provisioning,
            &UserId::from_raw(id),
            if_match.as_deref(),
            Box::new(move |current| {
                let mut doc = user_patch_base(current);
                patch::apply(&mut doc, USER_SCHEMAS, &operations)?;
                user_write(&Value::Object(doc), Some(current), false)
            }),
        )
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        &user_resource(&user, &base),
    ))
}

pub async fn delete(
    auth: ScimAuth,
    State(state): State<AppState>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> ScimResult<Response> {
    require_write(&auth, &state)?;
    let if_match = if_match(&headers)?;
    state
        .store
        .scim_delete_user(&auth.0, &UserId::from_raw(id), if_match.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
