//! The command-line grammar of the `orgadmin` binary: the global flags, `serve`, `init`, `org`
//! (its operator API commands in [`crate::operator`]), `completion`, and `admin …` (whose resources live in [`crate::commands`]).

use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use orgadmin_core::catalogue::ModelCatalogue;
use orgadmin_core::fixture::{Fixture, FixtureProblem};
use orgadmin_core::scim::Provisioning;
use orgadmin_core::store::{Consistency, UserIds};

use crate::commands::AdminCommand;
use crate::error::CliError;
use crate::output::{FormatArg, Selection};

/// Where the client looks for the API unless told otherwise.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/v1";
/// Where `serve`, `init` and `org key` keep their data unless told otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://orgadmin-data/orgadmin.db";

const CLIENT: &str = "Client options";

const ROOT_EXAMPLES: &str = "\
Examples:
  orgadmin serve
  export OPENAI_ADMIN_KEY=$(cat orgadmin-data/initial-admin-key)
  orgadmin admin:organization:users list
  orgadmin admin organization users list --format json
  orgadmin admin:organization:users list --all --transform email -r
  orgadmin completion bash > ~/.local/share/bash-completion/completions/orgadmin

Exit status: 0 success, 1 the API refused the request, 2 usage error, 3 the server could not be
reached, 4 the answer was not the Admin API's, 5 a local failure.";

#[derive(Debug, Parser)]
#[command(
    name = "orgadmin",
    version,
    about = "The OpenAI Admin API's identity and access, served locally, and a client for it.",
    long_about = "The OpenAI Admin API's identity and access, served locally (`orgadmin serve`), \
                  and a client for it in the official openai CLI's grammar \
                  (`orgadmin admin:organization:users list`, or with spaces).",
    after_help = ROOT_EXAMPLES,
    subcommand_required = true,
    arg_required_else_help = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every client command takes, before or after the command words. Each falls back to an
/// environment variable, read here rather than by clap so that a key in the environment never
/// shows up in a usage message.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The API's base URL [env: OPENAI_BASE_URL] [default: http://127.0.0.1:8080/v1]
    #[arg(long, global = true, value_name = "URL", help_heading = CLIENT)]
    pub base_url: Option<String>,
    /// The admin API key to send [env: OPENAI_ADMIN_KEY] (the environment is the better place:
    /// a flag shows in `ps`)
    #[arg(long, global = true, value_name = "KEY", help_heading = CLIENT)]
    pub admin_api_key: Option<String>,
    /// Output format: auto is a table on a terminal, JSON otherwise [env: ORGADMIN_FORMAT]
    /// [default: auto]
    #[arg(long, global = true, value_enum, value_name = "FORMAT", help_heading = CLIENT)]
    pub format: Option<FormatArg>,
    /// Print only this part of the answer (of each item, for lists), one JSON value per line:
    /// a path such as `id`, `owner.email`, `projects.#.id`
    #[arg(long, global = true, value_name = "PATH", help_heading = CLIENT)]
    pub transform: Option<String>,
    /// With --transform, print strings without JSON quotes
    #[arg(short = 'r', long, global = true, help_heading = CLIENT)]
    pub raw_output: bool,
    /// Give up on a request after this many seconds [env: ORGADMIN_TIMEOUT] [default: 60]
    #[arg(long, global = true, value_parser = clap::value_parser!(u64).range(1..=3600),
          value_name = "SECONDS", help_heading = CLIENT)]
    pub timeout: Option<u64>,
    /// Retries of a request the server asks to repeat (429, 503) or that could not connect
    /// [env: ORGADMIN_MAX_RETRIES] [default: 2]
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(0..=10),
          value_name = "N", help_heading = CLIENT)]
    pub max_retries: Option<u32>,
    /// Log each request and its answer (status, time, request ID) on standard error
    #[arg(short, long, global = true, help_heading = CLIENT)]
    pub verbose: bool,
    /// The words of the command run (`admin organization users list`), for usage errors: not a
    /// flag, [`crate::parse`] fills it in from what clap matched.
    #[arg(skip)]
    pub command: String,
}

/// The global flags with their environment variables and defaults applied.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub admin_api_key: Option<String>,
    pub format: FormatArg,
    pub selection: Option<Selection>,
    pub timeout: u64,
    pub max_retries: u32,
    pub verbose: bool,
}

