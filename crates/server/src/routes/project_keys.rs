//! `/v1/organization/projects/{project_id}/api_keys…`: a project's API keys, owned by project
//! members and service accounts; `…/service_accounts/{service_account_id}/api_keys`, another key
//! of a service account. Governed by `api.organization.projects.api_keys.read|write`, held in the
//! organization or in the project.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{
    ProjectKeyCreateRequest, ProjectKeyUpdateRequest, ServiceAccountKeyCreateRequest,
};
use orgadmin_api::responses::{
    Deleted, ProjectKey, ProjectKeyCreated, ProjectKeyList, ServiceAccountApiKey,
};
use orgadmin_core::id::{ProjectApiKeyId, ProjectId, ServiceAccountId, UserId};
use orgadmin_core::model::{
    KeyLifetime, NewProjectApiKey, NewProjectKey, OwnerAccess, ProjectKeyChange,
    ProjectKeyOwnerRef, SERVICE_ACCOUNT_KEY_NAME,
};
use orgadmin_core::permission::PermissionScope;
use orgadmin_core::secret::{
    generate_project_key, generate_service_account_key, hash_secret, redact_project_key,
    redact_service_account_key,
};
use orgadmin_core::{DomainError, PermissionSet};

use super::required;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;

/// A project key's scopes: project permissions (and the API key permissions, which fit both
/// scopes). Omitted or `[]`: every permission of the owner (`None`).
fn scopes(names: Option<&[String]>) -> ApiResult<Option<PermissionSet>> {
    let Some(names) = names.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let set = PermissionSet::parse_names(names, "scopes")?;
    if let Some(wrong) = set.iter().find(|p| !p.fits(PermissionScope::Project)) {
        return Err(DomainError::invalid(
            "scopes",
            format!(
                "'{wrong}' is an organization permission; a project API key's scopes are project permissions (api.project.*, api.model.request, …)."
            ),
        )
        .into());
    }
    Ok(Some(set))
}

/// A key's lifetime, `expires_in_seconds`: 1 s to a year, or none (no expiry).
fn lifetime(seconds: Option<i64>) -> ApiResult<Option<i64>> {
    Ok(KeyLifetime::check(seconds)?)
}

/// A field of the update: absent leaves it unchanged (`None`); `null`, which the SDK never
/// sends, is refused; a value is the change.
fn changed<T>(field: Option<Option<T>>, param: &str, what: &str) -> ApiResult<Option<T>> {
    match field {
        None => Ok(None),
        Some(None) => Err(DomainError::invalid(
            param,
            format!("{param} cannot be null; omit it to leave the key's {what} unchanged."),
        )
        .into()),
        Some(Some(value)) => Ok(Some(value)),
    }
}

/// A new key of `owner`: its lifetime and scopes checked (in that order), its secret kept only
/// as a hash and its redacted form.
fn new_key(
    owner: ProjectKeyOwnerRef,
    name: String,
    scope_names: Option<&[String]>,
    expires_in_seconds: Option<i64>,
    secret: &str,
    redacted_value: String,
) -> ApiResult<NewProjectKey> {
    let expires_in_seconds = lifetime(expires_in_seconds)?;
    let scopes = scopes(scope_names)?;
    Ok(NewProjectKey {
        owner,
        name,
        secret: NewProjectApiKey {
            secret_hash: hash_secret(secret),
            redacted_value,
            expires_in_seconds,
        },
        scopes,
    })
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/api_keys", tag = "Projects",
    params(("project_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query),
        ("owner_project_access" = Option<String>, Query, description = "`active` (the default), `inactive` or `any`")),
    responses((status = 200, body = ProjectKeyList)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<ProjectKeyList>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_keys(&s.store, &project_id, false)
        .await?;
    let access = q
        .one("owner_project_access")?
        .map(|raw| OwnerAccess::parse(raw, "owner_project_access"))
        .transpose()?
        .unwrap_or_default();
    let page = q.id_page()?;
    Ok(Json(
        s.store
            .list_project_keys(&auth.0.org_id, &project_id, access, &page)
            .await?
            .into(),
    ))
}

/// orgadmin extension: a key owned by a project member, its secret shown this once.
#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/api_keys", tag = "orgadmin",
    params(("project_id" = String, Path)), request_body = ProjectKeyCreateRequest,
    responses((status = 200, body = ProjectKeyCreated)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<ProjectKeyCreateRequest>,
) -> ApiResult<Json<ProjectKeyCreated>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_keys(&s.store, &project_id, true)
        .await?;
    let name = orgadmin_core::text::name(required(&body.name, "name")?, "name")?;
    let user = required(&body.user_id, "user_id")?;
    orgadmin_core::text::check(user, "user_id", 128)?;
    // The secret is made here and shown once, in this answer; the store keeps only its hash.
    let secret = generate_project_key();
    let new = new_key(
        ProjectKeyOwnerRef::User(UserId::from_raw(user)),
        name,
        body.scopes.as_deref(),
        body.expires_in_seconds,
        &secret,
        redact_project_key(&secret),
    )?;
    let key = s
        .store
        .create_project_key(auth.actor(), &project_id, new)
        .await?;
    Ok(Json(ProjectKeyCreated {
        key: (&key).into(),
        value: secret,
    }))
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/api_keys/{api_key_id}", tag = "Projects",
    params(("project_id" = String, Path), ("api_key_id" = String, Path)),
    responses((status = 200, body = ProjectKey)))]
