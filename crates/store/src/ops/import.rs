//! Bulk import of members (`POST /v1/organization/users/import`): the whole file in one
//! transaction.
//!
//! Rows are consumed in chunks of [`CHUNK_ROWS`] as the reader produces them, so a file of any
//! length is never held whole: each chunk is checked (syntax, projects, duplicates within the
//! file), its emails looked up with one query, and its new members, memberships and audit events
//! written with multi-row `INSERT`s. Demotions of owners wait until every row has been seen, so
//! the last-owner rule counts the owners the file itself adds, whatever their order. One invalid
//! row without `skip_invalid` stops the writing (the remaining rows are still checked, for the
//! report) and the transaction is rolled back; a dry run rolls back too.

use async_trait::async_trait;
use orgadmin_core::store::ImportStore;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use orgadmin_core::actor::Actor;
use orgadmin_core::audit::kind;
use orgadmin_core::email::Email;
use orgadmin_core::id::*;
use orgadmin_core::import::{
    clip, CheckedRow, ImportError, ImportOptions, ImportReport, ImportRow, ImportRows,
    ProjectAccess, ProjectKey,
};
use orgadmin_core::model::ensure_project_open;
use orgadmin_core::permission::PermissionSet;
use orgadmin_core::role::{OrgBaseRole, ProjectBaseRole};
use orgadmin_core::store::UserIds;
use orgadmin_core::{DomainError, Permission, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{push_in, users, Backend, Db, DbResult, Tx};

/// Rows checked, looked up and written together.
const CHUNK_ROWS: usize = 1000;

/// Bind variables in one statement: below SQLite's limit (32766) and PostgreSQL's (65535).
const MAX_BINDS: usize = 30_000;

#[async_trait]
impl ImportStore for Backend {
    async fn import_users(
        &self,
        actor: &Actor,
        rows: ImportRows<'_>,
        options: &ImportOptions,
    ) -> Result<ImportReport> {
        let org = &actor.org_id;
        let mut tx = self.begin_for(actor).await?;
        let mut import = Import {
            store: self,
            actor,
            options,
            grants: Grants::load(&mut tx, actor).await?,
            held_in_projects: HashMap::new(),
            projects: Catalogue::load(&mut tx, org).await?,
            seen: HashMap::new(),
            owners_before: users::owner_count(&mut tx, org).await?,
            promotions: 0,
            demotions: Vec::new(),
            writing: !options.dry_run,
            report: ImportReport {
                dry_run: options.dry_run,
                ..ImportReport::default()
            },
        };
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        loop {
            chunk.clear();
            while chunk.len() < CHUNK_ROWS {
                // Dropping the transaction rolls it back: a file read halfway imports nothing.
                let row = rows.next_row().await.map_err(|e| {
                    DomainError::invalid("file", format!("the rows could not be read: {e}"))
                })?;
                match row {
                    Some(row) => chunk.push(row),
                    None => break,
                }
            }
            if chunk.is_empty() {
                break;
            }
            import.chunk(&mut tx, &chunk).await?;
        }
        import.demote(&mut tx).await?;

        let mut report = import.report;
        report.errors.sort_by_key(|e| e.line);
        report.committed = !options.dry_run && (report.invalid == 0 || options.skip_invalid);
        if report.committed {
            tx.commit().await?;
            if report.created + report.updated > 0 {
                self.after_bulk_write().await;
            }
        } else {
            tx.rollback().await?;
        }
        Ok(report)
    }
}

/// A project of the organization, as rows may name it.
struct ProjectInfo {
    id: ProjectId,
    archived: bool,
}

/// Every project of the organization, loaded once: rows name them by ID or by exact name.
struct Catalogue {
    projects: Vec<ProjectInfo>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Catalogue {
    async fn load(tx: &mut Tx, org: &OrgId) -> Result<Self> {
        let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, archived_at FROM projects WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.as_str())
        .fetch_all(&mut **tx)
        .await
        .db()?;
        let mut catalogue = Catalogue {
            projects: Vec::with_capacity(rows.len()),
            by_id: HashMap::new(),
            by_name: HashMap::new(),
        };
        for (i, (id, name, archived_at)) in rows.into_iter().enumerate() {
            catalogue.by_id.insert(id.clone(), i);
            catalogue.by_name.entry(name).or_default().push(i);
            catalogue.projects.push(ProjectInfo {
                id: ProjectId::from_raw(id),
                archived: archived_at.is_some(),
            });
        }
        Ok(catalogue)
    }

    /// The active project `key` names, or why it names none.
    fn resolve(&self, key: &ProjectKey) -> std::result::Result<&ProjectInfo, String> {
        let found = match key {
            ProjectKey::Id(id) => self
                .by_id
                .get(id)
                .map(|&i| &self.projects[i])
                .ok_or_else(|| format!("no project has the ID '{}'.", clip(id)))?,
            ProjectKey::Name(name) => self.by_name(name, "name")?,
            ProjectKey::IdOrName(text) => match self.by_id.get(text) {
                Some(&i) => &self.projects[i],
                None => self.by_name(text, "ID or name")?,
            },
        };
        ensure_project_open(&found.id, found.archived).map_err(|e| e.to_string())?;
        Ok(found)
    }

    fn by_name(&self, name: &str, what: &str) -> std::result::Result<&ProjectInfo, String> {
        let Some(all) = self.by_name.get(name) else {
            let mut message = format!("no project has the {what} '{}'.", clip(name));
            if name.contains(':') {
                message.push_str(" (A role after ':' must be owner, member or viewer.)");
            }
            return Err(message);
        };
        let active: Vec<&ProjectInfo> = all
            .iter()
            .map(|&i| &self.projects[i])
            .filter(|p| !p.archived)
            .collect();
        match active.as_slice() {
            [one] => Ok(one),
            [] => Ok(&self.projects[all[0]]),
            many => Err(format!(
                "{} active projects are named '{}' ({}); name the project by its ID.",
                many.len(),
                clip(name),
                many.iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// A valid row with its projects resolved.
struct Valid {
    line: u64,
    row: CheckedRow,
    projects: Vec<(ProjectId, Option<ProjectBaseRole>)>,
}

/// What is known of an email before the chunk is planned.
#[derive(Default)]
struct Known {
    /// This organization's member with that email: ID, name, base role.
    member: Option<(UserId, Option<String>, OrgBaseRole)>,
    /// The ID the person has in another organization, and when they first joined one.
    elsewhere: Option<(UserId, i64)>,
}

/// The change to an existing member a row asks for.
struct Update {
    line: u64,
    email: Email,
    user: UserId,
    role: Option<OrgBaseRole>,
    name: Option<String>,
    add: Vec<(ProjectId, ProjectBaseRole)>,
    change: Vec<(ProjectId, ProjectBaseRole)>,
    /// The current role in each project of `change`, in the same order.
    change_from: Vec<ProjectBaseRole>,
}

struct NewUser {
    id: UserId,
    email: Email,
    name: Option<String>,
    role: OrgBaseRole,
    /// When the person first joined an organization elsewhere; `None`: now.
    created: Option<i64>,
}

/// An audit event of the import; its ID is given when the chunk is written (`Import::write`).
struct Event {
    kind: &'static str,
    resource: String,
    project: Option<ProjectId>,
    details: String,
}

/// The writes of one chunk, made together.
#[derive(Default)]
struct Writes {
    users: Vec<NewUser>,
    memberships: Vec<(ProjectId, UserId, ProjectBaseRole)>,
    updates: Vec<Update>,
    events: Vec<Event>,
}

struct Import<'a> {
    store: &'a Backend,
    actor: &'a Actor,
    options: &'a ImportOptions,
    /// What the key may grant: a row may give no more (`orgadmin_core::grant`).
    grants: Grants,
    /// What the key holds in each project a row named, read once.
    held_in_projects: HashMap<ProjectId, PermissionSet>,
    projects: Catalogue,
    /// Every email of the file so far (normalized), with the line it first appeared on.
    seen: HashMap<Box<str>, u64>,
    owners_before: i64,
    /// Members the file makes owners (new owners and promoted readers).
    promotions: i64,
    /// Rows demoting an owner, applied at the end.
    demotions: Vec<Update>,
    /// False in a dry run, and once an invalid row means the import will be rolled back.
    writing: bool,
    report: ImportReport,
}

impl Import<'_> {
    fn invalid(&mut self, line: u64, email: &str, message: String) {
        self.report.invalid += 1;
        let email = email.trim();
        self.report.errors.push(ImportError {
            line,
            email: (!email.is_empty()).then(|| email.to_owned()),
            message,
        });
    }

    /// Check one row without the database (but with the projects and the emails seen so far).
    fn check(&mut self, row: &ImportRow) -> std::result::Result<Valid, String> {
        let checked = row.check();
        let normalized = match &checked {
            Ok(c) => Some(c.email.normalized().to_owned()),
            Err(_) if row.problem.is_none() => Email::parse(&row.email, "email")
                .ok()
                .map(|e| e.normalized().to_owned()),
            Err(_) => None,
        };
        // Every valid email of a row the reader could read counts as seen, so a second row for
        // it is a duplicate even when the first is invalid for another reason.
        let first = normalized.and_then(|n| match self.seen.entry(n.into_boxed_str()) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(row.line);
                None
            }
        });
        let checked = checked?;
        if let Some(first) = first {
            return Err(format!(
                "{} is also on line {first}; each member may appear once in the file.",
                checked.email
            ));
        }
        let mut projects: Vec<(ProjectId, Option<ProjectBaseRole>)> =
            Vec::with_capacity(checked.projects.len());
        for (key, role) in &checked.projects {
            let project = self.projects.resolve(key)?;
            if let ProjectAccess::Only(allowed) = &self.options.project_access {
                if !allowed.contains(&project.id) {
                    return Err(DomainError::forbidden(
                        Permission::ProjectUsersWrite,
                        Some((Permission::ProjectUsersWriteInProject, project.id.as_str())),
                    )
                    .to_string());
                }
            }
            if projects.iter().any(|(id, _)| *id == project.id) {
                return Err(format!(
                    "project {} is listed twice; list each project once.",
                    project.id
                ));
            }
            projects.push((project.id.clone(), *role));
        }
        Ok(Valid {
            line: row.line,
            row: checked,
            projects,
        })
    }

    async fn chunk(&mut self, tx: &mut Tx, rows: &[ImportRow]) -> Result<()> {
        let mut valid = Vec::with_capacity(rows.len());
        let mut any_invalid = false;
        for row in rows {
            match self.check(row) {
                Ok(v) => valid.push(v),
                Err(message) => {
                    any_invalid = true;
                    self.invalid(row.line, &row.email, message);
                }
            }
        }
        if any_invalid && !self.options.skip_invalid {
            // The import will be rolled back: check the rest, write nothing more.
            self.writing = false;
        }
        if valid.is_empty() {
            return Ok(());
        }
        let known = self.lookup(tx, &valid).await?;
        let memberships = self.memberships(tx, &valid, &known).await?;

        let mut writes = Writes::default();
        for v in valid {
            let known = known.get(v.row.email.normalized());
            match known.and_then(|k| k.member.as_ref()) {
                None => {
                    let mut granted = vec![(
                        None,
                        v.row
                            .role
                            .unwrap_or(OrgBaseRole::Reader)
                            .predefined()
                            .permissions(),
                        v.row.role.unwrap_or(OrgBaseRole::Reader).as_str(),
                    )];
                    for (project, role) in &v.projects {
                        let role = role.unwrap_or(ProjectBaseRole::Member);
                        granted.push((
                            Some(project.clone()),
                            role.predefined().permissions(),
                            role.as_str(),
                        ));
                    }
                    if !self
                        .may_grant(tx, v.line, v.row.email.as_str(), granted)
                        .await?
                    {
                        continue;
                    }
                    let (id, created) = match known.and_then(|k| k.elsewhere.clone()) {
                        Some((id, created)) => (id, Some(created)),
                        None => (UserId::generate(self.store.millis()), None),
                    };
                    self.create(&mut writes, v, id, created);
                }
                Some((user, name, role)) => {
                    let current = *role;
                    let update = plan_update(v, user, name.as_deref(), *role, &memberships);
                    if let Some(u) = &update {
                        // What each change holds beyond what it replaces.
                        let mut granted = Vec::new();
                        if let Some(new) = u.role {
                            granted.push((
                                None,
                                new.predefined()
                                    .permissions()
                                    .difference(current.predefined().permissions()),
                                new.as_str(),
                            ));
                        }
                        for (project, role) in &u.add {
                            granted.push((
                                Some(project.clone()),
                                role.predefined().permissions(),
                                role.as_str(),
                            ));
                        }
                        for ((project, role), from) in u.change.iter().zip(&u.change_from) {
                            granted.push((
                                Some(project.clone()),
                                role.predefined()
                                    .permissions()
                                    .difference(from.predefined().permissions()),
                                role.as_str(),
                            ));
                        }
                        if !self
                            .may_grant(tx, u.line, u.email.as_str(), granted)
                            .await?
                        {
                            continue;
                        }
                    }
                    match update {
                        None => self.report.skipped += 1,
                        Some(u) if u.role == Some(OrgBaseRole::Reader) => self.demotions.push(u),
                        Some(u) => {
                            if u.role == Some(OrgBaseRole::Owner) {
                                self.promotions += 1;
                            }
                            self.report.updated += 1;
                            self.update(&mut writes, u);
                        }
                    }
                }
            }
        }
        if self.writing {
            self.write(tx, writes).await?;
        }
        Ok(())
    }

    /// Whether the key may make a row's grants (`(project, permissions, role name)`, the
    /// organization when `project` is `None`); a row asking for more is invalid, with the
    /// API's message naming what the key lacks.
    async fn may_grant(
        &mut self,
        tx: &mut Tx,
        line: u64,
        email: &str,
        granted: Vec<(Option<ProjectId>, PermissionSet, &'static str)>,
    ) -> Result<bool> {
        for (project, permissions, role) in granted {
            if permissions.is_empty() {
                continue;
            }
            let held = match &project {
                None => self.grants.granter().in_organization(),
                Some(p) => match self.held_in_projects.get(p) {
                    Some(held) => *held,
                    None => {
                        let held = self.grants.held_in(tx, self.actor, Some(p)).await?;
                        self.held_in_projects.insert(p.clone(), held);
                        held
                    }
                },
            };
            let what = match &project {
                None => format!("Role '{role}'"),
                Some(_) => format!("Project role '{role}'"),
            };
            if let Err(e) = self
                .grants
                .granter()
                .check(held, permissions, project.as_ref(), &what)
            {
                self.invalid(line, email, e.to_string());
                if !self.options.skip_invalid {
                    self.writing = false;
                }
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// What the database knows of the chunk's emails: members here, IDs elsewhere.
    async fn lookup(&self, tx: &mut Tx, valid: &[Valid]) -> Result<HashMap<String, Known>> {
        let emails: Vec<String> = valid
            .iter()
            .map(|v| v.row.email.normalized().to_owned())
            .collect();
        let mut known: HashMap<String, Known> = HashMap::with_capacity(emails.len());
        for batch in emails.chunks(MAX_BINDS) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT org_id, id, email_norm, name, role, created FROM users WHERE TRUE",
            );
            push_in(&mut qb, "email_norm", batch);
            let found: Vec<(String, String, String, Option<String>, String, i64)> =
                qb.build_query_as().fetch_all(&mut **tx).await.db()?;
            for (org, id, email, name, role, created) in found {
                let entry = known.entry(email).or_default();
                if org == self.actor.org_id.as_str() {
                    entry.member =
                        Some((UserId::from_raw(id), name, OrgBaseRole::from_stored(&role)));
                } else if self.store.user_ids == UserIds::Global
                    && entry.elsewhere.as_ref().is_none_or(|(_, at)| created < *at)
                {
                    // The person's first organization: the date `created` keeps.
                    entry.elsewhere = Some((UserId::from_raw(id), created));
                }
            }
        }
        Ok(known)
    }

    /// The project memberships of the chunk's existing members that list projects.
    async fn memberships(
        &self,
        tx: &mut Tx,
        valid: &[Valid],
        known: &HashMap<String, Known>,
    ) -> Result<HashMap<(String, String), ProjectBaseRole>> {
        let users: Vec<String> = valid
            .iter()
            .filter(|v| !v.projects.is_empty())
            .filter_map(|v| known.get(v.row.email.normalized())?.member.as_ref())
            .map(|(id, _, _)| id.to_string())
            .collect();
        let mut held = HashMap::new();
        for batch in users.chunks(MAX_BINDS) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT user_id, project_id, role FROM project_users WHERE org_id = ",
            );
            qb.push_bind(self.actor.org_id.as_str());
            push_in(&mut qb, "user_id", batch);
            let found: Vec<(String, String, String)> =
                qb.build_query_as().fetch_all(&mut **tx).await.db()?;
            for (user, project, role) in found {
                held.insert((user, project), ProjectBaseRole::from_stored(&role));
            }
        }
        Ok(held)
    }

    fn event(
        &self,
        kind: &'static str,
        user: &UserId,
        project: Option<&ProjectId>,
        details: serde_json::Value,
    ) -> Event {
        Event {
            kind,
            resource: user.to_string(),
            project: project.cloned(),
            details: details.to_string(),
        }
    }

    /// A new member, with the events accepting an invite writes.
    /// `created`: when the person first joined an organization elsewhere (`None`: they join now).
    fn create(&mut self, writes: &mut Writes, v: Valid, id: UserId, created: Option<i64>) {
        let role = v.row.role.unwrap_or(OrgBaseRole::Reader);
        if role == OrgBaseRole::Owner {
            self.promotions += 1;
        }
        self.report.created += 1;
        writes.events.push(self.event(
            kind::USER_ADDED,
            &id,
            None,
            json!({ "id": id, "data": { "role": role.as_str() } }),
        ));
        for (project, role) in v.projects {
            let role = role.unwrap_or(ProjectBaseRole::Member);
            writes.events.push(self.event(
                kind::USER_ADDED,
                &id,
                Some(&project),
                json!({ "id": id, "data": { "role": role.as_str() } }),
            ));
            writes.memberships.push((project, id.clone(), role));
        }
        writes.users.push(NewUser {
            id,
            email: v.row.email,
            name: v.row.name,
            role,
            created,
        });
    }

    /// A change to a member, with the events the API writes for each part of it.
    fn update(&self, writes: &mut Writes, u: Update) {
        let mut changes = serde_json::Map::new();
        if let Some(role) = u.role {
            changes.insert("role".into(), json!(role.as_str()));
        }
        if let Some(name) = &u.name {
            changes.insert("name".into(), json!(name));
        }
        if !changes.is_empty() {
            writes.events.push(self.event(
                kind::USER_UPDATED,
                &u.user,
                None,
                json!({ "id": u.user, "changes_requested": changes }),
            ));
        }
        for (project, role) in &u.add {
            writes.events.push(self.event(
                kind::USER_ADDED,
                &u.user,
                Some(project),
                json!({ "id": u.user, "data": { "role": role.as_str() } }),
            ));
            writes
                .memberships
                .push((project.clone(), u.user.clone(), *role));
        }
        for (project, role) in &u.change {
            writes.events.push(self.event(
                kind::USER_UPDATED,
                &u.user,
                Some(project),
                json!({ "id": u.user, "changes_requested": { "role": role.as_str() } }),
            ));
        }
        writes.updates.push(u);
    }

    /// The demotions, once every row has been seen: each keeps at least one owner, counting the
    /// owners the file made.
    async fn demote(&mut self, tx: &mut Tx) -> Result<()> {
        let mut owners = self.owners_before + self.promotions;
        let mut writes = Writes::default();
        for u in std::mem::take(&mut self.demotions) {
            if owners > 1 {
                owners -= 1;
                self.report.updated += 1;
                self.update(&mut writes, u);
            } else {
                let message = format!(
                    "{} is the organization's last owner and cannot be made a reader; make another member an owner first (in this file or before).",
                    u.email
                );
                self.invalid(u.line, u.email.as_str(), message);
                if !self.options.skip_invalid {
                    self.writing = false;
                }
            }
        }
        if self.writing {
            self.write(tx, writes).await?;
        }
        Ok(())
    }

    async fn write(&self, tx: &mut Tx, writes: Writes) -> Result<()> {
        let org = self.actor.org_id.as_str();
        let now = tx.now();
        for batch in writes.users.chunks(MAX_BINDS / 8) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO users (org_id, id, email, email_norm, name, role, added_at, created) ",
            );
            qb.push_values(batch, |mut b, u| {
                b.push_bind(org)
                    .push_bind(u.id.as_str())
                    .push_bind(u.email.as_str())
                    .push_bind(u.email.normalized())
                    .push_bind(u.name.as_deref())
                    .push_bind(u.role.as_str())
                    .push_bind(now)
                    .push_bind(u.created.unwrap_or(now));
            });
            qb.build().execute(&mut **tx).await.db()?;
        }
        for batch in writes.memberships.chunks(MAX_BINDS / 5) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO project_users (org_id, project_id, user_id, role, added_at) ",
            );
            qb.push_values(batch, |mut b, (project, user, role)| {
                b.push_bind(org)
                    .push_bind(project.as_str())
                    .push_bind(user.as_str())
                    .push_bind(role.as_str())
                    .push_bind(now);
            });
            qb.build().execute(&mut **tx).await.db()?;
        }
        for u in &writes.updates {
            if u.role.is_some() || u.name.is_some() {
                sqlx::query(
                    "UPDATE users SET role = COALESCE($1, role), name = COALESCE($2, name) \
                     WHERE org_id = $3 AND id = $4",
                )
                .bind(u.role.map(OrgBaseRole::as_str))
                .bind(u.name.as_deref())
                .bind(org)
                .bind(u.user.as_str())
                .execute(&mut **tx)
                .await
                .db()?;
            }
            for (project, role) in &u.change {
                super::projects::set_member_role(tx, &self.actor.org_id, project, &u.user, *role)
                    .await?;
            }
        }
        let actor = self.actor;
        // Numbered in the order written, after the newest event of the log (`next_audit_id`).
        let mut ids: Vec<AuditLogId> = Vec::with_capacity(writes.events.len());
        for _ in &writes.events {
            let id = match ids.last() {
                None => self.store.next_audit_id(tx, &actor.org_id).await?,
                Some(previous) => AuditLogId::generate_after(self.store.millis(), Some(previous)),
            };
            ids.push(id);
        }
        let events: Vec<(&Event, &AuditLogId)> = writes.events.iter().zip(&ids).collect();
        for batch in events.chunks(MAX_BINDS / 11) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO audit_logs (org_id, id, type, effective_at, actor_key_id, actor_user_id, \
                 actor_email, actor_email_norm, project_id, resource_id, details) ",
            );
            qb.push_values(batch, |mut b, (e, id)| {
                b.push_bind(org)
                    .push_bind(id.as_str())
                    .push_bind(e.kind)
                    .push_bind(now)
                    .push_bind(actor.key_id.as_str())
                    .push_bind(actor.user_id.as_str())
                    .push_bind(actor.user_email.as_str())
                    .push_bind(actor.user_email.normalized())
                    .push_bind(e.project.as_ref().map(|p| p.as_str()))
                    .push_bind(e.resource.as_str())
                    .push_bind(e.details.as_str());
            });
            qb.build().execute(&mut **tx).await.db()?;
        }
        Ok(())
    }
}

/// What a row changes about an existing member; `None` when nothing differs.
fn plan_update(
    v: Valid,
    user: &UserId,
    name: Option<&str>,
    role: OrgBaseRole,
    held: &HashMap<(String, String), ProjectBaseRole>,
) -> Option<Update> {
    let mut update = Update {
        line: v.line,
        user: user.clone(),
        role: v.row.role.filter(|r| *r != role),
        name: v.row.name.filter(|n| Some(n.as_str()) != name),
        email: v.row.email,
        add: Vec::new(),
        change: Vec::new(),
        change_from: Vec::new(),
    };
    for (project, wanted) in v.projects {
        match held.get(&(user.to_string(), project.to_string())) {
            None => update
                .add
                .push((project, wanted.unwrap_or(ProjectBaseRole::Member))),
            Some(current) => {
                if let Some(wanted) = wanted.filter(|w| w != current) {
                    update.change.push((project, wanted));
                    update.change_from.push(*current);
                }
            }
        }
    }
    let differs = update.role.is_some()
        || update.name.is_some()
        || !update.add.is_empty()
        || !update.change.is_empty();
    differs.then_some(update)
}
