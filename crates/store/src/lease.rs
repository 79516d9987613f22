//! The lease on a SQLite database file: one process at a time opens it as a store.
//!
//! A store on a SQLite file (`orgadmin serve`, `orgadmin init`, `orgadmin org key`) holds an
//! exclusive advisory lock (`flock`, std's `File::try_lock`) on a companion file beside the
//! database, `<database>.lease`, for as long as the store lives, and writes its PID into it. The
//! operating system drops the lock when the process ends however it ends (`kill -9` included),
//! so a lease never outlives its holder and needs no cleaning up. A second store on the same
//! file, in this process or another, is refused at once with a sentence naming the holder.
//!
//! The lease is what lets the SQLite backend keep each organization's version in memory
//! (`versions.rs`): with one process writing the file, its own commits are all there is to see.
//! Several servers on one database are PostgreSQL's job.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::open::OpenError;

/// A held lease; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub(crate) struct Lease {
    /// Open for as long as the lease is held: the lock belongs to this open file.
    _file: File,
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
        OpenError::Unusable(format!(
            "{shown}: cannot {what} the lease file {}: {e}",
            path.display()
        ))
    };
    let mut file = options.open(&path).map_err(|e| unusable("open", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(held_by(&mut file, shown, &path)),
        Err(TryLockError::Error(e)) => return Err(unusable("lock", e)),
    }
    let pid = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(pid.as_bytes()))
        .map_err(|e| unusable("write", e))?;
    Ok(Lease { _file: file })
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
        take(&database, "sqlite://x").expect("released with its holder");
    }
}
