//! The roles a principal holds, in the four places they are assigned: `users roles` and
//! `groups roles` (organization roles), `projects users roles` and `projects groups roles`
//! (project roles). Each place lists the roles held (with where each comes from), assigns one
//! (create), shows one (retrieve) and unassigns one (delete); the places differ only in who holds
//! the roles and where, which [`Place`] states, so the grammar is built here from that table
//! (clap's builder, as the derive would) rather than written out four times.

use std::marker::PhantomData;

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches, Subcommand};
use orgadmin_api::requests::RoleAssignRequest;
use orgadmin_api::responses::{
    AssignedRoleDetails, AssignedRoleList, DeletedLink, DeletedRoleAssignment, GroupRoleAssignment,
    UserRoleAssignment,
};

use super::{roles, Ctx, CursorPaging};
use crate::client::Query;
use crate::error::CliError;
use crate::validate;

/// Who holds the roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    User,
    Group,
}

/// Where the roles apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Organization,
    Project,
}

/// One place roles are assigned, and the words its help uses.
#[derive(Debug)]
pub struct Place {
    pub principal: Principal,
    pub scope: Scope,
    /// What `list`, `create`, `retrieve` and `delete` do, as their help says.
    pub abouts: [&'static str; 4],
    /// The end of `retrieve`'s example, after the principal's IDs (`--role-id …`).
    pub retrieve_example: &'static str,
    /// The methods the `roles` command's own help shows an example of.
    pub overview: &'static [&'static str],
}

const METHODS: [&str; 4] = ["list", "create", "retrieve", "delete"];

/// An ID flag: clap's argument ID, the flag, its help, and the example value the help shows.
struct IdFlag {
    id: &'static str,
    long: &'static str,
    help: &'static str,
    example: &'static str,
}

const PROJECT: IdFlag = IdFlag {
    id: "project_id",
    long: "project-id",
    help: "The project's ID (`proj_…`)",
    example: "proj_abc",
};
const USER: IdFlag = IdFlag {
    id: "user_id",
    long: "user-id",
    help: "The member's user ID (`user-…`)",
    example: "user-abc",
};
const GROUP: IdFlag = IdFlag {
    id: "group_id",
    long: "group-id",
    help: "The group's ID (`group_…`)",
    example: "group_abc",
};

impl Place {
    /// The flags naming the principal, in order.
    fn ids(&self) -> &'static [IdFlag] {
        match (self.scope, self.principal) {
            (Scope::Organization, Principal::User) => &[USER],
            (Scope::Organization, Principal::Group) => &[GROUP],
            (Scope::Project, Principal::User) => &[PROJECT, USER],
            (Scope::Project, Principal::Group) => &[PROJECT, GROUP],
        }
    }

    fn scope_word(&self) -> &'static str {
        match self.scope {
            Scope::Organization => "organization",
            Scope::Project => "project",
        }
    }

    fn principal_word(&self) -> &'static str {
        match self.principal {
            Principal::User => "users",
            Principal::Group => "groups",
        }
    }

    /// `admin:organization:projects:users:roles`
    fn colon_form(&self) -> String {
        match self.scope {
            Scope::Organization => format!("admin:organization:{}:roles", self.principal_word()),
            Scope::Project => format!(
                "admin:organization:projects:{}:roles",
                self.principal_word()
            ),
        }
    }

    /// `--project-id proj_abc --user-id user-abc`
    fn example_ids(&self) -> String {
        let flags: Vec<String> = self
            .ids()
            .iter()
            .map(|flag| format!("--{} {}", flag.long, flag.example))
            .collect();
        flags.join(" ")
    }

    fn example_line(&self, method: &str) -> String {
        let tail = match method {
            "list" => "",
            "retrieve" => self.retrieve_example,
            _ => " --role-id role_abc",
        };
        format!(
            "  orgadmin {} {method} {}{tail}",
            self.colon_form(),
            self.example_ids()
        )
    }

    /// The help's examples of the `roles` command itself.
    pub fn examples(&self) -> String {
        let lines: Vec<String> = self
            .overview
            .iter()
            .map(|method| self.example_line(method))
            .collect();
        format!("Examples:\n{}", lines.join("\n"))
    }

    /// The path of the principal's roles: `organization/users/{id}/roles`,
    /// `projects/{id}/groups/{id}/roles`.
    fn path<'a>(&self, ids: &'a [String]) -> Vec<&'a str> {
        let mut path = match self.scope {
            Scope::Organization => vec!["organization"],
            Scope::Project => vec!["projects", ids[0].as_str()],
        };
        path.extend([self.principal_word(), ids[ids.len() - 1].as_str(), "roles"]);
        path
    }

    /// A subcommand's grammar: the principal's IDs, then `--role-id` or the paging flags.
    fn method(&self, method: &'static str, about: &'static str) -> Command {
        let mut command = Command::new(method);
        for flag in self.ids() {
            command = command.arg(id_arg(flag.id, flag.long, "ID", flag.help));
        }
        command = if method == "list" {
            CursorPaging::augment_args(command)
        } else {
            command.arg(id_arg(
                "role_id",
                "role-id",
                "ROLE_ID",
                format!(
                    "The role's ID (`role_…`, or a predefined `role-api-{}-…`)",
                    self.scope_word()
                ),
            ))
        };
        command
            .about(about)
            .long_about(None)
            .after_help(format!("Example:\n{}", self.example_line(method)))
    }
}

