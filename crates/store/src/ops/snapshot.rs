//! Snapshots of an organization (`core::snapshot`): every row of every table holding the
//! organization's rows, read in one consistent transaction, and restored in one write
//! transaction, in place or as a new organization. Written once for both backends; what differs
//! (the schema's catalogue, the JSON functions that turn a table's rows into one JSON array and
//! back) is the backend's (`Backend::SCHEMA_COLUMNS`, `rows_as_json`, `insert_rows_from_json`).
//!
//! The columns come from the schema itself, so a migration that adds a column to one of
//! [`data_tables`] is in every snapshot from then on; a migration that adds a table with an
//! `org_id` column must add it to `ORGANIZATION_TABLES`, or every snapshot fails saying so.
//!
//! A restore checks the whole document against the schema before it writes anything (backend,
//! version, tables, columns, value kinds, NOT NULL), then lets the database check its constraints
//! (unique, foreign key, CHECK) table by table: a refusal names the table and rolls everything
//! back. Restores write no audit event: the audit log is one of the snapshot's tables.

use std::collections::BTreeMap;

use orgadmin_core::id::{AdminKeyId, OrgId, ProjectId, UserId};
use orgadmin_core::model::Organization;
use orgadmin_core::secret;
use orgadmin_core::snapshot::{
    OrganizationSnapshot, RekeyedKey, RestoredOrganization, SnapshotRow,
};
use orgadmin_core::text::{clip, clip_to};
use orgadmin_core::{DomainError, Result};
use serde_json::Value;

use super::organizations::{insert_origin, OnReset, Origin, ORGANIZATION_TABLES};
use super::{db_error, is_unique_violation, refuses_data, Backend, Conn, DbResult, Tx};

/// The tables of a snapshot: those of [`ORGANIZATION_TABLES`] that hold the organization's
/// contents (the ones a reset clears), in its order, which is the order a restore empties them
/// (rows before the rows they refer to); it fills them in the reverse order. The tables a reset
/// keeps are bookkeeping, not data: the key-use epoch (`key_use`, a version number remembered
/// member answers are filed under, which only ever goes up; the generation a restore increments
/// is enough to make every server forget what it remembered) and what creation made
/// (`organization_origins`, which a reset goes back to, whatever was restored since).
fn data_tables() -> impl Iterator<Item = &'static str> {
    ORGANIZATION_TABLES
        .iter()
        .filter(|(_, on_reset)| *on_reset == OnReset::Cleared)
        .map(|(table, _)| *table)
}

/// The tables whose rows hold a key's secret (as its hash), which a copy must not share.
const KEY_TABLES: [&str; 2] = ["admin_api_keys", "project_api_keys"];

/// What a column holds, as far as a snapshot checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Boolean,
    Text,
}

impl Kind {
    fn of(declared: &str) -> Option<Self> {
        let declared = declared.to_ascii_lowercase();
        if declared.contains("int") {
            Some(Kind::Integer)
        } else if declared.contains("bool") {
            Some(Kind::Boolean)
        } else if declared.contains("text") || declared.contains("char") {
            Some(Kind::Text)
        } else {
            None
        }
    }

    fn holds(self, value: &Value) -> bool {
        match self {
            Kind::Integer => value.as_i64().is_some(),
            Kind::Boolean => value.is_boolean(),
            Kind::Text => value.as_str().is_some_and(|s| !s.contains('\0')),
        }
    }

    fn described(self) -> &'static str {
        match self {
            Kind::Integer => "an integer",
            Kind::Boolean => "true or false",
            Kind::Text => "a string",
        }
    }
}

#[derive(Debug)]
struct Column {
    name: String,
    kind: Kind,
    not_null: bool,
}

/// One table of [`TABLES`] as the schema has it.
#[derive(Debug)]
struct Table {
    name: &'static str,
    /// Every column, `org_id` included, in the table's order.
    columns: Vec<Column>,
    /// The primary key's columns, in its order.
    key: Vec<String>,
}

impl Table {
    /// The columns a restore writes from the rows (`org_id` is the organization's).
    fn data_columns(&self) -> Vec<&str> {
        self.columns
            .iter()
            .map(|c| c.name.as_str())
            .filter(|c| *c != "org_id")
            .collect()
    }
}

