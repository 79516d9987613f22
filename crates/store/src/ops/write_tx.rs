//! The one place every write transaction begins and ends (compiled into each backend).
//!
//! A write is acknowledged only after its own `COMMIT` reached the database. sqlx's
//! `Transaction` cannot promise that: it counts its nesting depth itself and issues
//! `SAVEPOINT`/`RELEASE SAVEPOINT` once it believes a transaction is open, and after a failed
//! `COMMIT` (which SQLite answers by rolling the transaction back on its own) its count and the
//! database's state disagree for good — every later "commit" then only releases a savepoint
//! inside a transaction that never ends. So write transactions do not use it. [`WriteTx`] owns a
//! pooled writer connection and speaks plain `BEGIN`, `COMMIT` and `ROLLBACK`:
//!
//! - it never nests: it always says `BEGIN`, which SQLite refuses on a connection already in a
//!   transaction, and a connection goes back to the pool only once it is proven idle;
//! - `commit` acknowledges only an `Ok` from `COMMIT` itself;
//! - after any failure — a failed statement, `COMMIT` or `ROLLBACK`, or a request dropped
//!   midway — the connection is rolled back and proven idle (`Backend::prove_idle`), or closed
//!   and replaced. A connection in an unknown state is never used again.
//!
//! A store that commits in groups (SQLite, `group_commit.rs`) begins its write transactions as
//! a [`Turn`] instead: a savepoint inside the writer's open group, released into the group at
//! [`commit`](WriteTx::commit), which then answers with the group's `COMMIT`.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::{Result, Timestamp};
use orgadmin_metrics::{StoreMetrics, TxTimer};
use sqlx::pool::PoolConnection;
use sqlx::Executor;

use super::group_commit::{GroupCommit, Turn};
use super::{db_error, Backend, Conn, Db, Pool};
use crate::faults::{FaultPoint, Faults};
use crate::health::Health;
use crate::versions::Publication;

/// How long settling a connection after a failure (rollback and proof) may take before the
/// connection is closed instead.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// An open write transaction on the writer pool. Dereferences to the connection, so statements
/// run with `.execute(&mut *tx)`. End it with [`commit`](Self::commit) or
/// [`rollback`](Self::rollback); dropping it rolls back.
pub(crate) struct WriteTx {
    /// `None` once the transaction ended.
    holder: Option<Holder>,
    health: Arc<Health>,
    faults: Arc<Faults>,
    /// The organization's time for this transaction (`Backend::begin_in` reads its clock).
    now: Option<Timestamp>,
    /// What memory learns of the organization's version when `COMMIT` succeeds
    /// (`versions.rs`; SQLite only). Dropped after `COMMIT` was sent but not answered with
    /// success, it leaves the version unknown, so it is read from the database again.
    publication: Option<Publication>,
    /// The wait for the connection and the transaction's duration (`orgadmin_metrics`).
    timer: TxTimer,
}

/// What a write transaction runs on.
enum Holder {
    /// A connection of its own, from `BEGIN` to `COMMIT`.
    Own(PoolConnection<Db>),
    /// A savepoint in the writer's open group (`group_commit.rs`).
    Turn(Turn),
}

impl WriteTx {
    /// Take the writer connection and `BEGIN` on it.
    pub(crate) async fn begin(
        pool: &Pool,
        health: &Arc<Health>,
        faults: &Arc<Faults>,
        metrics: &Arc<StoreMetrics>,
    ) -> Result<Self> {
        let mut timer = TxTimer::start(metrics);
        let conn = pool.acquire().await.map_err(db_error)?;
        timer.acquired();
        // The guard owns the connection before `BEGIN` is sent: a request dropped while `BEGIN`
        // is in flight (the database may already have begun) must not hand the pool a
        // connection inside a transaction, where the next `BEGIN` fails. Its drop settles it.
        let mut tx = Self {
            holder: Some(Holder::Own(conn)),
            health: health.clone(),
            faults: faults.clone(),
            now: None,
            publication: None,
            timer,
        };
        if let Err(e) = tx.execute(Backend::BEGIN).await {
            // BEGIN fails on a connection that is somehow inside a transaction: the drop of the
            // guard settles it.
            return Err(db_error(e));
        }
        Ok(tx)
    }

    /// Wait for a turn at `writer` and open this operation's savepoint in its group.
    pub(crate) async fn begin_turn(writer: &Arc<GroupCommit>) -> Result<Self> {
        let mut timer = TxTimer::start(&writer.metrics);
        let turn = writer.turn().await?;
        timer.acquired();
        let mut tx = Self {
            holder: Some(Holder::Turn(turn)),
            health: writer.health.clone(),
            faults: writer.faults.clone(),
            now: None,
            publication: None,
            timer,
        };
        // A savepoint that cannot be opened is rolled back to by the turn's drop, which finds
        // the group's transaction unusable and ends the group.
        tx.execute("SAVEPOINT operation").await.map_err(db_error)?;
        Ok(tx)
    }

    /// The transaction happens at `now` in its organization's time.
    pub(crate) fn set_now(&mut self, now: Timestamp) {
        self.now = Some(now);
    }

