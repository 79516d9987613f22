//! The one list of the tables that hold an organization's rows (`ops/organizations.rs`,
//! `ORGANIZATION_TABLES`), which delete and reset empty, against the schema the migrations make,
//! on the backend `ORGADMIN_TEST_BACKEND` selects: a table with an `org_id` column that the list
//! lacks would keep a deleted organization's rows, and a name in the list that is no such table
//! would fail every delete.

use std::collections::BTreeSet;
use std::sync::Arc;

use orgadmin_core::SystemClock;
use orgadmin_store::ORGANIZATION_TABLES;
use orgadmin_testkit::database::TestDatabase;

#[tokio::test]
async fn every_table_with_an_org_id_is_in_the_list_of_organization_tables() {
    let database = TestDatabase::persistent().await;
    let store = orgadmin_store::open(database.url(), Arc::new(SystemClock))
        .await
        .expect("the store opens and migrates the database");
    drop(store);

    let in_schema: BTreeSet<String> = database.tables_with_org_id().await.into_iter().collect();
    let listed: BTreeSet<String> = ORGANIZATION_TABLES
        .iter()
        .map(|(table, _)| (*table).to_owned())
        .collect();
    assert_eq!(
        listed.len(),
        ORGANIZATION_TABLES.len(),
        "a table listed twice"
    );
    let missing: Vec<_> = in_schema.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "tables with an org_id column missing from ORGANIZATION_TABLES (ops/organizations.rs): \
         {missing:?}; add each there, before the tables its rows refer to, and say what reset does with it"
    );
    let unknown: Vec<_> = listed.difference(&in_schema).collect();
    assert!(
        unknown.is_empty(),
        "ORGANIZATION_TABLES names tables without an org_id column: {unknown:?}"
    );
    assert!(in_schema.len() >= 17, "the schema was read: {in_schema:?}");
}
