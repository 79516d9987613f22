//! `orgadmin org create|list|retrieve|delete|reset|snapshot|restore`, `orgadmin clock`,
//! `orgadmin faults` and `orgadmin requests`: the operator API (`/_orgadmin/organizations…`),
//! over HTTP with the server's operator key, as the `admin …` commands reach the Admin API with
//! an admin key. The operator API lives beside `/v1`, so its
//! URL is the client's base URL (`--base-url`, `OPENAI_BASE_URL`) without its `/v1`.

use std::io::IsTerminal;
use std::time::Duration;

use clap::{Args, Subcommand};
use orgadmin_api::operator::{
    Cleared, CreatedOrganization, Fault, FaultCreateRequest, FaultList, JournalList, Organization,
    OrganizationClock, OrganizationCreateRequest, OrganizationList,
};
use orgadmin_api::responses::Deleted;
use reqwest::Method;

use crate::client::{server_root, Client, ClientConfig, Query};
use crate::commands::{Ctx, IdPaging};
use crate::error::CliError;
use crate::output::{Cell, Column, Format, Output, View};
use crate::validate;

/// The operator API's organizations, below the server's root.
const ORGANIZATIONS: [&str; 2] = ["_orgadmin", "organizations"];

/// `orgadmin org …` over the operator API.
#[derive(Debug, Subcommand)]
pub enum OperatorOrgCommand {
    /// Create an organization with its owner, default project and first admin key, and print
    /// them as JSON (the key's secret only this once). Each organization's keys see only its own
    /// objects.
    #[command(after_help = "\
Examples:
  orgadmin org create --name Acme --owner-email root@acme.example
  orgadmin org create --fixture tests/acme.yaml
  export OPENAI_ADMIN_KEY=$(orgadmin org create --transform admin_key.value -r)")]
    Create(CreateArgs),
    /// List the server's organizations, oldest first.
    #[command(after_help = "\
Example:
  orgadmin org list --all --format table")]
    List(ListArgs),
    /// Show one organization.
    #[command(after_help = "\
Example:
  orgadmin org retrieve --org-id org-…")]
    Retrieve(OrgIdArgs),
    /// Delete an organization and everything in it; its keys stop working at once.
    #[command(after_help = "\
Example:
  orgadmin org delete --org-id org-…")]
    Delete(OrgIdArgs),
    /// Bring an organization back to the state right after its creation: its owner, default
    /// project and first admin key (which works again, with the secret it was created with) under
    /// the same IDs, and nothing else. Prints what create printed, without the key's secret.
    #[command(after_help = "\
Example:
  orgadmin org reset --org-id org-…")]
    Reset(OrgIdArgs),
    /// Print the whole organization as one JSON document (members, projects, roles, groups,
    /// keys as hashes, policies, the audit log), to restore later.
    #[command(after_help = "\
Example:
  orgadmin org snapshot --org-id org-… > golden.json")]
    Snapshot(OrgIdArgs),
    /// Restore a snapshot: in place with --org-id (the organization becomes what the snapshot
    /// holds), or as a new organization without it (every key gets a new secret, printed once).
    #[command(after_help = "\
Examples:
  orgadmin org restore golden.json --org-id org-…
  orgadmin org restore golden.json --transform admin_key.value -r")]
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The snapshot file (`orgadmin org snapshot`), or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Restore in place into this organization (`org-…`); a new organization when omitted.
    #[arg(long = "org-id", visible_alias = "org", value_name = "ORG_ID", value_parser = validate::id)]
    pub org_id: Option<String>,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

/// `orgadmin clock`: an organization's clock.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("change").args(["advance", "set", "freeze", "unfreeze"])))]
pub struct ClockArgs {
    /// The organization's ID (`org-…`).
    #[arg(long = "org-id", visible_alias = "org", value_name = "ORG_ID", value_parser = validate::id)]
    pub org_id: String,
    /// Move the clock forward by this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(0..))]
    pub advance: Option<i64>,
    /// Set the clock to this Unix time (seconds); earlier than it shows sets it back.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub set: Option<i64>,
    /// Stop the clock where it is.
    #[arg(long)]
    pub freeze: bool,
    /// Let a stopped clock run on from where it stopped.
    #[arg(long)]
    pub unfreeze: bool,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

/// `orgadmin faults …`: answers injected into an organization's requests.
#[derive(Debug, Subcommand)]
pub enum FaultsCommand {
    /// The organization's faults, with how often each fired.
    #[command(after_help = "\
Example:
  orgadmin faults list --org-id org-…")]
    List(OrgIdArgs),
    /// Answer the organization's matching requests with STATUS before they do anything.
    #[command(after_help = "\
Examples:
  orgadmin faults inject --org-id org-… --path /v1/organization/invites --method POST --status 503 --times 1
  orgadmin faults inject --org-id org-… --path '/v1/organization/users/{user_id}' --status 429 --retry-after 2")]
    Inject(InjectArgs),
    /// Remove every fault of the organization.
    #[command(after_help = "\
Example:
  orgadmin faults clear --org-id org-…")]
    Clear(OrgIdArgs),
}

#[derive(Debug, Args)]
pub struct InjectArgs {
    /// The organization's ID (`org-…`).
    #[arg(long = "org-id", visible_alias = "org", value_name = "ORG_ID", value_parser = validate::id)]
    pub org_id: String,
    /// A route template (`/v1/organization/users/{user_id}`) or a path prefix.
    #[arg(long, value_name = "PATH")]
    pub path: String,
    /// 429, 500, 502, 503 or 504; without it the fault only delays (--latency-ms).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<u16>,
    /// Only requests of this method.
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// The JSON body to answer with (the Admin API's error envelope by default).
    #[arg(long, value_name = "JSON", value_parser = json_value)]
    pub body: Option<serde_json::Value>,
    /// Seconds for a Retry-After header.
    #[arg(long, value_name = "SECONDS")]
    pub retry_after: Option<u64>,
    /// Milliseconds to wait before answering.
    #[arg(long, value_name = "MS")]
    pub latency_ms: Option<u64>,
    /// Fire for this many matching requests only.
    #[arg(long, value_name = "N", conflicts_with = "probability")]
    pub times: Option<u64>,
    /// Fire for each matching request with this probability (above 0, at most 1).
    #[arg(long, value_name = "P")]
    pub probability: Option<f64>,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

fn json_value(raw: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))
}

/// `orgadmin requests …`: the organization's request journal.
#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// The latest requests made with the organization's keys, newest first.
    #[command(after_help = "\
Example:
  orgadmin requests list --org-id org-… --method DELETE --format table")]
    List(RequestsListArgs),
    /// Forget every journaled request of the organization.
    #[command(after_help = "\
Example:
  orgadmin requests clear --org-id org-…")]
    Clear(OrgIdArgs),
}

