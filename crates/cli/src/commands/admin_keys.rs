//! `admin organization admin-api-keys`: admin API keys (list, create, retrieve, delete). A new
//! key's secret is in the answer to create, and nowhere else, ever.

use clap::{Args, Subcommand};
use orgadmin_api::requests::AdminKeyCreateRequest;
use orgadmin_api::responses::{AdminKey, AdminKeyList, Deleted};

use super::{Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:admin-api-keys list
  orgadmin admin:organization:admin-api-keys create --name ci --scope api.organization.users.read
  orgadmin admin:organization:admin-api-keys delete --key-id key_abc";

/// Longest lifetime a key may be given: one year.
const MAX_EXPIRES_IN_SECONDS: u64 = 31_536_000;

#[derive(Debug, Subcommand)]
pub enum AdminKeysCommand {
    /// List the organization's admin API keys (secrets redacted).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:admin-api-keys list --order desc")]
    List(ListArgs),
    /// Create an admin API key owned by the owner of the key you use. Its secret is printed
    /// once, in the answer's `value`.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:admin-api-keys create --name deploy --expires-in-seconds 86400
  orgadmin admin:organization:admin-api-keys create --name offboarding \\
      --scope api.organization.users.read --scope api.organization.users.write --format json")]
    Create(CreateArgs),
    /// Show one admin API key (secret redacted).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:admin-api-keys retrieve --key-id key_abc")]
    Retrieve(KeyId),
    /// Revoke an admin API key.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:admin-api-keys delete --key-id key_abc")]
    Delete(KeyId),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct KeyId {
    /// The key's ID (`key_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub key_id: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A name for the key.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: String,
    /// Lifetime in seconds, 1 to 31536000 (one year); without it the key does not expire.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=MAX_EXPIRES_IN_SECONDS))]
    pub expires_in_seconds: Option<u64>,
    /// Limit the key to this permission (repeat for several; orgadmin extension). The key may
    /// do only what both its owner and its scopes allow.
    #[arg(long = "scope", value_name = "PERMISSION", value_parser = validate::permission)]
    pub scopes: Vec<String>,
}

pub const VIEW: View = View {
    noun: "admin API keys",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("REDACTED", Cell::Text("redacted_value")),
        Column::new("OWNER", Cell::Text("owner.id")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("EXPIRES", Cell::Time("expires_at")),
        Column::new("LAST_USED", Cell::Time("last_used_at")),
        Column::new("SCOPES", Cell::Count("scopes")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// The path of the admin keys.
const KEYS: [&str; 2] = ["organization", "admin_api_keys"];

impl KeyId {
    pub fn path(&self) -> Vec<&str> {
        [&KEYS[..], &[&self.key_id]].concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: AdminKeysCommand) -> Result<(), CliError> {
    match command {
        AdminKeysCommand::List(args) => {
            let mut query = Query::new();
            let paging = args.paging.paging(&mut query, &ctx.command)?;
            ctx.list::<AdminKeyList>(&KEYS, query, paging, &VIEW).await
        }
        AdminKeysCommand::Create(args) => {
            let body = AdminKeyCreateRequest {
                name: Some(args.name),
                expires_in_seconds: args.expires_in_seconds.map(|s| s as i64),
                scopes: (!args.scopes.is_empty()).then_some(args.scopes),
            };
            ctx.post_and_show::<AdminKey>(&KEYS, &body).await?;
            eprintln!("Store the key's value now: it is not shown again.");
            Ok(())
        }
        AdminKeysCommand::Retrieve(args) => ctx.get_and_show::<AdminKey>(&args.path()).await,
        AdminKeysCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
    }
}