/// The tables of [`data_tables`], in its order, read from the schema. A table with an `org_id`
/// column missing from [`ORGANIZATION_TABLES`] is a bug of that list, reported as one.
async fn read_schema(conn: &mut Conn) -> Result<Vec<Table>> {
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(Backend::SCHEMA_COLUMNS)
        .fetch_all(&mut *conn)
        .await
        .db()?;
    let mut by_table: BTreeMap<String, Vec<(String, String, i64, i64)>> = BTreeMap::new();
    for (table, column, declared, not_null, key) in rows {
        by_table
            .entry(table)
            .or_default()
            .push((column, declared, not_null, key));
    }
    if let Some((unlisted, _)) = by_table.iter().find(|(table, columns)| {
        columns.iter().any(|(c, ..)| c == "org_id")
            && !ORGANIZATION_TABLES.iter().any(|(t, _)| t == table)
    }) {
        return Err(DomainError::internal(format!(
            "table {unlisted} holds organizations' rows but is not in ORGANIZATION_TABLES (ops/organizations.rs)"
        )));
    }
    data_tables()
        .map(|name| {
            let found = by_table.get(name).ok_or_else(|| {
                DomainError::internal(format!("the schema has no table {name} (ops/snapshot.rs)"))
            })?;
            let mut columns = Vec::with_capacity(found.len());
            let mut key: Vec<(i64, String)> = Vec::new();
            for (column, declared, not_null, position) in found {
                let kind = Kind::of(declared).ok_or_else(|| {
                    DomainError::internal(format!(
                        "column {name}.{column} is of type {declared}, which snapshots do not know"
                    ))
                })?;
                if *position > 0 {
                    key.push((*position, column.clone()));
                }
                columns.push(Column {
                    name: column.clone(),
                    kind,
                    not_null: *not_null != 0,
                });
            }
            key.sort();
            Ok(Table {
                name,
                columns,
                key: key.into_iter().map(|(_, column)| column).collect(),
            })
        })
        .collect()
}

/// The document's refusal at `param` (a path in the snapshot: `tables.users[3].email`).
fn refuse(param: impl Into<String>, message: impl Into<String>) -> DomainError {
    DomainError::invalid(param, message)
}