#[derive(Debug, Args)]
pub struct RequestsListArgs {
    /// The organization's ID (`org-…`).
    #[arg(long = "org-id", visible_alias = "org", value_name = "ORG_ID", value_parser = validate::id)]
    pub org_id: String,
    /// Only requests of this method.
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// Only requests that matched this route template.
    #[arg(long, value_name = "TEMPLATE")]
    pub route: Option<String>,
    /// At most this many (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

pub const REQUESTS_VIEW: View = View {
    noun: "requests",
    columns: &[
        Column::new("TIME", Cell::Time("created_at")),
        Column::new("METHOD", Cell::Text("method")),
        Column::new("ROUTE", Cell::Text("route")),
        Column::new("STATUS", Cell::Text("status")),
        Column::new("ID", Cell::Text("id")),
    ],
};

/// How the operator API is reached: the server's operator key.
#[derive(Debug, Clone, Args)]
pub struct OperatorKeyArg {
    /// The server's operator key (`sk-operator-…`) [env: ORGADMIN_OPERATOR_KEY] (the
    /// environment is the better place: a flag shows in `ps`)
    #[arg(long, value_name = "KEY")]
    pub operator_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The organization's name [default: Default Organization]
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub name: Option<String>,
    /// The owner's email address [default: owner@example.com]
    #[arg(long, value_name = "EMAIL", value_parser = validate::email)]
    pub owner_email: Option<String>,
    /// The owner's display name [default: Owner]
    #[arg(long, value_name = "NAME", value_parser = validate::text)]
    pub owner_name: Option<String>,
    /// The first admin key's secret (`sk-admin-` and at least 32 letters, digits, `-` or `_`), so
    /// a test can hard-code it; a random one when omitted
    #[arg(long, value_name = "KEY")]
    pub admin_key: Option<String>,
    /// A fixture file (YAML or JSON, docs/fixtures.md) the organization starts from; the server
    /// checks it whole and creates nothing if it breaks a rule
    #[arg(long, value_name = "FILE")]
    pub fixture: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub paging: IdPaging,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

#[derive(Debug, Args)]
pub struct OrgIdArgs {
    /// The organization's ID (`org-…`).
    #[arg(long = "org-id", visible_alias = "org", value_name = "ORG_ID", value_parser = validate::id)]
    pub org_id: String,
    #[command(flatten)]
    pub key: OperatorKeyArg,
}

impl OrgIdArgs {
    fn path(&self) -> Vec<&str> {
        [&ORGANIZATIONS[..], &[self.org_id.as_str()]].concat()
    }
}

pub const VIEW: View = View {
    noun: "organizations",
    columns: &[
        Column::new("ID", Cell::Text("id")),
        Column::new("CREATED", Cell::Time("created_at")),
        Column::new("NAME", Cell::Text("name")),
    ],
};

impl OperatorOrgCommand {
    fn key(&self) -> &OperatorKeyArg {
        match self {
            OperatorOrgCommand::Create(args) => &args.key,
            OperatorOrgCommand::List(args) => &args.key,
            OperatorOrgCommand::Retrieve(args)
            | OperatorOrgCommand::Delete(args)
            | OperatorOrgCommand::Reset(args)
            | OperatorOrgCommand::Snapshot(args) => &args.key,
            OperatorOrgCommand::Restore(args) => &args.key,
        }
    }

