//! The listener of `--consistency bounded`: one connection of its own that `LISTEN`s on
//! [`CHANNEL`], where every write transaction on the database announces its organization when it
//! commits (`pg_notify` in the statement that bumps the generation or the key-use epoch,
//! `PgStore::BUMP_GENERATION`, `PgStore::BUMP_KEY_USE`). Each notification makes memory forget
//! that organization (`versions.rs`, [`Notified::changed`]).
//!
//! A lost connection loses the notifications sent meanwhile, so memory is trusted only while
//! `LISTEN` is in place: the listener marks memory [`lost`](Notified::lost) the moment the
//! connection ends (every read goes to the database), connects again every
//! [`RETRY_AFTER`], and marks it [`listening`](Notified::listening) once `LISTEN` has
//! succeeded on the new connection. sqlx's `PgListener` would reconnect by itself before telling
//! that the connection was lost (`eager_reconnect`), which would leave memory trusted for as
//! long as the reconnection takes: that is turned off, and the listener is made anew each time.

use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::id::OrgId;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgPool;

use crate::versions::Notified;

/// The channel write transactions notify, with the organization's ID as the payload.
pub(crate) const CHANNEL: &str = "orgadmin_versions";

/// The `application_name` of the listening connection (`pg_stat_activity`).
pub const APPLICATION_NAME: &str = "orgadmin-listener";

/// The pause between two attempts to listen again after the connection was lost.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// How long one attempt to connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The running listener; dropping it (with its store) stops it and closes its connection.
pub(crate) struct Listening {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start listening with a connection made from `options`, keeping `notified` current.
pub(crate) fn spawn(options: &PgConnectOptions, notified: Arc<Notified>) -> Listening {
    // A pool of one, only for the listener's connections: `PgListener` takes its connection
    // from a pool, and one of the store's would be held out of it for good.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(CONNECT_TIMEOUT)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options.clone().application_name(APPLICATION_NAME));
    Listening {
        task: tokio::spawn(run(pool, notified)),
    }
}

async fn run(pool: PgPool, notified: Arc<Notified>) {
    // Whether the listener is down and has said so (logged once per outage).
    let mut down = false;
    loop {
        match listen(&pool).await {
            Ok(mut listener) => {
                notified.listening();
                if down {
                    tracing::info!(
                        "listening for other replicas' changes again: remembered versions are trusted again"
                    );
                }
                let ended = loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => {
                            notified.changed(&OrgId::from_raw(notification.payload()));
                        }
                        Ok(None) => break "the connection was closed".to_owned(),
                        Err(e) => break e.to_string(),
                    }
                };
                notified.lost();
                tracing::warn!(
                    error = %ended,
                    "stopped listening for other replicas' changes: every request reads the organization's version from the database until listening again"
                );
                down = true;
            }
            Err(e) => {
                if !down {
                    tracing::warn!(
                        error = %e,
                        "cannot listen for other replicas' changes: every request reads the organization's version from the database meanwhile"
                    );
                    down = true;
                }
            }
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

/// A listener with `LISTEN` in place, which reports a lost connection instead of mending it.
async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::super::PgStore;
    use super::CHANNEL;

    #[test]
    fn the_statements_that_bump_a_version_notify_the_channel_listened_on() {
        for statement in [PgStore::BUMP_GENERATION, PgStore::BUMP_KEY_USE] {
            assert!(
                statement.contains(&format!("pg_notify('{CHANNEL}', ")),
                "{statement}"
            );
        }
    }
}
