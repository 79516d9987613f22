//! `admin organization projects api-keys`: a project's API keys, owned by its members and its
//! service accounts (list, retrieve, update, delete), and a member's new key (create, the
//! orgadmin extension); `admin organization projects service-accounts api-keys create`: another
//! key of a service account. A new key's secret is in the answer to create and nowhere else.

use clap::{ArgGroup, Args, Subcommand};
use orgadmin_api::requests::{
    ProjectKeyCreateRequest, ProjectKeyUpdateRequest, ServiceAccountKeyCreateRequest,
};
use orgadmin_api::responses::{
    Deleted, ProjectKey, ProjectKeyCreated, ProjectKeyList, ServiceAccountApiKey,
};
use orgadmin_core::model::{KeyLifetime, OwnerAccess};
use serde_norway::Value as Tree;

use super::{projects, Ctx, IdPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects:api-keys list --project-id proj_abc
  orgadmin admin:organization:projects:api-keys create --project-id proj_abc --name laptop --user-id user-abc
  orgadmin admin:organization:projects:api-keys update --project-id proj_abc --api-key-id key_abc --scope api.model.request";

pub const SERVICE_ACCOUNT_EXAMPLES: &str = "\
Example:
  orgadmin admin:organization:projects:service-accounts:api-keys create --project-id proj_abc \\
      --service-account-id svc_acct_abc --name 'Production App' --scope api.model.request";

/// What the secret's hint says after a create.
const SHOWN_ONCE: &str = "Store the key's value now: it is not shown again.";

#[derive(Debug, Subcommand)]
pub enum ProjectKeysCommand {
    /// List a project's API keys, oldest first: by default those whose owner has access to the
    /// project (secrets redacted).
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:projects:api-keys list --project-id proj_abc --all
  orgadmin admin:organization:projects:api-keys list --project-id proj_abc --owner-project-access inactive")]
    List(ListArgs),
    /// Create an API key owned by a member of the project (orgadmin extension: the real API
    /// makes these only in its dashboard). Its secret is printed once, in the answer's `value`.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:projects:api-keys create --project-id proj_abc --name laptop --user-id user-abc
  orgadmin admin:organization:projects:api-keys create --project-id proj_abc --name ci --user-id user-abc \\
      --scope api.model.request --expires-in-seconds 86400 --transform value -r")]
    Create(CreateArgs),
    /// Show one of a project's API keys (secret redacted).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:api-keys retrieve --project-id proj_abc --api-key-id key_abc")]
    Retrieve(KeyId),
    /// Change a key's scopes or expiry, as the official SDK's update does: at least one.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:projects:api-keys update --project-id proj_abc --api-key-id key_abc \\
      --scope api.model.request --scope api.files.read
  orgadmin admin:organization:projects:api-keys update --project-id proj_abc --api-key-id key_abc --unscoped --expires-in-seconds 3600")]
    Update(UpdateArgs),
    /// Delete one of a project's API keys.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:api-keys delete --project-id proj_abc --api-key-id key_abc")]
    Delete(KeyId),
}

#[derive(Debug, Subcommand)]
pub enum ServiceAccountKeysCommand {
    /// Create another API key of a service account. Its secret is printed once, in the
    /// answer's `value`.
    #[command(after_help = SERVICE_ACCOUNT_EXAMPLES)]
    Create(ServiceAccountKeyArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// Whose keys: of owners with access to the project (the server's default), without, or
    /// both.
    #[arg(long, value_enum, value_name = "ACCESS")]
    pub owner_project_access: Option<OwnerAccess>,
    #[command(flatten)]
    pub paging: IdPaging,
}

#[derive(Debug, Args)]
pub struct KeyId {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The key's ID (`key_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub api_key_id: String,
}

/// What limits a new key: its scopes and its lifetime.
#[derive(Debug, Args)]
pub struct NewKeyTerms {
    /// Limit the key to this project permission (repeat for several). Without it the key may do
    /// everything its owner may in the project.
    #[arg(long = "scope", value_name = "PERMISSION", value_parser = validate::project_permission)]
    pub scopes: Vec<String>,
    /// Lifetime in seconds, 1 to 31536000 (one year); without it the key does not expire.
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(1..=KeyLifetime::MAX_SECONDS))]
    pub expires_in_seconds: Option<i64>,
}

impl NewKeyTerms {
    /// The body's `scopes`: none given is left out (every permission of the owner).
    fn scopes(&self) -> Option<Vec<String>> {
        (!self.scopes.is_empty()).then(|| self.scopes.clone())
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// A name for the key.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: String,
    /// The project member who owns the key (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    #[command(flatten)]
    pub terms: NewKeyTerms,
}

#[derive(Debug, Args)]
pub struct ServiceAccountKeyArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The service account's ID (`svc_acct_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub service_account_id: String,
    /// A name for the key (default: `Secret Key`, the name of an account's first key).
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: Option<String>,
    #[command(flatten)]
    pub terms: NewKeyTerms,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)
    .args(["scopes", "unscoped", "expires_in_seconds"])))]