    /// What `auto` means for this command: JSON even on a terminal for the documents that hold
    /// a secret or IDs to copy whole (create, reset), a table elsewhere on a terminal.
    fn auto_is_json(&self) -> bool {
        matches!(
            self,
            OperatorOrgCommand::Create(_)
                | OperatorOrgCommand::Reset(_)
                | OperatorOrgCommand::Snapshot(_)
                | OperatorOrgCommand::Restore(_)
        )
    }
}

/// The operator API's client for a command: the operator key (flag or environment), the
/// server's root URL, and the output `auto` resolves to (JSON for documents to copy whole).
fn connect(
    global: &crate::GlobalArgs,
    key: &OperatorKeyArg,
    auto_is_json: bool,
) -> Result<Ctx, CliError> {
    let settings = global.settings()?;
    let operator_key = key
        .operator_key
        .clone()
        .or_else(|| std::env::var("ORGADMIN_OPERATOR_KEY").ok())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            CliError::usage(
                &global.command,
                "no operator key: set ORGADMIN_OPERATOR_KEY (or pass --operator-key); the server \
                 prints it at its first start, or keeps it in the file operator-key beside its \
                 SQLite database",
            )
        })?;
    let root = server_root(&settings.base_url)
        .map_err(|e| CliError::usage(&global.command, format!("invalid --base-url: {e}")))?;
    let client = Client::new(ClientConfig {
        base_url: root,
        admin_key: operator_key,
        timeout: Duration::from_secs(settings.timeout),
        max_retries: settings.max_retries,
        verbose: settings.verbose,
    })?;
    let terminal = std::io::stdout().is_terminal() && !auto_is_json;
    let format = settings.format.resolve(terminal, Format::Json);
    Ok(Ctx {
        client,
        out: Output::new(format).with_selection(settings.selection),
        command: global.command.clone(),
    })
}

/// Run one `org` command against the operator API.
pub async fn run(global: &crate::GlobalArgs, command: OperatorOrgCommand) -> Result<(), CliError> {
    let mut ctx = connect(global, command.key(), command.auto_is_json())?;
    match command {
        OperatorOrgCommand::Create(args) => {
            let fixture = match &args.fixture {
                Some(path) => Some(serde_json::Value::String(
                    std::fs::read_to_string(path).map_err(|e| {
                        CliError::usage(
                            &ctx.command,
                            format!("cannot read --fixture {}: {e}", path.display()),
                        )
                    })?,
                )),
                None => None,
            };
            let body = OrganizationCreateRequest {
                name: args.name,
                owner_email: args.owner_email,
                owner_name: args.owner_name,
                admin_key: args.admin_key,
                snapshot: None,
                fixture,
            };
            let created: CreatedOrganization = ctx.client.post(&ORGANIZATIONS, &body).await?;
            ctx.show(&created)?;
            eprintln!(
                "Created organization {}. Store the admin key's value now: it is not shown again.",
                created.organization.id
            );
            Ok(())
        }
        OperatorOrgCommand::List(args) => {
            let paging = args.paging.paging();
            ctx.list::<OrganizationList>(&ORGANIZATIONS, Query::new(), paging, &VIEW)
                .await
        }
        OperatorOrgCommand::Retrieve(args) => ctx.get_and_show::<Organization>(&args.path()).await,
        OperatorOrgCommand::Delete(args) => ctx.delete_and_show::<Deleted>(&args.path()).await,
        OperatorOrgCommand::Reset(args) => {
            let path = [args.path(), vec!["reset"]].concat();
            ctx.post_and_show::<CreatedOrganization>(&path, &serde_json::json!({}))
                .await?;
            eprintln!(
                "Reset organization {}: its first admin key works again, with the secret it was created with.",
                args.org_id
            );
            Ok(())
        }
        OperatorOrgCommand::Snapshot(args) => {
            let path = [args.path(), vec!["snapshot"]].concat();
            ctx.get_and_show::<serde_json::Value>(&path).await
        }
        OperatorOrgCommand::Restore(args) => {
            let snapshot = read_document(&args.file, &ctx.command)?;
            match &args.org_id {
                Some(org_id) => {
                    let path = [&ORGANIZATIONS[..], &[org_id.as_str(), "snapshot"]].concat();
                    let restored: Organization = ctx
                        .client
                        .send_document(Method::PUT, &path, snapshot)
                        .await?;
                    ctx.show(&restored)?;
                    eprintln!("Restored organization {org_id} from {}.", args.file);
                }
                None => {
                    let body = serde_json::json!({ "snapshot": snapshot });
                    let created: CreatedOrganization = ctx
                        .client
                        .send_document(Method::POST, &ORGANIZATIONS, body)
                        .await?;
                    ctx.show(&created)?;
                    eprintln!(
                        "Restored {} as organization {}, every key with a new secret: store them now, they are not shown again.",
                        args.file, created.organization.id
                    );
                }
            }
            Ok(())
        }
    }
}

