//! `admin organization roles` and `admin organization projects roles`: the predefined and custom
//! roles of the organization and of a project (list, create, retrieve, update, delete), and the
//! table views of roles and of roles as a principal holds them.

use clap::{ArgGroup, Args, Subcommand};
use orgadmin_api::requests::{RoleCreateRequest, RoleUpdateRequest};
use orgadmin_api::responses::{Deleted, Role, RoleList};
use serde_norway::Value as Tree;

use super::{Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const ORG_EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:roles list
  orgadmin admin:organization:roles create --role-name auditor \\
      --permission api.organization.audit_logs.read --permission api.organization.users.read
  orgadmin admin:organization:roles delete --role-id role_abc";

pub const PROJECT_EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:projects:roles list --project-id proj_abc
  orgadmin admin:organization:projects:roles create --project-id proj_abc --role-name files \\
      --permission api.files.read --permission api.files.write";

#[derive(Debug, Subcommand)]
pub enum OrgRolesCommand {
    /// List the organization's roles: predefined first, then custom ones.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:roles list
  orgadmin admin:organization:roles list --all --format jsonl")]
    List(OrgListArgs),
    /// Create a custom organization role.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:roles create --role-name auditor \\
      --permission api.organization.audit_logs.read --description 'Reads the audit log'")]
    Create(OrgCreateArgs),
    /// Show one organization role.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:roles retrieve --role-id role-api-organization-reader")]
    Retrieve(OrgRoleId),
    /// Change a custom organization role: name, description, or its whole set of permissions.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:roles update --role-id role_abc --permission api.organization.read")]
    Update(OrgUpdateArgs),
    /// Delete a custom organization role, and its assignments.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:roles delete --role-id role_abc")]
    Delete(OrgRoleId),
}

#[derive(Debug, Subcommand)]
pub enum ProjectRolesCommand {
    /// List a project's roles: predefined first, then custom ones.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:roles list --project-id proj_abc")]
    List(ProjectListArgs),
    /// Create a custom role in a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:roles create --project-id proj_abc --role-name files \\
      --permission api.files.read --permission api.files.write")]
    Create(ProjectCreateArgs),
    /// Show one role of a project.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:roles retrieve --project-id proj_abc --role-id role_abc")]
    Retrieve(ProjectRoleId),
    /// Change a custom project role: name, description, or its whole set of permissions.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:roles update --project-id proj_abc --role-id role_abc \\
      --role-name readers")]
    Update(ProjectUpdateArgs),
    /// Delete a custom project role, and its assignments.
    #[command(after_help = "\
Example:
  orgadmin admin:organization:projects:roles delete --project-id proj_abc --role-id role_abc")]
    Delete(ProjectRoleId),
}

#[derive(Debug, Args)]
pub struct OrgListArgs {
    #[command(flatten)]
    pub paging: CursorPaging,
}

#[derive(Debug, Args)]
pub struct ProjectListArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    #[command(flatten)]
    pub paging: CursorPaging,
}

/// The fields of a new role.
#[derive(Debug, Args)]
pub struct NewRole {
    /// The role's name, unique in its organization or project.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub role_name: String,
    /// A permission the role grants (repeat for several).
    #[arg(long = "permission", value_name = "PERMISSION", required = true, value_parser = validate::permission)]
    pub permissions: Vec<String>,
    /// What the role is for.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

/// Changes to a role: absent fields stay as they are.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)
    .args(["role_name", "permissions", "description"])))]
pub struct RoleChange {
    /// New name.
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub role_name: Option<String>,
    /// The role's new set of permissions, replacing the old one (repeat for several).
    #[arg(long = "permission", value_name = "PERMISSION", value_parser = validate::permission)]
    pub permissions: Vec<String>,
    /// New description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct OrgCreateArgs {
    #[command(flatten)]
    pub role: NewRole,
}

#[derive(Debug, Args)]
pub struct OrgRoleId {
    /// The role's ID (`role_…`, or a predefined `role-api-organization-…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
}

#[derive(Debug, Args)]
pub struct OrgUpdateArgs {
    /// The role's ID (`role_…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
    #[command(flatten)]
    pub change: RoleChange,
}

#[derive(Debug, Args)]
pub struct ProjectCreateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    #[command(flatten)]
    pub role: NewRole,
}

#[derive(Debug, Args)]
pub struct ProjectRoleId {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The role's ID (`role_…`, or a predefined `role-api-project-…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
}

#[derive(Debug, Args)]
pub struct ProjectUpdateArgs {
    /// The project's ID (`proj_…`).
    #[arg(long, value_name = "ID", value_parser = validate::id)]
    pub project_id: String,
    /// The role's ID (`role_…`).
    #[arg(long, value_name = "ROLE_ID", value_parser = validate::id)]
    pub role_id: String,
    #[command(flatten)]
    pub change: RoleChange,
}