pub struct UpdateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The key's ID (`key_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub api_key_id: String,
    /// Replace the key's scopes with these project permissions (repeat for several).
    #[arg(long = "scope", value_name = "PERMISSION", value_parser = validate::project_permission,
          conflicts_with = "unscoped")]
    pub scopes: Vec<String>,
    /// Lift the key's scopes: it may do everything its owner may in the project.
    #[arg(long)]
    pub unscoped: bool,
    /// Make the key expire this many seconds from now, 1 to 31536000 (one year).
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(i64).range(1..=KeyLifetime::MAX_SECONDS))]
    pub expires_in_seconds: Option<i64>,
}

pub const VIEW: View = View {
    noun: "project API keys",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("REDACTED", Cell::Text("redacted_value")),
        Column::new("OWNER", Cell::With(owner)),
        Column::new("ACCESS", Cell::Text("owner_project_access")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("EXPIRES", Cell::Time("expires_at")),
        Column::new("LAST_USED", Cell::Time("last_used_at")),
        Column::new("SCOPES", Cell::With(scopes)),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// The ID of the key's owner, a member or a service account.
fn owner(key: &Tree) -> String {
    let Some(owner) = key.get("owner") else {
        return "-".into();
    };
    ["user", "service_account"]
        .iter()
        .find_map(|kind| owner.get(kind)?.get("id"))
        .map(crate::output::text)
        .unwrap_or_else(|| "-".into())
}

/// How many permissions the key is limited to; `all` for none (every permission of its owner).
fn scopes(key: &Tree) -> String {
    match key.get("scopes") {
        Some(Tree::Sequence(items)) if items.is_empty() => "all".into(),
        Some(Tree::Sequence(items)) => items.len().to_string(),
        _ => "-".into(),
    }
}

/// The path of a project's API keys.
fn keys(project_id: &str) -> Vec<&str> {
    [&projects::project(project_id)[..], &["api_keys"]].concat()
}

impl ListArgs {
    pub fn path(&self) -> Vec<&str> {
        keys(&self.project_id)
    }
}

impl CreateArgs {
    pub fn path(&self) -> Vec<&str> {
        keys(&self.project_id)
    }
}

impl KeyId {
    pub fn path(&self) -> Vec<&str> {
        [&keys(&self.project_id)[..], &[&self.api_key_id]].concat()
    }
}

impl UpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        [&keys(&self.project_id)[..], &[&self.api_key_id]].concat()
    }

    /// The SDK's body: only the fields given; `--unscoped` is `scopes: []`.
    fn body(&self) -> ProjectKeyUpdateRequest {
        let scopes = if self.unscoped {
            Some(Vec::new())
        } else {
            (!self.scopes.is_empty()).then(|| self.scopes.clone())
        };
        ProjectKeyUpdateRequest {
            scopes: scopes.map(Some),
            expires_in_seconds: self.expires_in_seconds.map(Some),
        }
    }
}

impl ServiceAccountKeyArgs {
    pub fn path(&self) -> Vec<&str> {
        [
            &projects::project(&self.project_id)[..],
            &["service_accounts", &self.service_account_id, "api_keys"],
        ]
        .concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: ProjectKeysCommand) -> Result<(), CliError> {
    match command {
        ProjectKeysCommand::List(args) => {
            let mut query = Query::new();
            query.push_opt(
                "owner_project_access",
                args.owner_project_access.map(OwnerAccess::as_str),
            );
            ctx.list::<ProjectKeyList>(&args.path(), query, args.paging.paging(), &VIEW)
                .await
        }
        ProjectKeysCommand::Create(args) => {
            let body = ProjectKeyCreateRequest {
                name: Some(args.name.clone()),
                user_id: Some(args.user_id.clone()),
                scopes: args.terms.scopes(),
                expires_in_seconds: args.terms.expires_in_seconds,
            };
            ctx.post_and_show::<ProjectKeyCreated>(&args.path(), &body)
                .await?;
            eprintln!("{SHOWN_ONCE}");
            Ok(())
        }
        ProjectKeysCommand::Retrieve(args) => ctx.get_and_show::<ProjectKey>(&args.path()).await,
        ProjectKeysCommand::Update(args) => {
            ctx.post_and_show::<ProjectKey>(&args.path(), &args.body())
                .await
        }
        ProjectKeysCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
    }
}

pub async fn run_service_account(
    ctx: &mut Ctx,
    command: ServiceAccountKeysCommand,
) -> Result<(), CliError> {
    let ServiceAccountKeysCommand::Create(args) = command;
    let body = ServiceAccountKeyCreateRequest {
        name: args.name.clone(),
        scopes: args.terms.scopes(),
        expires_in_seconds: args.terms.expires_in_seconds,
    };
    ctx.post_and_show::<ServiceAccountApiKey>(&args.path(), &body)
        .await?;
    eprintln!("{SHOWN_ONCE}");
    Ok(())
}
