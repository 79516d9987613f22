//! Authentication by bearer admin key and authorization by effective permissions (SPEC §6).

use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use orgadmin_core::error::KeyRejection;
use orgadmin_core::id::ProjectId;
use orgadmin_core::secret::{hash_secret, ADMIN_KEY_PREFIX, OPERATOR_KEY_PREFIX};
use orgadmin_core::{Actor, DomainError, Permission, Store};

use crate::error::{ApiError, Code};
use crate::metrics;
use crate::operator::journal::Capture;
use crate::rate_limit;
use crate::state::AppState;

/// Longest bearer token worth hashing; anything longer cannot be a key.
const MAX_KEY_LEN: usize = 256;

/// What a request's `Authorization` header holds.
pub(crate) enum Bearer<'a> {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>`, or a token too long to be any key.
    Malformed,
    Token(&'a str),
}

/// The bearer token of a request, as both the Admin API and the operator API read it.
pub(crate) fn bearer_token(parts: &Parts) -> Bearer<'_> {
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Bearer::Missing;
    };
    let Ok(value) = header.to_str() else {
        return Bearer::Malformed;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && token.trim().len() <= MAX_KEY_LEN =>
        {
            Bearer::Token(token.trim())
        }
        _ => Bearer::Malformed,
    }
}

/// The authenticated caller of a `/v1` route.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    /// The API's error, or the answer of an operator's fault (`operator/faults.rs`).
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        admit(parts, state)
            .await
            .map(Auth)
            .map_err(|refusal| match refusal {
                Refusal::Api(e) => e.into_response(),
                Refusal::Answer(answer) => answer,
            })
    }
}

/// Why a request was not admitted: an error (in whatever envelope the caller's API speaks), or
/// the answer of an operator's fault, sent as it is.
pub(crate) enum Refusal {
    Api(ApiError),
    Answer(Response),
}

/// Authenticate; then, before the handler does anything, attribute the request to its
/// organization for the journal, apply an operator's fault, and count it against the key's rate
/// limit. The one admission of an admin key, for `/v1` ([`Auth`]) and `/scim/v2` alike.
pub(crate) async fn admit(parts: &mut Parts, state: &AppState) -> Result<Actor, Refusal> {
    let actor = authenticate(parts, state).await.map_err(Refusal::Api)?;
    tracing::Span::current().record("org.id", actor.org_id.as_str());
    tracing::Span::current().record("key.id", actor.key_id.as_str());
    if let Some(capture) = parts.extensions.get::<Arc<Capture>>() {
        capture.attribute(&actor.org_id, &actor.key_id);
    }
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    if let Some(firing) = state
        .faults
        .fire(&actor.org_id, &parts.method, route, parts.uri.path())
    {
        if let Some(latency) = firing.latency {
            tokio::time::sleep(latency).await;
        }
        if let Some(answer) = firing.answer {
            return Err(Refusal::Answer(answer));
        }
    }
    if let Some(limit) = parts.extensions.get::<rate_limit::Slot>() {
        let path = route.unwrap_or_else(|| parts.uri.path());
        limit
            .check(&actor.key_id, &parts.method, path)
            .map_err(|refusal| {
                state.metrics.http().rate_limit_refused(
                    metrics::method_label(&parts.method),
                    route.map_or(orgadmin_metrics::UNMATCHED_ROUTE, orgadmin_metrics::route),
                );
                Refusal::Api(refusal)
            })?;
    }
    Ok(actor)
}

/// The admin key of the request, authenticated against the store.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Actor, ApiError> {
    let invalid = || ApiError::from(DomainError::Unauthenticated(KeyRejection::Invalid));
    let token = match bearer_token(parts) {
        Bearer::Missing => return Err(DomainError::Unauthenticated(KeyRejection::Missing).into()),
        Bearer::Malformed => return Err(invalid()),
        Bearer::Token(token) => token,
    };
    if token.starts_with(OPERATOR_KEY_PREFIX) {
        return Err(ApiError::new(
            Code::InvalidApiKey,
            None,
            "An operator key opens only the operator API (/_orgadmin/…). Send an admin API key (sk-admin-…) to the Admin API.",
        ));
    }
    if !token.starts_with(ADMIN_KEY_PREFIX) {
        return Err(invalid());
    }
    state
        .store
        .authenticate(&hash_secret(token))
        .await?
        .ok_or_else(invalid)
}

impl Auth {
    pub fn actor(&self) -> &Actor {
        &self.0
    }

    /// Require an organization permission.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.0.permissions.contains(permission) {
            Ok(())
        } else {
            Err(DomainError::forbidden(permission, None).into())
        }
    }

    /// Require, on a project route, the organization permission or the matching project
    /// permission held in that project.
    pub async fn require_in_project(
        &self,
        store: &Arc<dyn Store>,
        project: &ProjectId,
        org_permission: Permission,
        project_permission: Permission,
    ) -> Result<(), ApiError> {
        if self.0.permissions.contains(org_permission) {
            return Ok(());
        }
        let held = store
            .project_permissions(self.0.read_at(), project, &self.0.user_id)
            .await?;
        let held = self.0.limit(held);
        if held.contains(project_permission) {
            // A write re-checks this at commit time (`begin_for` in the store).
            self.0.authorized_in_project(project, held);
            return Ok(());
        }
        Err(
            DomainError::forbidden(org_permission, Some((project_permission, project.as_str())))
                .into(),
        )
    }

    /// Require the right to read or change a project's principals — its members, groups and
    /// service accounts, and their roles: `api.organization.projects.users.read|write`, or
    /// `api.project.users.read|write` held in the project.
    pub async fn require_project_principals(
        &self,
        store: &Arc<dyn Store>,
        project: &ProjectId,
        write: bool,
    ) -> Result<(), ApiError> {
        let (org, in_project) = if write {
            (
                Permission::ProjectUsersWrite,
                Permission::ProjectUsersWriteInProject,
            )
        } else {
            (
                Permission::ProjectUsersRead,
                Permission::ProjectUsersReadInProject,
            )
        };
        self.require_in_project(store, project, org, in_project)
            .await
    }

    /// Require the right to read or change a project's API keys:
    /// `api.organization.projects.api_keys.read|write`, held in the organization or in the
    /// project (one name in both scopes).
    pub async fn require_project_keys(
        &self,
        store: &Arc<dyn Store>,
        project: &ProjectId,
        write: bool,
    ) -> Result<(), ApiError> {
        let permission = if write {
            Permission::ProjectApiKeysWrite
        } else {
            Permission::ProjectApiKeysRead
        };
        self.require_in_project(store, project, permission, permission)
            .await
    }
}