/// A required `--long ID` flag checked by [`validate::id`].
fn id_arg(
    id: &'static str,
    long: &'static str,
    value_name: &'static str,
    help: impl Into<String>,
) -> Arg {
    Arg::new(id)
        .long(long)
        .value_name(value_name)
        .value_parser(validate::id)
        .action(ArgAction::Set)
        .required(true)
        .help(help.into())
}

/// A place, as a type, so that clap can build its grammar without a value.
pub trait Holder: 'static {
    const PLACE: Place;
}

/// The help's examples of place `H`'s `roles` command.
pub fn examples<H: Holder>() -> String {
    H::PLACE.examples()
}

/// `users roles`: a member's organization roles.
#[derive(Debug)]
pub struct OrgUser;
impl Holder for OrgUser {
    const PLACE: Place = Place {
        principal: Principal::User,
        scope: Scope::Organization,
        abouts: [
            "List the roles a member holds, with where each comes from (`direct` or a group)",
            "Assign an organization role to a member (assigning it twice changes nothing)",
            "Show one role a member holds",
            "Unassign a custom organization role from a member (a base role is changed with `users update --role`)",
        ],
        retrieve_example: " --role-id role-api-organization-owner",
        overview: &["list", "create", "delete"],
    };
}

/// `groups roles`: a group's organization roles.
#[derive(Debug)]
pub struct OrgGroup;
impl Holder for OrgGroup {
    const PLACE: Place = Place {
        principal: Principal::Group,
        scope: Scope::Organization,
        abouts: [
            "List the organization roles a group holds",
            "Assign an organization role to a group",
            "Show one organization role a group holds",
            "Unassign an organization role from a group",
        ],
        retrieve_example: " --role-id role_abc",
        overview: &["list", "create"],
    };
}

/// `projects users roles`: a project member's project roles.
#[derive(Debug)]
pub struct ProjectUser;
impl Holder for ProjectUser {
    const PLACE: Place = Place {
        principal: Principal::User,
        scope: Scope::Project,
        abouts: [
            "List the project roles a member holds, with where each comes from",
            "Assign a project role to a project member (assigning it twice changes nothing)",
            "Show one project role a member holds",
            "Unassign a custom project role from a member (the base role is changed with `projects users update --role`)",
        ],
        retrieve_example: " \\\n      --role-id role-api-project-member",
        overview: &["list", "create"],
    };
}

/// `projects groups roles`: a group's project roles in a project.
#[derive(Debug)]
pub struct ProjectGroup;
impl Holder for ProjectGroup {
    const PLACE: Place = Place {
        principal: Principal::Group,
        scope: Scope::Project,
        abouts: [
            "List the project roles a group holds in a project",
            "Assign a project role to a group in a project",
            "Show one project role a group holds",
            "Unassign a project role from a group",
        ],
        retrieve_example: " \\\n      --role-id role-api-project-viewer",
        overview: &["list", "create"],
    };
}

/// What to do with the principal's roles.
#[derive(Debug)]
pub enum Call {
    List(CursorPaging),
    Create { role_id: String },
    Retrieve { role_id: String },
    Delete { role_id: String },
}

/// A role-assignment command of place `H`: the principal's IDs (as [`Place`] orders them) and
/// the call.
#[derive(Debug)]
pub struct RolesCommand<H> {
    pub ids: Vec<String>,
    pub call: Call,
    place: PhantomData<H>,
}

fn required(matches: &ArgMatches, id: &str) -> Result<String, clap::Error> {
    matches.get_one::<String>(id).cloned().ok_or_else(|| {
        clap::Error::raw(
            ErrorKind::MissingRequiredArgument,
            format!("the argument '{id}' is required"),
        )
    })
}

