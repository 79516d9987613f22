//! `admin organization invites`: invitations (list, create, retrieve, delete) and `accept`, the
//! orgadmin extension that accepts one as the invitee would.

use clap::{Args, Subcommand};
use orgadmin_api::requests::{InviteAcceptRequest, InviteCreateRequest, InviteProjectRequest};
use orgadmin_api::responses::{Deleted, Invite, InviteList, User};
use orgadmin_core::role::OrgBaseRole;
use serde_norway::Value as Tree;

use super::{Ctx, IdPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:invites create --email ada@example.com --role reader --project proj_abc:owner
  orgadmin admin:organization:invites accept --invite-id invite-abc --name 'Ada Lovelace'
  orgadmin admin:organization:invites list --all";

#[derive(Debug, Subcommand)]
pub enum InvitesCommand {
    /// List invites, oldest first: pending, accepted and expired.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:invites list --all --format jsonl")]
    List(ListArgs),
    /// Invite someone to the organization.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:invites create --email ada@example.com --role reader
  orgadmin admin:organization:invites create --email bob@example.com --role owner \\
      --project proj_abc --project proj_def:owner
  orgadmin admin:organization:invites create --email eve@example.com --role reader --no-projects")]
    Create(CreateArgs),
    /// Show one invite.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:invites retrieve --invite-id invite-abc")]
    Retrieve(InviteId),
    /// Delete a pending invite.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:invites delete --invite-id invite-abc")]
    Delete(InviteId),
    /// Accept a pending invite as the invitee would by email (orgadmin extension): they become
    /// a member with the invite's role and projects.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:invites accept --invite-id invite-abc --name 'Ada Lovelace'")]
    Accept(AcceptArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub paging: IdPaging,
}

#[derive(Debug, Args)]
pub struct InviteId {
    /// The invite's ID (`invite-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub invite_id: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The invitee's email address.
    #[arg(long, value_name = "EMAIL", value_parser = validate::email)]
    pub email: String,
    /// Their organization role once they accept.
    #[arg(long, value_enum)]
    pub role: OrgBaseRole,
    /// A project they join on accepting, as `PROJECT_ID` (as a member) or
    /// `PROJECT_ID:owner|member` (repeat for several). Without any, the default project.
    #[arg(long = "project", value_name = "PROJECT_ID[:ROLE]", value_parser = project, conflicts_with = "no_projects")]
    pub projects: Vec<InviteProjectArg>,
    /// Join no project on accepting (not even the default one).
    #[arg(long)]
    pub no_projects: bool,
}

#[derive(Debug, Clone)]
pub struct InviteProjectArg {
    id: String,
    role: &'static str,
}

/// `proj_abc` or `proj_abc:owner`.
fn project(raw: &str) -> Result<InviteProjectArg, String> {
    let (id, role) = match raw.rsplit_once(':') {
        Some((id, role)) => (id, role),
        None => (raw, "member"),
    };
    let role = match role {
        "member" => "member",
        "owner" => "owner",
        other => {
            return Err(format!(
                "'{other}' is not an invite project role; use PROJECT_ID:member or PROJECT_ID:owner"
            ))
        }
    };
    Ok(InviteProjectArg {
        id: validate::id(id)?,
        role,
    })
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// The invite's ID (`invite-…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub invite_id: String,
    /// The new member's display name.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: Option<String>,
}

pub const VIEW: View = View {
    noun: "invites",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("EMAIL", Cell::Text("email")),
        Column::new("ROLE", Cell::Text("role")),
        Column::new("STATUS", Cell::Text("status")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("EXPIRES", Cell::Time("expires_at")),
        Column::new("PROJECTS", Cell::With(projects)),
    ],
};

/// `proj_abc:member,proj_def:owner`.
fn projects(invite: &Tree) -> String {
    let Some(Tree::Sequence(projects)) = invite.get("projects") else {
        return "-".into();
    };
    let names: Vec<String> = projects
        .iter()
        .map(|p| {
            let id = p.get("id").and_then(Tree::as_str).unwrap_or("");
            let role = p.get("role").and_then(Tree::as_str).unwrap_or("");
            crate::error::clean(&format!("{id}:{role}"))
        })
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(",")
    }
}

/// The path of the invites.
const INVITES: [&str; 2] = ["organization", "invites"];

impl InviteId {
    pub fn path(&self) -> Vec<&str> {
        [&INVITES[..], &[&self.invite_id]].concat()
    }
}

impl AcceptArgs {
    pub fn path(&self) -> Vec<&str> {
        [&INVITES[..], &[&self.invite_id, "accept"]].concat()
    }
}

pub async fn run(ctx: &mut Ctx, command: InvitesCommand) -> Result<(), CliError> {
    match command {
        InvitesCommand::List(args) => {
            ctx.list::<InviteList>(&INVITES, Query::new(), args.paging.paging(), &VIEW)
                .await
        }
        InvitesCommand::Create(args) => {
            let projects = if args.no_projects {
                Some(Vec::new())
            } else if args.projects.is_empty() {
                None
            } else {
                Some(
                    args.projects
                        .into_iter()
                        .map(|p| InviteProjectRequest {
                            id: Some(p.id),
                            role: Some(p.role.to_owned()),
                        })
                        .collect(),
                )
            };
            let body = InviteCreateRequest {
                email: Some(args.email),
                role: Some(args.role.as_str().to_owned()),
                projects,
            };
            ctx.post_and_show::<Invite>(&INVITES, &body).await
        }
        InvitesCommand::Retrieve(args) => ctx.get_and_show::<Invite>(&args.path()).await,
        InvitesCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
        InvitesCommand::Accept(args) => {
            let body = InviteAcceptRequest {
                name: args.name.clone(),
            };
            ctx.post_and_show::<User>(&args.path(), &body).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_project_names_its_role_after_a_colon_or_joins_as_member() {
        let p = project("proj_abc").unwrap();
        assert_eq!((p.id.as_str(), p.role), ("proj_abc", "member"));
        let p = project("proj_abc:owner").unwrap();
        assert_eq!((p.id.as_str(), p.role), ("proj_abc", "owner"));
        assert!(project("proj_abc:viewer").is_err());
        assert!(project(":owner").is_err());
    }
}
