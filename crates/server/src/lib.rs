//! The orgadmin HTTP server: builds the application on a store, serves the Admin API routes,
//! authenticates every `/v1` request, and answers every failure in the OpenAI error envelope;
//! SCIM 2.0 provisioning under `/scim/v2` (`scim/`), in SCIM's envelope.

pub mod admin;
mod app;
mod auth;
pub mod bootstrap;
mod error;
mod extract;
mod metrics;
pub mod operator;
mod rate_limit;
mod routes;
mod scim;
mod state;
pub mod telemetry;

pub use app::{http_stack, Application, ServeConfig, HEADER_READ_TIMEOUT};
pub use extract::BODY_READ_TIMEOUT;
pub use metrics::MetricsEndpoint;
pub use rate_limit::{RateLimit, OFFICIAL_PER_MINUTE as OFFICIAL_RATE_LIMIT_PER_MINUTE};
pub use routes::ApiDoc;