/// A JSON document from a file, or from standard input for `-`; a file that cannot be read or
/// is not JSON is a usage error naming it.
fn read_document(file: &str, command: &str) -> Result<serde_json::Value, CliError> {
    let text = if file == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| CliError::usage(command, format!("reading standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| CliError::usage(command, format!("reading {file}: {e}")))?
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::usage(command, format!("{file} is not a JSON document: {e}")))
}

/// The path of one of an organization's operator resources (`clock`, `faults`, `requests`).
fn org_path<'a>(org_id: &'a str, resource: &'a str) -> Vec<&'a str> {
    [&ORGANIZATIONS[..], &[org_id, resource]].concat()
}

/// `orgadmin clock`: read it, or make one change and print what it shows then.
pub async fn clock(global: &crate::GlobalArgs, args: ClockArgs) -> Result<(), CliError> {
    let mut ctx = connect(global, &args.key, false)?;
    let path = org_path(&args.org_id, "clock");
    let change = if let Some(seconds) = args.advance {
        Some(serde_json::json!({ "advance_seconds": seconds }))
    } else if let Some(now) = args.set {
        Some(serde_json::json!({ "now": now }))
    } else if args.freeze || args.unfreeze {
        Some(serde_json::json!({ "frozen": args.freeze }))
    } else {
        None
    };
    match change {
        Some(body) => ctx.post_and_show::<OrganizationClock>(&path, &body).await,
        None => ctx.get_and_show::<OrganizationClock>(&path).await,
    }
}

/// `orgadmin faults …`.
pub async fn faults(global: &crate::GlobalArgs, command: FaultsCommand) -> Result<(), CliError> {
    match command {
        FaultsCommand::List(args) => {
            let mut ctx = connect(global, &args.key, false)?;
            ctx.get_and_show::<FaultList>(&org_path(&args.org_id, "faults"))
                .await
        }
        FaultsCommand::Inject(args) => {
            let mut ctx = connect(global, &args.key, false)?;
            let body = FaultCreateRequest {
                method: args.method,
                path: Some(args.path),
                status: args.status,
                body: args.body,
                retry_after: args.retry_after,
                latency_ms: args.latency_ms,
                times: args.times,
                probability: args.probability,
            };
            ctx.post_and_show::<Fault>(&org_path(&args.org_id, "faults"), &body)
                .await
        }
        FaultsCommand::Clear(args) => {
            let mut ctx = connect(global, &args.key, false)?;
            let cleared: Cleared = ctx.client.delete(&org_path(&args.org_id, "faults")).await?;
            ctx.show(&cleared)
        }
    }
}

/// `orgadmin requests …`.
pub async fn requests(
    global: &crate::GlobalArgs,
    command: RequestsCommand,
) -> Result<(), CliError> {
    match command {
        RequestsCommand::List(args) => {
            let mut ctx = connect(global, &args.key, false)?;
            let mut query = Query::new();
            query.push("limit", args.limit);
            query
                .push_opt("method", args.method.as_deref())
                .push_opt("route", args.route.as_deref());
            let journal: JournalList = ctx
                .client
                .get(&org_path(&args.org_id, "requests"), &query)
                .await?;
            ctx.out.page(&journal, &journal.data, &REQUESTS_VIEW)
        }
        RequestsCommand::Clear(args) => {
            let mut ctx = connect(global, &args.key, false)?;
            let cleared: Cleared = ctx
                .client
                .delete(&org_path(&args.org_id, "requests"))
                .await?;
            ctx.show(&cleared)
        }
    }
}
