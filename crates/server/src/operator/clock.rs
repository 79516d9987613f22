//! `/_orgadmin/organizations/{org_id}/clock`: an organization's clock (`core::clock::OrgClock`),
//! read and moved. Moving it changes nothing else in the organization and no other organization.

use axum::extract::State;
use axum::Json;
use orgadmin_api::operator::{OrganizationClock, OrganizationClockUpdateRequest};
use orgadmin_core::clock::ClockChange;
use orgadmin_core::DomainError;

use super::{OperatorOrg, TAG};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::state::AppState;

/// The fields of a change, one of which a body gives.
const CHANGES: &str = "advance_seconds, now or frozen";

#[utoipa::path(get, path = "/_orgadmin/organizations/{org_id}/clock", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = OrganizationClock)))]
pub async fn retrieve(
    State(s): State<AppState>,
    org: OperatorOrg,
) -> ApiResult<Json<OrganizationClock>> {
    let reading = s.store.get_org_clock(org.id()).await?;
    Ok(Json(OrganizationClock::new(org.id(), &reading)))
}

#[utoipa::path(post, path = "/_orgadmin/organizations/{org_id}/clock", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    request_body = OrganizationClockUpdateRequest,
    responses((status = 200, body = OrganizationClock)))]
pub async fn update(
    State(s): State<AppState>,
    org: OperatorOrg,
    JsonBody(body): JsonBody<OrganizationClockUpdateRequest>,
) -> ApiResult<Json<OrganizationClock>> {
    let change = change_of(body)?;
    let reading = s.store.change_org_clock(org.id(), change).await?;
    Ok(Json(OrganizationClock::new(org.id(), &reading)))
}

/// The one change the body gives: a field that is none of the three, a `null`, a second change
/// or none at all is refused, naming the field where there is one.
fn change_of(body: OrganizationClockUpdateRequest) -> Result<ClockChange, DomainError> {
    if let Some(name) = body.unknown.keys().next() {
        return Err(DomainError::invalid(
            name,
            format!(
                "'{}' is not a clock change; give exactly one of {CHANGES}.",
                orgadmin_core::text::clip(name)
            ),
        ));
    }
    let given = [
        (
            "advance_seconds",
            body.advance_seconds.map(|v| v.map(ClockChange::Advance)),
        ),
        ("now", body.now.map(|v| v.map(ClockChange::SetNow))),
        ("frozen", body.frozen.map(|v| v.map(ClockChange::Frozen))),
    ];
    let mut present = given
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)));
    let Some((name, change)) = present.next() else {
        return Err(DomainError::missing_one_of(
            "advance_seconds",
            format!(
                "The body gives no clock change; give exactly one of {CHANGES}, such as {{\"advance_seconds\": 86400}}."
            ),
        ));
    };
    if let Some((second, _)) = present.next() {
        return Err(DomainError::invalid(
            second,
            format!("The body gives both {name} and {second}; give exactly one of {CHANGES} per request."),
        ));
    }
    change.ok_or_else(|| {
        DomainError::invalid(
            name,
            format!("{name} may not be null; give exactly one of {CHANGES}."),
        )
    })
}
