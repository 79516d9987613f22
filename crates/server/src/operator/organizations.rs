//! `/_orgadmin/organizations…`: the server's organizations, each with its owner, default
//! project and first admin key: create, list, retrieve, delete and reset.

use axum::extract::State;
use axum::Json;
use orgadmin_api::operator::{
    CreatedOrganization, Organization, OrganizationCreateRequest, OrganizationList,
    OrganizationSnapshot, RekeyedKey,
};
use orgadmin_api::responses::{AdminKey, Deleted, Project, User};
use orgadmin_core::id::OrgId;
use orgadmin_core::secret::{
    generate_admin_key, is_acceptable_supplied_key, ADMIN_KEY_PREFIX, MIN_SUPPLIED_LEN,
};
use orgadmin_core::snapshot::RestoredOrganization;
use orgadmin_core::store::{BootstrapRequest, Bootstrapped};
use orgadmin_core::{text, DomainError, Email, ReadAt, Store};

use super::{snapshot, Operator, TAG};
use crate::error::ApiResult;
use crate::extract::{ApiPath, JsonBody, Query};
use crate::state::AppState;

/// The name an organization gets when the request names none.
pub const DEFAULT_NAME: &str = "Default Organization";
/// The owner an organization gets when the request names none.
pub const DEFAULT_OWNER_EMAIL: &str = "owner@example.com";
const DEFAULT_OWNER_NAME: &str = "Owner";

#[utoipa::path(post, path = "/_orgadmin/organizations", tag = TAG, security(("OperatorKeyAuth" = [])),
    request_body = OrganizationCreateRequest,
    responses((status = 200, body = CreatedOrganization)))]
pub async fn create(
    State(s): State<AppState>,
    _: Operator,
    JsonBody(mut body): JsonBody<OrganizationCreateRequest>,
) -> ApiResult<Json<CreatedOrganization>> {
    if let Some(taken) = body.snapshot.take() {
        return Ok(Json(restore_as_new(&*s.store, &body, taken).await?));
    }
    let request = creation(body)?;
    let secret = request.admin_key_secret.clone();
    let created = s.store.create_organization(request).await?;
    Ok(Json(describe(&created, Some(secret))))
}

#[utoipa::path(get, path = "/_orgadmin/organizations", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("limit" = Option<i64>, Query), ("after" = Option<String>, Query), ("before" = Option<String>, Query)),
    responses((status = 200, body = OrganizationList)))]
pub async fn list(
    State(s): State<AppState>,
    _: Operator,
    q: Query,
) -> ApiResult<Json<OrganizationList>> {
    let page = q.two_way_id_page()?;
    Ok(Json(s.store.list_organizations(&page).await?.into()))
}

