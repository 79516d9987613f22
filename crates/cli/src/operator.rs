//! `orgadmin org create|list|retrieve|delete|reset`: the operator API's organizations
//! (`/_orgadmin/organizations…`), over HTTP with the server's operator key, as the `admin …`
//! commands reach the Admin API with an admin key. The operator API lives beside `/v1`, so its
//! URL is the client's base URL (`--base-url`, `OPENAI_BASE_URL`) without its `/v1`.

use std::io::IsTerminal;
use std::time::Duration;

use clap::{Args, Subcommand};
use orgadmin_api::operator::{
    CreatedOrganization, Organization, OrganizationCreateRequest, OrganizationList,
};
use orgadmin_api::responses::Deleted;

use crate::client::{server_root, Client, ClientConfig, Query};
use crate::commands::{Ctx, IdPaging};
use crate::error::CliError;
use crate::output::{Cell, Column, Format, Output, View};
use crate::validate;

/// The operator API's organizations, below the server's root.
const ORGANIZATIONS: [&str; 2] = ["_orgadmin", "organizations"];

/// `orgadmin org …` over the operator API.
#[derive(Debug, Subcommand)]
pub enum OperatorOrgCommand {
    /// Create an organization with its owner, default project and first admin key, and print
    /// them as JSON (the key's secret only this once). Each organization's keys see only its own
    /// objects.
    #[command(after_help = "\
Examples:
  orgadmin org create --name Acme --owner-email root@acme.example
  export OPENAI_ADMIN_KEY=$(orgadmin org create --transform admin_key.value -r)")]
    Create(CreateArgs),
    /// List the server's organizations, oldest first.
    #[command(after_help = "\
Example:
  orgadmin org list --all --format table")]
    List(ListArgs),
    /// Show one organization.
    #[command(after_help = "\
Example:
  orgadmin org retrieve --org-id org-…")]
    Retrieve(OrgIdArgs),
    /// Delete an organization and everything in it; its keys stop working at once.
    #[command(after_help = "\
Example:
  orgadmin org delete --org-id org-…")]
    Delete(OrgIdArgs),
    /// Bring an organization back to the state right after its creation: its owner, default
    /// project and first admin key (which works again, with the secret it was created with) under
    /// the same IDs, and nothing else. Prints what create printed, without the key's secret.
    #[command(after_help = "\
Example:
  orgadmin org reset --org-id org-…")]
    Reset(OrgIdArgs),
}

/// How the operator API is reached: the server's operator key.
#[derive(Debug, Clone, Args)]
pub struct OperatorKeyArg {
    /// The server's operator key (`sk-operator-…`) [env: ORGADMIN_OPERATOR_KEY] (the
    /// environment is the better place: a flag shows in `ps`)
    #[arg(long, value_name = "KEY")]
    pub operator_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The organization's name [default: Default Organization]
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: Option<String>,
    /// The owner's email address [default: owner@example.com]
    #[arg(long, value_name = "EMAIL", value_parser = validate::email)]
    pub owner_email: Option<String>,
    /// The owner's display name [default: Owner]
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub owner_name: Option<String>,
    /// The first admin key's secret (`sk-admin-` and at least 32 letters, digits, `-` or `_`), so
    /// a test can hard-code it; a random one when omitted
    #[arg(long, value_name = "KEY")]
    pub admin_key: Option<String>,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub paging: IdPaging,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

#[derive(Debug, Args)]
pub struct OrgIdArgs {
    /// The organization's ID (`org-…`).
    #[arg(long = "org-id", visible_alias = "org", value_name = "ORG_ID", value_parser = validate::id)]
    pub org_id: String,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

impl OrgIdArgs {
    fn path(&self) -> Vec<&str> {
        [&ORGANIZATIONS[..], &[self.org_id.as_str()]].concat()
    }
}

pub const VIEW: View = View {
    noun: "organizations",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

impl OperatorOrgCommand {
    fn key(&self) -> &OperatorKeyArg {
        match self {
            OperatorOrgCommand::Create(args) => &args.key,
            OperatorOrgCommand::List(args) => &args.key,
            OperatorOrgCommand::Retrieve(args)
            | OperatorOrgCommand::Delete(args)
            | OperatorOrgCommand::Reset(args) => &args.key,
        }
    }

    /// What `auto` means for this command: JSON even on a terminal for the documents that hold
    /// a secret or IDs to copy whole (create, reset), a table elsewhere on a terminal.
    fn auto_is_json(&self) -> bool {
        matches!(
            self,
            OperatorOrgCommand::Create(_) | OperatorOrgCommand::Reset(_)
        )
    }
}

/// Run one `org` command against the operator API.
pub async fn run(global: &crate::GlobalArgs, command: OperatorOrgCommand) -> Result<(), CliError> {
    let settings = global.settings()?;
    let operator_key = command
        .key()
        .operator_key
        .clone()
        .or_else(|| std::env::var("ORGADMIN_OPERATOR_KEY").ok())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            CliError::usage(
                &global.command,
                "no operator key: set ORGADMIN_OPERATOR_KEY (or pass --operator-key); the server \
                 prints it at its first start, or keeps it in the file operator-key beside its \
                 SQLite database",
            )
        })?;
    let root = server_root(&settings.base_url)
        .map_err(|e| CliError::usage(&global.command, format!("invalid --base-url: {e}")))?;
    let client = Client::new(ClientConfig {
        base_url: root,
        admin_key: operator_key,
        timeout: Duration::from_secs(settings.timeout),
        max_retries: settings.max_retries,
        verbose: settings.verbose,
    })?;
    let terminal = std::io::stdout().is_terminal() && !command.auto_is_json();
    let format = settings.format.resolve(terminal, Format::Json);
    let mut ctx = Ctx {
        client,
        out: Output::new(format).with_selection(settings.selection),
        command: global.command.clone(),
    };
    match command {
        OperatorOrgCommand::Create(args) => {
            let body = OrganizationCreateRequest {
                name: args.name,
                owner_email: args.owner_email,
                owner_name: args.owner_name,
                admin_key: args.admin_key,
                snapshot: None,
            };
            let created: CreatedOrganization = ctx.client.post(&ORGANIZATIONS, &body).await?;
            ctx.show(&created)?;
            eprintln!(
                "Created organization {}. Store the admin key's value now: it is not shown again.",
                created.organization.id
            );
            Ok(())
        }
        OperatorOrgCommand::List(args) => {
            let paging = args.paging.paging();
            ctx.list::<OrganizationList>(&ORGANIZATIONS, Query::new(), paging, &VIEW)
                .await
        }
        OperatorOrgCommand::Retrieve(args) => ctx.get_and_show::<Organization>(&args.path()).await,
        OperatorOrgCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
        OperatorOrgCommand::Reset(args) => {
            let path = [args.path(), vec!["reset"]].concat();
            ctx.post_and_show::<CreatedOrganization>(&path, &serde_json::json!({}))
                .await?;
            eprintln!(
                "Reset organization {}: its first admin key works again, with the secret it was created with.",
                args.org_id
            );
            Ok(())
        }
    }
}
