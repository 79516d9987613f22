//! `admin organization groups roles`: the organization roles a group holds (list, create,
//! retrieve, delete); its members hold them through it.

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
  orgadmin admin:organization:groups:roles list --group-id group_abc
  orgadmin admin:organization:groups:roles create --group-id group_abc --role-id role_abc";

#[derive(Debug, Subcommand)]
pub enum GroupRolesCommand {
    /// List the organization roles a group holds.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:roles list --group-id group_abc")]
    List(ListArgs),
    /// Assign an organization role to a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:roles create --group-id group_abc --role-id role_abc")]
    Create(Assignment),
    /// Show one organization role a group holds.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:roles retrieve --group-id group_abc --role-id role_abc")]
    Retrieve(Assignment),
    /// Unassign an organization role from a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:roles delete --group-id group_abc --role-id role_abc")]
    Delete(Assignment),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct Assignment {
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
    /// The role's ID (`role_…`, or a predefined `role-api-organization-…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
}

pub async fn run(ctx: &mut Ctx, command: GroupRolesCommand) -> Result<(), CliError> {
    match command {
        GroupRolesCommand::List(args) => {
            let mut query = Query::new();
            let paging =
                args.paging
                    .paging(&mut query, 1000, "admin organization groups roles list")?;
            ctx.list::<AssignedRoleList>(
                &["organization", "groups", &args.group_id, "roles"],
                query,
                paging,
                &roles::ASSIGNED_VIEW,
            )
            .await
        }
        GroupRolesCommand::Create(args) => {
            let body = RoleAssignRequest {
                role_id: Some(args.role_id),
            };
            let assigned: GroupRoleAssignment = ctx
                .client
                .post(&["organization", "groups", &args.group_id, "roles"], &body)
                .await?;
            ctx.show(&assigned)
        }
        GroupRolesCommand::Retrieve(args) => {
            let role: AssignedRoleDetails = ctx
                .client
                .get(
                    &[
                        "organization",
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
        GroupRolesCommand::Delete(args) => {
            let deleted: DeletedLink = ctx
                .client
                .delete(&[
                    "organization",
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
