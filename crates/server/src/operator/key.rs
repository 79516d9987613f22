//! The operator key: the one secret of a server that opens the operator API. It is the
//! operator's (`--operator-key`, `ORGADMIN_OPERATOR_KEY`), or the one kept in `operator-key`
//! (mode 0600) beside a SQLite file, made at the first start that needed it, or a random one
//! printed once to standard output (an in-memory or PostgreSQL database). Only its hash stays in
//! memory; it never reaches the logs or the database.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use orgadmin_core::secret::{
    constant_time_eq, generate_operator_key, hash_secret, is_acceptable_operator_key,
    MIN_SUPPLIED_LEN, OPERATOR_KEY_PREFIX,
};

use crate::bootstrap::write_secret_file;

/// The file beside a SQLite database that keeps its server's operator key.
pub const OPERATOR_KEY_FILE: &str = "operator-key";

/// What a request's bearer token is compared with.
#[derive(Debug, Clone)]
pub struct OperatorKey {
    secret_hash: String,
}

impl OperatorKey {
    pub fn new(secret: &str) -> Self {
        Self {
            secret_hash: hash_secret(secret),
        }
    }

    /// Whether `token` is this server's operator key (compared as hashes, in constant time).
    pub fn accepts(&self, token: &str) -> bool {
        constant_time_eq(hash_secret(token).as_bytes(), self.secret_hash.as_bytes())
    }
}

/// Where the operator key of this start came from, and so how it is handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorKeySource {
    /// The operator chose it: nothing to hand out.
    Supplied,
    /// Read from, or written to, this file beside the SQLite database.
    File { path: PathBuf, created: bool },
    /// Made for this start alone and printed once to standard output.
    Printed,
}

/// The operator key of a start, resolved before the server binds (a bad supplied key or an
/// unreadable key file stops it before it touches anything); [`hand_out`](Self::hand_out)
/// writes or prints it once the start has succeeded.
#[derive(Debug, Clone)]
pub struct OperatorSecret {
    pub secret: String,
    pub source: OperatorKeySource,
}

impl OperatorSecret {
    /// `supplied` (the flag or the environment) when given; otherwise the key file beside
    /// `sqlite_file`, read if it exists and made if not; otherwise a random key.
    pub fn resolve(supplied: Option<&str>, sqlite_file: Option<&Path>) -> anyhow::Result<Self> {
        if let Some(key) = supplied {
            if !is_acceptable_operator_key(key) {
                bail!(
                    "the operator key (--operator-key or ORGADMIN_OPERATOR_KEY) must be '{OPERATOR_KEY_PREFIX}' followed by at least {MIN_SUPPLIED_LEN} letters, digits, '-' or '_'"
                );
            }
            return Ok(Self {
                secret: key.to_owned(),
                source: OperatorKeySource::Supplied,
            });
        }
        let Some(db_file) = sqlite_file else {
            return Ok(Self {
                secret: generate_operator_key(),
                source: OperatorKeySource::Printed,
            });
        };
        let path = db_file
            .parent()
            .map(|dir| dir.join(OPERATOR_KEY_FILE))
            .unwrap_or_else(|| OPERATOR_KEY_FILE.into());
        match std::fs::read_to_string(&path) {
            Ok(content) => {
                let secret = content.trim();
                if !is_acceptable_operator_key(secret) {
                    bail!(
                        "{} does not hold an operator key ('{OPERATOR_KEY_PREFIX}…'); remove it to have a new one made, or pass --operator-key",
                        path.display()
                    );
                }
                Ok(Self {
                    secret: secret.to_owned(),
                    source: OperatorKeySource::File {
                        path,
                        created: false,
                    },
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                secret: generate_operator_key(),
                source: OperatorKeySource::File {
                    path,
                    created: true,
                },
            }),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Write the key to its file (mode 0600) or print it once, as its source says.
    pub fn hand_out(&self) -> anyhow::Result<()> {
        match &self.source {
            OperatorKeySource::Supplied | OperatorKeySource::File { created: false, .. } => Ok(()),
            OperatorKeySource::File {
                path,
                created: true,
            } => {
                write_secret_file(path, &self.secret)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!(
                    "orgadmin: the operator key was written to {} (readable only by you)",
                    path.display()
                );
                Ok(())
            }
            OperatorKeySource::Printed => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                writeln!(out, "operator key (shown once): {}", self.secret)?;
                out.flush()?;
                Ok(())
            }
        }
    }

    pub fn key(&self) -> OperatorKey {
        OperatorKey::new(&self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_supplied_key_must_be_an_operator_key() {
        let key = format!("{OPERATOR_KEY_PREFIX}{}", "k".repeat(32));
        let resolved = OperatorSecret::resolve(Some(&key), None).unwrap();
        assert_eq!(resolved.source, OperatorKeySource::Supplied);
        assert!(resolved.key().accepts(&key));
        assert!(!resolved.key().accepts(&format!("{key}x")));
        let admin = format!("sk-admin-{}", "k".repeat(32));
        let refused = OperatorSecret::resolve(Some(&admin), None).unwrap_err();
        assert!(refused.to_string().contains("sk-operator-"), "{refused}");
    }

    #[test]
    fn the_key_file_beside_a_database_is_made_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("orgadmin.db");
        let first = OperatorSecret::resolve(None, Some(&db)).unwrap();
        let path = dir.path().join(OPERATOR_KEY_FILE);
        assert_eq!(
            first.source,
            OperatorKeySource::File {
                path: path.clone(),
                created: true
            }
        );
        first.hand_out().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = OperatorSecret::resolve(None, Some(&db)).unwrap();
        assert_eq!(again.secret, first.secret);
        assert!(matches!(
            again.source,
            OperatorKeySource::File { created: false, .. }
        ));

        std::fs::write(&path, "not a key\n").unwrap();
        let refused = OperatorSecret::resolve(None, Some(&db)).unwrap_err();
        assert!(refused.to_string().contains("remove it"), "{refused}");
    }

    #[test]
    fn without_a_file_the_key_is_random_and_printed() {
        let a = OperatorSecret::resolve(None, None).unwrap();
        let b = OperatorSecret::resolve(None, None).unwrap();
        assert_eq!(a.source, OperatorKeySource::Printed);
        assert_ne!(a.secret, b.secret);
    }
}
