//! The `orgadmin` binary: thin glue from the command line (parsed by `orgadmin_cli`) to the
//! server library (`serve`, and beside it the database-level `init` and `org key`, `admin.rs`)
//! and the clients of the Admin API (`admin …`, `import users`) and of the operator API (the
//! other `org` commands).

mod admin;

use std::process::ExitCode;

use orgadmin_cli::args::{LogFormatArg, ServeArgs};
use orgadmin_cli::{Command, OrgCommand};
use orgadmin_server::telemetry::{self, LogFormat};
use orgadmin_server::{Application, MetricsEndpoint, RateLimit, ServeConfig};

fn main() -> ExitCode {
    let cli = orgadmin_cli::parse();
    match cli.command {
        Command::Serve(args) => match serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("orgadmin: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Init(args) => admin::init(&cli.global, args),
        Command::Org(OrgCommand::Key(args)) => admin::recover_key(&cli.global, args),
        Command::Org(OrgCommand::Operator(command)) => {
            orgadmin_cli::org_operator(&cli.global, command)
        }
        Command::Clock(args) => orgadmin_cli::clock(&cli.global, args),
        Command::Faults(command) => orgadmin_cli::faults(&cli.global, command),
        Command::Requests(command) => orgadmin_cli::requests(&cli.global, command),
        Command::Import(command) => orgadmin_cli::import(&cli.global, command),
        Command::Admin(command) => orgadmin_cli::run_client(&cli.global, command),
        Command::Completion(args) => orgadmin_cli::completion(args),
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
        config.user_ids = args.user_ids.user_ids;
        config.consistency = args.consistency;
        config.operator_key = args.operator_key.filter(|k| !k.is_empty());
        config.journal_size = args.journal_size;
        config.fixture = args.fixture;
        config.scim_provisioning = args.scim_provisioning;
        if let Some(metrics) = args.metrics_listen {
            config.metrics = MetricsEndpoint::parse(&metrics);
        }
        if let Some(models) = args.models {
            config.models = models;
        }
        config.rate_limit =
            RateLimit::from_flags(args.rate_limit.as_deref(), args.rate_limit_burst)
                .map_err(anyhow::Error::msg)?;
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
