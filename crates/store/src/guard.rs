//! What stands between a request and a database that misbehaves: a deadline on every store
//! call, the circuit breaker, the outage episodes ([`Health`]) and the fault hook ([`Faults`]).
//!
//! A database that stops answering (a stopped PostgreSQL, a dropped network, a stalled disk)
//! would otherwise hold each request until a server-side timeout that a frozen server never
//! enforces. Instead every store call has a deadline ([`StoreOptions::deadline`], 2 s by
//! default for a server); the calls that miss it answer 503 `Unreachable`. After
//! [`TRIP_AFTER`] such failures in a row the breaker opens: requests are answered 503 at once
//! while a background probe asks the database every [`PROBE_EVERY`]; the first answer closes
//! the breaker.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::{DomainError, OutageKind, Result};
use orgadmin_metrics::StoreMetrics;

use crate::faults::Faults;
use crate::health::Health;
use crate::StoreOptions;

/// Failures to reach the database in a row that open the breaker.
pub const TRIP_AFTER: u32 = 3;
/// How often the open breaker probes the database.
pub const PROBE_EVERY: Duration = Duration::from_millis(200);
/// The deadline of a bulk call ([`Guard::run_bulk`]): a snapshot near its 64 MiB limit takes
/// seconds to check and write (BENCHMARKS.md has the figures); a database that stops answering
/// still ends it, later.
pub const BULK_DEADLINE: Duration = Duration::from_secs(60);
/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A probe of the database: `true` when it answered.
pub(crate) type Probe = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

pub(crate) struct Guard {
    pub(crate) health: Arc<Health>,
    pub(crate) faults: Arc<Faults>,
    /// Where write transactions and caches record (`orgadmin_metrics`).
    pub(crate) metrics: Arc<StoreMetrics>,
    deadline: Option<Duration>,
    breaker: Arc<Breaker>,
}

struct Breaker {
    open: AtomicBool,
    failures: AtomicU32,
    probe: Probe,
    health: Arc<Health>,
}

impl Guard {
    pub(crate) fn new(options: &StoreOptions, probe: Probe) -> Self {
        let health = Arc::new(Health::default());
        Self {
            faults: options.faults.clone().unwrap_or_default(),
            metrics: options.metrics.clone(),
            deadline: options.deadline,
            breaker: Arc::new(Breaker {
                open: AtomicBool::new(false),
                failures: AtomicU32::new(0),
                probe,
                health: health.clone(),
            }),
            health,
        }
    }

    /// Run one store call under the deadline and the breaker, and note what it tells of the
    /// database's health.
    pub(crate) async fn run<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.run_within(self.deadline, call).await
    }

    /// [`run`](Self::run) for a call whose work grows with a document the caller sent (a
    /// snapshot of up to 64 MiB taken or restored): the deadline is [`BULK_DEADLINE`] unless
    /// the store's own is longer, or there is none.
    pub(crate) async fn run_bulk<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let deadline = self.deadline.map(|d| d.max(BULK_DEADLINE));
        self.run_within(deadline, call).await
    }

    async fn run_within<T>(
        &self,
        deadline: Option<Duration>,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        if self.breaker.open.load(Ordering::Acquire) {
            return Err(DomainError::unavailable(
                OutageKind::CircuitOpen,
                "the circuit breaker is open",
            ));
        }
        let outcome = match deadline {
            None => call.await,
            Some(deadline) => tokio::time::timeout(deadline, call)
                .await
                .unwrap_or_else(|_| {
                    Err(DomainError::unavailable(
                        OutageKind::Unreachable,
                        format!("no answer within {} ms", deadline.as_millis()),
                    ))
                }),
        };
        match &outcome {
            Err(DomainError::Unavailable(outage)) => {
                self.health.outage(outage);
                if outage.kind == OutageKind::Unreachable {
                    self.breaker.failed();
                }
            }
            _ => {
                self.breaker.failures.store(0, Ordering::Relaxed);
                self.health.answered();
            }
        }
        outcome
    }
}

impl Breaker {
    fn failed(self: &Arc<Self>) {
        let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if failures < TRIP_AFTER || self.open.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(
            failures,
            "the database is not answering: requests are refused at once until a probe gets an answer"
        );
        let breaker = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                let answered = tokio::time::timeout(PROBE_TIMEOUT, (breaker.probe)())
                    .await
                    .unwrap_or(false);
                if answered {
                    breaker.failures.store(0, Ordering::Release);
                    breaker.open.store(false, Ordering::Release);
                    breaker.health.answered();
                    tracing::info!("the database answers again: the circuit breaker is closed");
                    return;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bulk_call_outlasts_the_deadline_of_other_calls() {
        let options = StoreOptions {
            deadline: Some(Duration::from_millis(20)),
            ..StoreOptions::default()
        };
        let probe: Probe = Arc::new(|| Box::pin(async { true }));
        let guard = Guard::new(&options, probe);
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(())
        };
        assert!(matches!(
            guard.run(slow()).await,
            Err(DomainError::Unavailable(_))
        ));
        assert!(guard.run_bulk(slow()).await.is_ok());
    }
}
