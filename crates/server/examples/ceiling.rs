//! The benchmark ceiling: one handler that answers every `GET` with a fixed JSON body, served on
//! the same HTTP stack as orgadmin (`orgadmin_server::http_stack`: the request-context middleware,
//! the body limit, the error fallbacks, the same logging and runtime). `scripts/bench` gives it
//! the bytes of a real user object, so the gap between this and `GET /v1/organization/users/{id}`
//! is what orgadmin's own work costs: authentication, the store and serialization.
//!
//! Usage: `ceiling LISTEN_ADDR BODY_FILE`

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use orgadmin_server::http_stack;
use orgadmin_server::telemetry::{self, LogFormat};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(body_file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: ceiling LISTEN_ADDR BODY_FILE");
    };
    let body: Arc<[u8]> = std::fs::read(&body_file)?.into();
    telemetry::init(LogFormat::Text);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let handler = move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body.to_vec()) }
        };
        let app = http_stack(Router::new().route("/{*path}", get(handler)));
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        tracing::info!(listen.addr = %listener.local_addr()?, "ceiling listening");
        axum::serve(listener, app).await?;
        Ok(())
    })
}
