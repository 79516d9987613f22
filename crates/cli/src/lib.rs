//! The command line of `orgadmin`: its grammar (`args`, also of `serve`, `init` and `org key`,
//! which the binary runs beside the server), the Admin API client (`client`, `commands`, one
//! module per resource, `import`), the operator API client (`operator`: `org create|list|
//! retrieve|delete|reset`), output formats (`output`), error kinds and exit statuses (`error`).
//!
//! The client reaches the server only over HTTP, with the `orgadmin_api` types for bodies and
//! answers; it never touches the store (the crate does not depend on it). Data goes to standard
//! output; progress, hints and errors to standard error.

pub mod args;
pub mod client;
pub mod commands;
pub mod completion;
pub mod error;
pub mod import;
pub mod operator;
pub mod output;
pub mod validate;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};

pub use args::{Cli, Command, GlobalArgs, OrgCommand, Settings};

use crate::client::{Client, ClientConfig};
use crate::commands::{AdminCommand, Ctx};
use crate::error::CliError;
use crate::output::{Format, Output};

/// Rewrite the official CLI's colon form into words: `admin:organization:users:roles list`
/// becomes `admin organization users roles list`. Only the first word that is not a flag (or a
/// global flag's value) is rewritten, so values holding colons (`--project proj_abc:owner`,
/// `--base-url http://h:8080/v1`) stay as they are.
pub fn rewrite_colon_form(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // Flags that may come before the command words and take a value (`--format json`).
    let root = Cli::command();
    let value_flags: Vec<String> = root
        .get_arguments()
        .filter(|a| {
            matches!(
                a.get_action(),
                clap::ArgAction::Set | clap::ArgAction::Append
            )
        })
        .filter_map(|a| a.get_long().map(|long| format!("--{long}")))
        .collect();
    let mut i = 1;
    while i < args.len() {
        let Some(arg) = args[i].to_str() else {
            break;
        };
        if arg == "--" {
            break;
        }
        if arg.starts_with('-') {
            let takes_value = value_flags.iter().any(|f| f == arg);
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        let parts: Vec<&str> = arg.split(':').collect();
        let is_path = parts.len() > 1
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if is_path {
            let words: Vec<OsString> = parts.iter().map(OsString::from).collect();
            args.splice(i..=i, words);
        }
        break;
    }
    args
}

/// Parse the process's command line (colon form included). Usage errors exit with status 2
/// here; `--help` and `--version` print and exit 0.
pub fn parse() -> Cli {
    parse_from(rewrite_colon_form(std::env::args_os()))
}

/// Parse a command line as [`clap::Parser::parse_from`] does, and keep the words of the command clap
/// matched (`admin organization users list`) in [`GlobalArgs::command`], for usage errors.
pub fn parse_from(args: impl IntoIterator<Item = OsString>) -> Cli {
    let matches = Cli::command().get_matches_from(args);
    let mut cli =
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut Cli::command()).exit());
    let words: Vec<&str> = std::iter::successors(matches.subcommand(), |(_, m)| m.subcommand())
        .map(|(name, _)| name)
        .collect();
    cli.global.command = words.join(" ");
    cli
}

/// Report an error on standard error and turn it into the exit status.
pub fn finish(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            e.report();
            ExitCode::from(e.exit_code())
        }
    }
}

/// Run an `admin …` command: one request (or one walk of a list) on a current-thread runtime.
pub fn run_client(global: &GlobalArgs, command: AdminCommand) -> ExitCode {
    finish(block_on(client_command(global, command)))
}

async fn client_command(global: &GlobalArgs, command: AdminCommand) -> Result<(), CliError> {
    let settings = global.settings()?;
    let admin_key = settings.admin_api_key.ok_or_else(|| {
        CliError::usage(
            "admin",
            "no admin API key: set OPENAI_ADMIN_KEY (or pass --admin-api-key)",
        )
    })?;
    let client = Client::new(ClientConfig {
        base_url: settings.base_url,
        admin_key,
        timeout: Duration::from_secs(settings.timeout),
        max_retries: settings.max_retries,
        verbose: settings.verbose,
    })?;
    let format = settings
        .format
        .resolve(std::io::stdout().is_terminal(), Format::Json);
    let mut ctx = Ctx {
        client,
        out: Output::new(format).with_selection(settings.selection),
        command: global.command.clone(),
    };
    commands::run(&mut ctx, command).await
}