pub async fn retrieve(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, key_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProjectKey>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_keys(&s.store, &project_id, false)
        .await?;
    let key = s
        .store
        .get_project_key(
            &auth.0.org_id,
            &project_id,
            &ProjectApiKeyId::from_raw(key_id),
        )
        .await?;
    Ok(Json((&key).into()))
}

/// The official SDK's update (`client.admin.organization.projects.api_keys.update`), which the
/// published OpenAPI document lacks: new scopes and/or a new expiry, at least one, neither `null`.
#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/api_keys/{api_key_id}", tag = "Projects",
    params(("project_id" = String, Path), ("api_key_id" = String, Path)),
    request_body = ProjectKeyUpdateRequest, responses((status = 200, body = ProjectKey)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, key_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<ProjectKeyUpdateRequest>,
) -> ApiResult<Json<ProjectKey>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_keys(&s.store, &project_id, true)
        .await?;
    let scopes = changed(body.scopes, "scopes", "scopes")?
        .map(|names| scopes(Some(names.as_slice())))
        .transpose()?;
    let expires_in_seconds = lifetime(changed(
        body.expires_in_seconds,
        "expires_in_seconds",
        "expiry",
    )?)?;
    let change = ProjectKeyChange {
        scopes,
        expires_in_seconds,
    };
    if change.scopes.is_none() && change.expires_in_seconds.is_none() {
        return Err(DomainError::missing_one_of(
            "scopes",
            "Give scopes, expires_in_seconds or both: an update needs at least one.",
        )
        .into());
    }
    let key = s
        .store
        .update_project_key(
            auth.actor(),
            &project_id,
            &ProjectApiKeyId::from_raw(key_id),
            change,
        )
        .await?;
    Ok(Json((&key).into()))
}

#[utoipa::path(delete, path = "/v1/organization/projects/{project_id}/api_keys/{api_key_id}", tag = "Projects",
    params(("project_id" = String, Path), ("api_key_id" = String, Path)),
    responses((status = 200, body = Deleted)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, key_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_keys(&s.store, &project_id, true)
        .await?;
    s.store
        .delete_project_key(
            auth.actor(),
            &project_id,
            &ProjectApiKeyId::from_raw(key_id.clone()),
        )
        .await?;
    Ok(Json(Deleted::new(
        "organization.project.api_key.deleted",
        key_id,
    )))
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys", tag = "Projects",
    params(("project_id" = String, Path), ("service_account_id" = String, Path)),
    request_body = ServiceAccountKeyCreateRequest, responses((status = 200, body = ServiceAccountApiKey)))]
pub async fn create_for_service_account(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, account_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<ServiceAccountKeyCreateRequest>,
) -> ApiResult<Json<ServiceAccountApiKey>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_keys(&s.store, &project_id, true)
        .await?;
    let name = match &body.name {
        Some(name) => orgadmin_core::text::name(name, "name")?,
        None => SERVICE_ACCOUNT_KEY_NAME.to_owned(),
    };
    let secret = generate_service_account_key();
    let new = new_key(
        ProjectKeyOwnerRef::ServiceAccount(ServiceAccountId::from_raw(account_id)),
        name,
        body.scopes.as_deref(),
        body.expires_in_seconds,
        &secret,
        redact_service_account_key(&secret),
    )?;
    let key = s
        .store
        .create_project_key(auth.actor(), &project_id, new)
        .await?;
    Ok(Json(ServiceAccountApiKey::from_key(&key, secret)))
}
