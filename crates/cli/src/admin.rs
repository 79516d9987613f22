//! Server-side administration, run against the database directly (through the store, never
//! with SQL of its own): `orgadmin init` creates the database and its first organization, and
//! prints what it made — organization, owner, default project and admin key with its secret —
//! once, as JSON (or `--format yaml|table`). (More organizations are made through the operator
//! API: `orgadmin org create`, `crate::operator`.) `orgadmin org key`
//! makes a new admin key for an owner of an existing organization (the way back when every key
//! was deleted) and prints it the same way, secret included, once.

use std::sync::Arc;

use orgadmin_api::responses::{AdminKey, Project, User};
use orgadmin_core::id::OrgId;
use orgadmin_core::model::NewAdminKey;
use orgadmin_core::secret::{
    generate_admin_key, hash_secret, is_acceptable_supplied_key, redact, MIN_SUPPLIED_LEN,
};
use orgadmin_core::store::{BootstrapRequest, Bootstrapped, UserIds};
use orgadmin_core::{DomainError, Email, ReadAt, Store, SystemClock};
pub(crate) use orgadmin_store::redact_url;
use orgadmin_store::OpenError;
use serde::Serialize;

use crate::args::{GlobalArgs, InitArgs, OrgKeyArgs};
use crate::error::CliError;
use crate::output::{Format, Output};

/// What `init` prints. The objects are the API's own; the organization has no
/// API object, so it is this document.
#[derive(Debug, Serialize)]
pub struct CreatedOrganization {
    /// Always `organization`.
    pub object: &'static str,
    pub id: String,
    pub name: String,
    pub owner: User,
    pub default_project: Project,
    /// With `value`, the secret, shown only here.
    pub admin_key: AdminKey,
}

/// `orgadmin init`: create the database (running its migrations) and, if it holds no
/// organization yet, the first one. The key is `ORGADMIN_ADMIN_KEY` when set, random otherwise.
pub async fn init(global: &GlobalArgs, args: InitArgs) -> Result<(), CliError> {
    let secret = match std::env::var("ORGADMIN_ADMIN_KEY") {
        Ok(key) if !key.is_empty() => {
            if !is_acceptable_supplied_key(&key) {
                return Err(CliError::usage(
                    &global.command,
                    format!("ORGADMIN_ADMIN_KEY must be 'sk-admin-' followed by at least {MIN_SUPPLIED_LEN} letters, digits, '-' or '_'"),
                ));
            }
            key
        }
        _ => generate_admin_key(),
    };
    let store = open(&args.database, args.user_ids.user_ids, &global.command).await?;
    let request = BootstrapRequest {
        organization_name: args.name.clone(),
        owner_email: email(&args.owner_email, &global.command)?,
        owner_name: Some(args.owner_name),
        admin_key_secret: secret.clone(),
    };
    let created = store
        .bootstrap_if_empty(request)
        .await
        .map_err(|e| store_error(e, &args.database))?
        .ok_or_else(|| CliError::Refused {
            message: format!(
                "the database {} already holds an organization; add another with 'orgadmin org create'",
                redact_url(&args.database)
            ),
        })?;
    let document = describe(&*store, &created, args.name, secret).await?;
    print(global, &document)?;
    eprintln!(
        "Created organization {} in {}. Store the admin key's value now: it is not shown again.",
        created.org_id,
        redact_url(&args.database)
    );
    Ok(())
}

/// `orgadmin org key`: a new admin key for an owner of an existing organization, printed once.
pub async fn recover_key(global: &GlobalArgs, args: OrgKeyArgs) -> Result<(), CliError> {
    let command = &global.command;
    let owner = args
        .owner
        .as_deref()
        .map(|raw| Email::parse(raw, "owner").map_err(|e| CliError::usage(command, e.to_string())))
        .transpose()?;
    // Adding a key adds nobody, so the user ID mode does not matter here.
    let store = open(&args.database, UserIds::Global, command).await?;
    let secret = generate_admin_key();
    let key = store
        .recover_admin_key(
            &OrgId::from_raw(args.org.clone()),
            owner.as_ref(),
            NewAdminKey {
                name: Some(args.name),
                secret_hash: hash_secret(&secret),
                redacted_value: redact(&secret),
                expires_in_seconds: None,
                scopes: None,
            },
        )
        .await
        .map_err(|e| match e {
            e @ DomainError::NotFound { .. } => CliError::Refused {
                message: e.to_string(),
            },
            other => store_error(other, &args.database),
        })?;
    let mut document = AdminKey::from(&key);
    document.value = Some(secret);
    print(global, &document)?;
    eprintln!(
        "Created admin key {} owned by {} in {}. Store its value now: it is not shown again.",
        key.id, key.owner.id, args.org
    );
    Ok(())
}

/// Open the database for a command: a URL that names none is a usage error (exit 2), a database
/// that cannot be used as it is is refused (exit 1), one that does not answer is a connection
/// failure (exit 3), each with the store's one-line reason.
pub(crate) async fn open(
    url: &str,
    user_ids: UserIds,
    command: &str,
) -> Result<Arc<dyn Store>, CliError> {
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
        OpenError::Url(message) => CliError::usage(command, message),
        OpenError::Unusable(message) => CliError::Refused { message },
        OpenError::Unavailable(message) => CliError::Connection {
            message,
            hint: None,
        },
    })
}

fn email(raw: &str, command: &str) -> Result<Email, CliError> {
    Email::parse(raw, "owner_email").map_err(|e| CliError::usage(command, e.to_string()))
}

/// Read back what was created, as the API shows it.
async fn describe(
    store: &dyn Store,
    created: &Bootstrapped,
    name: String,
    secret: String,
) -> Result<CreatedOrganization, CliError> {
    let org = &created.org_id;
    let failed =
        |e: DomainError| CliError::local(format!("reading back the new organization: {e}"));
    let owner = store
        .get_user(ReadAt::latest(org), &created.owner_id)
        .await
        .map_err(failed)?;
    let project = store
        .get_project(org, &created.default_project_id)
        .await
        .map_err(failed)?;
    let key = store
        .get_admin_key(org, &created.admin_key_id)
        .await
        .map_err(failed)?;
    let mut admin_key = AdminKey::from(&key);
    admin_key.value = Some(secret);
    Ok(CreatedOrganization {
        object: "organization",
        id: org.to_string(),
        name,
        owner: User::from(&owner),
        default_project: Project::from(&project),
        admin_key,
    })
}

/// JSON unless `--format` names another; `auto` is JSON here even on a terminal, so the secret
/// is printed in a form that can be copied whole.
fn print(global: &GlobalArgs, document: &impl Serialize) -> Result<(), CliError> {
    let settings = global.settings()?;
    let format = settings.format.resolve(false, Format::Json);
    Output::new(format)
        .with_selection(settings.selection)
        .object(document)
}

pub(crate) fn store_error(e: DomainError, url: &str) -> CliError {
    let url = redact_url(url);
    match e {
        DomainError::Unavailable(outage) => CliError::Connection {
            message: format!("the database {url} cannot serve this: {outage}"),
            hint: None,
        },
        e @ (DomainError::Invalid { .. } | DomainError::Conflict { .. }) => CliError::Refused {
            message: e.to_string(),
        },
        other => CliError::local(format!("database {url}: {other}")),
    }
}
