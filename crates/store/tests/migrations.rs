//! The backfills of migrations 0007 (the rest of `organization.user`: `created`, `is_default`),
//! 0008 (the service accounts' keys moved into `project_api_keys`), 0010 (each organization's
//! clock) and 0011 (what creation made, `organization_origins`, which reset writes back), on the
//! backend `ORGADMIN_TEST_BACKEND` selects: a database is built at an earlier migration from this
//! crate's own migration files, filled with raw SQL as a server of that release would have left it, then
//! opened with `orgadmin_store::open`, which migrates it to the latest; every backfilled column
//! and row is read back with SQL, and through the store.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use orgadmin_core::id::{OrgId, ProjectApiKeyId, ProjectId, UserId};
use orgadmin_core::model::{ProjectKeyOwner, ServiceAccountRole};
use orgadmin_core::secret::hash_secret;
use orgadmin_core::{Clock, ConflictKind, DomainError, ReadAt, SystemClock};
use orgadmin_testkit::database::{backend, Backend, TestDatabase};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgRow;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Connection, FromRow, PgConnection, SqliteConnection};

/// The last migration of the release before the backfills.
const BEFORE: i64 = 6;

/// A time in the past all the rows below are dated from.
const T0: i64 = 1_700_000_000;

/// A raw connection to the test database, whichever the backend.
enum Db {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Db {
    async fn connect(database: &TestDatabase) -> Self {
        match backend() {
            Backend::Sqlite => Db::Sqlite(
                SqliteConnection::connect_with(
                    &SqliteConnectOptions::from_str(database.url())
                        .expect("a SQLite URL")
                        .create_if_missing(true),
                )
                .await
                .expect("the SQLite file opens"),
            ),
            Backend::Postgres => Db::Postgres(database.postgres_connection().await),
        }
    }

    /// This crate's migration files of the backend.
    fn migrations(&self) -> PathBuf {
        let dir = match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        };
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir)
    }

    /// The backend's migration files with their versions, in version order.
    fn migration_files(&self) -> Vec<(i64, PathBuf)> {
        let mut files: Vec<(i64, PathBuf)> = std::fs::read_dir(self.migrations())
            .expect("the migrations directory")
            .map(|entry| {
                let path = entry.expect("a directory entry").path();
                let name = path.file_name().unwrap().to_str().unwrap().to_owned();
                let version = name
                    .split('_')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("a migration file named by its version: {name}"));
                (version, path)
            })
            .collect();
        files.sort();
        files
    }

    /// Apply the migrations up to `last` (as a release that had only those would have).
    async fn migrate_to(&mut self, last: i64) {
        let up_to = tempfile::tempdir().expect("a temporary directory");
        for (version, path) in self.migration_files() {
            if version <= last {
                std::fs::copy(&path, up_to.path().join(path.file_name().unwrap()))
                    .expect("copying a migration");
            }
        }
        let migrator = Migrator::new(up_to.path())
            .await
            .expect("the migrations parse");
        let copied = self
            .migration_files()
            .into_iter()
            .filter(|(version, _)| *version <= last)
            .count();
        assert_eq!(migrator.iter().count(), copied, "one file per version");
        match self {
            Db::Sqlite(conn) => migrator.run(conn).await,
            Db::Postgres(conn) => migrator.run(conn).await,
        }
        .unwrap_or_else(|e| panic!("migrating to {last:04}: {e}"));
    }

    async fn execute(&mut self, sql: &str) {
        let done = match self {
            Db::Sqlite(conn) => sqlx::raw_sql(sql).execute(conn).await.map(|_| ()),
            Db::Postgres(conn) => sqlx::raw_sql(sql).execute(conn).await.map(|_| ()),
        };
        done.unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    async fn rows<T>(&mut self, sql: &str) -> Vec<T>
    where
        T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        match self {
            Db::Sqlite(conn) => sqlx::query_as(sql).fetch_all(conn).await,
            Db::Postgres(conn) => sqlx::query_as(sql).fetch_all(conn).await,
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
    }

    /// Whether a statement fails (a table that is gone).
    async fn fails(&mut self, sql: &str) -> bool {
        match self {
            Db::Sqlite(conn) => sqlx::query(sql).execute(conn).await.is_err(),
            Db::Postgres(conn) => sqlx::query(sql).execute(conn).await.is_err(),
        }
    }

    async fn close(self) {
        let _ = match self {
            Db::Sqlite(conn) => conn.close().await,
            Db::Postgres(conn) => conn.close().await,
        };
    }
}

