//! Database-level administration, beside `serve`: what is done to the database itself rather
//! than through the API, through the `Store` trait (never with SQL of its own).
//!
//! - [`init`] creates the database (running its migrations) and, if it holds no organization
//!   yet, the first one: the first-start bootstrap run on demand, without starting a server.
//! - [`recover_key`] makes a new admin key for an owner of an existing organization: the way
//!   back when every key of it was deleted, which no API call can undo.
//!
//! Both answer with the API's own objects, the secret included once; the binary prints them
//! (`orgadmin init`, `orgadmin org key`). Failures are [`AdminError`]s, sorted by what the
//! operator can do about them.

use std::sync::Arc;

use orgadmin_api::operator::CreatedOrganization;
use orgadmin_api::responses::AdminKey;
use orgadmin_core::id::OrgId;
use orgadmin_core::model::NewAdminKey;
use orgadmin_core::secret::{
    generate_admin_key, hash_secret, is_acceptable_supplied_key, redact, ADMIN_KEY_PREFIX,
    MIN_SUPPLIED_LEN,
};
use orgadmin_core::store::{BootstrapRequest, UserIds};
use orgadmin_core::{DomainError, Email, Store, SystemClock};
pub use orgadmin_store::redact_url;
use orgadmin_store::OpenError;

/// Why an administration command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// The input is wrong (a URL that names no database, a malformed key or email); nothing
    /// was opened.
    Usage(String),
    /// The database refused: it cannot be used as it is, already holds an organization, or
    /// holds no such organization or owner.
    Refused(String),
    /// The database does not answer.
    Unavailable(String),
    /// Anything else.
    Local(String),
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::Usage(m)
            | AdminError::Refused(m)
            | AdminError::Unavailable(m)
            | AdminError::Local(m) => f.write_str(m),
        }
    }
}

/// What `init` creates.
#[derive(Debug, Clone)]
pub struct InitRequest {
    pub database: String,
    pub user_ids: UserIds,
    pub name: String,
    pub owner_email: String,
    pub owner_name: String,
    /// The admin key's secret (`ORGADMIN_ADMIN_KEY`); random when `None`.
    pub admin_key: Option<String>,
}

/// Create the database and, if it holds no organization, the first one; refused when it holds
/// one already.
pub async fn init(request: InitRequest) -> Result<CreatedOrganization, AdminError> {
    let secret = match request.admin_key {
        Some(key) => {
            if !is_acceptable_supplied_key(&key) {
                return Err(AdminError::Usage(format!(
                    "ORGADMIN_ADMIN_KEY must be '{ADMIN_KEY_PREFIX}' followed by at least {MIN_SUPPLIED_LEN} letters, digits, '-' or '_'"
                )));
            }
            key
        }
        None => generate_admin_key(),
    };
    let owner_email = Email::parse(&request.owner_email, "owner_email")
        .map_err(|e| AdminError::Usage(e.to_string()))?;
    let store = open(&request.database, request.user_ids).await?;
    let created = store
        .bootstrap_if_empty(BootstrapRequest {
            organization_name: request.name,
            owner_email,
            owner_name: Some(request.owner_name),
            admin_key_secret: secret.clone(),
            fixture: None,
        })
        .await
        .map_err(|e| store_error(e, &request.database))?
        .ok_or_else(|| {
            AdminError::Refused(format!(
                "the database {} already holds an organization; add another with 'orgadmin org create'",
                redact_url(&request.database)
            ))
        })?;
    // The operator API's answer to a creation: one document for every way of making one.
    Ok(crate::operator::organizations::describe(
        &created,
        Some(secret),
    ))
}

/// What `org key` makes.
#[derive(Debug, Clone)]
pub struct RecoverKeyRequest {
    pub database: String,
    pub org: String,
    /// The owner's email; the longest-standing owner when `None`.
    pub owner: Option<String>,
    pub name: String,
}

/// A new admin key for an owner of an existing organization, with its secret (`value`).
pub async fn recover_key(request: RecoverKeyRequest) -> Result<AdminKey, AdminError> {
    let owner = request
        .owner
        .as_deref()
        .map(|raw| Email::parse(raw, "owner").map_err(|e| AdminError::Usage(e.to_string())))
        .transpose()?;
    // Adding a key adds nobody, so the user ID mode does not matter here.
    let store = open(&request.database, UserIds::Global).await?;
    let secret = generate_admin_key();
    let key = store
        .recover_admin_key(
            &OrgId::from_raw(request.org),
            owner.as_ref(),
            NewAdminKey {
                name: Some(request.name),
                secret_hash: hash_secret(&secret),
                redacted_value: redact(&secret),
                expires_in_seconds: None,
                scopes: None,
            },
        )
        .await
        .map_err(|e| match e {
            e @ DomainError::NotFound { .. } => AdminError::Refused(e.to_string()),
            other => store_error(other, &request.database),
        })?;
    let mut document = AdminKey::from(&key);
    document.value = Some(secret);
    Ok(document)
}

/// Open the database: a URL that names none is a usage error, a database that cannot be used as
/// it is is refused, one that does not answer is unavailable, each with the store's one-line
/// reason. No deadline on store calls: nobody is waiting on an HTTP answer.
async fn open(url: &str, user_ids: UserIds) -> Result<Arc<dyn Store>, AdminError> {
    orgadmin_store::open_with(
        url,
        Arc::new(SystemClock),
        orgadmin_store::StoreOptions {
            user_ids,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| match e {
        OpenError::Url(message) => AdminError::Usage(message),
        OpenError::Unusable(message) => AdminError::Refused(message),
        OpenError::Unavailable(message) => AdminError::Unavailable(message),
    })
}

fn store_error(e: DomainError, url: &str) -> AdminError {
    let url = redact_url(url);
    match e {
        DomainError::Unavailable(outage) => {
            AdminError::Unavailable(format!("the database {url} cannot serve this: {outage}"))
        }
        e @ (DomainError::Invalid { .. } | DomainError::Conflict { .. }) => {
            AdminError::Refused(e.to_string())
        }
        other => AdminError::Local(format!("database {url}: {other}")),
    }
}
