//! `admin organization users roles`: the organization roles a member holds (list, retrieve)
//! and assigning or unassigning custom ones (create, delete).

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
  orgadmin admin:organization:users:roles list --user-id user-abc
  orgadmin admin:organization:users:roles create --user-id user-abc --role-id role_abc
  orgadmin admin:organization:users:roles delete --user-id user-abc --role-id role_abc";

#[derive(Debug, Subcommand)]
pub enum UserRolesCommand {
    /// List the roles a member holds, with where each comes from (`direct` or a group).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:users:roles list --user-id user-abc")]
    List(ListArgs),
    /// Assign an organization role to a member (assigning it twice changes nothing).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:users:roles create --user-id user-abc --role-id role_abc")]
    Create(Assignment),
    /// Show one role a member holds.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:users:roles retrieve --user-id user-abc --role-id role-api-organization-owner")]
    Retrieve(Assignment),
    /// Unassign a custom organization role from a member (a base role is changed with
    /// `users update --role`).
    #[command(after_help = "\
Example:
  orgadmin admin:organization:users:roles delete --user-id user-abc --role-id role_abc")]
    Delete(Assignment),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct Assignment {
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    /// The role's ID (`role_…`, or a predefined `role-api-organization-…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
}

pub async fn run(ctx: &mut Ctx, command: UserRolesCommand) -> Result<(), CliError> {
    match command {
        UserRolesCommand::List(args) => {
            let mut query = Query::new();
            let paging =
                args.paging
                    .paging(&mut query, 1000, "admin organization users roles list")?;
            ctx.list::<AssignedRoleList>(
                &["organization", "users", &args.user_id, "roles"],
                query,
                paging,
                &roles::ASSIGNED_VIEW,
            )
            .await
        }
        UserRolesCommand::Create(args) => {
            let body = RoleAssignRequest {
                role_id: Some(args.role_id),
            };
            let assigned: UserRoleAssignment = ctx
                .client
                .post(&["organization", "users", &args.user_id, "roles"], &body)
                .await?;
            ctx.show(&assigned)
        }
        UserRolesCommand::Retrieve(args) => {
            let role: AssignedRoleDetails = ctx
                .client
                .get(
                    &[
                        "organization",
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
        UserRolesCommand::Delete(args) => {
            let deleted: DeletedRoleAssignment = ctx
                .client
                .delete(&[
                    "organization",
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
