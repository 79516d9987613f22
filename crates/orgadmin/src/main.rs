//! The `orgadmin` binary: thin glue from the command line to the server library.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use orgadmin_server::telemetry::{self, LogFormat};
use orgadmin_server::{Application, ServeConfig};

#[derive(Parser)]
#[command(
    name = "orgadmin",
    version,
    about = "The OpenAI Admin API's identity and access, served locally."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    ///
    /// Example: orgadmin serve --listen 127.0.0.1:8080 --database sqlite://orgadmin-data/orgadmin.db
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ORGADMIN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Database URL: sqlite://PATH or sqlite::memory:.
    #[arg(
        long,
        env = "ORGADMIN_DATABASE_URL",
        default_value = "sqlite://orgadmin-data/orgadmin.db"
    )]
    database: String,
    /// Log format.
    #[arg(long, env = "ORGADMIN_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Text)]
    log_format: LogFormatArg,
    /// Email of the owner created on first start.
    #[arg(
        long,
        env = "ORGADMIN_OWNER_EMAIL",
        default_value = "owner@example.com",
        hide_env_values = true
    )]
    owner_email: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("orgadmin: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init(match args.log_format {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut config = ServeConfig::new(args.listen, args.database);
        config.owner_email = args.owner_email;
        // Read from the environment only: a secret on the command line would show in `ps`.
        config.admin_key = std::env::var("ORGADMIN_ADMIN_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        let app = Application::build(config).await?;
        app.run_until(shutdown_signal()).await
    })
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
