//! The Admin API commands, one module per resource, and what they share: the context a command
//! runs in (client and output), list paging (`--limit`, `--after`, `--all`) and the walk that
//! follows cursors to the end.
//!
//! The tree mirrors the official `openai` CLI: `admin organization <resource> [<sub-resource>]
//! <method>`, written with colons or spaces (`admin:organization:users:roles list`).

pub mod admin_keys;
pub mod audit_logs;
pub mod group_users;
pub mod groups;
pub mod invites;
pub mod project_groups;
pub mod project_keys;
pub mod project_service_accounts;
pub mod project_users;
pub mod projects;
pub mod role_assignments;
pub mod roles;
pub mod users;

use clap::{Args, Subcommand, ValueEnum};
use orgadmin_api::responses::{CursorList, IdList};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::{Client, Query};
use crate::error::CliError;
use crate::output::{Output, Progress, View};

/// `orgadmin admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// The organization's identity and access: users, roles, groups, projects, invites, admin
    /// keys, audit logs.
    #[command(
        subcommand,
        after_help = "\
Examples:
  orgadmin admin:organization:users list
  orgadmin admin organization projects list --all"
    )]
    Organization(OrganizationCommand),
}

/// `orgadmin admin organization …`
#[derive(Debug, Subcommand)]
pub enum OrganizationCommand {
    /// Organization members and their roles.
    #[command(subcommand, after_help = users::EXAMPLES)]
    Users(users::UsersCommand),
    /// Organization roles: the predefined `owner` and `reader`, and custom roles.
    #[command(subcommand, after_help = roles::ORG_EXAMPLES)]
    Roles(roles::OrgRolesCommand),
    /// Groups of members, their members and their roles.
    #[command(subcommand, after_help = groups::EXAMPLES)]
    Groups(groups::GroupsCommand),
    /// Projects, their members and groups, and their roles.
    #[command(subcommand, after_help = projects::EXAMPLES)]
    Projects(projects::ProjectsCommand),
    /// Invitations to join the organization.
    #[command(subcommand, after_help = invites::EXAMPLES)]
    Invites(invites::InvitesCommand),
    /// Admin API keys.
    #[command(subcommand, name = "admin-api-keys", after_help = admin_keys::EXAMPLES)]
    AdminApiKeys(admin_keys::AdminKeysCommand),
    /// The audit log of changes.
    #[command(subcommand, name = "audit-logs", after_help = audit_logs::EXAMPLES)]
    AuditLogs(audit_logs::AuditLogsCommand),
}

/// What a command runs with.
pub struct Ctx {
    pub client: Client,
    pub out: Output,
    /// The command's words as clap matched them (`admin organization users roles list`), for
    /// usage errors.
    pub command: String,
}

pub async fn run(ctx: &mut Ctx, command: AdminCommand) -> Result<(), CliError> {
    let AdminCommand::Organization(command) = command;
    match command {
        OrganizationCommand::Users(c) => users::run(ctx, c).await,
        OrganizationCommand::Roles(c) => roles::run_org(ctx, c).await,
        OrganizationCommand::Groups(c) => groups::run(ctx, c).await,
        OrganizationCommand::Projects(c) => projects::run(ctx, c).await,
        OrganizationCommand::Invites(c) => invites::run(ctx, c).await,
        OrganizationCommand::AdminApiKeys(c) => admin_keys::run(ctx, c).await,
        OrganizationCommand::AuditLogs(c) => audit_logs::run(ctx, c).await,
    }
}

/// A list envelope: its items, and the cursor of the next page.
pub trait Listing: DeserializeOwned + Serialize {
    type Item: Serialize;
    fn items(&self) -> &[Self::Item];
    fn has_more(&self) -> bool;
    /// What to pass as `after` for the next page.
    fn next_cursor(&self) -> Option<String>;
}

impl<T: DeserializeOwned + Serialize> Listing for IdList<T> {
    type Item = T;
    fn items(&self) -> &[T] {
        &self.data
    }
    fn has_more(&self) -> bool {
        self.has_more
    }
    fn next_cursor(&self) -> Option<String> {
        self.next.clone().or_else(|| self.last_id.clone())
    }
}

impl<T: DeserializeOwned + Serialize> Listing for CursorList<T> {
    type Item = T;
    fn items(&self) -> &[T] {
        &self.data
    }
    fn has_more(&self) -> bool {
        self.has_more
    }
    fn next_cursor(&self) -> Option<String> {
        self.next.clone()
    }
}

/// `--limit`, `--after` and `--all` of a list paged by object ID (users, projects, project
/// users, invites, audit logs): 1–100 per page.
#[derive(Debug, Clone, Args)]
pub struct IdPaging {
    /// Objects per page, 1 to 100 (the server's default is 20; --all asks for 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: Option<u32>,
    /// Start after this object ID (the last ID of the previous page).
    #[arg(long, value_name = "ID")]
    pub after: Option<String>,
    /// Follow the cursor to the end of the list, printing each page as it arrives.
    #[arg(long)]
    pub all: bool,
}

/// The largest page of a list paged by an opaque cursor.
const CURSOR_PAGE_MAX: u32 = 1000;

