//! The pagination race both race suites run (`concurrency.rs` on one server, `replicas.rs` across
//! two): walkers page through the users while writers add and delete members, some of them the
//! very members the walkers' cursors name. What a walk saw and what the writers did are recorded
//! for the test to check against each other.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::load::{item_ids as ids, Api};

pub const PAGE: usize = 7;

/// One page a walker received, and when its request was sent.
pub struct SeenPage {
    pub sent: Instant,
    pub ids: Vec<String>,
}

/// What the writers did in one round.
#[derive(Default)]
pub struct Writes {
    /// Every member a deletion was *attempted* for (recorded before the request is sent).
    pub attempted_deletions: HashSet<String>,
    /// Deletions acknowledged with 200, and when the answer arrived.
    pub acknowledged_deletions: HashMap<String, Instant>,
    /// Members added during the round.
    pub added: HashSet<String>,
    pub cursor_deletions: u64,
    pub random_deletions: u64,
    pub board_deletions: u64,
    pub deletions_404: u64,
}

pub async fn delete_member(api: &Api, writes: &Mutex<Writes>, user: &str) -> u16 {
    writes
        .lock()
        .unwrap()
        .attempted_deletions
        .insert(user.to_owned());
    let (status, body) = api.delete(&format!("/v1/organization/users/{user}")).await;
    let mut w = writes.lock().unwrap();
    match status {
        200 => {
            w.acknowledged_deletions
                .insert(user.to_owned(), Instant::now());
        }
        // Another writer (or walker) got there first.
        404 => w.deletions_404 += 1,
        _ => panic!("{} DELETE {user}: {status} {body}", api.server),
    }
    status
}

/// A walker: pages through the users with `limit=7` on `reader` to the end. Every
/// `delete_every`-th page it first has `writer` (the same server, or another one on the same
/// database) delete the member its cursor names, and waits for that, then asks for the page after it. Its current cursor is published on
/// `board` for the board deleter.
pub struct Walker {
    pub me: usize,
    pub reader: Api,
    pub writer: Api,
    pub delete_every: usize,
    pub owner_id: String,
    pub board: Arc<Mutex<Vec<Option<String>>>>,
    pub writes: Arc<Mutex<Writes>>,
}

impl Walker {
    pub async fn walk(self) -> Vec<SeenPage> {
        let me = self.me;
        let mut pages: Vec<SeenPage> = Vec::new();
        let mut after: Option<String> = None;
        let mut pages_until_delete = self.delete_every;
        loop {
            let path = match &after {
                Some(a) => format!("/v1/organization/users?limit={PAGE}&after={a}"),
                None => format!("/v1/organization/users?limit={PAGE}"),
            };
            let sent = Instant::now();
            let page = self.reader.get_ok(&path).await;
            let data = ids(page["data"].as_array().unwrap());
            let has_more = page["has_more"].as_bool().unwrap();
            assert!(data.len() <= PAGE, "walker {me}: page too long: {page}");
            if has_more {
                assert_eq!(
                    data.len(),
                    PAGE,
                    "walker {me}: has_more is exact, so a page with more after it is full: {page}"
                );
            }
            assert_eq!(
                page["first_id"].as_str(),
                data.first().map(String::as_str),
                "{page}"
            );
            assert_eq!(
                page["last_id"].as_str(),
                data.last().map(String::as_str),
                "{page}"
            );
            if let (Some(a), Some(first)) = (&after, data.first()) {
                assert!(
                    first > a,
                    "walker {me}: page after {a} starts at {first}: {page}"
                );
            }
            let last = data.last().cloned();
            pages.push(SeenPage { sent, ids: data });
            if !has_more {
                self.board.lock().unwrap()[me] = None;
                return pages;
            }
            let cursor = last.expect("a full page has a last ID");
            self.board.lock().unwrap()[me] = Some(cursor.clone());
            pages_until_delete -= 1;
            if pages_until_delete == 0 {
                pages_until_delete = self.delete_every;
                if cursor != self.owner_id
                    && delete_member(&self.writer, &self.writes, &cursor).await == 200
                {
                    self.writes.lock().unwrap().cursor_deletions += 1;
                }
            }
            after = Some(cursor);
        }
    }
}

/// The end of a round: every walker run at once to the end of the list, then the `writers` told
/// (`done`) to stop and waited for. The walks, in the order they finished, and how long the
/// walking took from `round_started`.
pub async fn walk_then_stop(
    walkers: Vec<Walker>,
    writers: &mut JoinSet<()>,
    done: &AtomicBool,
    round_started: Instant,
) -> (Vec<Vec<SeenPage>>, Duration) {
    let walks = walk_all(walkers).await;
    let walk_time = round_started.elapsed();
    done.store(true, Ordering::Relaxed);
    while let Some(w) = writers.join_next().await {
        w.unwrap();
    }
    (walks, walk_time)
}

/// How many members each walk listed.
pub fn members_seen(walks: &[Vec<SeenPage>]) -> Vec<usize> {
    walks
        .iter()
        .map(|pages| pages.iter().map(|p| p.ids.len()).sum())
        .collect()
}

/// Run every walker at once; their walks, in the order they finished.
async fn walk_all(walkers: Vec<Walker>) -> Vec<Vec<SeenPage>> {
    let mut running = JoinSet::new();
    for walker in walkers {
        running.spawn(walker.walk());
    }
    let mut walks = Vec::new();
    while let Some(w) = running.join_next().await {
        walks.push(w.unwrap());
    }
    walks
}

/// Check the walks of one round against what the writers did: in each walk IDs strictly
/// increase (no repeats), every member that existed throughout (there at the start, and no
/// deletion of it attempted) appears, nothing appears that was neither there at the start nor
/// added, and no page asked for after a member's deletion was acknowledged lists that member.
/// Returns how many members existed throughout.
pub fn check_walks(
    round: usize,
    at_start: &HashSet<String>,
    walks: &[Vec<SeenPage>],
    writes: &Writes,
) -> usize {
    let stable: HashSet<&String> = at_start
        .iter()
        .filter(|id| !writes.attempted_deletions.contains(*id))
        .collect();
    for (w, pages) in walks.iter().enumerate() {
        let seq: Vec<&String> = pages.iter().flat_map(|p| p.ids.iter()).collect();
        for two in seq.windows(2) {
            assert!(
                two[0] < two[1],
                "round {round}, walker {w}: IDs must strictly increase (no repeats): {} then {}",
                two[0],
                two[1]
            );
        }
        let seen: HashSet<&String> = seq.iter().copied().collect();
        let skipped: Vec<&&String> = stable.iter().filter(|id| !seen.contains(**id)).collect();
        assert!(
            skipped.is_empty(),
            "round {round}, walker {w}: skipped {} members that existed throughout the walk: {skipped:?}",
            skipped.len()
        );
        for id in &seq {
            assert!(
                at_start.contains(*id) || writes.added.contains(*id),
                "round {round}, walker {w}: listed {id}, which neither existed at the start nor was added"
            );
        }
        for page in pages {
            for id in &page.ids {
                if let Some(acked) = writes.acknowledged_deletions.get(id) {
                    assert!(
                        *acked > page.sent,
                        "round {round}, walker {w}: a page asked for {:?} after the deletion of {id} \
                         was acknowledged still listed it",
                        page.sent.duration_since(*acked)
                    );
                }
            }
        }
    }
    stable.len()
}
