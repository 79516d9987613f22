//! Opening a store checks the server it opens: on PostgreSQL (`ORGADMIN_TEST_POSTGRES_URL`; the
//! test is ignored unless run with `--include-ignored`, as the PostgreSQL pass of
//! `scripts/test-all` does) the version the store read at open is the server's own `server_version_num`, and the server
//! the tests run on is one orgadmin supports. The decision itself (older than 9.5 is refused,
//! naming both versions) is unit tested in `src/open.rs`.

use std::sync::Arc;

use orgadmin_core::SystemClock;
use orgadmin_store::{postgres_version_text, PgStore, MIN_POSTGRES_VERSION};
use orgadmin_testkit::database::TestDatabase;
use sqlx::Connection;

#[tokio::test]
#[ignore = "needs PostgreSQL: runs with --include-ignored, as the PostgreSQL pass of scripts/test-all does"]
async fn the_postgresql_server_in_use_passes_the_version_check() {
    let database = TestDatabase::on_postgres().await;
    let store = PgStore::open(database.url(), Arc::new(SystemClock))
        .await
        .expect("the test server is supported");
    let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
    let reported: String = sqlx::query_scalar("SHOW server_version_num")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(store.server_version().to_string(), reported);
    assert!(
        store.server_version() >= MIN_POSTGRES_VERSION,
        "PostgreSQL {} passed the check",
        postgres_version_text(store.server_version())
    );
    drop(store);
}
