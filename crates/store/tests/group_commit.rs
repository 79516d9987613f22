//! SQLite's group commit (`ops/group_commit.rs`): operations share one `COMMIT`, a failing
//! operation leaves only its own effects out of the group while its neighbours commit, a failed
//! `COMMIT` acknowledges none of the group, and concurrent writes are grouped. SQLite only: the
//! only backend that commits in groups.
//!
//! Groups are made certain with limits a server never uses: a group commits only when it holds
//! two operations (`commit_when_idle: false`, a `max_wait` far longer than a test), so which
//! operations share it is decided by the test, not by timing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use orgadmin_core::model::NewInvite;
use orgadmin_core::page::PageRequest;
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::secret::{generate_admin_key, hash_secret};
use orgadmin_core::store::{AdminKeyStore, BootstrapRequest, InviteStore, OrganizationStore};
use orgadmin_core::{Actor, DomainError, Email, OutageKind, SystemClock};
use orgadmin_store::faults::{FaultClass, FaultPoint};
use orgadmin_store::{Faults, GroupCommitLimits, SqliteStore, StoreOptions};

/// Groups of exactly two operations.
const PAIRS: GroupCommitLimits = GroupCommitLimits {
    max_operations: 2,
    max_wait: Duration::from_secs(600),
    commit_when_idle: false,
};

struct Org {
    store: Arc<SqliteStore>,
    faults: Arc<Faults>,
    secret_hash: String,
    actor: Actor,
    _dir: tempfile::TempDir,
}

/// A SQLite organization whose store commits with `limits`. It is set up by a store with the
/// server's limits (its bootstrap and the key's first use are writes nobody would pair), then
/// opened again with `limits`.
async fn org(limits: GroupCommitLimits) -> Org {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/orgadmin.db", dir.path().display());
    let secret = generate_admin_key();
    {
        let setup = SqliteStore::open(&url, Arc::new(SystemClock))
            .await
            .expect("the store opens");
        setup
            .bootstrap_if_empty(BootstrapRequest {
                organization_name: "Acme".into(),
                owner_email: Email::parse("owner@example.com", "email").unwrap(),
                owner_name: Some("Owner".into()),
                admin_key_secret: secret.clone(),
                fixture: None,
            })
            .await
            .unwrap()
            .expect("a fresh database");
        setup
            .authenticate(&hash_secret(&secret))
            .await
            .unwrap()
            .expect("the key authenticates");
    }
    let faults = Arc::new(Faults::default());
    let store = SqliteStore::open_with(
        &url,
        Arc::new(SystemClock),
        StoreOptions {
            group_commit: limits,
            faults: Some(faults.clone()),
            ..Default::default()
        },
    )
    .await
    .expect("the store opens again");
    let secret_hash = hash_secret(&secret);
    let actor = store
        .authenticate(&secret_hash)
        .await
        .unwrap()
        .expect("the key authenticates");
    Org {
        store: Arc::new(store),
        faults,
        secret_hash,
        actor,
        _dir: dir,
    }
}

impl Org {
    /// Invite `email` in a task of its own: it waits for its group's commit.
    fn invite(&self, email: &str) -> tokio::task::JoinHandle<orgadmin_core::Result<()>> {
        let store = self.store.clone();
        let actor = self.actor.clone();
        let email = email.to_owned();
        tokio::spawn(async move {
            store
                .create_invite(&actor, invitation(&email))
                .await
                .map(|_| ())
        })
    }

