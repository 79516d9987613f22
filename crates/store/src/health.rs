//! The storage's health as the server's requests find it: an outage episode (the disk full,
//! I/O errors, the database not answering) begins with the first request that meets it and
//! ends with the first write that commits again. The log says each once per episode, not once
//! per request, and `/readyz` reports the episode in progress.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use orgadmin_core::store::StorageOutage as Episode;
use orgadmin_core::{Outage, OutageKind};

#[derive(Debug, Default)]
pub struct Health {
    /// Set while an episode is open: the commit path reads only this.
    open: AtomicBool,
    episode: Mutex<Option<(Episode, Instant)>>,
}

impl Health {
    /// A request met `outage`. Opens an episode (logged once) unless one of the same kind is
    /// open already.
    pub fn outage(&self, outage: &Outage) {
        // A circuit answering for the database is the episode that opened it, not a new one.
        if outage.kind == OutageKind::CircuitOpen {
            return;
        }
        let mut episode = self.episode.lock().expect("health");
        if episode.as_ref().is_some_and(|(e, _)| e.kind == outage.kind) {
            return;
        }
        tracing::warn!(
            storage.outage = outage.kind.as_str(),
            error.reason = %outage.detail,
            "{} (logged once until it ends)",
            outage.kind.message()
        );
        *episode = Some((
            Episode {
                kind: outage.kind,
                since: SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
                detail: outage.detail.clone(),
            },
            Instant::now(),
        ));
        self.open.store(true, Ordering::Release);
    }

    /// A write committed: whatever episode was open is over.
    pub fn write_committed(&self) {
        if !self.open.load(Ordering::Acquire) {
            return;
        }
        self.recovered();
    }

    /// The database answered again (a read, or a probe): an episode of the kinds that are about
    /// reaching the database is over; one about writing (a full disk) waits for a commit.
    pub fn answered(&self) {
        if !self.open.load(Ordering::Acquire) {
            return;
        }
        let reaching = matches!(
            self.current().map(|e| e.kind),
            Some(OutageKind::Unreachable | OutageKind::Busy)
        );
        if reaching {
            self.recovered();
        }
    }

    fn recovered(&self) {
        let mut episode = self.episode.lock().expect("health");
        if let Some((ended, began)) = episode.take() {
            tracing::info!(
                storage.outage = ended.kind.as_str(),
                outage.seconds = began.elapsed().as_secs_f64(),
                "the database serves writes again"
            );
        }
        self.open.store(false, Ordering::Release);
    }

    /// The episode in progress, if any.
    pub fn current(&self) -> Option<Episode> {
        if !self.open.load(Ordering::Acquire) {
            return None;
        }
        self.episode
            .lock()
            .expect("health")
            .as_ref()
            .map(|(e, _)| e.clone())
    }
}
