//! `/_orgadmin/organizations…`: the server's organizations, each with its owner, default
//! project and first admin key: create, list, retrieve, delete and reset.

use axum::extract::State;
use axum::Json;
use orgadmin_api::operator::{
    CreatedOrganization, Organization, OrganizationCreateRequest, OrganizationList,
    OrganizationSnapshot, RekeyedKey,
};
use orgadmin_api::responses::{AdminKey, Deleted, Project, User};
use orgadmin_core::fixture::{Fixture, FixtureProblem, Seed};
use orgadmin_core::id::OrgId;
use orgadmin_core::secret::{is_acceptable_supplied_key, ADMIN_KEY_PREFIX, MIN_SUPPLIED_LEN};
use orgadmin_core::snapshot::RestoredOrganization;
use orgadmin_core::store::{BootstrapRequest, Bootstrapped};
use orgadmin_core::{text, DomainError, Email, ReadAt, Store};

use super::{snapshot, Operator, OperatorOrg, TAG};
use crate::error::ApiResult;
use crate::extract::{JsonBody, Query};
use crate::state::AppState;

#[utoipa::path(post, path = "/_orgadmin/organizations", tag = TAG, security(("OperatorKeyAuth" = [])),
    request_body(content = OrganizationCreateRequest, description = "The organization to create, or `snapshot` alone to restore one as a new organization; at most 64 MiB."),
    responses((status = 200, body = CreatedOrganization),
        (status = 413, body = orgadmin_api::ErrorBody, description = "The body is larger than 64 MiB; nothing was written.")))]
