//! Why a database could not be opened, told so that the operator can act on it: the one error of
//! [`crate::open`]. Opening checks what a server must not start without — the file is a SQLite
//! database and can be written, the disk has room, the PostgreSQL server answers and is recent
//! enough, the schema is not newer than this binary — and each failure is one sentence naming the
//! database (its password removed) and what was found.
//!
//! Also here: how the SQLite file and its directory are created (0600 and 0700, so that the
//! members' emails and names are not readable by other users of the machine), and the
//! PostgreSQL version rule.

use std::io;
use std::path::{Path, PathBuf};

/// Why [`crate::open`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The URL names no database orgadmin can open: a mistake on the command line.
    #[error("{0}")]
    Url(String),
    /// The database is there but cannot be used as it is (not a database, not writable, disk
    /// full, a server or schema this binary does not support): retrying will not help until the
    /// operator acts.
    #[error("{0}")]
    Unusable(String),
    /// The database did not answer in time (PostgreSQL down or unreachable, a SQLite file held
    /// locked by another process); it may come back.
    #[error("{0}")]
    Unavailable(String),
}

/// A database URL fit to print: the password removed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme_end], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The highest migration version a migrator knows.
pub(crate) fn newest_known(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The database's schema is newer than this binary: it holds a migration it does not know.
pub(crate) fn schema_too_new(url: &str, found: i64, known: i64) -> OpenError {
    OpenError::Unusable(format!(
        "{} has schema version {found}, newer than this orgadmin knows (up to {known}): run the \
         orgadmin release that last migrated it, or a newer one",
        redact_url(url)
    ))
}

/// A failed migration, other than a schema that is too new (which needs a query to name the
/// version found, so the backends report it).
pub(crate) fn migrate_error(
    url: &str,
    e: sqlx::migrate::MigrateError,
    classify: impl Fn(&str, sqlx::Error) -> OpenError,
) -> OpenError {
    use sqlx::migrate::MigrateError;
    let shown = redact_url(url);
    match e {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => classify(url, e),
        MigrateError::VersionMismatch(v) => OpenError::Unusable(format!(
            "{shown}: migration {v} applied to this database differs from this orgadmin's \
             migration {v}; the database was migrated by a different build"
        )),
        MigrateError::Dirty(v) => OpenError::Unusable(format!(
            "{shown}: migration {v} was left partly applied; restore the database from a backup"
        )),
        other => OpenError::Unusable(format!("{shown}: cannot migrate the schema: {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite

/// What [`prepare_sqlite_file`] created, to be removed again if the database then fails to open,
/// so that a failed start leaves nothing behind.
#[derive(Debug, Default)]
pub(crate) struct Created {
    file: Option<PathBuf>,
    /// An existing database file others may read, and its mode: warned about once it opened.
    readable_by_others: Option<(PathBuf, u32)>,
    /// The outermost directory created, and the file's own directory.
    dirs: Option<(PathBuf, PathBuf)>,
}

impl Created {
    /// The database opened: say so if its file is open to other users. It is left as it is,
    /// since the operator may have meant it (a group that backs it up, say).
    pub(crate) fn opened(self) {
        if let Some((path, mode)) = self.readable_by_others {
            tracing::warn!(
                file.path = %path.display(),
                file.mode = format!("{mode:04o}"),
                "the database file can be read or written by other users of this machine (it \
                 holds members' emails and names); `chmod 600` it and its -wal and -shm files \
                 unless that is meant"
            );
        }
    }

    /// Remove what was created (the database file with its `-wal`, `-shm` and `-journal`, then
    /// the directories, only while empty). Best effort.
    pub(crate) fn remove(self) {
        if let Some(file) = self.file {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = file.clone().into_os_string();
                name.push(suffix);
                let _ = std::fs::remove_file(name);
            }
        }
        if let Some((outermost, mut dir)) = self.dirs {
            loop {
                if std::fs::remove_dir(&dir).is_err() || dir == outermost {
                    break;
                }
                match dir.parent() {
                    Some(parent) => dir = parent.to_owned(),
                    None => break,
                }
            }
        }
    }
}

/// Before SQLite opens `path`: create its directory (0700) and the empty database file (0600)
/// if they are missing, or check that the existing file can be written. SQLite gives the `-wal`
/// and `-shm` files it creates the database file's mode, so they are 0600 as well. An existing
/// file is left with the mode its operator gave it; one readable by others is warned about.
pub(crate) fn prepare_sqlite_file(url: &str, path: &Path) -> Result<Created, OpenError> {
    let shown = redact_url(url);
    let mut created = Created::default();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        let outermost = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .last()
            .unwrap_or(dir)
            .to_owned();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(|e| {
            // Whatever part of the path was made before the failure goes again.
            Created {
                dirs: Some((outermost.clone(), dir.to_owned())),
                ..Created::default()
            }
            .remove();
            file_error(
                &shown,
                &format!("cannot create the directory {}", dir.display()),
                e,
            )
        })?;
        created.dirs = Some((outermost, dir.to_owned()));
    }

    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => {
            created.file = Some(path.to_owned());
            Ok(created)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let checked = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .and_then(|file| file.metadata());
            match checked {
                Ok(metadata) if metadata.is_file() => {
                    created.readable_by_others =
                        mode_readable_by_others(&metadata).map(|mode| (path.to_owned(), mode));
                    Ok(created)
                }
                Ok(_) => Err(OpenError::Unusable(format!(
                    "{shown}: {} is not a file",
                    path.display()
                ))),
                Err(e) => Err(file_error(
                    &shown,
                    &format!("cannot write {}", path.display()),
                    e,
                )),
            }
        }
        Err(e) => {
            created.remove();
            Err(file_error(
                &shown,
                &format!("cannot create {}", path.display()),
                e,
            ))
        }
    }
}

pub(crate) fn file_error(shown: &str, what: &str, e: io::Error) -> OpenError {
    if e.kind() == io::ErrorKind::StorageFull {
        OpenError::Unusable(format!(
            "{shown}: {what}: the disk is full; free some space and start again"
        ))
    } else {
        OpenError::Unusable(format!("{shown}: {what}: {e}"))
    }
}

#[cfg(unix)]
fn mode_readable_by_others(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn mode_readable_by_others(_: &std::fs::Metadata) -> Option<u32> {
    None
}

/// A failure of SQLite while opening or migrating `url`, as the operator should read it.
pub(crate) fn sqlite_error(url: &str, e: sqlx::Error) -> OpenError {
    let shown = redact_url(url);
    match &e {
        sqlx::Error::Database(db) => {
            // The extended result code; its low byte is the primary one.
            let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
            match code & 0xff {
                // SQLITE_NOTADB, SQLITE_CORRUPT
                26 | 11 => {
                    OpenError::Unusable(format!("{shown} is not a SQLite database (or it is corrupt)"))
                }
                // SQLITE_FULL
                13 => OpenError::Unusable(format!(
                    "{shown}: the disk is full; free some space and start again"
                )),
                // SQLITE_READONLY
                8 => OpenError::Unusable(format!(
                    "{shown} cannot be written ({}): check the file's and its directory's permissions",
                    db.message()
                )),
                // SQLITE_CANTOPEN
                14 => OpenError::Unusable(format!(
                    "{shown} cannot be opened: the database file, or its -wal and -shm files beside \
                     it, cannot be created or written there; check the directory's permissions"
                )),
                // SQLITE_BUSY, SQLITE_LOCKED
                5 | 6 => OpenError::Unavailable(format!(
                    "{shown} is locked by another process ({})",
                    db.message()
                )),
                // SQLITE_IOERR_SHMSIZE: the -shm file could not grow, which on a local disk
                // means it is full.
                10 if code == 4874 => OpenError::Unusable(format!(
                    "{shown}: the disk is full (the -shm file beside the database cannot grow); \
                     free some space and start again"
                )),
                // SQLITE_IOERR and its other extended codes
                10 => OpenError::Unusable(format!(
                    "{shown}: input/output error ({}, code {code}); check the disk",
                    db.message()
                )),
                _ => OpenError::Unusable(format!("{shown} cannot be opened: {}", db.message())),
            }
        }
        sqlx::Error::Io(io) if io.kind() == io::ErrorKind::StorageFull => OpenError::Unusable(
            format!("{shown}: the disk is full; free some space and start again"),
        ),
        _ => OpenError::Unusable(format!("{shown} cannot be opened: {e}")),
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// The oldest PostgreSQL orgadmin runs on, as `server_version_num`. The newest feature its SQL
/// uses is `INSERT … ON CONFLICT DO NOTHING`, which came in 9.5; everything else (advisory
/// transaction locks, `lock_timeout`, `= ANY($1)` with array binds, `FOR UPDATE`) is older.
pub const MIN_POSTGRES_VERSION: u32 = 90500;
/// [`MIN_POSTGRES_VERSION`] as its release is called.
const MIN_POSTGRES_RELEASE: &str = "9.5";

/// `server_version_num` as people write it: 90500 is 9.5.0, 150020 is 15.20 (one number less
/// from 10 on, when the second one became the minor version).
pub fn postgres_version_text(num: u32) -> String {
    if num >= 100_000 {
        format!("{}.{}", num / 10_000, num % 10_000)
    } else {
        format!("{}.{}.{}", num / 10_000, num / 100 % 100, num % 100)
    }
}

/// Decide whether a server reporting `server_version_num` = `reported` can be used.
pub(crate) fn check_postgres_version(server: &str, reported: &str) -> Result<u32, OpenError> {
    let num: u32 = reported.trim().parse().map_err(|_| {
        OpenError::Unusable(format!(
            "PostgreSQL at {server} reports server_version_num '{reported}', which is not a \
             version number; orgadmin needs PostgreSQL {MIN_POSTGRES_RELEASE} or later"
        ))
    })?;
    if num < MIN_POSTGRES_VERSION {
        return Err(OpenError::Unusable(format!(
            "PostgreSQL at {server} is version {}; orgadmin needs PostgreSQL \
             {MIN_POSTGRES_RELEASE} or later",
            postgres_version_text(num)
        )));
    }
    Ok(num)
}

/// Is a failed connection attempt worth retrying while the server may still be starting?
pub(crate) fn postgres_may_come_back(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        // 57P03 cannot_connect_now (starting up or shutting down), 53300 too_many_connections,
        // 08xxx connection exceptions.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c == "57P03" || c == "53300" || c.starts_with("08")),
        _ => false,
    }
}

/// A failure to connect to PostgreSQL at `server`: unreachable after waiting `waited`, or refused
/// for a reason waiting will not change (authentication, a missing database, TLS).
pub(crate) fn postgres_connect_error(
    server: &str,
    e: &sqlx::Error,
    waited: std::time::Duration,
) -> OpenError {
    let cause = cause(e);
    if postgres_may_come_back(e) {
        OpenError::Unavailable(format!(
            "cannot reach PostgreSQL at {server} (tried for {:.0} s): {cause}",
            waited.as_secs_f64()
        ))
    } else {
        OpenError::Unusable(format!(
            "PostgreSQL at {server} refused the connection: {cause}"
        ))
    }
}

/// What went wrong, without sqlx's prefixes ("error returned from database: ", "error
/// communicating with database: ").
fn cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// A failure of PostgreSQL after connecting (migrations, the version query).
pub(crate) fn postgres_error(url: &str, e: sqlx::Error) -> OpenError {
    let shown = redact_url(url);
    let unavailable = postgres_may_come_back(&e)
        || matches!(e, sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed);
    let cause = cause(&e);
    if unavailable {
        OpenError::Unavailable(format!("{shown}: the connection failed: {cause}"))
    } else {
        OpenError::Unusable(format!("{shown} cannot be used: {cause}"))
    }
}

/// A step of bringing a database up to date after its migrations (the email identities of
/// migration 0005) that failed.
pub(crate) fn upgrade_error(url: &str, e: orgadmin_core::DomainError) -> OpenError {
    let message = format!("{}: updating stored email identities: {e}", redact_url(url));
    match e {
        orgadmin_core::DomainError::Unavailable(_) => OpenError::Unavailable(message),
        _ => OpenError::Unusable(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_versions_are_written_as_their_releases_are() {
        assert_eq!(postgres_version_text(90500), "9.5.0");
        assert_eq!(postgres_version_text(90624), "9.6.24");
        assert_eq!(postgres_version_text(100023), "10.23");
        assert_eq!(postgres_version_text(150020), "15.20");
        assert_eq!(postgres_version_text(170000), "17.0");
    }

    #[test]
    fn postgres_older_than_9_5_is_refused_naming_both_versions() {
        let refused = check_postgres_version("db.internal:5432", "90424").unwrap_err();
        assert_eq!(
            refused,
            OpenError::Unusable(
                "PostgreSQL at db.internal:5432 is version 9.4.24; orgadmin needs PostgreSQL \
                 9.5 or later"
                    .into()
            )
        );
        assert_eq!(check_postgres_version("h:1", "90500"), Ok(90500));
        assert_eq!(check_postgres_version("h:1", "150020\n"), Ok(150020));
        assert_eq!(check_postgres_version("h:1", "180001"), Ok(180001));
    }

    #[test]
    fn a_server_version_that_is_not_a_number_is_refused_clearly() {
        let refused = check_postgres_version("h:1", "15.2").unwrap_err();
        assert!(
            matches!(&refused, OpenError::Unusable(m) if m.contains("'15.2'") && m.contains("9.5 or later")),
            "{refused:?}"
        );
    }

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x/y.db"), "sqlite://x/y.db");
    }
}
