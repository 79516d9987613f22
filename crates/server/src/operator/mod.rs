//! The operator API (`/_orgadmin/…`): what a test harness or an operator uses to manage the
//! server's organizations. It is not the Admin API, so it lives outside `/v1`, answers to the
//! server's operator key alone (`key.rs`), and refuses admin keys, as `/v1` refuses the operator
//! key. Its answers use the Admin API's error envelope and list envelope; its shapes are in
//! `orgadmin_api::operator`.

mod clock;
pub mod faults;
pub mod journal;
pub mod key;
pub(crate) mod organizations;
pub(crate) mod snapshot;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use orgadmin_core::id::OrgId;
use orgadmin_core::model::Organization;
use orgadmin_core::secret::ADMIN_KEY_PREFIX;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{bearer_token, Bearer};
use crate::error::{ApiError, Code};
use crate::extract::ApiPath;
use crate::state::AppState;

/// The OpenAPI tag of every operator route.
pub const TAG: &str = "operator";

/// The operator API's routes, merged into the route table.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(organizations::create, organizations::list))
        .routes(routes!(organizations::retrieve, organizations::delete))
        .routes(routes!(organizations::reset))
        .routes(routes!(snapshot::retrieve, snapshot::restore))
        .routes(routes!(faults::list, faults::create, faults::clear))
        .routes(routes!(journal::list, journal::clear))
        .routes(routes!(clock::retrieve, clock::update))
}

/// A request made with the server's operator key to a route of one organization
/// (`/_orgadmin/organizations/{org_id}/…`), which exists: the extractor of every such route,
/// so none acts on an unknown organization. The key is checked first (401), then the
/// organization (404 `not_found`, param `org_id`). The organization may still go before the
/// handler's own store call, which then answers the same 404 itself.
pub struct OperatorOrg(pub Organization);

impl OperatorOrg {
    pub fn id(&self) -> &OrgId {
        &self.0.id
    }
}

impl FromRequestParts<AppState> for OperatorOrg {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Operator::from_request_parts(parts, state).await?;
        let ApiPath(org_id) = ApiPath::<String>::from_request_parts(parts, state).await?;
        let org = state
            .store
            .get_organization(&OrgId::from_raw(org_id))
            .await?;
        Ok(OperatorOrg(org))
    }
}

/// A request made with the server's operator key: the extractor of the operator routes that
/// name no organization ([`OperatorOrg`] for those that do).
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let refused = |message: &str| ApiError::new(Code::InvalidApiKey, None, message);
        match bearer_token(parts) {
            Bearer::Missing => Err(ApiError::new(
                Code::MissingApiKey,
                None,
                "You didn't provide the operator key. Send the server's operator key in the Authorization header using Bearer auth (Authorization: Bearer sk-operator-…).",
            )),
            Bearer::Token(token) if state.operator.accepts(token) => Ok(Operator),
            Bearer::Token(token) if token.starts_with(ADMIN_KEY_PREFIX) => Err(refused(
                "An admin API key does not open the operator API. Send the server's operator key (sk-operator-…, from --operator-key, ORGADMIN_OPERATOR_KEY or the operator-key file beside the database).",
            )),
            Bearer::Token(_) | Bearer::Malformed => Err(refused(
                "Incorrect operator key provided. Send the server's operator key (sk-operator-…, from --operator-key, ORGADMIN_OPERATOR_KEY or the operator-key file beside the database).",
            )),
        }
    }
}