impl NewRole {
    fn request(&self) -> RoleCreateRequest {
        RoleCreateRequest {
            role_name: Some(self.role_name.clone()),
            permissions: Some(self.permissions.clone()),
            description: self.description.clone(),
        }
    }
}

impl RoleChange {
    fn request(&self) -> RoleUpdateRequest {
        RoleUpdateRequest {
            role_name: self.role_name.clone(),
            permissions: (!self.permissions.is_empty()).then(|| self.permissions.clone()),
            description: self.description.clone(),
        }
    }
}

/// Roles (`role` objects).
pub const VIEW: View = View {
    noun: "roles",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("NAME", Cell::Text("name")),
        Column::new("PREDEFINED", Cell::Text("predefined_role")),
        Column::new("PERMISSIONS", Cell::Count("permissions")),
        Column::new("DESCRIPTION", Cell::Text("description")),
    ],
};

/// Roles as a principal holds them, with where each comes from.
pub const ASSIGNED_VIEW: View = View {
    noun: "roles",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("NAME", Cell::Text("name")),
        Column::new("PREDEFINED", Cell::Text("predefined_role")),
        Column::new("PERMISSIONS", Cell::Count("permissions")),
        Column::new("FROM", Cell::With(sources)),
    ],
};

/// `direct` for a user's own assignment, `group:<id>` for one through a group.
fn sources(role: &Tree) -> String {
    let Some(Tree::Sequence(sources)) = role.get("assignment_sources") else {
        return "-".into();
    };
    let names: Vec<String> = sources
        .iter()
        .map(|s| crate::error::clean(&source(s)))
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(",")
    }
}

/// One assignment source (`assignment_sources[i]`), as the tables show it: `direct` for a user's
/// own assignment, `<type>:<id>` (`group:group_abc`) for one through another principal.
pub fn source(source: &Tree) -> String {
    let kind = source
        .get("principal_type")
        .and_then(Tree::as_str)
        .unwrap_or("");
    let id = source
        .get("principal_id")
        .and_then(Tree::as_str)
        .unwrap_or("");
    if kind == "user" {
        "direct".to_owned()
    } else {
        format!("{kind}:{id}")
    }
}

/// The path of the organization's roles.
const ORG_ROLES: [&str; 2] = ["organization", "roles"];

/// The path of a project's roles.
fn project_roles(project_id: &str) -> Vec<&str> {
    vec!["projects", project_id, "roles"]
}

impl OrgRoleId {
    pub fn path(&self) -> Vec<&str> {
        [&ORG_ROLES[..], &[&self.role_id]].concat()
    }
}

impl OrgUpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        [&ORG_ROLES[..], &[&self.role_id]].concat()
    }
}

impl ProjectListArgs {
    pub fn path(&self) -> Vec<&str> {
        project_roles(&self.project_id)
    }
}

impl ProjectCreateArgs {
    pub fn path(&self) -> Vec<&str> {
        project_roles(&self.project_id)
    }
}

impl ProjectRoleId {
    pub fn path(&self) -> Vec<&str> {
        [&project_roles(&self.project_id)[..], &[&self.role_id]].concat()
    }
}

impl ProjectUpdateArgs {
    pub fn path(&self) -> Vec<&str> {
        [&project_roles(&self.project_id)[..], &[&self.role_id]].concat()
    }
}

pub async fn run_org(ctx: &mut Ctx, command: OrgRolesCommand) -> Result<(), CliError> {
    match command {
        OrgRolesCommand::List(args) => {
            let mut query = Query::new();
            let paging = args.paging.paging(&mut query, &ctx.command)?;
            ctx.list::<RoleList>(&ORG_ROLES, query, paging, &VIEW).await
        }
        OrgRolesCommand::Create(args) => {
            ctx.post_and_show::<Role>(&ORG_ROLES, &args.role.request())
                .await
        }
        OrgRolesCommand::Retrieve(args) => ctx.get_and_show::<Role>(&args.path()).await,
        OrgRolesCommand::Update(args) => {
            ctx.post_and_show::<Role>(&args.path(), &args.change.request())
                .await
        }
        OrgRolesCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
    }
}

pub async fn run_project(ctx: &mut Ctx, command: ProjectRolesCommand) -> Result<(), CliError> {
    match command {
        ProjectRolesCommand::List(args) => {
            let mut query = Query::new();
            let paging = args.paging.paging(&mut query, &ctx.command)?;
            ctx.list::<RoleList>(&args.path(), query, paging, &VIEW)
                .await
        }
        ProjectRolesCommand::Create(args) => {
            ctx.post_and_show::<Role>(&args.path(), &args.role.request())
                .await
        }
        ProjectRolesCommand::Retrieve(args) => ctx.get_and_show::<Role>(&args.path()).await,
        ProjectRolesCommand::Update(args) => {
            ctx.post_and_show::<Role>(&args.path(), &args.change.request())
                .await
        }
        ProjectRolesCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
    }
}
