//! The pagination race both race suites run ([`pagination_race`]: `concurrency.rs` on one
//! server, `replicas.rs` across two): walkers page through the users while writers add and delete
//! members, some of them the very members the walkers' cursors name. What a walk saw and what the
//! writers did are recorded and checked against each other.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use tokio::task::JoinSet;

use crate::load::{item_ids as ids, Api, Stats};

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

/// The sizes of one pagination race.
pub struct RaceSize {
    /// Members (besides the owner) the list is topped up to before each round.
    pub seed: usize,
    pub rounds: usize,
    pub walkers: usize,
    pub adders: usize,
    pub max_adds_per_adder: usize,
    pub max_random_deletions: usize,
    pub max_board_deletions: usize,
    /// Walker `w` deletes its cursor's member every `delete_every_from + w` pages.
    pub delete_every_from: usize,
}

/// The servers a race runs on, all on one database, and the organization's owner (never
/// deleted). Requests are spread by counting: `api(i)` is server `i % n`; in round `r`, walker
/// `w` reads on `api(r + w)` and its deletions go through `api(r + w + 1)`, so with two replicas
/// every walker reads on one and sees the other's writes.
pub struct RaceServers<'a> {
    pub apis: &'a [Api],
    pub owner_id: &'a str,
    pub stats: &'a Stats,
}

impl RaceServers<'_> {
    fn api(&self, i: usize) -> &Api {
        &self.apis[i % self.apis.len()]
    }
}

/// Run the pagination race: each round tops the list up to `size.seed`, snapshots who exists,
/// then runs walkers to the end while adders, a random deleter and a board deleter (whatever a
/// walker's cursor names right now, with no coordination) write, and checks the walks
/// ([`check_walks`]). No request may answer 5xx.
pub async fn pagination_race(servers: RaceServers<'_>, size: RaceSize) {
    let stats = servers.stats;
    for round in 0..size.rounds {
        // Top up to `seed` members (besides the owner), eight clients at a time, spread over the
        // servers (invited on one, accepted on the next).
        let seeding = Instant::now();
        let missing = (size.seed + 1).saturating_sub(servers.api(0).list_users().await.len());
        let mut seeders = JoinSet::new();
        for s in 0..8 {
            let pairs: Vec<(Api, Api)> = (s..missing)
                .step_by(8)
                .map(|i| (servers.api(i).clone(), servers.api(i + 1).clone()))
                .collect();
            seeders.spawn(async move {
                for (inviter, acceptor) in pairs {
                    inviter.add_member_via(&acceptor, "seed", "reader").await;
                }
            });
        }
        while let Some(r) = seeders.join_next().await {
            r.unwrap();
        }
        stats.assert_no_5xx("seeding");

        // Who exists at the start of the round, with nothing else running.
        let start_ids = ids(&servers.api(round).list_users().await);
        assert!(
            start_ids.windows(2).all(|w| w[0] < w[1]),
            "round {round}: a quiet listing is strictly increasing"
        );
        let at_start: HashSet<String> = start_ids.iter().cloned().collect();
        let mut deletable: Vec<String> = start_ids
            .iter()
            .filter(|id| **id != servers.owner_id)
            .cloned()
            .collect();
        deletable.shuffle(&mut rand::thread_rng());

        let writes = Arc::new(Mutex::new(Writes::default()));
        let board = Arc::new(Mutex::new(vec![None; size.walkers]));
        let done = Arc::new(AtomicBool::new(false));
        let round_started = Instant::now();
        let requests_before = stats.total();
        let reader_of = |w: usize| servers.api(round + w).clone();
        let writer_of = |w: usize| servers.api(round + w + 1).clone();

        let mut writers = JoinSet::new();
        for a in 0..size.adders {
            let (api, writes, done) = (writer_of(a), writes.clone(), done.clone());
            let adds = size.max_adds_per_adder;
            writers.spawn(async move {
                for _ in 0..adds {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let user = api.add_member("walk", "reader").await;
                    writes
                        .lock()
                        .unwrap()
                        .added
                        .insert(user["id"].as_str().unwrap().to_owned());
                }
            });
        }
        {
            // Random members, from the snapshot, through every server in turn.
            let deleters: Vec<Api> = (0..servers.apis.len())
                .map(|i| servers.api(i).clone())
                .collect();
            let (writes, done) = (writes.clone(), done.clone());
            let victims: Vec<String> = deletable
                .into_iter()
                .take(size.max_random_deletions)
                .collect();
            writers.spawn(async move {
                for (i, user) in victims.into_iter().enumerate() {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let api = &deleters[i % deleters.len()];
                    if delete_member(api, &writes, &user).await == 200 {
                        writes.lock().unwrap().random_deletions += 1;
                    }
                }
            });
        }
        {
            // Whatever a walker's cursor names right now, deleted through the server that walker
            // does not read from, with no coordination with the walker.
            let deleter_of: Vec<Api> = (0..size.walkers).map(writer_of).collect();
            let (writes, done, board) = (writes.clone(), done.clone(), board.clone());
            let (owner_id, most) = (servers.owner_id.to_owned(), size.max_board_deletions);
            writers.spawn(async move {
                let mut deleted = 0;
                while deleted < most && !done.load(Ordering::Relaxed) {
                    let target = {
                        let board = board.lock().unwrap();
                        let tried = &writes.lock().unwrap().attempted_deletions;
                        let cursors: Vec<(usize, &String)> = board
                            .iter()
                            .enumerate()
                            .filter_map(|(w, c)| c.as_ref().map(|c| (w, c)))
                            .filter(|(_, c)| !tried.contains(*c) && **c != owner_id)
                            .collect();
                        if cursors.is_empty() {
                            None
                        } else {
                            let (w, c) = cursors[rand::thread_rng().gen_range(0..cursors.len())];
                            Some((w, c.clone()))
                        }
                    };
                    match target {
                        Some((w, user)) => {
                            if delete_member(&deleter_of[w], &writes, &user).await == 200 {
                                writes.lock().unwrap().board_deletions += 1;
                            }
                            deleted += 1;
                        }
                        // No walker holds a cursor not yet deleted; let them take a page.
                        None => tokio::time::sleep(Duration::from_millis(1)).await,
                    }
                }
            });
        }

        let (walks, walk_time) = walk_then_stop(
            (0..size.walkers)
                .map(|me| Walker {
                    me,
                    reader: reader_of(me),
                    writer: writer_of(me),
                    delete_every: size.delete_every_from + me,
                    owner_id: servers.owner_id.to_owned(),
                    board: board.clone(),
                    writes: writes.clone(),
                })
                .collect(),
            &mut writers,
            &done,
            round_started,
        )
        .await;
        stats.assert_no_5xx(&format!("pagination, round {round}"));

        let writes = writes.lock().unwrap();
        let stable = check_walks(round, &at_start, &walks, &writes);
        let lengths = members_seen(&walks);
        let page_counts: Vec<usize> = walks.iter().map(Vec::len).collect();
        println!(
            "[pagination] round {round}: seeded {missing} in {:.1?}; {} members at start, {} existed \
             throughout; walks took {walk_time:.1?} ({} requests); walkers saw {lengths:?} members \
             in {page_counts:?} pages; {} added, deleted {} own-cursor + {} board-cursor + {} random \
             ({} already gone, 404)",
            round_started.duration_since(seeding),
            at_start.len(),
            stable,
            stats.total() - requests_before,
            writes.added.len(),
            writes.cursor_deletions,
            writes.board_deletions,
            writes.random_deletions,
            writes.deletions_404,
        );
    }
    stats.assert_no_5xx("pagination");
}