/// The secret of a service account's key written before 0008, and its stored form.
const DEPLOY_SECRET: &str = "sk-svcacct-deploydeploydeploydeploydeploydeploydeploy";
/// Ada's admin key, the one `Initial admin key` of Acme.
const ADA_SECRET: &str = "sk-admin-adaadaadaadaadaadaadaadaadaadaadaada";

/// Two organizations as a server before 0007 left them:
///
/// - Acme (created at T0): Ada, its first owner with its `Initial admin key`; Bob, a reader who
///   joined later and is also in Beta under the same ID (`--user-ids global`); Eve, an owner who
///   joined later and owns a key named `Initial admin key` too; Dan, a reader added at T0 with a
///   key of that name; a service account with two keys in the project Bots.
/// - Beta (created at T0 + 1000): Cat, its first owner, whose initial key was deleted (she owns
///   another); Fay, an owner added at T0 + 1000 whose `Initial admin key` was made later; Bob;
///   Dan again under another ID (`--user-ids per-organization`); a service account with one key.
fn data_before_0007() -> String {
    let t = |offset: i64| T0 + offset;
    let user = |org: &str, id: &str, email: &str, role: &str, added: i64| {
        format!(
            "INSERT INTO users (org_id, id, email, email_norm, name, role, added_at) \
             VALUES ('{org}', '{id}', '{email}', '{email}', NULL, '{role}', {added});\n"
        )
    };
    let admin_key = |org: &str, id: &str, name: &str, secret: &str, owner: &str, created: i64| {
        format!(
            "INSERT INTO admin_api_keys (org_id, id, name, secret_hash, redacted_value, owner_user_id, created_at) \
             VALUES ('{org}', '{id}', '{name}', '{}', 'sk-admin...{id}', '{owner}', {created});\n",
            hash_secret(secret)
        )
    };
    let mut sql = format!(
        "INSERT INTO organizations (id, name, created_at) VALUES ('org-acme', 'Acme', {}), ('org-beta', 'Beta', {});\n\
         INSERT INTO projects (org_id, id, name, created_at, is_default) VALUES \
           ('org-acme', 'proj_acme', 'Default project', {}, TRUE), \
           ('org-acme', 'proj_bots', 'Bots', {}, FALSE), \
           ('org-beta', 'proj_beta', 'Default project', {}, TRUE);\n",
        t(0),
        t(1000),
        t(0),
        t(50),
        t(1000)
    );
    sql += &user("org-acme", "user-ada", "ada@example.com", "owner", t(0));
    sql += &user("org-acme", "user-bob", "bob@example.com", "reader", t(500));
    sql += &user("org-acme", "user-eve", "eve@example.com", "owner", t(700));
    sql += &user("org-acme", "user-dan", "dan@example.com", "reader", t(0));
    sql += &user("org-beta", "user-cat", "cat@example.com", "owner", t(1000));
    sql += &user("org-beta", "user-fay", "fay@example.com", "owner", t(1000));
    sql += &user("org-beta", "user-bob", "bob@example.com", "reader", t(1500));
    sql += &user(
        "org-beta",
        "user-dan2",
        "dan@example.com",
        "reader",
        t(1600),
    );
    sql += &admin_key(
        "org-acme",
        "key_ada",
        "Initial admin key",
        ADA_SECRET,
        "user-ada",
        t(0),
    );
    sql += &admin_key(
        "org-acme",
        "key_eve",
        "Initial admin key",
        "sk-admin-e",
        "user-eve",
        t(700),
    );
    sql += &admin_key(
        "org-acme",
        "key_dan",
        "Initial admin key",
        "sk-admin-d",
        "user-dan",
        t(0),
    );
    sql += &admin_key(
        "org-beta",
        "key_cat",
        "Recovery admin key",
        "sk-admin-c",
        "user-cat",
        t(1100),
    );
    sql += &admin_key(
        "org-beta",
        "key_fay",
        "Initial admin key",
        "sk-admin-f",
        "user-fay",
        t(1050),
    );
    sql += &format!(
        "INSERT INTO project_users (org_id, project_id, user_id, role, added_at) VALUES \
           ('org-acme', 'proj_acme', 'user-ada', 'owner', {});\n\
         INSERT INTO service_accounts (org_id, id, project_id, name, role, created_at) VALUES \
           ('org-acme', 'svc_acct_deploy', 'proj_bots', 'Deployer', 'member', {}), \
           ('org-beta', 'svc_acct_ci', 'proj_beta', 'CI', 'owner', {});\n\
         INSERT INTO service_account_api_keys \
           (org_id, id, service_account_id, name, secret_hash, redacted_value, created_at, expires_at) VALUES \
           ('org-acme', 'key_sa1', 'svc_acct_deploy', 'Secret Key', '{}', 'sk-svcacct...ploy', {}, NULL), \
           ('org-acme', 'key_sa2', 'svc_acct_deploy', 'Production App', '{}', 'sk-svcacct...prod', {}, {}), \
           ('org-beta', 'key_sa3', 'svc_acct_ci', 'Secret Key', '{}', 'sk-svcacct...ci00', {}, NULL);\n",
        t(0),
        t(800),
        t(1200),
        hash_secret(DEPLOY_SECRET),
        t(800),
        hash_secret("sk-svcacct-production"),
        t(900),
        t(900 + 3600),
        hash_secret("sk-svcacct-ci"),
        t(1200),
    );
    sql
}

