//! What every handler shares.

use std::sync::Arc;

use orgadmin_core::{Clock, Store};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}