/// Everything a restore checks before it writes: the snapshot is of this backend and schema
/// version, holds exactly the schema's tables, and every row exactly its table's columns, each
/// value of the column's kind (and not null where the column is NOT NULL).
fn check(snapshot: &OrganizationSnapshot, schema: &[Table]) -> Result<()> {
    if snapshot.backend != Backend::NAME {
        return Err(refuse(
            "backend",
            format!(
                "This snapshot was taken on {}, and a snapshot restores only on the backend it was taken on; this server stores its data in {}.",
                clip(&snapshot.backend),
                Backend::NAME
            ),
        ));
    }
    let version = Backend::schema_version();
    if snapshot.version != version {
        return Err(refuse(
            "version",
            format!(
                "This snapshot is of schema version {}, and this server's schema is version {version}; a snapshot restores only at the version it was taken at.",
                snapshot.version
            ),
        ));
    }
    if let Some(unknown) = snapshot
        .tables
        .keys()
        .find(|name| !schema.iter().any(|t| t.name == name.as_str()))
    {
        return Err(refuse(
            format!("tables.{}", clip(unknown)),
            format!(
                "The schema has no table '{}' that a snapshot holds; a snapshot holds {}.",
                clip(unknown),
                data_tables().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    for table in schema {
        let name = table.name;
        let rows = snapshot.tables.get(name).ok_or_else(|| {
            refuse(
                format!("tables.{name}"),
                format!("The snapshot lacks table '{name}'; a snapshot holds every table of the schema, [] for one without rows."),
            )
        })?;
        for (i, row) in rows.iter().enumerate() {
            check_row(table, i, row)?;
        }
    }
    Ok(())
}

fn check_row(table: &Table, i: usize, row: &SnapshotRow) -> Result<()> {
    let name = table.name;
    if let Some(unknown) = row
        .keys()
        .find(|key| !table.columns.iter().any(|c| &c.name == *key))
    {
        return Err(refuse(
            format!("tables.{name}[{i}].{}", clip(unknown)),
            format!("Table '{name}' has no column '{}'.", clip(unknown)),
        ));
    }
    for column in &table.columns {
        let param = format!("tables.{name}[{i}].{}", column.name);
        let value = row.get(&column.name).ok_or_else(|| {
            refuse(
                &param,
                format!(
                    "Row {i} of table '{name}' lacks column '{}'; every row has every column of its table.",
                    column.name
                ),
            )
        })?;
        let fits = if value.is_null() {
            !column.not_null
        } else {
            column.kind.holds(value)
        };
        if !fits {
            let nullable = if column.not_null { "" } else { " or null" };
            return Err(refuse(
                &param,
                format!(
                    "Column '{}' of table '{name}' holds {}{nullable}; row {i} has {}.",
                    column.name,
                    column.kind.described(),
                    clip(&value.to_string())
                ),
            ));
        }
    }
    Ok(())
}

impl Backend {
    /// Every row of the organization, in one consistent read.
    pub(crate) async fn take_snapshot(&self, org: &OrgId) -> Result<OrganizationSnapshot> {
        self.guarded_bulk(async {
            let mut tx = self.reader.begin_with(Backend::BEGIN_SNAPSHOT).await.db()?;
            let organization: Option<(String, String, i64)> =
                sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                    .bind(org.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
            let (id, name, created_at) = organization
                .ok_or_else(|| DomainError::not_found("organization", org, "org_id"))?;
            let schema = read_schema(&mut tx).await?;
            let mut tables = BTreeMap::new();
            for table in &schema {
                let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                let key: Vec<&str> = table.key.iter().map(String::as_str).collect();
                let json: String =
                    sqlx::query_scalar(&Backend::rows_as_json(table.name, &columns, &key))
                        .bind(org.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .db()?;
                let rows: Vec<SnapshotRow> =
                    serde_json::from_str(&json).map_err(DomainError::internal)?;
                tables.insert(table.name.to_owned(), rows);
            }
            tx.commit().await.db()?;
            Ok(OrganizationSnapshot {
                backend: Backend::NAME.to_owned(),
                version: Backend::schema_version(),
                organization: Organization {
                    id: OrgId::from_raw(id),
                    name,
                    created_at,
                },
                tables,
            })
        })
        .await
    }

    /// The snapshot's rows in place of the organization's, in one transaction that increments
    /// its generation.
    pub(crate) async fn restore_in_place(
        &self,
        org: &OrgId,
        snapshot: OrganizationSnapshot,
    ) -> Result<()> {
        self.guarded_bulk(async {
            let (mut tx, generation) = self.begin_in(org).await?;
            if generation.is_none() {
                return Err(DomainError::not_found("organization", org, "org_id"));
            }
            let schema = read_schema(&mut tx).await?;
            check(&snapshot, &schema)?;
            for table in &schema {
                sqlx::query(&format!("DELETE FROM {} WHERE org_id = $1", table.name))
                    .bind(org.as_str())
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            write_rows(&mut tx, org, &schema, &snapshot.tables).await?;
            sqlx::query("UPDATE organizations SET name = $2, created_at = $3 WHERE id = $1")
                .bind(org.as_str())
                .bind(&snapshot.organization.name)
                .bind(snapshot.organization.created_at)
                .execute(&mut *tx)
                .await
                .db()?;
            whole(&mut tx, org).await?;
            tx.commit().await
        })
        .await
    }

    /// The snapshot as a new organization, its keys given new secrets.
    pub(crate) async fn restore_as_new(
        &self,
        mut snapshot: OrganizationSnapshot,
    ) -> Result<RestoredOrganization> {
        self.guarded_bulk(async {
            let mut tx = self.begin_bootstrap().await?;
            let schema = read_schema(&mut tx).await?;
            check(&snapshot, &schema)?;
            let rekeyed = rekey(&mut snapshot.tables);
            let org = OrgId::generate(self.millis());
            sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(org.as_str())
                .bind(&snapshot.organization.name)
                .bind(snapshot.organization.created_at)
                .execute(&mut *tx)
                .await
                .db()?;
            write_rows(&mut tx, &org, &schema, &snapshot.tables).await?;
            let default_project_id = whole(&mut tx, &org).await?;
            // The first owner's first admin key opens the copy, and with them and the default
            // project it is what the copy's reset goes back to (its secret the new one).
            let reachable: Option<Origin> = sqlx::query_as(
                "SELECT u.id AS owner_user_id, u.email AS owner_email, u.name AS owner_name, \
                        u.created AS owner_created, CAST($2 AS TEXT) AS default_project_id, \
                        k.id AS admin_key_id, k.name AS admin_key_name, \
                        k.secret_hash AS admin_key_secret_hash, \
                        k.redacted_value AS admin_key_redacted_value, \
                        CAST(NULL AS TEXT) AS fixture \
                 FROM users AS u \
                 JOIN admin_api_keys AS k ON k.org_id = u.org_id AND k.owner_user_id = u.id \
                 WHERE u.org_id = $1 AND u.role = 'owner' \
                 ORDER BY u.added_at, u.id, k.created_at, k.id LIMIT 1",
            )
            .bind(org.as_str())
            .bind(default_project_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            let Some(origin) = reachable else {
                return Err(refuse(
                    "tables.admin_api_keys",
                    "No owner in this snapshot has an admin key, so no key would open a copy of it; restore it in place instead, or take it again after giving an owner an admin key.",
                ));
            };
            insert_origin(&mut tx, &org, &origin).await?;
            tx.commit().await?;
            Ok(RestoredOrganization {
                org_id: org,
                owner_id: UserId::from_raw(origin.owner_user_id),
                default_project_id,
                admin_key_id: AdminKeyId::from_raw(origin.admin_key_id),
                rekeyed,
            })
        })
        .await
    }
}

/// Insert every table's rows, the tables in the reverse of [`data_tables`] (rows after the rows they
/// refer to), `org_id` set to `org`. A row the database refuses names its table.
async fn write_rows(
    tx: &mut Tx,
    org: &OrgId,
    schema: &[Table],
    tables: &BTreeMap<String, Vec<SnapshotRow>>,
) -> Result<()> {
    for table in schema.iter().rev() {
        let rows = &tables[table.name];
        if rows.is_empty() {
            continue;
        }
        let json = serde_json::to_string(rows).map_err(DomainError::internal)?;
        sqlx::query(&Backend::insert_rows_from_json(
            table.name,
            &table.data_columns(),
        ))
        .bind(org.as_str())
        .bind(json)
        .execute(&mut **tx)
        .await
        .map_err(|e| refused_rows(table.name, e))?;
    }
    Ok(())
}

/// The database's refusal of a table's rows, as the snapshot's fault; any other error as itself.
fn refused_rows(table: &str, e: sqlx::Error) -> DomainError {
    if !refuses_data(&e) {
        return db_error(e);
    }
    let reason = e
        .as_database_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_else(|| e.to_string());
    let hint = if KEY_TABLES.contains(&table) && is_unique_violation(&e) {
        " (a key's secret is unique on the whole server: a snapshot whose keys another organization still holds restores only as a new organization, which gives its keys new secrets)"
    } else {
        ""
    };
    refuse(
        format!("tables.{table}"),
        format!(
            "The rows of table '{table}' break a rule of the schema: {}{hint}.",
            clip_to(reason.trim_end_matches('.'), 300)
        ),
    )
}

/// The restored organization is one the server can serve: it has an owner and a default
/// project. Returns the default project.
async fn whole(tx: &mut Tx, org: &OrgId) -> Result<ProjectId> {
    let owners: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE org_id = $1 AND role = 'owner'",
    )
    .bind(org.as_str())
    .fetch_one(&mut **tx)
    .await
    .db()?;
    if owners == 0 {
        return Err(refuse(
            "tables.users",
            "The snapshot has no member whose role is owner; an organization always has one.",
        ));
    }
    let projects: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM projects WHERE org_id = $1 AND is_default = TRUE ORDER BY id",
    )
    .bind(org.as_str())
    .fetch_all(&mut **tx)
    .await
    .db()?;
    let [project] = <[String; 1]>::try_from(projects).map_err(|found| {
        let count = match found.len() {
            0 => "no default project".to_owned(),
            n => format!("{n} default projects"),
        };
        refuse(
            "tables.projects",
            format!("The snapshot has {count}; an organization has exactly one."),
        )
    })?;
    Ok(ProjectId::from_raw(project))
}

/// Give every key of a copy a new secret: a new hash and redacted value of the same kind (an
/// admin key, a member's project key, a service account's key), everything else kept.
fn rekey(tables: &mut BTreeMap<String, Vec<SnapshotRow>>) -> Vec<RekeyedKey> {
    let mut rekeyed = Vec::new();
    for table in KEY_TABLES {
        for row in tables.get_mut(table).into_iter().flatten() {
            let secret = match table {
                "admin_api_keys" => secret::generate_admin_key(),
                _ if !row["owner_service_account_id"].is_null() => {
                    secret::generate_service_account_key()
                }
                _ => secret::generate_project_key(),
            };
            let redacted = if secret.starts_with(secret::ADMIN_KEY_PREFIX) {
                secret::redact(&secret)
            } else if secret.starts_with(secret::SERVICE_ACCOUNT_KEY_PREFIX) {
                secret::redact_service_account_key(&secret)
            } else {
                secret::redact_project_key(&secret)
            };
            row.insert("secret_hash".into(), secret::hash_secret(&secret).into());
            row.insert("redacted_value".into(), redacted.into());
            rekeyed.push(RekeyedKey {
                id: row["id"].as_str().unwrap_or_default().to_owned(),
                secret,
            });
        }
    }
    rekeyed
}