/// One user row after 0007: organization, ID, `created`, `is_default`, `is_scim_managed`,
/// `is_scale_tier_authorized_purchaser`.
type UserRow = (String, String, i64, i64, i64, i64);

/// One `project_api_keys` row, every column.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct KeyRow {
    org_id: String,
    id: String,
    project_id: String,
    name: String,
    secret_hash: String,
    redacted_value: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    scopes: Option<String>,
    owner_user_id: Option<String>,
    owner_service_account_id: Option<String>,
    owner_email: Option<String>,
    owner_name: Option<String>,
    owner_created: Option<i64>,
    owner_role: Option<String>,
}

#[tokio::test]
async fn migrations_0007_and_0008_backfill_the_data_written_before_them() {
    let database = TestDatabase::persistent().await;
    let mut db = Db::connect(&database).await;
    db.migrate_to(BEFORE).await;
    db.execute(&data_before_0007()).await;
    db.close().await;

    // The release with 0007 and 0008 opens the database: it migrates it to the latest.
    let store = orgadmin_store::open(database.url(), Arc::new(SystemClock))
        .await
        .expect("the store opens and migrates the database");

    let mut db = Db::connect(&database).await;
    let applied: Vec<(i64,)> = db
        .rows("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .await;
    let known: Vec<i64> = db.migration_files().into_iter().map(|(v, _)| v).collect();
    // Versions are numbered from 1 and only go up (a branch may hold a later number before the
    // one between is merged).
    assert!(known.len() >= 8 && known.iter().copied().eq(1..=known.len() as i64));
    assert_eq!(
        applied.into_iter().map(|(v,)| v).collect::<Vec<_>>(),
        known,
        "every migration applied once"
    );

    // 0007. `created`: the earliest joining of the same person (same ID and address) anywhere;
    // `is_default`: only the owner added with the organization who owns its initial key, made
    // with it; the two SCIM and purchaser flags false.
    let users: Vec<UserRow> = db
        .rows(
            "SELECT org_id, id, created, \
                    CAST(CASE WHEN is_default THEN 1 ELSE 0 END AS BIGINT), \
                    CAST(CASE WHEN is_scim_managed THEN 1 ELSE 0 END AS BIGINT), \
                    CAST(CASE WHEN is_scale_tier_authorized_purchaser THEN 1 ELSE 0 END AS BIGINT) \
             FROM users ORDER BY org_id, id",
        )
        .await;
    let row = |org: &str, id: &str, created: i64, is_default: i64| -> UserRow {
        (org.into(), id.into(), T0 + created, is_default, 0, 0)
    };
    assert_eq!(
        users,
        vec![
            row("org-acme", "user-ada", 0, 1),
            row("org-acme", "user-bob", 500, 0),
            row("org-acme", "user-dan", 0, 0),
            row("org-acme", "user-eve", 700, 0),
            row("org-beta", "user-bob", 500, 0),
            row("org-beta", "user-cat", 1000, 0),
            row("org-beta", "user-dan2", 1600, 0),
            row("org-beta", "user-fay", 1000, 0),
        ]
    );
    let key_use: Vec<(i64,)> = db
        .rows("SELECT CAST(COUNT(*) AS BIGINT) FROM key_use")
        .await;
    assert_eq!(key_use, vec![(0,)], "no key use counted yet");

    // 0008. Each service account's key is a project key of its account's project, owned by the
    // account, unscoped, never used, with its name, hash, redacted form and dates.
    let keys: Vec<KeyRow> = db
        .rows(
            "SELECT org_id, id, project_id, name, secret_hash, redacted_value, created_at, \
                    expires_at, last_used_at, scopes, owner_user_id, owner_service_account_id, \
                    owner_email, owner_name, owner_created, owner_role \
             FROM project_api_keys ORDER BY org_id, id",
        )
        .await;
    let key = |org: &str,
               id: &str,
               project: &str,
               name: &str,
               secret: &str,
               redacted: &str,
               created: i64,
               expires: Option<i64>,
               account: &str|
     -> KeyRow {
        KeyRow {
            org_id: org.into(),
            id: id.into(),
            project_id: project.into(),
            name: name.into(),
            secret_hash: hash_secret(secret),
            redacted_value: redacted.into(),
            created_at: T0 + created,
            expires_at: expires.map(|e| T0 + e),
            last_used_at: None,
            scopes: None,
            owner_user_id: None,
            owner_service_account_id: Some(account.into()),
            owner_email: None,
            owner_name: None,
            owner_created: None,
            owner_role: None,
        }
    };
    assert_eq!(
        keys,
        vec![
            key(
                "org-acme",
                "key_sa1",
                "proj_bots",
                "Secret Key",
                DEPLOY_SECRET,
                "sk-svcacct...ploy",
                800,
                None,
                "svc_acct_deploy"
            ),
            key(
                "org-acme",
                "key_sa2",
                "proj_bots",
                "Production App",
                "sk-svcacct-production",
                "sk-svcacct...prod",
                900,
                Some(900 + 3600),
                "svc_acct_deploy"
            ),
            key(
                "org-beta",
                "key_sa3",
                "proj_beta",
                "Secret Key",
                "sk-svcacct-ci",
                "sk-svcacct...ci00",
                1200,
                None,
                "svc_acct_ci"
            ),
        ]
    );
    assert!(
        db.fails("SELECT 1 FROM service_account_api_keys").await,
        "the old table is gone"
    );
    db.close().await;

    // The store reads the backfilled data as its own.
    let acme = OrgId::from_raw("org-acme");
    let ada = store
        .get_user(ReadAt::latest(&acme), &UserId::from_raw("user-ada"))
        .await
        .expect("Ada is a member");
    assert!(ada.user.is_default);
    assert_eq!(ada.user.created, T0);
    let actor = store
        .authenticate(&hash_secret(ADA_SECRET))
        .await
        .expect("the database answers")
        .expect("Ada's key still authenticates");
    assert_eq!(actor.org_id, acme);
    let eve = store
        .get_user(ReadAt::latest(&acme), &UserId::from_raw("user-eve"))
        .await
        .expect("Eve is a member");
    assert!(!eve.user.is_default);

    let resolved = store
        .resolve_project_key(&hash_secret(DEPLOY_SECRET))
        .await
        .expect("the database answers")
        .expect("the moved key still acts");
    assert_eq!(resolved.key.id.as_str(), "key_sa1");
    assert_eq!(resolved.key.project_id.as_str(), "proj_bots");
    match &resolved.key.owner {
        ProjectKeyOwner::ServiceAccount(account) => {
            assert_eq!(account.id.as_str(), "svc_acct_deploy");
            assert_eq!(account.role, ServiceAccountRole::Member);
        }
        other => panic!("owned by the service account, not {other:?}"),
    }
    assert_eq!(resolved.key.scopes, None);
    assert_eq!(
        resolved.permissions.names(),
        ServiceAccountRole::Member.permissions().names(),
        "an unscoped key of a member account"
    );
    let production = store
        .get_project_key(
            &acme,
            &ProjectId::from_raw("proj_bots"),
            &ProjectApiKeyId::from_raw("key_sa2"),
        )
        .await
        .expect("the second key is there");
    assert_eq!(production.name, "Production App");
    assert_eq!(production.expires_at, Some(T0 + 900 + 3600));
    assert!(production.owner_has_access);
    drop(store);
}

/// One `organization_origins` row: organization, owner (ID, email, name, `created`), default
/// project, admin key (ID, name, hash, redacted form).
type OriginRow = (
    String,
    String,
    String,
    Option<String>,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
);

#[tokio::test]
async fn migration_0011_records_what_made_each_organization_so_that_it_can_be_reset() {
    let database = TestDatabase::persistent().await;
    let mut db = Db::connect(&database).await;
    db.migrate_to(BEFORE).await;
    // Beside Acme and Beta, Gone: its owner holds no admin key (only a reader does).
    let gone = format!(
        "INSERT INTO organizations (id, name, created_at) VALUES ('org-gone', 'Gone', {t});\n\
         INSERT INTO projects (org_id, id, name, created_at, is_default) VALUES ('org-gone', 'proj_gone', 'Default project', {t}, TRUE);\n\
         INSERT INTO users (org_id, id, email, email_norm, name, role, added_at) VALUES \
           ('org-gone', 'user-gil', 'gil@example.com', 'gil@example.com', NULL, 'owner', {t}), \
           ('org-gone', 'user-hal', 'hal@example.com', 'hal@example.com', NULL, 'reader', {t});\n\
         INSERT INTO admin_api_keys (org_id, id, name, secret_hash, redacted_value, owner_user_id, created_at) VALUES \
           ('org-gone', 'key_hal', 'Initial admin key', '{}', 'sk-admin...hal0', 'user-hal', {t});\n",
        hash_secret("sk-admin-h"),
        t = T0 + 3000,
    );
    db.execute(&(data_before_0007() + &gone)).await;
    db.close().await;

    let store = orgadmin_store::open(database.url(), Arc::new(SystemClock))
        .await
        .expect("the store opens and migrates the database");
    let mut db = Db::connect(&database).await;
    let origins: Vec<OriginRow> = db
        .rows(
            "SELECT org_id, owner_user_id, owner_email, owner_name, owner_created, \
                    default_project_id, admin_key_id, admin_key_name, admin_key_secret_hash, \
                    admin_key_redacted_value \
             FROM organization_origins ORDER BY org_id",
        )
        .await;
    let origin = |org: &str, owner: &str, email: &str, project: &str, key: &str, secret: &str| {
        (
            org.to_owned(),
            owner.to_owned(),
            email.to_owned(),
            None,
            match org {
                "org-acme" => T0,
                _ => T0 + 1000,
            },
            project.to_owned(),
            key.to_owned(),
            Some(
                if key == "key_cat" {
                    "Recovery admin key"
                } else {
                    "Initial admin key"
                }
                .to_owned(),
            ),
            hash_secret(secret),
            format!("sk-admin...{key}"),
        )
    };
    // Acme: its first owner's key. Beta: its first owner's initial key is gone, so the oldest
    // key an owner holds (Fay's). Gone: no row, no owner holds a key.
    assert_eq!(
        origins,
        vec![
            origin(
                "org-acme",
                "user-ada",
                "ada@example.com",
                "proj_acme",
                "key_ada",
                ADA_SECRET
            ),
            origin(
                "org-beta",
                "user-fay",
                "fay@example.com",
                "proj_beta",
                "key_fay",
                "sk-admin-f"
            ),
        ]
    );
    db.close().await;

    // Reset writes that origin back: Acme holds Ada, its default project and her key alone,
    // Beta is untouched, and Gone is refused with a reason.
    let acme = OrgId::from_raw("org-acme");
    let made = store
        .reset_organization(&acme)
        .await
        .expect("Acme can be reset");
    assert_eq!(made.owner.user.id.as_str(), "user-ada");
    assert_eq!(made.default_project.id.as_str(), "proj_acme");
    assert_eq!(made.admin_key.id.as_str(), "key_ada");
    let actor = store
        .authenticate(&hash_secret(ADA_SECRET))
        .await
        .expect("the database answers")
        .expect("Ada's key authenticates after reset");
    assert_eq!(actor.org_id, acme);
    let members = store
        .list_users(
            ReadAt::latest(&acme),
            &[],
            &orgadmin_core::page::PageRequest::first(100),
        )
        .await
        .expect("Acme's members");
    let ids: Vec<&str> = members.items.iter().map(|m| m.user.id.as_str()).collect();
    assert_eq!(ids, ["user-ada"]);
    let beta = store
        .list_users(
            ReadAt::latest(&OrgId::from_raw("org-beta")),
            &[],
            &orgadmin_core::page::PageRequest::first(100),
        )
        .await
        .expect("Beta's members");
    assert_eq!(beta.items.len(), 4, "Beta is untouched");
    match store.reset_organization(&OrgId::from_raw("org-gone")).await {
        Err(DomainError::Conflict {
            kind: ConflictKind::NotResettable,
            message,
            ..
        }) => assert!(message.contains("cannot be reset"), "{message}"),
        other => panic!("Gone is not resettable, not {other:?}"),
    }
    drop(store);
}

#[tokio::test]
async fn migration_0010_gives_every_existing_organization_the_process_clock() {
    let database = TestDatabase::persistent().await;
    let mut db = Db::connect(&database).await;
    db.migrate_to(9).await;
    db.execute(&format!(
        "INSERT INTO organizations (id, name, created_at, generation) VALUES ('org-old', 'Old', {T0}, 41);\n\
         INSERT INTO users (org_id, id, email, email_norm, name, role, added_at, created) \
         VALUES ('org-old', 'user-ada', 'ada@example.com', 'ada@example.com', NULL, 'owner', {T0}, {T0});\n\
         INSERT INTO admin_api_keys (org_id, id, name, secret_hash, redacted_value, owner_user_id, created_at, expires_at) \
         VALUES ('org-old', 'key_ada', 'Initial admin key', '{}', 'sk-admin...', 'user-ada', {T0}, {});\n",
        hash_secret(ADA_SECRET),
        // Expires in an hour by the process clock: still valid after the migration.
        SystemClock.now() + 3600,
    ))
    .await;
    db.close().await;

    let store = orgadmin_store::open(database.url(), Arc::new(SystemClock))
        .await
        .expect("the store opens and migrates the database");
    let mut db = Db::connect(&database).await;
    let clocks: Vec<(i64, Option<i64>, i64)> = db
        .rows("SELECT clock_offset_seconds, clock_frozen_at, generation FROM organizations")
        .await;
    assert_eq!(
        clocks,
        vec![(0, None, 41)],
        "running, no offset, generation kept"
    );
    db.close().await;

    let old = OrgId::from_raw("org-old");
    let reading = store.get_org_clock(&old).await.expect("the clock reads");
    assert!(!reading.frozen);
    assert_eq!(reading.offset_seconds, 0);
    let actor = store
        .authenticate(&hash_secret(ADA_SECRET))
        .await
        .expect("the database answers")
        .expect("the key still authenticates");
    assert!((actor.now - SystemClock.now()).abs() <= 5, "{}", actor.now);
    assert_eq!(actor.generation, 41);
    drop(store);
}
