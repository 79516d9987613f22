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

/// A walk of the whole audit log through `api`, `PAGE` events a page, following `after` from the
/// start of the list (`order` as given, or the default newest first when `None`): the pages, each
/// checked as it arrives (not longer than asked, full when `has_more`, `first_id`/`last_id` its
/// ends, and continuing strictly past the cursor in the walk's direction).
pub async fn walk_audit_log(api: &Api, order: Option<&str>) -> Vec<SeenPage> {
    let newest_first = order != Some("asc");
    let order = order.map(|o| format!("&order={o}")).unwrap_or_default();
    let mut pages: Vec<SeenPage> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_ref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default();
        let path = format!("/v1/organization/audit_logs?limit={PAGE}{order}{cursor}");
        let sent = Instant::now();
        let page = api.get_ok(&path).await;
        let data = ids(page["data"].as_array().unwrap());
        let has_more = page["has_more"].as_bool().unwrap();
        assert!(data.len() <= PAGE, "{path}: page too long: {page}");
        if has_more {
            assert_eq!(data.len(), PAGE, "{path}: has_more is exact: {page}");
        }
        assert_eq!(page["first_id"].as_str(), data.first().map(String::as_str));
        assert_eq!(page["last_id"].as_str(), data.last().map(String::as_str));
        if let (Some(a), Some(first)) = (&after, data.first()) {
            assert!(
                (first < a) == newest_first && first != a,
                "{path}: the page after {a} starts at {first}"
            );
        }
        after = data.last().cloned();
        pages.push(SeenPage { sent, ids: data });
        if !has_more {
            return pages;
        }
    }
}

/// Check a walk of the audit log against `log`, the whole log read afterwards with nothing
/// writing, in the walk's order. Events are only ever added, and always at the newest end, so a
/// newest-first walk is exactly `log` from its first event down to the oldest, and an oldest-first
/// walk exactly the first events of `log`: nothing skipped, nothing repeated, nothing turning up
/// behind the cursor. Every event of `at_start` (the log before the walk began) is in it.
pub fn check_audit_walk(
    walk: &[SeenPage],
    log: &[String],
    at_start: &HashSet<String>,
    newest_first: bool,
    context: &str,
) {
    let seen: Vec<String> = walk.iter().flat_map(|p| p.ids.iter().cloned()).collect();
    let expected: &[String] = if newest_first {
        let first = seen.first().expect("the log is never empty here");
        let from = log.iter().position(|id| id == first).unwrap_or_else(|| {
            panic!("{context}: the walk's first event {first} is not in the log")
        });
        &log[from..]
    } else {
        &log[..seen.len().min(log.len())]
    };
    if seen != expected {
        let seen_set: HashSet<&String> = seen.iter().collect();
        let missed: Vec<&String> = expected
            .iter()
            .filter(|id| !seen_set.contains(id))
            .collect();
        panic!(
            "{context}: the walk listed {} events, the log has {} in its range; missed {missed:?}",
            seen.len(),
            expected.len()
        );
    }
    let seen_set: HashSet<&String> = seen.iter().collect();
    let absent: Vec<&String> = at_start
        .iter()
        .filter(|id| !seen_set.contains(id))
        .collect();
    assert!(
        absent.is_empty(),
        "{context}: events there before the walk began are missing: {absent:?}"
    );
}
