//! `admin organization users`: the organization's members (list, retrieve, update, delete), and
//! `users roles`, their organization role assignments.

use clap::{ArgGroup, Args, Subcommand};
use orgadmin_api::requests::UserUpdateRequest;
use orgadmin_api::responses::{Deleted, User, UserList, UserPermissions};
use orgadmin_core::role::OrgBaseRole;
use serde_norway::Value as Tree;

use super::{role_assignments, roles, Ctx, IdPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, Format, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:users list
  orgadmin admin:organization:users retrieve --user-id user-abc
  orgadmin admin:organization:users:roles list --user-id user-abc";

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List the organization's members, oldest first.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:users list
  orgadmin admin:organization:users list --email ada@example.com --email bob@example.com
  orgadmin admin:organization:users list --all --format jsonl")]
    List(ListArgs),
    /// Show one member.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:users retrieve --user-id user-abc")]
    Retrieve(UserId),
    /// Change a member's base role (`owner` or `reader`), assign a custom role, or set their
    /// metadata.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:users update --user-id user-abc --role owner
  orgadmin admin:organization:users update --user-id user-abc --role-id role_abc
  orgadmin admin:organization:users update --user-id user-abc --developer-persona backend")]
    Update(UpdateArgs),
    /// Remove a member from the organization, with their project memberships, role
    /// assignments and admin keys.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:users delete --user-id user-abc")]
    Delete(UserId),
    /// What a member may do, and which roles (held directly or through groups) grant each
    /// permission; with --project-id, in that project too (orgadmin extension).
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:users permissions --user-id user-abc
  orgadmin admin:organization:users permissions --user-id user-abc --project-id proj_abc --format json")]
    Permissions(PermissionsArgs),
    /// A member's organization roles: the base role and custom roles, direct or through groups.
    #[command(subcommand, after_help = role_assignments::examples::<role_assignments::OrgUser>())]
    Roles(role_assignments::RolesCommand<role_assignments::OrgUser>),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only members with this email (repeat for several; case does not matter).
    #[arg(long = "email", value_name = "EMAIL", value_parser = validate::email)]
    pub emails: Vec<String>,
    #[command(flatten)]
    pub paging: IdPaging,
}

#[derive(Debug, Args)]
pub struct UserId {
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
}

#[derive(Debug, Args)]
pub struct PermissionsArgs {
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    /// Count the member's roles in this project too (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)
    .args(["role", "role_id", "developer_persona", "technical_level"])))]
pub struct UpdateArgs {
    /// The member's user ID (`user-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub user_id: String,
    /// New base role.
    #[arg(long, value_enum)]
    pub role: Option<OrgBaseRole>,
    /// A role ID: a predefined base role (`role-api-organization-owner`, `…-reader`) changes the
    /// base role; a custom organization role (`role_…`) is assigned.
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: Option<String>,
    /// Developer persona metadata.
    #[arg(long, value_name = "TEXT")]
    pub developer_persona: Option<String>,
    /// Technical level metadata.
    #[arg(long, value_name = "TEXT")]
    pub technical_level: Option<String>,
}

pub const VIEW: View = View {
    noun: "users",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("EMAIL", Cell::Text("email")),
        Column::new("ROLE", Cell::Text("role")),
        Column::new("ADDED", Cell::Time("added_at")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

/// A member's effective permissions, one per row.
const PERMISSIONS_VIEW: View = View {
    noun: "permissions",
    columns: &[
        Column::new("PERMISSION", Cell::Text("permission")),
        Column::new("GRANTED_BY", Cell::With(granted_by)),
    ],
};

/// `owner(direct),auditors(group:group_abc)`: each granting role and where it is held from.
fn granted_by(permission: &Tree) -> String {
    let Some(Tree::Sequence(grants)) = permission.get("granted_by") else {
        return "-".into();
    };
    let grants: Vec<String> = grants
        .iter()
        .map(|g| {
            let role = g.get("role_name").and_then(Tree::as_str).unwrap_or("");
            let sources: Vec<String> = match g.get("assignment_sources") {
                Some(Tree::Sequence(sources)) => sources.iter().map(roles::source).collect(),
                _ => Vec::new(),
            };
            crate::error::clean(&format!("{role}({})", sources.join("+")))
        })
        .collect();
    grants.join(",")
}

/// The path of the organization's members.
const USERS: [&str; 2] = ["organization", "users"];

impl UserId {
    pub fn path(&self) -> Vec<&str> {
        [&USERS[..], &[&self.user_id]].concat()
    }
}

impl UpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        [&USERS[..], &[&self.user_id]].concat()
    }
}

impl PermissionsArgs {
    pub fn path(&self) -> Vec<&str> {
        [&USERS[..], &[&self.user_id, "permissions"]].concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: UsersCommand) -> Result<(), CliError> {
    match command {
        UsersCommand::List(args) => {
            let mut query = Query::new();
            query.push_all("emails", &args.emails);
            ctx.list::<UserList>(&USERS, query, args.paging.paging(), &VIEW)
                .await
        }
        UsersCommand::Retrieve(args) => ctx.get_and_show::<User>(&args.path()).await,
        UsersCommand::Update(args) => {
            let body = UserUpdateRequest {
                role: args.role.map(|r| r.as_str().to_owned()),
                role_id: args.role_id.clone(),
                developer_persona: args.developer_persona.clone(),
                technical_level: args.technical_level.clone(),
            };
            ctx.post_and_show::<User>(&args.path(), &body).await
        }
        UsersCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
        UsersCommand::Permissions(args) => {
            let mut query = Query::new();
            query.push_opt("project_id", args.project_id.as_deref());
            let permissions: UserPermissions = ctx.client.get(&args.path(), &query).await?;
            if ctx.out.format() == Format::Table && !ctx.out.has_selection() {
                let mut rows = ctx.out.stream(&PERMISSIONS_VIEW);
                rows.push(&permissions.permissions)?;
                rows.finish()
            } else {
                ctx.show(&permissions)
            }
        }
        UsersCommand::Roles(command) => role_assignments::run(ctx, command).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_grant_names_its_role_and_where_it_is_held_from() {
        let permission: Tree = serde_norway::from_str(
            r#"
granted_by:
  - role_name: owner
    assignment_sources:
      - {principal_type: user, principal_id: user-a}
      - {principal_type: group, principal_id: group_b}
  - role_name: "x\u001b[2J"
    assignment_sources: []
"#,
        )
        .unwrap();
        assert_eq!(
            granted_by(&permission),
            "owner(direct+group:group_b),x\\u{1b}[2J()"
        );
        assert_eq!(granted_by(&Tree::Null), "-");
    }
}
