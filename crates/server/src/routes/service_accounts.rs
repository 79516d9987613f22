//! `/v1/organization/projects/{project_id}/service_accounts…`: a project's service accounts and
//! the API key each is created with.

use axum::extract::State;
use axum::Json;
use orgadmin_api::requests::{ServiceAccountCreateRequest, ServiceAccountUpdateRequest};
use orgadmin_api::responses::{
    Deleted, ServiceAccount, ServiceAccountApiKey, ServiceAccountCreated, ServiceAccountList,
};
use orgadmin_core::id::{ProjectId, ServiceAccountId};
use orgadmin_core::model::{
    NewProjectApiKey, NewServiceAccount, ServiceAccountChange, ServiceAccountRole,
};
use orgadmin_core::secret::{
    generate_service_account_key, hash_secret, redact_service_account_key,
};

use super::required;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;
use orgadmin_core::DomainError;

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/service_accounts", tag = "Projects",
    params(("project_id" = String, Path), ("limit" = Option<i64>, Query), ("after" = Option<String>, Query)),
    responses((status = 200, body = ServiceAccountList)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    q: Query,
) -> ApiResult<Json<ServiceAccountList>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, false)
        .await?;
    let page = q.id_page()?;
    Ok(Json(
        s.store
            .list_service_accounts(&auth.0.org_id, &project_id, &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/service_accounts", tag = "Projects",
    params(("project_id" = String, Path)), request_body = ServiceAccountCreateRequest,
    responses((status = 200, body = ServiceAccountCreated)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<String>,
    JsonBody(body): JsonBody<ServiceAccountCreateRequest>,
) -> ApiResult<Json<ServiceAccountCreated>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    let name = orgadmin_core::text::name(required(&body.name, "name")?, "name")?;
    let account_only = body.create_service_account_only.unwrap_or(false);
    if account_only && body.expires_in_seconds.is_some() {
        return Err(DomainError::invalid(
            "expires_in_seconds",
            "expires_in_seconds cannot be given with create_service_account_only, which creates no API key.",
        ).into());
    }
    orgadmin_core::model::KeyLifetime::check(body.expires_in_seconds)?;
    // The secret is made here and shown once, in this answer; the store keeps only its hash.
    let secret = (!account_only).then(generate_service_account_key);
    let new = NewServiceAccount {
        name,
        api_key: secret.as_ref().map(|secret| NewProjectApiKey {
            secret_hash: hash_secret(secret),
            redacted_value: redact_service_account_key(secret),
            expires_in_seconds: body.expires_in_seconds,
        }),
    };
    let (account, key) = s
        .store
        .create_service_account(auth.actor(), &project_id, new)
        .await?;
    let api_key = key
        .zip(secret)
        .map(|(key, secret)| ServiceAccountApiKey::new(&key, secret));
    Ok(Json(ServiceAccountCreated::new(&account, api_key)))
}

#[utoipa::path(get, path = "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}", tag = "Projects",
    params(("project_id" = String, Path), ("service_account_id" = String, Path)),
    responses((status = 200, body = ServiceAccount)))]
pub async fn retrieve(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, account_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<ServiceAccount>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, false)
        .await?;
    let account = s
        .store
        .get_service_account(
            &auth.0.org_id,
            &project_id,
            &ServiceAccountId::from_raw(account_id),
        )
        .await?;
    Ok(Json((&account).into()))
}

#[utoipa::path(post, path = "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}", tag = "Projects",
    params(("project_id" = String, Path), ("service_account_id" = String, Path)),
    request_body = ServiceAccountUpdateRequest, responses((status = 200, body = ServiceAccount)))]
pub async fn modify(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, account_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<ServiceAccountUpdateRequest>,
) -> ApiResult<Json<ServiceAccount>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    let change = ServiceAccountChange {
        name: body
            .name
            .as_deref()
            .map(|n| orgadmin_core::text::name(n, "name"))
            .transpose()?,
        role: body
            .role
            .as_deref()
            .map(|r| ServiceAccountRole::parse(r, "role"))
            .transpose()?,
    };
    let account = s
        .store
        .update_service_account(
            auth.actor(),
            &project_id,
            &ServiceAccountId::from_raw(account_id),
            change,
        )
        .await?;
    Ok(Json((&account).into()))
}

#[utoipa::path(delete, path = "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}", tag = "Projects",
    params(("project_id" = String, Path), ("service_account_id" = String, Path)),
    responses((status = 200, body = Deleted)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    ApiPath((project_id, account_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    let project_id = ProjectId::from_raw(project_id);
    auth.require_project_principals(&s.store, &project_id, true)
        .await?;
    s.store
        .delete_service_account(
            auth.actor(),
            &project_id,
            &ServiceAccountId::from_raw(account_id.clone()),
        )
        .await?;
    Ok(Json(Deleted::new(
        "organization.project.service_account.deleted",
        account_id,
    )))
}
