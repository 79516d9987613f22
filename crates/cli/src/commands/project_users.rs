//! `admin organization projects users`: a project's members (list, create, retrieve, update,
//! delete), with `projects users roles` beneath.

use clap::{ArgGroup, Args, Subcommand};
use orgadmin_api::requests::{ProjectUserCreateRequest, ProjectUserUpdateRequest};
use orgadmin_api::responses::{Deleted, ProjectUser, ProjectUserList};
use orgadmin_core::role::ProjectBaseRole;

use super::{projects, role_assignments, Ctx, IdPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects:users list --project-id proj_abc
  orgadmin admin:organization:projects:users create --project-id proj_abc --user-id user-abc --role member
  orgadmin admin:organization:projects:users update --project-id proj_abc --user-id user-abc --role owner";

#[derive(Debug, Subcommand)]
pub enum ProjectUsersCommand {
    /// List a project's members, oldest first.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users list --project-id proj_abc --all")]
    List(ListArgs),
    /// Add an organization member to a project.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:projects:users create --project-id proj_abc --user-id user-abc --role member
  orgadmin admin:organization:projects:users create --project-id proj_abc --email ada@example.com --role viewer")]
    Create(CreateArgs),
    /// Show one member of a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users retrieve --project-id proj_abc --user-id user-abc")]
    Retrieve(Member),
    /// Change a project member's role.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users update --project-id proj_abc --user-id user-abc --role owner")]
    Update(UpdateArgs),
    /// Remove a member from a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users delete --project-id proj_abc --user-id user-abc")]
    Delete(Member),
    /// A project member's project roles.
    #[command(subcommand, after_help = role_assignments::examples::<role_assignments::ProjectUser>())]
    Roles(role_assignments::RolesCommand<role_assignments::ProjectUser>),
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
pub struct Member {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("who").required(true).args(["user_id", "email"])))]
pub struct CreateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The organization member to add, by user ID…
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: Option<String>,
    /// …or by email.
    #[arg(long, value_name = "EMAIL", value_parser = validate::email)]
    pub email: Option<String>,
    /// Their role in the project.
    #[arg(long, value_enum)]
    pub role: ProjectBaseRole,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    /// Their new role in the project.
    #[arg(long, value_enum)]
    pub role: ProjectBaseRole,
}

pub const VIEW: View = View {
    noun: "project users",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("EMAIL", Cell::Text("email")),
        Column::new("ROLE", Cell::Text("role")),
        Column::new("ADDED", Cell::Time("added_at")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// The path of a project's members.
fn members(project_id: &str) -> Vec<&str> {
    [&projects::project(project_id)[..], &["users"]].concat()
}

impl ListArgs {
    pub fn path(&self) -> Vec<&str> {
        members(&self.project_id)
    }
}

impl Member {
    pub fn path(&self) -> Vec<&str> {
        [&members(&self.project_id)[..], &[&self.user_id]].concat()
    }
}

impl UpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        [&members(&self.project_id)[..], &[&self.user_id]].concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: ProjectUsersCommand) -> Result<(), CliError> {
    match command {
        ProjectUsersCommand::List(args) => {
            ctx.list::<ProjectUserList>(&args.path(), Query::new(), args.paging.paging(), &VIEW)
                .await
        }
        ProjectUsersCommand::Create(args) => {
            let body = ProjectUserCreateRequest {
                user_id: args.user_id.clone(),
                email: args.email.clone(),
                role: Some(args.role.as_str().to_owned()),
            };
            ctx.post_and_show::<ProjectUser>(&members(&args.project_id), &body)
                .await
        }
        ProjectUsersCommand::Retrieve(args) => ctx.get_and_show::<ProjectUser>(&args.path()).await,
        ProjectUsersCommand::Update(args) => {
            let body = ProjectUserUpdateRequest {
                role: Some(args.role.as_str().to_owned()),
            };
            ctx.post_and_show::<ProjectUser>(&args.path(), &body).await
        }
        ProjectUsersCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
        ProjectUsersCommand::Roles(command) => role_assignments::run(ctx, command).await,
    }
}
