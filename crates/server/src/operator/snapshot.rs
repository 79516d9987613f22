//! `/_orgadmin/organizations/{org_id}/snapshot`: the organization as one document, and restoring
//! one in place. Restoring as a new organization is `POST /_orgadmin/organizations` with
//! `snapshot` (`organizations.rs`). The store checks a snapshot against its schema
//! (`store/src/ops/snapshot.rs`); this module checks what only the document says (`object`,
//! the organization's name).

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use orgadmin_api::operator::{Organization, OrganizationSnapshot, SNAPSHOT_OBJECT};
use orgadmin_core::id::OrgId;
use orgadmin_core::model;
use orgadmin_core::snapshot;
use orgadmin_core::{text, DomainError};

use super::{OperatorOrg, TAG};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::state::AppState;

/// Largest snapshot a restore takes (in place, or as a new organization): 64 MiB, as the
/// import's body, some 100,000 rows of a usual audit log. Read whole before it is checked (a
/// snapshot is one transaction over one document), so the server holds a few times this while
/// it restores one.
pub const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024;

/// Whether a request carries a snapshot (whose body may be up to [`MAX_SNAPSHOT_BYTES`]): the
/// create, which takes one to restore as a new organization, and the restore in place. Read
/// from the raw path, as the limit is known before the request is routed.
pub(crate) fn carries_snapshot(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/_orgadmin/organizations") else {
        return false;
    };
    match *method {
        Method::POST => rest.is_empty(),
        Method::PUT => rest
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix("/snapshot"))
            .is_some_and(|org| !org.is_empty() && !org.contains('/')),
        _ => false,
    }
}

#[utoipa::path(get, path = "/_orgadmin/organizations/{org_id}/snapshot", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = OrganizationSnapshot)))]
pub async fn retrieve(
    State(s): State<AppState>,
    org: OperatorOrg,
) -> ApiResult<Json<OrganizationSnapshot>> {
    let taken = s.store.snapshot_organization(org.id()).await?;
    Ok(Json(OrganizationSnapshot::from(taken)))
}

/// Restore in place: everything in the organization is replaced by the snapshot's rows in one
/// transaction (its ID and clock stay; its name and creation time are the snapshot's), and every
/// server forgets what it remembered of it. A snapshot the schema refuses changes nothing.
#[utoipa::path(put, path = "/_orgadmin/organizations/{org_id}/snapshot", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    request_body(content = OrganizationSnapshot, description = "A snapshot as `GET` answers it, at most 64 MiB."),
    responses((status = 200, body = Organization),
        (status = 413, body = orgadmin_api::ErrorBody, description = "The snapshot is larger than 64 MiB; nothing was written.")))]
pub async fn restore(
    State(s): State<AppState>,
    org: OperatorOrg,
    JsonBody(body): JsonBody<OrganizationSnapshot>,
) -> ApiResult<Json<Organization>> {
    let restored = domain(body, "")?;
    s.store.restore_organization(org.id(), restored).await?;
    let organization = s.store.get_organization(org.id()).await?;
    Ok(Json(Organization::from(&organization)))
}

/// The store's snapshot from the document, its `object` and name checked; refusals name their
/// place in the body (`prefix` is where the document sits in it: `snapshot.` in a create).
pub(super) fn domain(
    body: OrganizationSnapshot,
    prefix: &str,
) -> Result<snapshot::OrganizationSnapshot, DomainError> {
    if body.object != SNAPSHOT_OBJECT {
        return Err(DomainError::invalid(
            format!("{prefix}object"),
            format!(
                "A snapshot's object is '{SNAPSHOT_OBJECT}', not '{}'.",
                text::clip(&body.object)
            ),
        ));
    }
    let name = text::name(
        &body.organization.name,
        &format!("{prefix}organization.name"),
    )?;
    Ok(snapshot::OrganizationSnapshot {
        backend: body.backend,
        version: body.version,
        organization: model::Organization {
            id: OrgId::from_raw(body.organization.id),
            name,
            created_at: body.organization.created_at,
        },
        tables: body.tables,
    })
}

/// A store refusal of a snapshot that sits at `prefix` in the body, with its place there.
pub(super) fn within(prefix: &str, e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid {
            param: Some(param),
            message,
            missing,
            remedy,
        } => DomainError::Invalid {
            param: Some(format!("{prefix}{param}")),
            message,
            missing,
            remedy,
        },
        other => other,
    }
}
