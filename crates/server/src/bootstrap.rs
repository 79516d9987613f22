//! First start: an empty database gets an organization, its owner, the default project and an
//! admin key. The key is the operator's `ORGADMIN_ADMIN_KEY`, or a random one written to
//! `initial-admin-key` (mode 0600) beside a SQLite file, or printed once to standard output for
//! other databases. It never reaches the logs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use orgadmin_core::fixture::FixtureProblem;
use orgadmin_core::secret::{is_acceptable_supplied_key, ADMIN_KEY_PREFIX, MIN_SUPPLIED_LEN};
use orgadmin_core::store::{BootstrapRequest, Bootstrapped};
use orgadmin_core::{Email, Store};

use crate::app::ServeConfig;

pub const INITIAL_KEY_FILE: &str = "initial-admin-key";

/// The admin key the first start created, and where it was written if anywhere.
#[derive(Debug, Clone)]
pub struct InitialKey {
    pub secret: String,
    pub written_to: Option<PathBuf>,
    pub created: Bootstrapped,
}

/// What the first start will create, checked before anything is opened: a bad
/// `ORGADMIN_ADMIN_KEY` or `ORGADMIN_OWNER_EMAIL` stops the server before it binds or touches
/// the database.
pub struct FirstStart {
    request: BootstrapRequest,
    /// Whether the operator chose the first admin key (`ORGADMIN_ADMIN_KEY` or the fixture's
    /// `admin_key`), so that it need not be written down or printed.
    key_chosen: bool,
}

impl FirstStart {
    pub fn from_config(config: &ServeConfig) -> anyhow::Result<Self> {
        if let Some(key) = &config.admin_key {
            if !is_acceptable_supplied_key(key) {
                bail!(
                    "ORGADMIN_ADMIN_KEY must be '{ADMIN_KEY_PREFIX}' followed by at least {MIN_SUPPLIED_LEN} letters, digits, '-' or '_'"
                );
            }
        }
        let owner_email = Email::parse(&config.owner_email, "ORGADMIN_OWNER_EMAIL")
            .map_err(|e| anyhow::anyhow!("ORGADMIN_OWNER_EMAIL: {e}"))?;
        // Without a fixture, the defaults: one way to what creation is asked to make.
        let mut fixture = config.fixture.as_deref().cloned().unwrap_or_default();
        // The fixture's owner and first key, or else ORGADMIN_OWNER_EMAIL and ORGADMIN_ADMIN_KEY.
        let owner = fixture.owner.get_or_insert_with(Default::default);
        owner
            .email
            .get_or_insert_with(|| owner_email.as_str().to_owned());
        match (&fixture.admin_key, &config.admin_key) {
            (Some(chosen), Some(env)) if chosen != env => bail!(
                "ORGADMIN_ADMIN_KEY and the fixture's admin_key differ; give the first admin key once"
            ),
            (None, Some(env)) => fixture.admin_key = Some(env.clone()),
            _ => {}
        }
        let compiled = fixture
            .compile(config.clock.now_millis())
            .map_err(|problems| {
                anyhow::anyhow!("--fixture: {}", FixtureProblem::refusal(&problems))
            })?;
        let key_chosen = compiled.admin_key.is_some();
        Ok(Self {
            request: compiled.into_request(config.fixture.is_some()),
            key_chosen,
        })
    }

    /// Bootstrap `store` if it is empty, and hand out the key as the module documentation says.
    pub async fn run(
        self,
        store: &dyn Store,
        config: &ServeConfig,
    ) -> anyhow::Result<Option<InitialKey>> {
        bootstrap(store, config, self.request, self.key_chosen).await
    }
}

async fn bootstrap(
    store: &dyn Store,
    config: &ServeConfig,
    request: BootstrapRequest,
    key_chosen: bool,
) -> anyhow::Result<Option<InitialKey>> {
    let secret = request.admin_key_secret.clone();
    let Some(created) = store
        .bootstrap_if_empty(request)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("bootstrapping the database")?
    else {
        tracing::info!("database already initialized; keeping its organizations and keys");
        return Ok(None);
    };
    tracing::info!(org.id = %created.organization.id, user.id = %created.owner.user.id, key.id = %created.admin_key.id, "created organization, owner, default project and admin key");

    let mut written_to = None;
    if !key_chosen {
        match orgadmin_store::sqlite_file_path(&config.database_url) {
            Some(db_file) => {
                let path = db_file
                    .parent()
                    .map(|d| d.join(INITIAL_KEY_FILE))
                    .unwrap_or_else(|| INITIAL_KEY_FILE.into());
                write_secret_file(&path, &secret)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!(
                    "orgadmin: the initial admin key was written to {} (readable only by you)",
                    path.display()
                );
                written_to = Some(path);
            }
            None => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "initial admin key (shown once): {secret}")?;
                out.flush()?;
            }
        }
    }
    Ok(Some(InitialKey {
        secret,
        written_to,
        created,
    }))
}

pub(crate) fn write_secret_file(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    writeln!(file, "{secret}")?;
    file.sync_all()
}
