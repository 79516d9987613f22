//! `admin organization groups`: groups of members (list, create, retrieve, update, delete), with
//! `groups users` and `groups roles` beneath.

use clap::{Args, Subcommand};
use orgadmin_api::requests::GroupRequest;
use orgadmin_api::responses::{Deleted, Group, GroupList};

use super::{group_users, role_assignments, Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:groups create --name engineering
  orgadmin admin:organization:groups:users create --group-id group_abc --user-id user-abc
  orgadmin admin:organization:groups:roles create --group-id group_abc --role-id role_abc";

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List the organization's groups.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups list --all")]
    List(ListArgs),
    /// Create a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups create --name engineering")]
    Create(CreateArgs),
    /// Show one group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups retrieve --group-id group_abc")]
    Retrieve(GroupId),
    /// Rename a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups update --group-id group_abc --name platform")]
    Update(UpdateArgs),
    /// Delete a group: its members lose the roles they held through it.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups delete --group-id group_abc")]
    Delete(GroupId),
    /// A group's members.
    #[command(subcommand, after_help = group_users::EXAMPLES)]
    Users(group_users::GroupUsersCommand),
    /// A group's organization roles (its members hold them too).
    #[command(subcommand, after_help = role_assignments::examples::<role_assignments::OrgGroup>())]
    Roles(role_assignments::RolesCommand<role_assignments::OrgGroup>),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct GroupId {
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The group's name, unique in the organization.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
    /// The group's new name.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: String,
}

pub const VIEW: View = View {
    noun: "groups",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// The path of the organization's groups.
const GROUPS: [&str; 2] = ["organization", "groups"];

impl GroupId {
    pub fn path(&self) -> Vec<&str> {
        [&GROUPS[..], &[&self.group_id]].concat()
    }
}

impl UpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        [&GROUPS[..], &[&self.group_id]].concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: GroupsCommand) -> Result<(), CliError> {
    match command {
        GroupsCommand::List(args) => {
            let mut query = Query::new();
            let paging = args.paging.paging(&mut query, &ctx.command)?;
            ctx.list::<GroupList>(&GROUPS, query, paging, &VIEW).await
        }
        GroupsCommand::Create(args) => {
            let body = GroupRequest {
                name: Some(args.name),
            };
            ctx.post_and_show::<Group>(&GROUPS, &body).await
        }
        GroupsCommand::Retrieve(args) => ctx.get_and_show::<Group>(&args.path()).await,
        GroupsCommand::Update(args) => {
            let body = GroupRequest {
                name: Some(args.name.clone()),
            };
            ctx.post_and_show::<Group>(&args.path(), &body).await
        }
        GroupsCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
        GroupsCommand::Users(command) => group_users::run(ctx, command).await,
        GroupsCommand::Roles(command) => role_assignments::run(ctx, command).await,
    }
}
