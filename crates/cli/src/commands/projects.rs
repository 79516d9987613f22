//! `admin organization projects`: projects (list, create, retrieve, update, archive), with
//! their members, service accounts, API keys, groups and roles beneath.

use clap::{ArgGroup, Args, Subcommand};
use orgadmin_api::requests::{ProjectCreateRequest, ProjectUpdateRequest};
use orgadmin_api::responses::{Project, ProjectList};

use super::{
    project_groups, project_keys, project_service_accounts, project_users, roles, Ctx, IdPaging,
};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects list --include-archived
  orgadmin admin:organization:projects create --name Gateway
  orgadmin admin:organization:projects:users list --project-id proj_abc";

#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// List projects, oldest first (archived ones with --include-archived).
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:projects list
  orgadmin admin:organization:projects list --include-archived --all --format jsonl")]
    List(ListArgs),
    /// Create a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects create --name Gateway --external-key-id ext-42")]
    Create(CreateArgs),
    /// Show one project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects retrieve --project-id proj_abc")]
    Retrieve(ProjectId),
    /// Rename a project or change its external key ID.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects update --project-id proj_abc --name 'Gateway (prod)'")]
    Update(UpdateArgs),
    /// Archive a project: it keeps its data but takes no new members or role changes.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects archive --project-id proj_abc")]
    Archive(ProjectId),
    /// A project's members.
    #[command(subcommand, after_help = project_users::EXAMPLES)]
    Users(project_users::ProjectUsersCommand),
    /// A project's service accounts.
    #[command(subcommand, name = "service-accounts", after_help = project_service_accounts::EXAMPLES)]
    ServiceAccounts(project_service_accounts::ServiceAccountsCommand),
    /// A project's API keys, owned by its members and its service accounts.
    #[command(subcommand, name = "api-keys", after_help = project_keys::EXAMPLES)]
    ApiKeys(project_keys::ProjectKeysCommand),
    /// The groups with access to a project, and their project roles.
    #[command(subcommand, after_help = project_groups::EXAMPLES)]
    Groups(project_groups::ProjectGroupsCommand),
    /// A project's roles: the predefined `owner`, `member` and `viewer`, and custom roles.
    #[command(subcommand, after_help = roles::PROJECT_EXAMPLES)]
    Roles(roles::ProjectRolesCommand),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include archived projects.
    #[arg(long)]
    pub include_archived: bool,
    #[command(flatten)]
    pub paging: IdPaging,
}

#[derive(Debug, Args)]
pub struct ProjectId {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The project's name.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: String,
    /// An identifier of your own for the project (at most 255 characters).
    #[arg(long, value_name = "TEXT")]
    pub external_key_id: Option<String>,
    /// Data residency region, e.g. GLOBAL or US_STORAGE_PROCESSING (the server lists them all).
    #[arg(long, value_name = "REGION")]
    pub residency: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)
    .args(["name", "external_key_id"])))]
pub struct UpdateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// New name.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: Option<String>,
    /// New external key ID.
    #[arg(long, value_name = "TEXT")]
    pub external_key_id: Option<String>,
}

pub const VIEW: View = View {
    noun: "projects",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("STATUS", Cell::Text("status")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("ARCHIVED", Cell::Time("archived_at")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// The path of the projects.
const PROJECTS: [&str; 2] = ["organization", "projects"];

/// The path of one project, which its members, service accounts and groups are below.
pub fn project(project_id: &str) -> Vec<&str> {
    [&PROJECTS[..], &[project_id]].concat()
}

impl ProjectId {
    pub fn path(&self) -> Vec<&str> {
        project(&self.project_id)
    }
}

impl UpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        project(&self.project_id)
    }
}

pub async fn run(ctx: &mut Ctx, command: ProjectsCommand) -> Result<(), CliError> {
    match command {
        ProjectsCommand::List(args) => {
            let mut query = Query::new();
            if args.include_archived {
                query.push("include_archived", "true");
            }
            ctx.list::<ProjectList>(&PROJECTS, query, args.paging.paging(), &VIEW)
                .await
        }
        ProjectsCommand::Create(args) => {
            let body = ProjectCreateRequest {
                name: Some(args.name),
                external_key_id: args.external_key_id,
                residency: args.residency,
            };
            ctx.post_and_show::<Project>(&PROJECTS, &body).await
        }
        ProjectsCommand::Retrieve(args) => ctx.get_and_show::<Project>(&args.path()).await,
        ProjectsCommand::Update(args) => {
            let body = ProjectUpdateRequest {
                name: args.name.clone(),
                external_key_id: args.external_key_id.clone(),
            };
            ctx.post_and_show::<Project>(&args.path(), &body).await
        }
        ProjectsCommand::Archive(args) => {
            let path = [&args.path()[..], &["archive"]].concat();
            ctx.post_and_show::<Project>(&path, &serde_json::json!({}))
                .await
        }
        ProjectsCommand::Users(command) => project_users::run(ctx, command).await,
        ProjectsCommand::ServiceAccounts(command) => {
            project_service_accounts::run(ctx, command).await
        }
        ProjectsCommand::ApiKeys(command) => project_keys::run(ctx, command).await,
        ProjectsCommand::Groups(command) => project_groups::run(ctx, command).await,
        ProjectsCommand::Roles(command) => roles::run_project(ctx, command).await,
    }
}
