//! `POST /scim/v2/.search` (RFC 7644 §3.4.3): one search over users and groups, users first,
//! each resource type the filter can be asked of (a filter naming `members` asks groups only;
//! one naming `userName` users only). A key without `api.groups.read` searches users alone.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use orgadmin_api::scim::document::scim_type;
use orgadmin_api::scim::{group_resource, list_response, project, schema, user_resource};
use orgadmin_core::scim::fields::{self, GroupField, UserField};
use orgadmin_core::Permission;

use super::{scim_response, BaseUrl, ListRequest, ScimApiError, ScimAuth, ScimBody, ScimResult};
use crate::state::AppState;

pub async fn root(
    auth: ScimAuth,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    auth.require(&[Permission::UsersRead])?;
    let request = ListRequest::from_search(&body)?;
    let groups_readable = auth.0.permissions.contains(Permission::GroupsRead);
    let (users_fit, groups_fit) = match &request.filter {
        None => (Ok(()), Ok(())),
        Some(f) => (
            fields::resolve::<UserField>(f).map(drop),
            fields::resolve::<GroupField>(f).map(drop),
        ),
    };
    let groups_fit = if groups_readable {
        groups_fit
    } else {
        Err(String::new())
    };
    if let (Err(why), Err(_)) = (&users_fit, &groups_fit) {
        return Err(ScimApiError::new(
            StatusCode::BAD_REQUEST,
            Some(scim_type::INVALID_FILTER),
            why.clone(),
        ));
    }
    // The window over users then groups: each type is asked its count, and for the part of
    // the window that falls in it.
    let mut resources = Vec::new();
    let mut total = 0;
    let mut start = request.start_index;
    let mut wanted = request.count;
    if users_fit.is_ok() {
        let mut query = request.query(false);
        query.start_index = start;
        query.count = wanted;
        let page = state.store.scim_list_users(&auth.0, &query).await?;
        total += page.total;
        wanted -= page.items.len() as u64;
        start = start.saturating_sub(page.total).max(1);
        resources.extend(page.items.iter().map(|u| {
            project(
                user_resource(u, &base),
                schema::USER,
                &request.attributes,
                &request.excluded,
            )
        }));
    }
    if groups_fit.is_ok() {
        let with_members = request.shows("members");
        let mut query = request.query(with_members);
        query.start_index = start;
        query.count = wanted;
        let page = state.store.scim_list_groups(&auth.0, &query).await?;
        total += page.total;
        resources.extend(page.items.iter().map(|g| {
            project(
                group_resource(g, &base, with_members),
                schema::GROUP,
                &request.attributes,
                &request.excluded,
            )
        }));
    }
    Ok(scim_response(
        StatusCode::OK,
        &list_response(total, request.start_index, resources),
    ))
}