    /// Publish `publication` to memory if, and only if, this transaction's `COMMIT` succeeds.
    pub(crate) fn publish_at_commit(&mut self, publication: Option<Publication>) {
        self.publication = publication;
    }

    /// The publication this transaction will make at its commit, to amend (a clock changed).
    pub(crate) fn publication(&mut self) -> Option<&mut Publication> {
        self.publication.as_mut()
    }

    /// This transaction changes more of its organization than memory follows (deletes it,
    /// resets its clock): after it, the organization's version is read from the database again.
    pub(crate) fn forget_organization_version(&mut self) {
        if let Some(publication) = self.publication.as_mut() {
            publication.forget();
        }
    }

    /// The organization's time for this transaction: what every timestamp it writes or compares
    /// is (its clock read in the statement that began it, `Backend::begin_in`, or the process
    /// clock for a bootstrap, whose new organization runs on it).
    pub(crate) fn now(&self) -> Timestamp {
        self.now
            .expect("a write transaction in an organization knows its time (Backend::begin_in)")
    }

    /// Where a fault armed by a test strikes (`faults.rs`). An injected failure does what the
    /// database does on a real one — the transaction is rolled back, or at `CommitAnswer`
    /// committed — and then reports the error.
    pub(crate) async fn fault_point(&mut self, point: FaultPoint) -> Result<()> {
        let Some((due, class)) = self.faults.take(point) else {
            return Ok(());
        };
        if matches!(self.holder, Some(Holder::Turn(_))) {
            // In a group, a failed statement does what SQLite may do on a full disk or an I/O
            // error: it rolls the whole transaction back, and the group fails with it
            // (`group_commit.rs`). A commit's faults strike the group's `COMMIT` instead.
            let _ = self.execute("ROLLBACK").await;
            return Err(db_error(Backend::injected_error(class)));
        }
        let end = if due == FaultPoint::CommitAnswer {
            // The transaction commits but its answer is lost: memory must not go on trusting
            // the old version.
            if let Some(publication) = self.publication.as_mut() {
                publication.arm();
            }
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let _ = self.conn_mut().execute(end).await;
        Err(db_error(Backend::injected_error(class)))
    }

    /// `COMMIT`. `Ok` means the database answered `COMMIT` with success: the write is durable and
    /// may be acknowledged. On an error nothing may be acknowledged, and the connection is settled
    /// before anyone uses it again.
    pub(crate) async fn commit(mut self) -> Result<()> {
        match self.holder.take() {
            Some(Holder::Turn(turn)) => {
                let publication = self.publication.take();
                turn.release(publication).await?;
                self.timer.committed();
                return Ok(());
            }
            own => self.holder = own,
        }
        self.fault_point(FaultPoint::Commit).await?;
        // Memory stops trusting the old version before `COMMIT` is sent, and learns the new
        // one only from its success; a failure or a drop midway leaves it unknown (`versions.rs`).
        if let Some(publication) = self.publication.as_mut() {
            publication.arm();
        }
        match self.conn_mut().execute("COMMIT").await {
            Ok(_) => {
                if let Some(publication) = self.publication.take() {
                    publication.committed();
                }
                self.timer.committed();
                // Idle again: back to the pool.
                self.holder = None;
                self.health.write_committed();
                Ok(())
            }
            // Drop settles the connection and the publication.
            Err(e) => Err(db_error(e)),
        }
    }

    /// `ROLLBACK`, proving the connection idle (or closing it) before it goes back to the pool.
    pub(crate) async fn rollback(mut self) -> Result<()> {
        match self.holder.take() {
            Some(Holder::Own(conn)) => settle(conn).await,
            Some(Holder::Turn(turn)) => turn.roll_back().await,
            None => {}
        }
        Ok(())
    }

    fn conn_mut(&mut self) -> &mut Conn {
        match self.holder.as_mut() {
            Some(Holder::Own(conn)) => conn,
            Some(Holder::Turn(turn)) => turn.conn(),
            None => panic!("an open transaction has its connection"),
        }
    }
}

impl Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        match self.holder.as_ref() {
            Some(Holder::Own(conn)) => conn,
            Some(Holder::Turn(turn)) => turn.conn_ref(),
            None => panic!("an open transaction has its connection"),
        }
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn_mut()
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // A turn rolls itself back to its savepoint when dropped (`group_commit.rs`).
        let Some(Holder::Own(conn)) = self.holder.take() else {
            return;
        };
        // Ended by an error or by the request being dropped midway (a client gone, a deadline):
        // roll back and prove the connection idle before the pool hands it out again. Without a
        // runtime to do that, close it (SQLite and PostgreSQL both roll back a closed session).
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(settle(conn));
            }
            Err(_) => drop(conn.detach()),
        }
    }
}

/// Roll back, then keep the connection only if it is proven idle; otherwise close it, and the
/// pool opens a fresh one.
pub(crate) async fn settle(mut conn: PoolConnection<Db>) {
    let proven = tokio::time::timeout(SETTLE_TIMEOUT, Backend::prove_idle(&mut conn))
        .await
        .unwrap_or(false);
    if !proven {
        tracing::warn!("a write connection could not be proven idle after a failure; closing it");
        // Detached: the pool no longer counts it and opens a replacement on demand; dropping
        // the connection closes the session without waiting on it.
        drop(conn.detach());
    }
}