#[utoipa::path(get, path = "/_orgadmin/organizations/{org_id}", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = Organization)))]
pub async fn retrieve(
    State(s): State<AppState>,
    _: Operator,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<Organization>> {
    let org = s.store.get_organization(&OrgId::from_raw(org_id)).await?;
    Ok(Json(Organization::from(&org)))
}

/// Everything in the organization goes, in one transaction; its keys open nothing from then on.
#[utoipa::path(delete, path = "/_orgadmin/organizations/{org_id}", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = Deleted)))]
pub async fn delete(
    State(s): State<AppState>,
    _: Operator,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    let org = OrgId::from_raw(org_id.clone());
    s.store.delete_organization(&org).await?;
    forget_operator_state(&s, &org);
    Ok(Json(Deleted::new("organization.deleted", org_id)))
}

/// Back to the state right after creation: the same owner, default project and first admin key
/// (which keeps working), and nothing else. Answers what create answered, without the key's
/// `value`.
#[utoipa::path(post, path = "/_orgadmin/organizations/{org_id}/reset", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = CreatedOrganization)))]
pub async fn reset(
    State(s): State<AppState>,
    _: Operator,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<CreatedOrganization>> {
    let org = OrgId::from_raw(org_id);
    let made = s.store.reset_organization(&org).await?;
    forget_operator_state(&s, &org);
    Ok(Json(describe(&made, None)))
}

/// What this server holds of an organization besides its data, its faults and request
/// journal, gone with a delete or a reset (other replicas keep theirs until they are cleared
/// there: they are process memory).
fn forget_operator_state(s: &AppState, org: &OrgId) {
    s.faults.clear(org);
    s.journal.clear(org);
}

/// `{"snapshot": …}` alone: the snapshot restored as a new organization, answered as a creation
/// is, with every re-keyed key's new secret in `api_keys`.
async fn restore_as_new(
    store: &dyn Store,
    body: &OrganizationCreateRequest,
    taken: OrganizationSnapshot,
) -> Result<CreatedOrganization, DomainError> {
    let others = [
        ("name", body.name.is_some()),
        ("owner_email", body.owner_email.is_some()),
        ("owner_name", body.owner_name.is_some()),
        ("admin_key", body.admin_key.is_some()),
    ];
    if let Some((field, _)) = others.iter().find(|(_, given)| *given) {
        return Err(DomainError::invalid(
            *field,
            format!("{field} does not go with snapshot: a snapshot restores the organization whole, with its own members and keys."),
        ));
    }
    let restored = store
        .restore_organization_as_new(snapshot::domain(taken, "snapshot.")?)
        .await
        .map_err(|e| snapshot::within("snapshot.", e))?;
    let secret = restored
        .rekeyed
        .iter()
        .find(|key| key.id == restored.admin_key_id.as_str())
        .map(|key| key.secret.clone())
        .ok_or_else(|| DomainError::internal("the restored admin key was not re-keyed"))?;
    let created = read_back(store, &restored).await?;
    let mut answer = describe(&created, Some(secret));
    answer.api_keys = Some(
        restored
            .rekeyed
            .into_iter()
            .map(|key| RekeyedKey {
                id: key.id,
                value: key.secret,
            })
            .collect(),
    );
    Ok(answer)
}

/// The store's request from the body, every field checked and its default filled in.
fn creation(body: OrganizationCreateRequest) -> Result<BootstrapRequest, DomainError> {
    let organization_name = match body.name.as_deref() {
        Some(name) => text::name(name, "name")?,
        None => DEFAULT_NAME.to_owned(),
    };
    let owner_email = Email::parse(
        body.owner_email.as_deref().unwrap_or(DEFAULT_OWNER_EMAIL),
        "owner_email",
    )?;
    let owner_name = match body.owner_name.as_deref() {
        Some(name) => text::name(name, "owner_name")?,
        None => DEFAULT_OWNER_NAME.to_owned(),
    };
    let admin_key_secret = match body.admin_key {
        Some(key) if is_acceptable_supplied_key(&key) => key,
        Some(_) => {
            return Err(DomainError::invalid(
                "admin_key",
                format!("admin_key must be '{ADMIN_KEY_PREFIX}' followed by at least {MIN_SUPPLIED_LEN} letters, digits, '-' or '_'."),
            ))
        }
        None => generate_admin_key(),
    };
    Ok(BootstrapRequest {
        organization_name,
        owner_email,
        owner_name: Some(owner_name),
        admin_key_secret,
    })
}

/// What creation (or a reset) made, as the API shows it, the admin key with its secret when
/// known.
fn describe(created: &Bootstrapped, secret: Option<String>) -> CreatedOrganization {
    let mut admin_key = AdminKey::from(&created.admin_key);
    admin_key.value = secret;
    CreatedOrganization {
        organization: Organization::from(&created.organization),
        owner: User::from(&created.owner),
        default_project: Project::from(&created.default_project),
        admin_key,
        api_keys: None,
    }
}

/// A restored organization's owner, default project and admin key, read after the restore
/// committed (a restore writes them from the snapshot, so the store does not hand them back).
async fn read_back(
    store: &dyn Store,
    restored: &RestoredOrganization,
) -> Result<Bootstrapped, DomainError> {
    let org = &restored.org_id;
    Ok(Bootstrapped {
        organization: store.get_organization(org).await?,
        owner: store
            .get_user(ReadAt::latest(org), &restored.owner_id)
            .await?,
        default_project: store.get_project(org, &restored.default_project_id).await?,
        admin_key: store.get_admin_key(org, &restored.admin_key_id).await?,
    })
}
