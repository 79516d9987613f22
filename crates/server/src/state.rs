//! What every handler shares.

use std::sync::Arc;

use orgadmin_core::catalogue::ModelCatalogue;
use orgadmin_core::scim::Provisioning;
use orgadmin_core::{Clock, Store};
use orgadmin_metrics::Metrics;

use crate::operator::faults::FaultBook;
use crate::operator::journal::Journal;
use crate::operator::key::OperatorKey;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The process clock: what the operator API's own records (faults) are dated by. An
    /// organization's data follows the organization's clock, which the store reads.
    pub clock: Arc<dyn Clock>,
    /// The models projects' policies name, with the organization's rate limits (`--models`).
    pub models: Arc<ModelCatalogue>,
    /// What opens the operator API (`operator/key.rs`).
    pub operator: Arc<OperatorKey>,
    /// The faults injected into organizations' requests (`operator/faults.rs`).
    pub faults: Arc<FaultBook>,
    /// The latest requests of each organization (`operator/journal.rs`).
    pub journal: Arc<Journal>,
    /// What `/metrics` renders (`orgadmin_metrics`); the store records into its part.
    pub metrics: Arc<Metrics>,
    /// What provisioning a SCIM user makes of them (`--scim-provisioning`).
    pub scim_provisioning: Provisioning,
}
