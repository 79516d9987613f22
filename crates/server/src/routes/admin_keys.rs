//! `/v1/organization/admin_api_keys…`.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::AdminKeyCreateRequest;
use orgadmin_api::responses::{AdminKey, AdminKeyList, Deleted};
use orgadmin_core::id::AdminKeyId;
use orgadmin_core::model::NewAdminKey;
use orgadmin_core::secret::{generate_admin_key, hash_secret, redact};
use orgadmin_core::{Permission, PermissionSet};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;

#[utoipa::path(get, path = "/v1/organization/admin_api_keys", tag = "Admin API keys",
    params(("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, body = AdminKeyList)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    q: Query,
) -> ApiResult<Json<AdminKeyList>> {
    auth.require(Permission::AdminKeysRead)?;
    let page = q.admin_key_page()?;
    Ok(Json(
        s.store.list_admin_keys(&auth.0.org_id, &page).await?.into(),
    ))
}

#[utoipa::path(post, path = "/v1/organization/admin_api_keys", tag = "Admin API keys", request_body = AdminKeyCreateRequest, responses((status = 200, body = AdminKey)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody<AdminKeyCreateRequest>,
) -> ApiResult<Json<AdminKey>> {
    auth.require(Permission::AdminKeysWrite)?;
    let name = body
        .name
        .ok_or_else(|| orgadmin_core::DomainError::missing("name"))?;
    orgadmin_core::text::check(&name, "name", 255)?;
    orgadmin_core::model::KeyLifetime::check(body.expires_in_seconds)?;
    let requested = body
        .scopes
        .as_deref()
        .map(|s| PermissionSet::parse_names(s, "scopes"))
        .transpose()?;
    let secret = generate_admin_key();
    let new = NewAdminKey {
        name: Some(name),
        secret_hash: hash_secret(&secret),
        redacted_value: redact(&secret),
        expires_in_seconds: body.expires_in_seconds,
        // The store gives a scoped key's scopes to an unscoped request, and refuses scopes or an
        // expiry beyond the creating key's (`orgadmin_core::grant`).
        scopes: requested,
    };
    let key = s.store.create_admin_key(auth.actor(), new).await?;
    let mut out = AdminKey::from(&key);
    out.value = Some(secret);
    Ok(Json(out))
}

#[utoipa::path(get, path = "/v1/organization/admin_api_keys/{key_id}", tag = "Admin API keys", params(("key_id" = String, Path)), responses((status = 200, body = AdminKey)))]
pub async fn retrieve(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(key_id): ApiPath<String>,
) -> ApiResult<Json<AdminKey>> {
    auth.require(Permission::AdminKeysRead)?;
    let key = s
        .store
        .get_admin_key(&auth.0.org_id, &AdminKeyId::from_raw(key_id))
        .await?;
    Ok(Json((&key).into()))
}

#[utoipa::path(delete, path = "/v1/organization/admin_api_keys/{key_id}", tag = "Admin API keys", params(("key_id" = String, Path)), responses((status = 200, body = Deleted)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(key_id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    auth.require(Permission::AdminKeysWrite)?;
    s.store
        .delete_admin_key(auth.actor(), &AdminKeyId::from_raw(key_id.clone()))
        .await?;
    Ok(Json(Deleted::new(
        "organization.admin_api_key.deleted",
        key_id,
    )))
}
