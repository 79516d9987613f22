//! The lease on a SQLite database file: one process at a time opens it as a store.
//!
//! A store on a SQLite file (`orgadmin serve`, `orgadmin init`, `orgadmin org key`) holds an
//! exclusive advisory lock (`flock`, through rustix) on a companion file beside the
//! database, `<database>.lease`, for as long as the store lives, and writes its PID into it. The
//! operating system drops the lock when the process ends however it ends (`kill -9` included),
//! so a lease never outlives its holder. A second store on the same file, in this process or
//! another, is refused at once with a sentence naming the holder.
//!
//! A holder that lets go removes the file (a clean stop leaves nothing beside the database;
//! after `kill -9` it stays, and the next holder reuses it). So that a removal never leaves two
//! holders — one locking the removed file, one a new file at its name — a lock counts only if
//! the locked file is still the one at the name (same device and inode); otherwise it is
//! taken again.
//!
//! The lease is what lets the SQLite backend keep each organization's version in memory
//! (`versions.rs`): with one process writing the file, its own commits are all there is to see.
//! Several servers on one database are PostgreSQL's job.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::open::OpenError;

/// A held lease; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub(crate) struct Lease {
    /// Open for as long as the lease is held: the lock belongs to this open file.
    file: File,
    path: PathBuf,
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Removed while still locked, and only if it is still ours; then closed, which unlocks.
        if is_at(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `file` is the file at `path` now.
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// The companion file of the database at `database`.
pub(crate) fn path_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lease");
    PathBuf::from(name)
}

/// Take the lease on the database at `database` (`shown`: the database as messages name it),
/// or say who holds it.
pub(crate) fn take(database: &Path, shown: &str) -> Result<Lease, OpenError> {
    let path = path_of(database);
    let mut options = OpenOptions::new();
    // Never truncated on open: a refused process must leave the holder's PID in place.
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let unusable = |what: &str, e: std::io::Error| {
        crate::open::file_error(
            shown,
            &format!("cannot {what} the lease file {}", path.display()),
            e,
        )
    };
    loop {
        let mut file = options.open(&path).map_err(|e| unusable("open", e))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(held_by(&mut file, shown, &path)),
            Err(e) => return Err(unusable("lock", e.into())),
        }
        if !is_at(&file, &path) {
            // Its holder removed it as it let go: lock the file at the name now.
            continue;
        }
        let pid = format!("{}\n", std::process::id());
        let lease = Lease {
            file,
            path: path.clone(),
        };
        let mut file = &lease.file;
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(pid.as_bytes()))
            .map_err(|e| unusable("write", e))?;
        return Ok(lease);
    }
}

/// The refusal: the PID the holder wrote. A holder that has just taken the lock may not have
/// written it yet, so it is read a few times before it is reported unknown.
fn held_by(file: &mut File, shown: &str, path: &Path) -> OpenError {
    let mut holder = None;
    for _ in 0..20 {
        let mut text = String::new();
        let read = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_string(&mut text));
        if let Some(pid) = read.ok().and_then(|_| text.trim().parse::<u32>().ok()) {
            holder = Some(pid);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let who = match holder {
        Some(pid) => format!("PID {pid}"),
        None => "PID unknown".to_owned(),
    };
    OpenError::Unusable(format!(
        "{shown} is in use by another orgadmin process ({who}, holding {}): one process at a \
         time serves or changes a SQLite database; stop that one first, and use PostgreSQL to run \
         replicas",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_refusal_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("orgadmin.db");
        let lease = take(&database, "sqlite://x").expect("the first lease");
        let refused = take(&database, "sqlite://x").expect_err("a second lease");
        let message = refused.to_string();
        assert!(
            message.contains(&format!("PID {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("PostgreSQL"), "{message}");
        drop(lease);
        assert!(
            !path_of(&database).exists(),
            "a holder that lets go removes the file"
        );
        // A file left by a holder that was killed (its lock gone with it) is reused.
        std::fs::write(path_of(&database), "4194304\n").unwrap();
        let again = take(&database, "sqlite://x").expect("a file left behind is reused");
        let message = take(&database, "sqlite://x").expect_err("held").to_string();
        assert!(
            message.contains(&format!("PID {}", std::process::id())),
            "{message}"
        );
        drop(again);
    }
}
