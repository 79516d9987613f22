//! The orgadmin HTTP server: builds the application on a store, serves the Admin API routes,
//! authenticates every `/v1` request, and answers every failure in the OpenAI error envelope.

mod app;
mod auth;
pub mod bootstrap;
mod error;
mod extract;
mod routes;
mod state;
pub mod telemetry;

pub use app::{http_stack, Application, ServeConfig};
pub use routes::ApiDoc;