impl GlobalArgs {
    /// Flag, else environment variable, else default. A malformed variable is a usage error
    /// that names it.
    pub fn settings(&self) -> Result<Settings, CliError> {
        Ok(Settings {
            base_url: self
                .base_url
                .clone()
                .or_else(|| env("OPENAI_BASE_URL"))
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            admin_api_key: self
                .admin_api_key
                .clone()
                .or_else(|| env("OPENAI_ADMIN_KEY"))
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty()),
            format: match self.format {
                Some(format) => format,
                None => parsed("ORGADMIN_FORMAT", |v| FormatArg::from_str(v, true).ok())?
                    .unwrap_or(FormatArg::Auto),
            },
            selection: match (&self.transform, self.raw_output) {
                (Some(path), raw) => Some(
                    Selection::parse(path, raw)
                        .map_err(|e| CliError::usage("", format!("invalid --transform: {e}")))?,
                ),
                (None, true) => {
                    return Err(CliError::usage(
                        "",
                        "--raw-output applies to --transform; give a --transform path too",
                    ))
                }
                (None, false) => None,
            },
            timeout: match self.timeout {
                Some(timeout) => timeout,
                None => parsed("ORGADMIN_TIMEOUT", |v| {
                    v.parse::<u64>().ok().filter(|t| (1..=3600).contains(t))
                })?
                .unwrap_or(60),
            },
            max_retries: match self.max_retries {
                Some(retries) => retries,
                None => parsed("ORGADMIN_MAX_RETRIES", |v| {
                    v.parse::<u32>().ok().filter(|r| *r <= 10)
                })?
                .unwrap_or(2),
            },
            verbose: self.verbose,
        })
    }
}

/// A variable that is set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T>(name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, CliError> {
    match env(name) {
        None => Ok(None),
        Some(raw) => parse(raw.trim()).map(Some).ok_or_else(|| {
            CliError::usage(
                "",
                format!("the environment variable {name}={raw:?} is not a valid value"),
            )
        }),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    #[command(after_help = "\
Examples:
  orgadmin serve --listen 127.0.0.1:8080 --database sqlite://orgadmin-data/orgadmin.db
  orgadmin serve --rate-limit official   # imitate the Admin API's low limits (retry testing)")]
    Serve(ServeArgs),
    /// Create the database with its first organization, owner, default project and admin key,
    /// and print them with the key's secret, once.
    #[command(after_help = "\
Examples:
  orgadmin init --database sqlite://orgadmin-data/orgadmin.db --owner-email ada@example.com
  ORGADMIN_ADMIN_KEY=sk-admin-… orgadmin init --database postgres://orgadmin@db/orgadmin")]
    Init(InitArgs),
    /// The server's organizations, through the operator API (`/_orgadmin/…`, with the server's
    /// operator key): create, list, retrieve, delete, reset.
    #[command(
        subcommand,
        after_help = "\
Examples:
  export ORGADMIN_OPERATOR_KEY=$(cat orgadmin-data/operator-key)
  orgadmin org create --name Acme --owner-email root@acme.example
  orgadmin org create --fixture tests/acme.yaml
  orgadmin org list"
    )]
    Org(OrgCommand),
    /// An organization's clock, through the operator API: print it, or --advance, --set,
    /// --freeze or --unfreeze it. Invites and keys of that organization expire by it.
    #[command(after_help = "\
Examples:
  orgadmin clock --org-id org-…
  orgadmin clock --org-id org-… --advance 691200")]
    Clock(crate::operator::ClockArgs),
    /// Answers injected into an organization's requests, through the operator API.
    #[command(
        subcommand,
        after_help = "\
Examples:
  orgadmin faults inject --org-id org-… --path /v1/organization/invites --status 503 --times 1
  orgadmin faults list --org-id org-…"
    )]
    Faults(crate::operator::FaultsCommand),
    /// The request journal of an organization, through the operator API.
    #[command(
        subcommand,
        after_help = "\
Examples:
  orgadmin requests list --org-id org-… --method POST
  orgadmin requests clear --org-id org-…"
    )]
    Requests(crate::operator::RequestsCommand),
    /// Bulk import, streamed to the server's bulk endpoint and acting as the admin key in
    /// OPENAI_ADMIN_KEY.
    #[command(
        subcommand,
        after_help = "\
Example:
  orgadmin import users people.csv --base-url http://127.0.0.1:8080/v1"
    )]
    Import(crate::import::ImportCommand),
    /// The Admin API client: `admin organization <resource> <method>`.
    #[command(
        subcommand,
        after_help = "\
Examples:
  orgadmin admin:organization:users list
  orgadmin admin organization projects create --name Gateway"
    )]
    Admin(AdminCommand),
    /// Print a completion script for a shell.
    #[command(after_help = "\
