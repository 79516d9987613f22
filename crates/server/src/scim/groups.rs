//! `/scim/v2/Groups`: the organization's groups (the Admin API's `/organization/groups`) as
//! SCIM groups. Reads need `api.groups.read`; changes `api.groups.write` and, since a group's
//! members hold what it holds, `api.organization.users.write`, as on the Admin API.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use orgadmin_api::scim::{
    group_patch_base, group_resource, group_write, list_response, patch, project, schema,
    GROUP_SCHEMAS,
};
use orgadmin_core::id::GroupId;
use orgadmin_core::Permission;
use serde_json::Value;

use super::{
    if_match, not_modified, resource_response, scim_response, BaseUrl, ListRequest, ResourceId,
    ScimAuth, ScimBody, ScimResult,
};
use crate::state::AppState;

const WRITE: [Permission; 2] = [Permission::GroupsWrite, Permission::UsersWrite];

pub async fn list(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    uri: Uri,
) -> ScimResult<Response> {
    auth.require(&[Permission::GroupsRead])?;
    let request = ListRequest::from_query(&uri)?;
    answer_list(&auth, &state, &base, request).await
}

pub async fn search(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    auth.require(&[Permission::GroupsRead])?;
    let request = ListRequest::from_search(&body)?;
    answer_list(&auth, &state, &base, request).await
}

async fn answer_list(
    auth: &ScimAuth,
    state: &AppState,
    base: &str,
    request: ListRequest,
) -> ScimResult<Response> {
    // Entra ID lists groups with `excludedAttributes=members`: then none are read.
    let with_members = request.shows("members");
    let page = state
        .store
        .scim_list_groups(&auth.0, &request.query(with_members))
        .await?;
    let resources = page
        .items
        .iter()
        .map(|g| {
            project(
                group_resource(g, base, with_members),
                schema::GROUP,
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
    auth.require(&WRITE)?;
    let write = group_write(&body, true)?;
    let group = state.store.scim_create_group(&auth.0, write).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &group_resource(&group, &base, true),
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
    auth.require(&[Permission::GroupsRead])?;
    let request = ListRequest::from_query(&uri)?;
    let group = state
        .store
        .scim_get_group(&auth.0, &GroupId::from_raw(id))
        .await?;
    if not_modified(&headers, &group.version) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let resource = project(
        group_resource(&group, &base, true),
        schema::GROUP,
        &request.attributes,
        &request.excluded,
    );
    let mut response = resource_response(StatusCode::OK, &resource);
    if let Ok(tag) = group.version.parse() {
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
    auth.require(&WRITE)?;
    let if_match = if_match(&headers)?;
    let write = group_write(&body, true)?;
    let group = state
        .store
        .scim_edit_group(
            &auth.0,
            &GroupId::from_raw(id),
            if_match.as_deref(),
            Box::new(move |_| Ok(write)),
        )
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        &group_resource(&group, &base, true),
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
    auth.require(&WRITE)?;
    let if_match = if_match(&headers)?;
    let operations = patch::operations(&body)?;
    let patch_base = base.clone();
    let group = state
        .store
        .scim_edit_group(
            &auth.0,
            &GroupId::from_raw(id),
            if_match.as_deref(),
            Box::new(move |current| {
                let mut doc = group_patch_base(current, &patch_base);
                patch::apply(&mut doc, GROUP_SCHEMAS, &operations)?;
                group_write(&Value::Object(doc), false)
            }),
        )
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        &group_resource(&group, &base, true),
    ))
}

pub async fn delete(
    auth: ScimAuth,
    State(state): State<AppState>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> ScimResult<Response> {
    auth.require(&WRITE)?;
    let if_match = if_match(&headers)?;
    state
        .store
        .scim_delete_group(&auth.0, &GroupId::from_raw(id), if_match.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