/// Print a document the command made once, with a secret in it: JSON unless `--format` names
/// another; `auto` is JSON here even on a terminal, so the secret is printed in a form that can
/// be copied whole.
pub fn print_once(global: &GlobalArgs, document: &impl serde::Serialize) -> Result<(), CliError> {
    let settings = global.settings()?;
    let format = settings.format.resolve(false, Format::Json);
    Output::new(format)
        .with_selection(settings.selection)
        .object(document)
}

/// `orgadmin clock`, through the operator API.
pub fn clock(global: &GlobalArgs, args: operator::ClockArgs) -> ExitCode {
    finish(block_on(operator::clock(global, args)))
}

/// `orgadmin faults …`, through the operator API.
pub fn faults(global: &GlobalArgs, command: operator::FaultsCommand) -> ExitCode {
    finish(block_on(operator::faults(global, command)))
}

/// `orgadmin requests …`, through the operator API.
pub fn requests(global: &GlobalArgs, command: operator::RequestsCommand) -> ExitCode {
    finish(block_on(operator::requests(global, command)))
}

/// `orgadmin org create|list|retrieve|delete|reset|snapshot|restore`, through the operator API.
pub fn org_operator(global: &GlobalArgs, command: operator::OperatorOrgCommand) -> ExitCode {
    finish(block_on(operator::run(global, command)))
}

/// `orgadmin import …`.
pub fn import(global: &GlobalArgs, command: import::ImportCommand) -> ExitCode {
    match command {
        import::ImportCommand::Users(args) => finish(block_on(import::users(global, args))),
    }
}

/// `orgadmin completion SHELL`: the completion script on standard output.
pub fn completion(args: args::CompletionArgs) -> ExitCode {
    let script = completion::script(args.shell, Cli::command());
    let mut stdout = std::io::stdout().lock();
    finish(
        std::io::Write::write_all(&mut stdout, &script)
            .and_then(|()| std::io::Write::flush(&mut stdout))
            .map_err(CliError::output),
    )
}

/// Run a command's work on a current-thread runtime.
pub fn block_on<F: std::future::Future<Output = Result<(), CliError>>>(
    work: F,
) -> Result<(), CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::local(format!("starting the runtime: {e}")))?
        .block_on(work)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        rewrite_colon_form(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn the_colon_form_becomes_words() {
        assert_eq!(
            rewrite(&[
                "orgadmin",
                "admin:organization:users:roles",
                "list",
                "--user-id",
                "u"
            ]),
            [
                "orgadmin",
                "admin",
                "organization",
                "users",
                "roles",
                "list",
                "--user-id",
                "u"
            ]
        );
    }

    #[test]
    fn global_flags_before_the_command_are_stepped_over() {
        assert_eq!(
            rewrite(&[
                "orgadmin",
                "--base-url",
                "http://h:1/v1",
                "-v",
                "--format=json",
                "admin:organization:users",
                "list"
            ]),
            [
                "orgadmin",
                "--base-url",
                "http://h:1/v1",
                "-v",
                "--format=json",
                "admin",
                "organization",
                "users",
                "list"
            ]
        );
    }

    #[test]
    fn values_with_colons_after_the_command_are_left_alone() {
        let args = [
            "orgadmin",
            "admin",
            "organization",
            "invites",
            "create",
            "--project",
            "proj_a:owner",
        ];
        assert_eq!(rewrite(&args), args);
        let args = ["orgadmin", "serve", "--listen", "127.0.0.1:8080"];
        assert_eq!(rewrite(&args), args);
    }

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example_in_its_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            let help = command
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            if !help.contains("orgadmin ") {
                missing.push(path.clone());
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(
            missing.is_empty(),
            "commands without an example: {missing:?}"
        );
    }
}
