//! What every handler shares.

use std::sync::Arc;

use orgadmin_core::catalogue::ModelCatalogue;
use orgadmin_core::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The models projects' policies name, with the organization's rate limits (`--models`).
    pub models: Arc<ModelCatalogue>,
}