Examples:
  orgadmin completion bash > ~/.local/share/bash-completion/completions/orgadmin
  orgadmin completion zsh > \"${fpath[1]}/_orgadmin\"
  orgadmin completion fish > ~/.config/fish/completions/orgadmin.fish")]
    Completion(CompletionArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ORGADMIN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DB.
    #[arg(long, env = "ORGADMIN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database: String,
    /// Log format.
    #[arg(long, env = "ORGADMIN_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Text)]
    pub log_format: LogFormatArg,
    /// Email of the owner created on first start.
    #[arg(
        long,
        env = "ORGADMIN_OWNER_EMAIL",
        default_value = "owner@example.com",
        hide_env_values = true
    )]
    pub owner_email: String,
    /// Requests per minute per admin key (burst the same unless --rate-limit-burst), answered
    /// with x-ratelimit-* headers and Retry-After; or `official`: 7 a minute per key and
    /// endpoint, burst 7, and no such headers, as the real Admin API was seen to answer. Off by
    /// default.
    #[arg(long, env = "ORGADMIN_RATE_LIMIT", value_name = "N|official", value_parser = rate_limit_value)]
    pub rate_limit: Option<String>,
    /// Most requests a key may send at once with --rate-limit N.
    #[arg(long, env = "ORGADMIN_RATE_LIMIT_BURST", value_name = "N", requires = "rate_limit",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: Option<u32>,
    #[command(flatten)]
    pub user_ids: UserIdsArg,
    /// How a server on PostgreSQL knows whether an organization changed. `strict`: it asks the
    /// database at every request, so a change made through any replica binds the next request
    /// everywhere. `bounded`: it remembers, and forgets when another replica's commit is
    /// notified (LISTEN/NOTIFY), saving that statement; a change made elsewhere binds here
    /// within milliseconds, and while the notifications' connection is down it asks at every
    /// request. SQLite is exact either way.
    #[arg(long, env = "ORGADMIN_CONSISTENCY", value_name = "strict|bounded",
          default_value = "strict", value_parser = consistency_value)]
    pub consistency: Consistency,
    /// A model catalogue replacing the one shipped (docs/models.md): the models projects'
    /// policies may name, with the organization's rate limits. Checked whole at start; every
    /// replica of one database must be given the same file.
    #[arg(long, env = "ORGADMIN_MODELS", value_name = "FILE", value_parser = models_value)]
    pub models: Option<Arc<ModelCatalogue>>,
    /// The operator key (`sk-operator-` and at least 32 letters, digits, '-' or '_') that opens
    /// the operator API (/_orgadmin/…). Without it, the key in the file `operator-key` beside a
    /// SQLite database (made at the first start, mode 0600), or a random one printed once.
    #[arg(
        long,
        env = "ORGADMIN_OPERATOR_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub operator_key: Option<String>,
    /// Requests kept per organization in the request journal of the operator API
    /// (GET /_orgadmin/organizations/{org_id}/requests); 0 turns the journal off.
    #[arg(
        long,
        env = "ORGADMIN_JOURNAL_SIZE",
        value_name = "N",
        default_value_t = 1000
    )]
    pub journal_size: usize,
    /// A fixture (docs/fixtures.md): the organization the first start creates, with its users,
    /// projects, roles, groups, invites, service accounts and keys. Checked whole at start;
    /// ignored once the database holds an organization.
    #[arg(long, env = "ORGADMIN_FIXTURE", value_name = "FILE", value_parser = fixture_value)]
    pub fixture: Option<Arc<Fixture>>,
    /// Where GET /metrics (Prometheus text, unauthenticated) is served: by default on the main
    /// listener; ADDR serves it on a listener of its own instead (the main one then answers
    /// 404); `off` serves it nowhere.
    #[arg(long, env = "ORGADMIN_METRICS_LISTEN", value_name = "ADDR|off")]
    pub metrics_listen: Option<String>,
    /// What SCIM provisioning (/scim/v2/Users) makes of a person: `member`, a member at once;
    /// `invite`, a pending invite until they accept it, as the real platform does.
    #[arg(long, env = "ORGADMIN_SCIM_PROVISIONING", value_name = "member|invite",
          default_value = "member", value_parser = provisioning_value)]
    pub scim_provisioning: Provisioning,
}

