//! `admin organization groups users`: a group's members (list, create, retrieve, delete).

use clap::{Args, Subcommand};
use orgadmin_api::requests::GroupUserAddRequest;
use orgadmin_api::responses::{DeletedLink, GroupMemberUser, GroupUserAssignment, GroupUserList};

use super::{Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:groups:users list --group-id group_abc
  orgadmin admin:organization:groups:users create --group-id group_abc --user-id user-abc
  orgadmin admin:organization:groups:users delete --group-id group_abc --user-id user-abc";

#[derive(Debug, Subcommand)]
pub enum GroupUsersCommand {
    /// List a group's members, newest first unless --order asc.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:users list --group-id group_abc --order asc --all")]
    List(ListArgs),
    /// Add an organization member to a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:users create --group-id group_abc --user-id user-abc")]
    Create(Membership),
    /// Show one member of a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:users retrieve --group-id group_abc --user-id user-abc")]
    Retrieve(Membership),
    /// Remove a member from a group.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:groups:users delete --group-id group_abc --user-id user-abc")]
    Delete(Membership),
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
pub struct Membership {
    /// The group's ID (`group_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub group_id: String,
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
}

pub const VIEW: View = View {
    noun: "group members",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("EMAIL", Cell::Text("email")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// The path of a group's members.
fn members(group_id: &str) -> Vec<&str> {
    vec!["organization", "groups", group_id, "users"]
}

impl ListArgs {
    pub fn path(&self) -> Vec<&str> {
        members(&self.group_id)
    }
}

impl Membership {
    pub fn path(&self) -> Vec<&str> {
        let mut path = members(&self.group_id);
        path.push(&self.user_id);
        path
    }
}

pub async fn run(ctx: &mut Ctx, command: GroupUsersCommand) -> Result<(), CliError> {
    match command {
        GroupUsersCommand::List(args) => {
            let mut query = Query::new();
            let paging = args.paging.paging(&mut query, &ctx.command)?;
            ctx.list::<GroupUserList>(&args.path(), query, paging, &VIEW)
                .await
        }
        GroupUsersCommand::Create(args) => {
            let body = GroupUserAddRequest {
                user_id: Some(args.user_id.clone()),
            };
            ctx.post_and_show::<GroupUserAssignment>(&members(&args.group_id), &body)
                .await
        }
        GroupUsersCommand::Retrieve(args) => {
            ctx.get_and_show::<GroupMemberUser>(&args.path()).await
        }
        GroupUsersCommand::Delete(args) => ctx.delete_and_show::<DeletedLink>(&args.path()).await,
    }
}