/// `--limit`, `--after`, `--order` and `--all` of a list paged by an opaque `next` cursor (roles,
/// role assignments, admin keys): 0–1000 per page.
#[derive(Debug, Clone, Args)]
pub struct CursorPaging {
    /// Objects per page, 0 to 1000.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=i64::from(CURSOR_PAGE_MAX)))]
    pub limit: Option<u32>,
    /// Start after this cursor (the `next` of the previous page).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
    /// Sort order.
    #[arg(long, value_enum)]
    pub order: Option<Order>,
    /// Follow the cursor to the end of the list, printing each page as it arrives.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// Paging of one list request, whichever its kind.
pub struct Paging {
    pub limit: Option<u32>,
    pub after: Option<String>,
    pub all: bool,
    /// Page size `--all` asks for when `--limit` is not given.
    pub page_size: u32,
}

impl IdPaging {
    pub fn paging(&self) -> Paging {
        Paging {
            limit: self.limit,
            after: self.after.clone(),
            all: self.all,
            page_size: 100,
        }
    }
}

impl CursorPaging {
    /// The paging, and `order` added to `query`. `command` names the command for usage errors.
    pub fn paging(&self, query: &mut Query, command: &str) -> Result<Paging, CliError> {
        if self.all && self.limit == Some(0) {
            return Err(CliError::usage(
                command,
                "--all with --limit 0 would never reach the end; give a --limit of at least 1",
            ));
        }
        query.push_opt("order", self.order.map(Order::as_str));
        Ok(Paging {
            limit: self.limit,
            after: self.after.clone(),
            all: self.all,
            page_size: CURSOR_PAGE_MAX,
        })
    }
}

impl Paging {
    /// The paging of a list whose pages are smaller than its flag's range allows: a larger
    /// `--limit` is refused, and `--all` asks for `max`.
    pub fn at_most(self, max: u32, command: &str) -> Result<Paging, CliError> {
        if let Some(limit) = self.limit.filter(|l| *l > max) {
            return Err(CliError::usage(
                command,
                format!("--limit {limit} is too large: this list pages at most {max} at a time"),
            ));
        }
        Ok(Paging {
            page_size: max,
            ..self
        })
    }
}

impl Ctx {
    /// Print one object.
    pub fn show<T: Serialize>(&mut self, value: &T) -> Result<(), CliError> {
        self.out.object(value)
    }

    /// GET one object and print it.
    pub async fn get_and_show<T: DeserializeOwned + Serialize>(
        &mut self,
        path: &[&str],
    ) -> Result<(), CliError> {
        let value: T = self.client.get(path, &Query::new()).await?;
        self.show(&value)
    }

    /// POST a body and print the object answered.
    pub async fn post_and_show<T: DeserializeOwned + Serialize>(
        &mut self,
        path: &[&str],
        body: &impl Serialize,
    ) -> Result<(), CliError> {
        let value: T = self.client.post(path, body).await?;
        self.show(&value)
    }

    /// DELETE and print the deletion object answered.
    pub async fn delete_and_show<T: DeserializeOwned + Serialize>(
        &mut self,
        path: &[&str],
    ) -> Result<(), CliError> {
        let value: T = self.client.delete(path).await?;
        self.show(&value)
    }

    /// GET a list: one page, or with `--all` every page from `--after` on, streamed.
    pub async fn list<L: Listing>(
        &mut self,
        path: &[&str],
        query: Query,
        paging: Paging,
        view: &View,
    ) -> Result<(), CliError> {
        let Ctx { client, out, .. } = self;
        if !paging.all {
            let mut q = query;
            q.push_opt("limit", paging.limit)
                .push_opt("after", paging.after.as_deref());
            let page: L = client.get(path, &q).await?;
            out.page(&page, page.items(), view)?;
            if page.has_more() && out.prints_items() {
                if let Some(cursor) = page.next_cursor() {
                    eprintln!(
                        "More {} follow: continue with --after {cursor}, or pass --all.",
                        view.noun
                    );
                }
            }
            return Ok(());
        }
        let limit = paging.limit.unwrap_or(paging.page_size);
        let mut after = paging.after;
        let mut progress = Progress::new(view.noun);
        let mut stream = out.stream(view);
        loop {
            let mut q = query.clone();
            q.push("limit", limit).push_opt("after", after.as_deref());
            let page: L = progress.wait(client.get(path, &q)).await?;
            progress.clear();
            stream.push(page.items())?;
            progress.add(page.items().len());
            if !page.has_more() {
                break;
            }
            let next = page.next_cursor().filter(|c| !c.is_empty());
            match next {
                Some(next) if after.as_deref() != Some(next.as_str()) => after = Some(next),
                _ => {
                    return Err(CliError::Response {
                        message: format!(
                            "the server said more {} follow after {} but gave no new cursor; stopped after {} to avoid looping",
                            view.noun,
                            after.as_deref().unwrap_or("the start"),
                            stream.count()
                        ),
                        request_id: None,
                    })
                }
            }
        }
        drop(progress);
        stream.finish()
    }
}