pub async fn create(
    State(s): State<AppState>,
    _: Operator,
    JsonBody(mut body): JsonBody<OrganizationCreateRequest>,
) -> ApiResult<Json<CreatedOrganization>> {
    if let Some(taken) = body.snapshot.take() {
        return Ok(Json(restore_as_new(&*s.store, &body, taken).await?));
    }
    let request = creation(body, s.clock.now_millis())?;
    let secret = request.admin_key_secret.clone();
    let chosen_by_server = request.fixture.as_ref().map(|f| generated_secrets(&f.seed));
    let seeded = chosen_by_server.is_some();
    let created = s.store.create_organization(request).await.map_err(|e| {
        // What the store refuses of a fixture names its place in the document.
        if seeded {
            snapshot::within("fixture.", e)
        } else {
            e
        }
    })?;
    let mut answer = describe(&created, Some(secret));
    answer.api_keys = chosen_by_server;
    Ok(Json(answer))
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
pub async fn retrieve(org: OperatorOrg) -> ApiResult<Json<Organization>> {
    Ok(Json(Organization::from(&org.0)))
}

/// Everything in the organization goes, in one transaction; its keys open nothing from then on.
#[utoipa::path(delete, path = "/_orgadmin/organizations/{org_id}", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = Deleted)))]
pub async fn delete(State(s): State<AppState>, org: OperatorOrg) -> ApiResult<Json<Deleted>> {
    s.store.delete_organization(org.id()).await?;
    forget_operator_state(&s, org.id());
    Ok(Json(Deleted::new(
        "organization.deleted",
        org.id().to_string(),
    )))
}

/// Back to the state right after creation: the same owner, default project and first admin key
/// (which keeps working), and nothing else. Answers what create answered, without the key's
/// `value`.
#[utoipa::path(post, path = "/_orgadmin/organizations/{org_id}/reset", tag = TAG, security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = CreatedOrganization)))]
pub async fn reset(
    State(s): State<AppState>,
    org: OperatorOrg,
) -> ApiResult<Json<CreatedOrganization>> {
    let made = s.store.reset_organization(org.id()).await?;
    forget_operator_state(&s, org.id());
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
        ("fixture", body.fixture.is_some()),
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

/// The store's request from the body, every field checked and its default filled in; a
/// fixture compiled (its IDs made at `millis`), the body's fields in it.
fn creation(body: OrganizationCreateRequest, millis: u64) -> Result<BootstrapRequest, DomainError> {
    let mut document = match body.fixture {
        None => Fixture::default(),
        Some(given) => read_fixture(given)?,
    };
    let from_body = [
        (
            "name",
            body.name.is_some(),
            document
                .organization
                .as_ref()
                .is_some_and(|o| o.name.is_some()),
            "organization.name",
        ),
        (
            "owner_email",
            body.owner_email.is_some(),
            document.owner.as_ref().is_some_and(|o| o.email.is_some()),
            "owner.email",
        ),
        (
            "owner_name",
            body.owner_name.is_some(),
            document.owner.as_ref().is_some_and(|o| o.name.is_some()),
            "owner.name",
        ),
        (
            "admin_key",
            body.admin_key.is_some(),
            document.admin_key.is_some(),
            "admin_key",
        ),
    ];
    if let Some((field, _, _, there)) = from_body.iter().find(|(_, here, there, _)| *here && *there)
    {
        return Err(DomainError::invalid(
            *field,
            format!("{field} is given twice, here and as the fixture's {there}; give it once."),
        ));
    }
    if let Some(key) = &body.admin_key {
        if !is_acceptable_supplied_key(key) {
            return Err(DomainError::invalid(
                "admin_key",
                format!("admin_key must be '{ADMIN_KEY_PREFIX}' followed by at least {MIN_SUPPLIED_LEN} letters, digits, '-' or '_'."),
            ));
        }
    }
    let owner_email = body
        .owner_email
        .as_deref()
        .map(|raw| Email::parse(raw, "owner_email"))
        .transpose()?;
    if let Some(name) = body.name.as_deref() {
        text::name(name, "name")?;
    }
    if let Some(name) = body.owner_name.as_deref() {
        text::name(name, "owner_name")?;
    }
    let is_fixture = document != Fixture::default();
    // The body's fields, checked above under their own names, join the document.
    if let Some(name) = body.name {
        document
            .organization
            .get_or_insert_with(Default::default)
            .name = Some(name);
    }
    let owner = document.owner.get_or_insert_with(Default::default);
    if let Some(email) = owner_email {
        owner.email = Some(email.as_str().to_owned());
    }
    if let Some(name) = body.owner_name {
        owner.name = Some(name);
    }
    if body.admin_key.is_some() {
        document.admin_key = body.admin_key;
    }
    let compiled = document
        .compile(millis)
        .map_err(|problems| snapshot::within("fixture.", FixtureProblem::refusal(&problems)))?;
    Ok(compiled.into_request(is_fixture))
}

/// `fixture` as given: the document as an object, or its text (YAML or JSON).
fn read_fixture(given: serde_json::Value) -> Result<Fixture, DomainError> {
    let read = match given {
        serde_json::Value::String(text) => Fixture::from_text(&text),
        object @ serde_json::Value::Object(_) => Fixture::from_json(object),
        other => {
            return Err(DomainError::invalid(
                "fixture",
                format!(
                    "fixture is a fixture document (an object) or its text (a string of YAML or JSON), not {}.",
                    text::clip(&other.to_string())
                ),
            ))
        }
    };
    read.map_err(|problem| snapshot::within("fixture.", FixtureProblem::refusal(&[problem])))
}

/// The keys of a seed whose secrets the server chose, with those secrets: shown once, in the
/// answer to create.
fn generated_secrets(seed: &Seed) -> Vec<RekeyedKey> {
    seed.keys()
        .filter_map(|key| {
            key.generated_secret.as_ref().map(|value| RekeyedKey {
                id: key.id.clone(),
                value: value.clone(),
            })
        })
        .collect()
}

/// What creation (or a reset) made, as the API shows it, the admin key with its secret when
/// known.
pub(crate) fn describe(created: &Bootstrapped, secret: Option<String>) -> CreatedOrganization {
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
