//! `orgadmin init` and `orgadmin org key`: the database-level administration of
//! `orgadmin_server::admin`, with the command line's flags in and its output and exit statuses
//! out (JSON unless `--format` names another, the secret printed once; a line for people on
//! standard error).

use std::process::ExitCode;

use orgadmin_cli::args::{InitArgs, OrgKeyArgs};
use orgadmin_cli::error::CliError;
use orgadmin_cli::{block_on, finish, print_once, GlobalArgs};
use orgadmin_server::admin::{self, redact_url, AdminError, InitRequest, RecoverKeyRequest};

/// `orgadmin init`. The key is `ORGADMIN_ADMIN_KEY` when set, random otherwise.
pub fn init(global: &GlobalArgs, args: InitArgs) -> ExitCode {
    finish(block_on(async {
        let database = args.database.clone();
        let created = admin::init(InitRequest {
            database: args.database,
            user_ids: args.user_ids.user_ids,
            name: args.name,
            owner_email: args.owner_email,
            owner_name: args.owner_name,
            admin_key: std::env::var("ORGADMIN_ADMIN_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
        })
        .await
        .map_err(|e| cli_error(e, &global.command))?;
        print_once(global, &created)?;
        eprintln!(
            "Created organization {} in {}. Store the admin key's value now: it is not shown again.",
            created.organization.id,
            redact_url(&database)
        );
        Ok(())
    }))
}

/// `orgadmin org key`: a new admin key for an owner of an existing organization, printed once.
pub fn recover_key(global: &GlobalArgs, args: OrgKeyArgs) -> ExitCode {
    finish(block_on(async {
        let org = args.org.clone();
        let key = admin::recover_key(RecoverKeyRequest {
            database: args.database,
            org: args.org,
            owner: args.owner,
            name: args.name,
        })
        .await
        .map_err(|e| cli_error(e, &global.command))?;
        print_once(global, &key)?;
        eprintln!(
            "Created admin key {} owned by {} in {org}. Store its value now: it is not shown again.",
            key.id, key.owner.id
        );
        Ok(())
    }))
}

/// The exit status of each kind: 2 usage, 1 refused, 3 the database does not answer, 5 local.
fn cli_error(e: AdminError, command: &str) -> CliError {
    match e {
        AdminError::Usage(message) => CliError::usage(command, message),
        AdminError::Refused(message) => CliError::Refused { message },
        AdminError::Unavailable(message) => CliError::Connection {
            message,
            hint: None,
        },
        AdminError::Local(message) => CliError::local(message),
    }
}
