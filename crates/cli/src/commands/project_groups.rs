//! `admin organization projects groups`: the groups with access to a project (list, create,
//! retrieve, delete), with `projects groups roles` beneath.

use clap::{Args, Subcommand};
use orgadmin_api::requests::ProjectGroupAddRequest;
use orgadmin_api::responses::{DeletedLink, ProjectGroup, ProjectGroupList};

use super::{projects, role_assignments, Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects:groups list --project-id proj_abc
  orgadmin admin:organization:projects:groups create --project-id proj_abc --group-id group_abc --role member";

#[derive(Debug, Subcommand)]
pub enum ProjectGroupsCommand {
    /// List the groups with access to a project (at most 100 per page).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:groups list --project-id proj_abc --all")]
    List(ListArgs),
    /// Give a group access to a project, with a project role.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:projects:groups create --project-id proj_abc --group-id group_abc --role member
  orgadmin admin:organization:projects:groups create --project-id proj_abc --group-id group_abc --role role_abc")]
    Create(CreateArgs),
    /// Show one group's access to a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:groups retrieve --project-id proj_abc --group-id group_abc")]
    Retrieve(ProjectGroupId),
    /// Take a group's access to a project away.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:groups delete --project-id proj_abc --group-id group_abc")]
    Delete(ProjectGroupId),
    /// The project roles a group holds in a project.
    #[command(subcommand, after_help = role_assignments::examples::<role_assignments::ProjectGroup>())]
    Roles(role_assignments::RolesCommand<role_assignments::ProjectGroup>),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct ProjectGroupId {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
    /// The group's project role: `owner`, `member`, `viewer`, or a role ID of the project.
    #[arg(long, value_name = "ROLE", value_parser = validate::id)]
    pub role: String,
}

pub const VIEW: View = View {
    noun: "project groups",
    columns: &[
        Column::new("GROUP", Cell::Text("group_id")),
        Column::new("PROJECT", Cell::Text("project_id")),
        Column::new("ADDED", Cell::Time("created_at")),
        Column::new("NAME", Cell::Text("group_name")),
    ],
};

/// The path of the groups with access to a project.
fn groups(project_id: &str) -> Vec<&str> {
    [&projects::project(project_id)[..], &["groups"]].concat()
}

impl ListArgs {
    pub fn path(&self) -> Vec<&str> {
        groups(&self.project_id)
    }
}

impl ProjectGroupId {
    pub fn path(&self) -> Vec<&str> {
        [&groups(&self.project_id)[..], &[&self.group_id]].concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: ProjectGroupsCommand) -> Result<(), CliError> {
    match command {
        ProjectGroupsCommand::List(args) => {
            let mut query = Query::new();
            let paging = args
                .paging
                .paging(&mut query, &ctx.command)?
                .at_most(100, &ctx.command)?;
            ctx.list::<ProjectGroupList>(&args.path(), query, paging, &VIEW)
                .await
        }
        ProjectGroupsCommand::Create(args) => {
            let body = ProjectGroupAddRequest {
                group_id: Some(args.group_id.clone()),
                role: Some(args.role.clone()),
            };
            ctx.post_and_show::<ProjectGroup>(&groups(&args.project_id), &body)
                .await
        }
        ProjectGroupsCommand::Retrieve(args) => {
            ctx.get_and_show::<ProjectGroup>(&args.path()).await
        }
        ProjectGroupsCommand::Delete(args) => {
            ctx.delete_and_show::<DeletedLink>(&args.path()).await
        }
        ProjectGroupsCommand::Roles(command) => role_assignments::run(ctx, command).await,
    }
}
