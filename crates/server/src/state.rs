//! What every handler shares.

use std::sync::Arc;

use orgadmin_core::catalogue::ModelCatalogue;
use orgadmin_core::Store;

use crate::operator::key::OperatorKey;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The models projects' policies name, with the organization's rate limits (`--models`).
    pub models: Arc<ModelCatalogue>,
    /// What opens the operator API (`operator/key.rs`).
    pub operator: Arc<OperatorKey>,
}
