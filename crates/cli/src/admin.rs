//! `orgadmin org create`, the one command of the client crate that still opens the database
//! (through the store, never with SQL of its own): it adds another organization beside the ones
//! there, so one server holds many isolated organizations, and prints what it made —
//! organization, owner, default project and admin key with its secret — once, as JSON (or
//! `--format yaml|table`). It goes, with this module and `orgadmin-cli`'s dependency on
//! `orgadmin-store`, when `org create` calls the operator API instead. `init` and `org key` are
//! database-level administration beside `serve` (`orgadmin_server::admin`).

use std::sync::Arc;

use orgadmin_api::responses::{AdminKey, CreatedOrganization, Project, User};
use orgadmin_core::secret::generate_admin_key;
use orgadmin_core::store::{BootstrapRequest, Bootstrapped, UserIds};
use orgadmin_core::{DomainError, Email, ReadAt, Store, SystemClock};
use orgadmin_store::redact_url;
use orgadmin_store::OpenError;

use crate::args::{GlobalArgs, OrgCreateArgs};
use crate::error::CliError;
use crate::print_once as print;

/// `orgadmin org create`: another organization, with its owner, default project and a random
/// admin key.
pub async fn create_organization(global: &GlobalArgs, args: OrgCreateArgs) -> Result<(), CliError> {
    let store = open(&args.database, args.user_ids.user_ids, &global.command).await?;
    let secret = generate_admin_key();
    let request = BootstrapRequest {
        organization_name: args.name.clone(),
        owner_email: email(&args.owner_email, &global.command)?,
        owner_name: args.owner_name,
        admin_key_secret: secret.clone(),
    };
    let created = store
        .create_organization(request)
        .await
        .map_err(|e| store_error(e, &args.database))?;
    let document = describe(&*store, &created, args.name, secret).await?;
    print(global, &document)?;
    eprintln!(
        "Created organization {}. Store the admin key's value now: it is not shown again.",
        created.org_id
    );
    Ok(())
}

/// Open the database for a command: a URL that names none is a usage error (exit 2), a database
/// that cannot be used as it is is refused (exit 1), one that does not answer is a connection
/// failure (exit 3), each with the store's one-line reason.
async fn open(url: &str, user_ids: UserIds, command: &str) -> Result<Arc<dyn Store>, CliError> {
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
        object: "organization".into(),
        id: org.to_string(),
        name,
        owner: User::from(&owner),
        default_project: Project::from(&project),
        admin_key,
    })
}

fn store_error(e: DomainError, url: &str) -> CliError {
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
