//! `admin organization projects users roles`: the project roles a project member holds (list,
//! retrieve) and assigning or unassigning custom ones (create, delete).

use clap::{Args, Subcommand};
use orgadmin_api::requests::RoleAssignRequest;
use orgadmin_api::responses::{
    AssignedRoleDetails, AssignedRoleList, DeletedRoleAssignment, UserRoleAssignment,
};

use super::{roles, Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects:users:roles list --project-id proj_abc --user-id user-abc
  orgadmin admin:organization:projects:users:roles create --project-id proj_abc --user-id user-abc --role-id role_abc";

#[derive(Debug, Subcommand)]
pub enum ProjectUserRolesCommand {
    /// List the project roles a member holds, with where each comes from.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users:roles list --project-id proj_abc --user-id user-abc")]
    List(ListArgs),
    /// Assign a project role to a project member (assigning it twice changes nothing).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users:roles create --project-id proj_abc --user-id user-abc --role-id role_abc")]
    Create(Assignment),
    /// Show one project role a member holds.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users:roles retrieve --project-id proj_abc --user-id user-abc \\
      --role-id role-api-project-member")]
    Retrieve(Assignment),
    /// Unassign a custom project role from a member (the base role is changed with
    /// `projects users update --role`).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:users:roles delete --project-id proj_abc --user-id user-abc --role-id role_abc")]
    Delete(Assignment),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct Assignment {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    /// The role's ID (`role_…`, or a predefined `role-api-project-…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
}

pub async fn run(ctx: &mut Ctx, command: ProjectUserRolesCommand) -> Result<(), CliError> {
    match command {
        ProjectUserRolesCommand::List(args) => {
            let mut query = Query::new();
            let paging = args.paging.paging(
                &mut query,
                1000,
                "admin organization projects users roles list",
            )?;
            ctx.list::<AssignedRoleList>(
                &[
                    "projects",
                    &args.project_id,
                    "users",
                    &args.user_id,
                    "roles",
                ],
                query,
                paging,
                &roles::ASSIGNED_VIEW,
            )
            .await
        }
        ProjectUserRolesCommand::Create(args) => {
            let body = RoleAssignRequest {
                role_id: Some(args.role_id),
            };
            let assigned: UserRoleAssignment = ctx
                .client
                .post(
                    &[
                        "projects",
                        &args.project_id,
                        "users",
                        &args.user_id,
                        "roles",
                    ],
                    &body,
                )
                .await?;
            ctx.show(&assigned)
        }
        ProjectUserRolesCommand::Retrieve(args) => {
            let role: AssignedRoleDetails = ctx
                .client
                .get(
                    &[
                        "projects",
                        &args.project_id,
                        "users",
                        &args.user_id,
                        "roles",
                        &args.role_id,
                    ],
                    &Query::new(),
                )
                .await?;
            ctx.show(&role)
        }
        ProjectUserRolesCommand::Delete(args) => {
            let deleted: DeletedRoleAssignment = ctx
                .client
                .delete(&[
                    "projects",
                    &args.project_id,
                    "users",
                    &args.user_id,
                    "roles",
                    &args.role_id,
                ])
                .await?;
            ctx.show(&deleted)
        }
    }
}
