//! The JSON shapes of the OpenAI Admin API as orgadmin speaks them: request bodies, response
//! objects, list envelopes and the error envelope. Field names, `object` values and nullability
//! follow the official OpenAPI document; conversions from domain models live here too, so no
//! other crate decides how an object looks on the wire.

pub mod error;
pub mod import;
pub mod operator;
pub mod requests;
pub mod responses;
pub mod scim;

pub use error::{ErrorBody, ErrorDetail};
