//! `admin organization projects service-accounts`: a project's service accounts (list, create,
//! retrieve, update, delete), with `service-accounts api-keys` beneath. A new account's first API
//! key, with its secret, is in the answer to create and nowhere else.

use clap::{ArgGroup, Args, Subcommand};
use orgadmin_api::requests::{ServiceAccountCreateRequest, ServiceAccountUpdateRequest};
use orgadmin_api::responses::{Deleted, ServiceAccount, ServiceAccountCreated, ServiceAccountList};
use orgadmin_core::model::ServiceAccountRole;

use super::{project_keys, projects, Ctx, IdPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects:service-accounts create --project-id proj_abc --name deploy-bot
  orgadmin admin:organization:projects:service-accounts list --project-id proj_abc";

/// Longest lifetime the first key may be given: one year.
const MAX_EXPIRES_IN_SECONDS: u64 = 31_536_000;

#[derive(Debug, Subcommand)]
pub enum ServiceAccountsCommand {
    /// List a project's service accounts, oldest first.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:service-accounts list --project-id proj_abc --all")]
    List(ListArgs),
    /// Create a service account (a `member` of the project) with its first API key, whose
    /// secret is printed once.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:projects:service-accounts create --project-id proj_abc --name deploy-bot
  orgadmin admin:organization:projects:service-accounts create --project-id proj_abc --name ci \\
      --expires-in-seconds 86400 --transform api_key.value -r")]
    Create(CreateArgs),
    /// Show one service account.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:service-accounts retrieve --project-id proj_abc --service-account-id svc_acct_abc")]
    Retrieve(AccountId),
    /// Rename a service account or change its project role.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:service-accounts update --project-id proj_abc --service-account-id svc_acct_abc --role owner")]
    Update(UpdateArgs),
    /// Delete a service account and its API keys.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:service-accounts delete --project-id proj_abc --service-account-id svc_acct_abc")]
    Delete(AccountId),
    /// A service account's further API keys.
    #[command(subcommand, name = "api-keys", after_help = project_keys::SERVICE_ACCOUNT_EXAMPLES)]
    ApiKeys(project_keys::ServiceAccountKeysCommand),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    #[command(flatten)]
    pub paging: IdPaging,
}

#[derive(Debug, Args)]
pub struct AccountId {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The service account's ID (`svc_acct_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub service_account_id: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The service account's name.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: String,
    /// Create the account alone: role `none` and no API key.
    #[arg(long, conflicts_with = "expires_in_seconds")]
    pub create_service_account_only: bool,
    /// Lifetime of the first API key in seconds, 1 to 31536000 (one year); without it the key
    /// does not expire.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=MAX_EXPIRES_IN_SECONDS))]
    pub expires_in_seconds: Option<u64>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true).args(["name", "role"])))]
pub struct UpdateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The service account's ID (`svc_acct_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub service_account_id: String,
    /// New name.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: Option<String>,
    /// New project role.
    #[arg(long, value_enum)]
    pub role: Option<ServiceAccountRole>,
}

pub const VIEW: View = View {
    noun: "service accounts",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("ROLE", Cell::Text("role")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// The path of a project's service accounts.
fn accounts(project_id: &str) -> Vec<&str> {
    [&projects::project(project_id)[..], &["service_accounts"]].concat()
}

impl ListArgs {
    pub fn path(&self) -> Vec<&str> {
        accounts(&self.project_id)
    }
}

impl AccountId {
    pub fn path(&self) -> Vec<&str> {
        [&accounts(&self.project_id)[..], &[&self.service_account_id]].concat()
    }
}

impl UpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        [&accounts(&self.project_id)[..], &[&self.service_account_id]].concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: ServiceAccountsCommand) -> Result<(), CliError> {
    match command {
        ServiceAccountsCommand::List(args) => {
            ctx.list::<ServiceAccountList>(&args.path(), Query::new(), args.paging.paging(), &VIEW)
                .await
        }
        ServiceAccountsCommand::Create(args) => {
            let body = ServiceAccountCreateRequest {
                name: Some(args.name),
                create_service_account_only: args.create_service_account_only.then_some(true),
                expires_in_seconds: args.expires_in_seconds.map(|s| s as i64),
            };
            let created: ServiceAccountCreated =
                ctx.client.post(&accounts(&args.project_id), &body).await?;
            ctx.show(&created)?;
            if created.api_key.is_some() {
                eprintln!("Store the API key's value now: it is not shown again.");
            }
            Ok(())
        }
        ServiceAccountsCommand::Retrieve(args) => {
            ctx.get_and_show::<ServiceAccount>(&args.path()).await
        }
        ServiceAccountsCommand::Update(args) => {
            let body = ServiceAccountUpdateRequest {
                name: args.name.clone(),
                role: args.role.map(|r| r.as_str().to_owned()),
            };
            ctx.post_and_show::<ServiceAccount>(&args.path(), &body)
                .await
        }
        ServiceAccountsCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
        ServiceAccountsCommand::ApiKeys(command) => {
            project_keys::run_service_account(ctx, command).await
        }
    }
}
