//! `admin organization audit-logs`: the audit log (list), with the official filters.

use clap::{Args, Subcommand};
use orgadmin_api::responses::AuditLogList;
use serde_norway::Value as Tree;

use super::{Ctx, IdPaging, Order};
use crate::client::Query;
use crate::error::CliError;
use crate::output::{Cell, Column, View};
use crate::validate;

pub const EXAMPLES: &str = "\
Examples:
  orgadmin admin:organization:audit-logs list --event-type user.added --all
  orgadmin admin:organization:audit-logs list --actor-email owner@example.com --effective-at.gte 1735689600
  orgadmin admin:organization:audit-logs list --order asc --all --format jsonl";

#[derive(Debug, Subcommand)]
pub enum AuditLogsCommand {
    /// List audit log events, newest first (--order asc: oldest first), optionally filtered.
    #[command(after_help = "\
Examples:
  orgadmin admin:organization:audit-logs list --event-type role.created --event-type role.deleted
  orgadmin admin:organization:audit-logs list --project-id proj_abc --all --format jsonl
  orgadmin admin:organization:audit-logs list --order asc --effective-at.gte 1735689600 --all
  orgadmin admin:organization:audit-logs list --effective-at.gte 1735689600 --effective-at.lt 1738368000")]
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only events of this type, e.g. user.added (repeat for several).
    #[arg(long = "event-type", value_name = "TYPE", value_parser = validate::event_type)]
    pub event_types: Vec<String>,
    /// Only events by this actor: a user ID or an admin key ID (repeat for several).
    #[arg(long = "actor-id", value_name = "ID", value_parser = validate::id)]
    pub actor_ids: Vec<String>,
    /// Only events by the user with this email (repeat for several).
    #[arg(long = "actor-email", value_name = "EMAIL", value_parser = validate::email)]
    pub actor_emails: Vec<String>,
    /// Only events on this object, e.g. a project ID (repeat for several).
    #[arg(long = "resource-id", value_name = "ID", value_parser = validate::id)]
    pub resource_ids: Vec<String>,
    /// Only events in this project (repeat for several).
    #[arg(long = "project-id", value_name = "ID", value_parser = validate::id)]
    pub project_ids: Vec<String>,
    /// Only events after this Unix time (seconds).
    #[arg(
        long = "effective-at.gt",
        alias = "effective-at-gt",
        value_name = "SECONDS"
    )]
    pub effective_at_gt: Option<i64>,
    /// Only events at or after this Unix time (seconds).
    #[arg(
        long = "effective-at.gte",
        alias = "effective-at-gte",
        value_name = "SECONDS"
    )]
    pub effective_at_gte: Option<i64>,
    /// Only events before this Unix time (seconds).
    #[arg(
        long = "effective-at.lt",
        alias = "effective-at-lt",
        value_name = "SECONDS"
    )]
    pub effective_at_lt: Option<i64>,
    /// Only events at or before this Unix time (seconds).
    #[arg(
        long = "effective-at.lte",
        alias = "effective-at-lte",
        value_name = "SECONDS"
    )]
    pub effective_at_lte: Option<i64>,
    /// Only tenant-scoped events (orgadmin writes none).
    #[arg(long)]
    pub tenant_only: bool,
    /// The page before this event ID in the order listed: newer events, or older ones with
    /// --order asc (instead of --after).
    #[arg(long, value_name = "ID", value_parser = validate::id, conflicts_with_all = ["after", "all"])]
    pub before: Option<String>,
    /// Newest first (desc, the default: --after and --all go on to older events) or oldest first
    /// (asc).
    #[arg(long, value_enum)]
    pub order: Option<Order>,
    #[command(flatten)]
    pub paging: IdPaging,
}

pub const VIEW: View = View {
    noun: "audit log events",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("TYPE", Cell::Text("type")),
        Column::new("EFFECTIVE", Cell::Time("effective_at")),
        Column::new("OBJECT", Cell::With(object)),
        Column::new("PROJECT", Cell::Text("project.id")),
        Column::new("ACTOR", Cell::With(actor)),
    ],
};

/// The ID of what the event is about: the `id` under the key named like its type.
fn object(event: &Tree) -> String {
    let kind = event.get("type").and_then(Tree::as_str).unwrap_or("");
    event
        .get(kind)
        .and_then(|d| d.get("id"))
        .map(crate::output::text)
        .unwrap_or_else(|| "-".into())
}

/// Who acted: the email of the admin key's owner, or of the session's user.
fn actor(event: &Tree) -> String {
    let Some(actor) = event.get("actor") else {
        return "-".into();
    };
    ["api_key", "session"]
        .iter()
        .find_map(|kind| actor.get(kind)?.get("user")?.get("email"))
        .map(crate::output::text)
        .unwrap_or_else(|| "-".into())
}

impl ListArgs {
    pub fn path(&self) -> Vec<&str> {
        vec!["organization", "audit_logs"]
    }
}

pub async fn run(ctx: &mut Ctx, command: AuditLogsCommand) -> Result<(), CliError> {
    let AuditLogsCommand::List(args) = command;
    let mut query = Query::new();
    query
        .push_all("event_types", &args.event_types)
        .push_all("actor_ids", &args.actor_ids)
        .push_all("actor_emails", &args.actor_emails)
        .push_all("resource_ids", &args.resource_ids)
        .push_all("project_ids", &args.project_ids)
        .push_opt("effective_at[gt]", args.effective_at_gt)
        .push_opt("effective_at[gte]", args.effective_at_gte)
        .push_opt("effective_at[lt]", args.effective_at_lt)
        .push_opt("effective_at[lte]", args.effective_at_lte)
        .push_opt("before", args.before.as_deref())
        .push_opt("order", args.order.map(Order::as_str));
    if args.tenant_only {
        query.push("tenant_only", "true");
    }
    ctx.list::<AuditLogList>(&args.path(), query, args.paging.paging(), &VIEW)
        .await
}