impl<H: Holder> FromArgMatches for RolesCommand<H> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((method, matches)) = matches.subcommand() else {
            return Err(clap::Error::raw(
                ErrorKind::MissingSubcommand,
                "a subcommand is required",
            ));
        };
        let ids = H::PLACE
            .ids()
            .iter()
            .map(|flag| required(matches, flag.id))
            .collect::<Result<_, _>>()?;
        let call = match method {
            "list" => Call::List(CursorPaging::from_arg_matches(matches)?),
            "create" => Call::Create {
                role_id: required(matches, "role_id")?,
            },
            "retrieve" => Call::Retrieve {
                role_id: required(matches, "role_id")?,
            },
            "delete" => Call::Delete {
                role_id: required(matches, "role_id")?,
            },
            other => {
                return Err(clap::Error::raw(
                    ErrorKind::InvalidSubcommand,
                    format!("the subcommand '{other}' wasn't recognized"),
                ))
            }
        };
        Ok(RolesCommand {
            ids,
            call,
            place: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<H: Holder> Subcommand for RolesCommand<H> {
    fn augment_subcommands(command: Command) -> Command {
        let place = &H::PLACE;
        METHODS
            .into_iter()
            .zip(place.abouts)
            .fold(command, |command, (method, about)| {
                command.subcommand(place.method(method, about))
            })
    }

    fn augment_subcommands_for_update(command: Command) -> Command {
        Self::augment_subcommands(command)
    }

    fn has_subcommand(name: &str) -> bool {
        METHODS.contains(&name)
    }
}

impl<H: Holder> RolesCommand<H> {
    /// The path of the principal's roles.
    pub fn path(&self) -> Vec<&str> {
        H::PLACE.path(&self.ids)
    }

    /// The path of one role the principal holds.
    fn role_path<'a>(&'a self, role_id: &'a str) -> Vec<&'a str> {
        let mut path = self.path();
        path.push(role_id);
        path
    }
}

pub async fn run<H: Holder>(ctx: &mut Ctx, command: RolesCommand<H>) -> Result<(), CliError> {
    let principal = H::PLACE.principal;
    match &command.call {
        Call::List(paging) => {
            let mut query = Query::new();
            let paging = paging.paging(&mut query, &ctx.command)?;
            ctx.list::<AssignedRoleList>(&command.path(), query, paging, &roles::ASSIGNED_VIEW)
                .await
        }
        Call::Create { role_id } => {
            let body = RoleAssignRequest {
                role_id: Some(role_id.clone()),
            };
            match principal {
                Principal::User => {
                    ctx.post_and_show::<UserRoleAssignment>(&command.path(), &body)
                        .await
                }
                Principal::Group => {
                    ctx.post_and_show::<GroupRoleAssignment>(&command.path(), &body)
                        .await
                }
            }
        }
        Call::Retrieve { role_id } => {
            ctx.get_and_show::<AssignedRoleDetails>(&command.role_path(role_id))
                .await
        }
        Call::Delete { role_id } => match principal {
            Principal::User => {
                ctx.delete_and_show::<DeletedRoleAssignment>(&command.role_path(role_id))
                    .await
            }
            Principal::Group => {
                ctx.delete_and_show::<DeletedLink>(&command.role_path(role_id))
                    .await
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::commands::{AdminCommand, OrganizationCommand};
    use crate::{parse_from, Command as Top};

    fn parsed(args: &[&str]) -> (String, AdminCommand) {
        let cli = parse_from(crate::rewrite_colon_form(
            ["orgadmin"]
                .iter()
                .chain(args)
                .map(std::ffi::OsString::from),
        ));
        match cli.command {
            Top::Admin(command) => (cli.global.command, command),
            other => panic!("not an admin command: {other:?}"),
        }
    }

    #[test]
    fn each_place_reads_its_ids_and_names_its_path() {
        let (words, command) = parsed(&[
            "admin:organization:projects:groups:roles",
            "delete",
            "--project-id",
            "proj_a",
            "--group-id",
            "group_b",
            "--role-id",
            "role_c",
        ]);
        assert_eq!(words, "admin organization projects groups roles delete");
        let AdminCommand::Organization(OrganizationCommand::Projects(
            crate::commands::projects::ProjectsCommand::Groups(
                crate::commands::project_groups::ProjectGroupsCommand::Roles(roles),
            ),
        )) = command
        else {
            panic!("parsed as another command");
        };
        assert_eq!(
            roles.path(),
            ["projects", "proj_a", "groups", "group_b", "roles"]
        );
        assert!(matches!(&roles.call, Call::Delete { role_id } if role_id == "role_c"));

        let (words, command) = parsed(&[
            "admin",
            "organization",
            "users",
            "roles",
            "list",
            "--user-id",
            "user-a",
            "--limit",
            "5",
        ]);
        assert_eq!(words, "admin organization users roles list");
        let AdminCommand::Organization(OrganizationCommand::Users(
            crate::commands::users::UsersCommand::Roles(roles),
        )) = command
        else {
            panic!("parsed as another command");
        };
        assert_eq!(roles.path(), ["organization", "users", "user-a", "roles"]);
        assert!(matches!(&roles.call, Call::List(paging) if paging.limit == Some(5)));
    }

    #[test]
    fn each_place_requires_its_ids_and_a_role() {
        let command = crate::Cli::command();
        for args in [
            &[
                "admin",
                "organization",
                "groups",
                "roles",
                "create",
                "--group-id",
                "g",
            ][..],
            &[
                "admin",
                "organization",
                "projects",
                "users",
                "roles",
                "retrieve",
                "--user-id",
                "u",
                "--role-id",
                "r",
            ],
            &["admin", "organization", "users", "roles", "list"],
        ] {
            let error = command
                .clone()
                .try_get_matches_from(std::iter::once("orgadmin").chain(args.iter().copied()))
                .expect_err("a required flag is missing");
            assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument, "{args:?}");
        }
    }
}
