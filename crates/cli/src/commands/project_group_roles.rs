//! `admin organization projects groups roles`: the project roles a group holds in a project
//! (list, create, retrieve, delete); its members hold them through it.

use clap::{Args, Subcommand};
use orgadmin_api::requests::RoleAssignRequest;
use orgadmin_api::responses::{
    AssignedRoleDetails, AssignedRoleList, DeletedLink, GroupRoleAssignment,
};

use super::{roles, Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects:groups:roles list --project-id proj_abc --group-id group_abc
  orgadmin admin:organization:projects:groups:roles create --project-id proj_abc --group-id group_abc --role-id role_abc";

#[derive(Debug, Subcommand)]
pub enum ProjectGroupRolesCommand {
    /// List the project roles a group holds in a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:groups:roles list --project-id proj_abc --group-id group_abc")]
    List(ListArgs),
    /// Assign a project role to a group in a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:groups:roles create --project-id proj_abc --group-id group_abc --role-id role_abc")]
    Create(Assignment),
    /// Show one project role a group holds.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:groups:roles retrieve --project-id proj_abc --group-id group_abc \\
      --role-id role-api-project-viewer")]
    Retrieve(Assignment),
    /// Unassign a project role from a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:groups:roles delete --project-id proj_abc --group-id group_abc --role-id role_abc")]
    Delete(Assignment),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct Assignment {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
    /// The role's ID (`role_…`, or a predefined `role-api-project-…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
}

pub async fn run(ctx: &mut Ctx, command: ProjectGroupRolesCommand) -> Result<(), CliError> {
    match command {
        ProjectGroupRolesCommand::List(args) => {
            let mut query = Query::new();
            let paging = args.paging.paging(
                &mut query,
                1000,
                "admin organization projects groups roles list",
            )?;
            ctx.list::<AssignedRoleList>(
                &[
                    "projects",
                    &args.project_id,
                    "groups",
                    &args.group_id,
                    "roles",
                ],
                query,
                paging,
                &roles::ASSIGNED_VIEW,
            )
            .await
        }
        ProjectGroupRolesCommand::Create(args) => {
            let body = RoleAssignRequest {
                role_id: Some(args.role_id),
            };
            let assigned: GroupRoleAssignment = ctx
                .client
                .post(
                    &[
                        "projects",
                        &args.project_id,
                        "groups",
                        &args.group_id,
                        "roles",
                    ],
                    &body,
                )
                .await?;
            ctx.show(&assigned)
        }
        ProjectGroupRolesCommand::Retrieve(args) => {
            let role: AssignedRoleDetails = ctx
                .client
                .get(
                    &[
                        "projects",
                        &args.project_id,
                        "groups",
                        &args.group_id,
                        "roles",
                        &args.role_id,
                    ],
                    &Query::new(),
                )
                .await?;
            ctx.show(&role)
        }
        ProjectGroupRolesCommand::Delete(args) => {
            let deleted: DeletedLink = ctx
                .client
                .delete(&[
                    "projects",
                    &args.project_id,
                    "groups",
                    &args.group_id,
                    "roles",
                    &args.role_id,
                ])
                .await?;
            ctx.show(&deleted)
        }
    }
}