    /// Wait until `n` operations wait in the open group.
    async fn until_pending(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.store.group_commit_stats().pending != n {
            assert!(
                Instant::now() < deadline,
                "{n} operations never waited in the group: {:?}",
                self.store.group_commit_stats()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn invited(&self) -> Vec<String> {
        let page = self
            .store
            .list_invites(&self.actor.org_id, &PageRequest::first(100))
            .await
            .unwrap();
        let mut emails: Vec<String> = page
            .items
            .into_iter()
            .map(|invite| invite.email.to_string())
            .collect();
        emails.sort();
        emails
    }

    /// The organization's write generation as authentication reads it now.
    async fn generation(&self) -> i64 {
        self.store
            .authenticate(&self.secret_hash)
            .await
            .unwrap()
            .expect("the key authenticates")
            .generation
    }
}

fn invitation(email: &str) -> NewInvite {
    NewInvite {
        email: Email::parse(email, "email").unwrap(),
        role: OrgBaseRole::Reader,
        projects: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_operation_leaves_the_group_and_its_neighbours_commit() {
    let org = org(PAIRS).await;
    let before = org.generation().await;

    let first = org.invite("first@example.com");
    org.until_pending(1).await;
    // Inside the same open group: refused by a rule after its first statement (the
    // generation's increment) ran, so that statement is what its savepoint must take back.
    let refused = org
        .store
        .create_invite(&org.actor, invitation("owner@example.com"))
        .await;
    assert!(
        matches!(refused, Err(DomainError::Conflict { .. })),
        "inviting a member is refused: {refused:?}"
    );
    assert_eq!(
        org.store.group_commit_stats().pending,
        1,
        "the refused operation did not join the group"
    );
    let third = org.invite("third@example.com");
    first.await.unwrap().expect("the first invite commits");
    third.await.unwrap().expect("the third invite commits");

    let stats = org.store.group_commit_stats();
    assert_eq!(
        (
            stats.groups,
            stats.operations,
            stats.rolled_back,
            stats.largest
        ),
        (1, 2, 1, 2),
        "one group of the two invites, the refusal rolled back inside it: {stats:?}"
    );
    assert_eq!(
        org.invited().await,
        ["first@example.com", "third@example.com"]
    );
    assert_eq!(
        org.generation().await,
        before + 2,
        "the refused operation's increment of the generation was rolled back with it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_acknowledges_no_operation_of_the_group() {
    let org = org(PAIRS).await;
    let before = org.generation().await;
    org.faults
        .fail_next(FaultPoint::Commit, FaultClass::DiskFull);

    let first = org.invite("first@example.com");
    org.until_pending(1).await;
    let second = org.invite("second@example.com");
    for outcome in [first.await.unwrap(), second.await.unwrap()] {
        assert!(
            matches!(
                &outcome,
                Err(DomainError::Unavailable(outage)) if outage.kind == OutageKind::DiskFull
            ),
            "each operation answers the group's failure: {outcome:?}"
        );
    }
    let stats = org.store.group_commit_stats();
    assert_eq!(
        (stats.groups, stats.failed_groups, stats.pending),
        (0, 1, 0),
        "{stats:?}"
    );
    assert!(org.invited().await.is_empty(), "nothing was committed");
    assert_eq!(
        org.generation().await,
        before,
        "memory kept the old version"
    );

    // The next group commits normally.
    let third = org.invite("third@example.com");
    org.until_pending(1).await;
    let fourth = org.invite("fourth@example.com");
    third.await.unwrap().expect("the next group commits");
    fourth.await.unwrap().expect("the next group commits");
    assert_eq!(
        org.invited().await,
        ["fourth@example.com", "third@example.com"]
    );
    assert_eq!(org.generation().await, before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_transaction_the_database_rolled_back_acknowledges_none_of_it() {
    let org = org(PAIRS).await;
    let first = org.invite("first@example.com");
    org.until_pending(1).await;
    // A full disk at a statement: SQLite may roll the whole transaction back, and the
    // injected fault does, taking the first invite's savepoint with it.
    org.faults
        .fail_next(FaultPoint::Statement, FaultClass::DiskFull);
    let failed = org
        .store
        .create_invite(&org.actor, invitation("second@example.com"))
        .await;
    assert!(
        matches!(&failed, Err(DomainError::Unavailable(outage)) if outage.kind == OutageKind::DiskFull),
        "{failed:?}"
    );
    let lost = first.await.unwrap();
    assert!(
        matches!(&lost, Err(DomainError::Unavailable(_))),
        "the first invite was lost with the group's transaction, so it is not acknowledged: {lost:?}"
    );
    assert!(org.invited().await.is_empty());

    let third = org.invite("third@example.com");
    org.until_pending(1).await;
    let fourth = org.invite("fourth@example.com");
    third.await.unwrap().expect("the next group commits");
    fourth.await.unwrap().expect("the next group commits");
    assert_eq!(
        org.invited().await,
        ["fourth@example.com", "third@example.com"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    let org = org(GroupCommitLimits::default()).await;
    let invites: Vec<_> = (0..32)
        .map(|i| org.invite(&format!("person{i}@example.com")))
        .collect();
    for invite in invites {
        invite.await.unwrap().expect("every invite commits");
    }
    let stats = org.store.group_commit_stats();
    assert_eq!(stats.operations, 32, "{stats:?}");
    assert!(
        stats.groups < stats.operations && stats.largest > 1,
        "32 writes at once were committed in fewer, larger groups: {stats:?}"
    );
    assert!(stats.largest <= 64, "{stats:?}");
    assert_eq!(org.invited().await.len(), 32);
}