fn provisioning_value(value: &str) -> Result<Provisioning, String> {
    value.parse()
}

/// `--fixture`: the file, read and checked whole before anything starts, so that a fixture that
/// breaks a rule is a usage error (exit 2) naming the file and every problem with its place.
fn fixture_value(value: &str) -> Result<Arc<Fixture>, String> {
    let text = std::fs::read_to_string(value).map_err(|e| format!("cannot read {value}: {e}"))?;
    let fixture = Fixture::from_text(&text).map_err(|p| {
        let at = if p.path.is_empty() {
            String::new()
        } else {
            format!(" at {}", p.path)
        };
        format!("{value}{at}: {}", p.message)
    })?;
    fixture
        .compile(0)
        .map_err(|problems| format!("{value}: {}", FixtureProblem::refusal(&problems)))?;
    Ok(Arc::new(fixture))
}

/// `--models`: the file, read and checked before anything starts, so that a catalogue that
/// cannot be used is a usage error (exit 2) naming the file, the entry and why.
fn models_value(value: &str) -> Result<Arc<ModelCatalogue>, String> {
    ModelCatalogue::load(std::path::Path::new(value))
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// `--rate-limit`: a positive number of requests per minute, or `official`.
fn rate_limit_value(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("official") || value.parse::<u32>().is_ok_and(|n| n > 0) {
        Ok(value.to_owned())
    } else {
        Err("expected requests per minute (1 or more) or `official`".into())
    }
}

/// `--user-ids`, shared by `serve` and every command that adds people to the database (`init`,
/// the import and `org create` take the server's): they must agree, or a person added by one would keep the ID
/// the other would have hidden.
#[derive(Debug, Clone, Copy, Args)]
pub struct UserIdsArg {
    /// `global`: a person has one user ID in every organization on this server, as in the real
    /// Admin API. `per-organization`: a fresh ID in each, so that whoever can add a member cannot
    /// learn whether, or since when, that person belongs to another organization here.
    #[arg(long = "user-ids", env = "ORGADMIN_USER_IDS", value_name = "global|per-organization",
          default_value = "global", value_parser = user_ids_value)]
    pub user_ids: UserIds,
}

fn user_ids_value(value: &str) -> Result<UserIds, String> {
    value.parse()
}

fn consistency_value(value: &str) -> Result<Consistency, String> {
    value.parse()
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (created if missing).
    #[arg(long, env = "ORGADMIN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database: String,
    /// The organization's name.
    #[arg(long, value_name = "NAME", default_value = "Default Organization", value_parser = crate::validate::text)]
    pub name: String,
    /// The owner's email address.
    #[arg(long, env = "ORGADMIN_OWNER_EMAIL", default_value = "owner@example.com",
          hide_env_values = true, value_name = "EMAIL", value_parser = crate::validate::email)]
    pub owner_email: String,
    /// The owner's display name.
    #[arg(long, value_name = "NAME", default_value = "Owner", value_parser = crate::validate::text)]
    pub owner_name: String,
    #[command(flatten)]
    pub user_ids: UserIdsArg,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// `create`, `list`, `retrieve`, `delete`, `reset`: over HTTP, through the operator API.
    #[command(flatten)]
    Operator(crate::operator::OperatorOrgCommand),
    /// Make a new admin key for an owner of an existing organization, and print it as JSON (the
    /// secret only this once): the way back when every key of the organization was deleted.
    /// Owned by the owner with --owner, or else by the longest-standing owner.
    #[command(after_help = "\
Example:
  orgadmin org key --org org-… --owner root@acme.example --database sqlite://orgadmin-data/orgadmin.db
  export OPENAI_ADMIN_KEY=$(orgadmin org key --org org-… --transform value -r)")]
    Key(OrgKeyArgs),
}

#[derive(Debug, Args)]
pub struct OrgKeyArgs {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (the one the server uses).
    #[arg(long, env = "ORGADMIN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database: String,
    /// The organization's ID (`org-…`).
    #[arg(long = "org", value_name = "ORG_ID", value_parser = crate::validate::id)]
    pub org: String,
    /// Email of the owner who will own the key (default: the longest-standing owner).
    #[arg(long, value_name = "EMAIL", value_parser = crate::validate::email)]
    pub owner: Option<String>,
    /// The key's name.
    #[arg(long, value_name = "NAME", default_value = "Recovery admin key", value_parser = crate::validate::text)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
