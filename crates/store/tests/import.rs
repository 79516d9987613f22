//! `Store::import_users` on the backend `ORGADMIN_TEST_BACKEND` selects (SQLite by default, or
//! PostgreSQL on a database of its own, dropped afterwards): what each row does, idempotency,
//! projects by ID and by name, invalid rows (nothing written unless `skip_invalid`), the
//! last-owner rule, duplicates within the file, and the audit events, with the key as actor.

use std::collections::HashSet;
use std::sync::Arc;

use orgadmin_core::audit::{AuditEvent, AuditFilter};
use orgadmin_core::import::{
    ImportOptions, ImportProjectRef, ImportReport, ImportRow, ProjectAccess, ProjectKey,
};
use orgadmin_core::model::{InviteProject, NewInvite, NewProject, Project, User};
use orgadmin_core::page::PageRequest;
use orgadmin_core::role::{OrgBaseRole, ProjectBaseRole};
use orgadmin_core::secret::{generate_admin_key, hash_secret};
use orgadmin_core::store::{BootstrapRequest, UserIds};
use orgadmin_core::{Actor, Email, ReadAt, Store, SystemClock};
use orgadmin_testkit::database::TestDatabase;

struct Org {
    store: Arc<dyn Store>,
    actor: Actor,
    _database: TestDatabase,
}

async fn org() -> Org {
    org_with(UserIds::Global).await
}

async fn org_with(user_ids: UserIds) -> Org {
    let database = TestDatabase::persistent().await;
    let store = orgadmin_store::open_with(
        database.url(),
        Arc::new(SystemClock),
        orgadmin_store::StoreOptions {
            user_ids,
            ..Default::default()
        },
    )
    .await
    .expect("the store opens");
    let secret = generate_admin_key();
    store
        .bootstrap_if_empty(BootstrapRequest {
            organization_name: "Acme".into(),
            owner_email: Email::parse("owner@example.com", "email").unwrap(),
            owner_name: Some("Owner".into()),
            admin_key_secret: secret.clone(),
            fixture: None,
        })
        .await
        .unwrap()
        .expect("a fresh database");
    let actor = store
        .authenticate(&hash_secret(&secret))
        .await
        .unwrap()
        .expect("the key authenticates");
    Org {
        store,
        actor,
        _database: database,
    }
}

impl Org {
    async fn import(&self, rows: Vec<ImportRow>, options: ImportOptions) -> ImportReport {
        self.import_as(&self.actor, rows, options).await
    }

    async fn import_as(
        &self,
        actor: &Actor,
        rows: Vec<ImportRow>,
        options: ImportOptions,
    ) -> ImportReport {
        let mut rows = rows.into_iter().map(Ok);
        self.store
            .import_users(actor, &mut rows, &options)
            .await
            .expect("the import runs")
    }

    /// The actor of a new key owned by `user` (made through the store, as only the owner's key
    /// can be made over HTTP).
    async fn key_of(&self, user: &User) -> Actor {
        let secret = generate_admin_key();
        let mut as_user = self.actor.clone();
        as_user.user_id = user.id.clone();
        self.store
            .create_admin_key(
                &as_user,
                orgadmin_core::model::NewAdminKey {
                    name: Some(format!("Key of {}", user.email)),
                    secret_hash: hash_secret(&secret),
                    redacted_value: orgadmin_core::secret::redact(&secret),
                    expires_in_seconds: None,
                    scopes: None,
                },
            )
            .await
            .unwrap();
        self.store
            .authenticate(&hash_secret(&secret))
            .await
            .unwrap()
            .expect("the new key authenticates")
    }

    async fn users(&self) -> Vec<User> {
        self.store
            .list_users(
                ReadAt::latest(&self.actor.org_id),
                &[],
                &PageRequest::first(1000),
            )
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|m| m.user)
            .collect()
    }

    async fn user(&self, email: &str) -> User {
        let found = self
            .store
            .list_users(
                ReadAt::latest(&self.actor.org_id),
                &[email.into()],
                &PageRequest::first(10),
            )
            .await
            .unwrap()
            .items;
        found
            .into_iter()
            .next()
            .map(|m| m.user)
            .unwrap_or_else(|| panic!("{email} is no member"))
    }

    async fn events(&self) -> Vec<AuditEvent> {
        self.store
            .list_audit_logs(
                &self.actor.org_id,
                &AuditFilter::default(),
                &PageRequest::first(1000),
            )
            .await
            .unwrap()
            .items
    }

    async fn project(&self, name: &str) -> Project {
        self.store
            .create_project(
                &self.actor,
                NewProject {
                    name: name.into(),
                    external_key_id: None,
                    residency: None,
                },
            )
            .await
            .unwrap()
    }

    async fn project_role(&self, project: &Project, email: &str) -> Option<ProjectBaseRole> {
        let user = self.user(email).await;
        self.store
            .get_project_user(&self.actor.org_id, &project.id, &user.id)
            .await
            .ok()
            .map(|m| m.role)
    }

    /// A member made the API's way: invited, then accepted.
    async fn member(&self, email: &str, role: OrgBaseRole, projects: Vec<InviteProject>) -> User {
        let invite = self
            .store
            .create_invite(
                &self.actor,
                NewInvite {
                    email: Email::parse(email, "email").unwrap(),
                    role,
                    projects: Some(projects),
                },
            )
            .await
            .unwrap();
        self.store
            .accept_invite(&self.actor, &invite.id, Some("Before".into()))
            .await
            .unwrap()
            .user
    }
}

fn row(line: u64, email: &str) -> ImportRow {
    ImportRow {
        line,
        email: email.into(),
        ..ImportRow::default()
    }
}

fn in_project(key: ProjectKey, role: Option<&str>) -> ImportProjectRef {
    ImportProjectRef {
        project: key,
        role: role.map(str::to_owned),
    }
}

fn lines(report: &ImportReport) -> Vec<u64> {
    report.errors.iter().map(|e| e.line).collect()
}

#[tokio::test]
async fn rows_create_update_or_skip_and_a_second_run_changes_nothing() {
    let o = org().await;
    let gateway = o.project("Gateway").await;
    let ops = o.project("Ops").await;
    let old = o
        .member(
            "old@example.com",
            OrgBaseRole::Reader,
            vec![InviteProject {
                project_id: ops.id.clone(),
                role: ProjectBaseRole::Member,
            }],
        )
        .await;
    let events_before = o.events().await.len();

    let rows = vec![
        ImportRow {
            name: Some("Ada Lovelace".into()),
            role: Some("owner".into()),
            projects: vec![
                in_project(ProjectKey::IdOrName("Gateway".into()), Some("owner")),
                in_project(ProjectKey::IdOrName(ops.id.to_string()), Some("viewer")),
            ],
            ..row(2, "Ada@Example.com")
        },
        ImportRow {
            name: Some("Bob".into()),
            ..row(3, "bob@example.com")
        },
        // An existing member: renamed, promoted, added to Gateway; Ops listed without a role
        // (already a member there: unchanged).
        ImportRow {
            name: Some("Old Timer".into()),
            role: Some("owner".into()),
            projects: vec![
                in_project(ProjectKey::Name("Gateway".into()), None),
                in_project(ProjectKey::Id(ops.id.to_string()), None),
            ],
            ..row(4, "OLD@example.com")
        },
        // Nothing differs.
        ImportRow {
            role: Some("owner".into()),
            ..row(5, "owner@example.com")
        },
    ];
    let report = o.import(rows.clone(), ImportOptions::default()).await;
    assert_eq!(
        (
            report.created,
            report.updated,
            report.skipped,
            report.invalid
        ),
        (2, 1, 1, 0),
        "{report:#?}"
    );
    assert!(report.committed && !report.dry_run);

    let ada = o.user("ada@example.com").await;
    assert_eq!(ada.email.as_str(), "Ada@Example.com");
    assert_eq!(ada.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(ada.role, OrgBaseRole::Owner);
    assert_eq!(
        o.project_role(&gateway, "ada@example.com").await,
        Some(ProjectBaseRole::Owner)
    );
    assert_eq!(
        o.project_role(&ops, "ada@example.com").await,
        Some(ProjectBaseRole::Viewer)
    );
    let bob = o.user("bob@example.com").await;
    assert_eq!(bob.role, OrgBaseRole::Reader, "the default role");
    let old_now = o.user("old@example.com").await;
    assert_eq!(old_now.id, old.id);
    assert_eq!(old_now.name.as_deref(), Some("Old Timer"));
    assert_eq!(old_now.role, OrgBaseRole::Owner);
    assert_eq!(
        o.project_role(&gateway, "old@example.com").await,
        Some(ProjectBaseRole::Member),
        "the default project role"
    );
    assert_eq!(
        o.project_role(&ops, "old@example.com").await,
        Some(ProjectBaseRole::Member),
        "no role given: left as it was"
    );

    // The events the API writes for these changes, each with the key as actor.
    let events = o.events().await;
    let new: Vec<&AuditEvent> = events[events_before..].iter().collect();
    let mut seen: Vec<(String, String, Option<String>)> = new
        .iter()
        .map(|e| {
            (
                e.kind.clone(),
                e.details["id"].as_str().unwrap().to_owned(),
                e.project.as_ref().map(|(p, _)| p.to_string()),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        ("user.added".to_owned(), ada.id.to_string(), None),
        (
            "user.added".into(),
            ada.id.to_string(),
            Some(gateway.id.to_string()),
        ),
        (
            "user.added".into(),
            ada.id.to_string(),
            Some(ops.id.to_string()),
        ),
        ("user.added".into(), bob.id.to_string(), None),
        ("user.updated".into(), old.id.to_string(), None),
        (
            "user.added".into(),
            old.id.to_string(),
            Some(gateway.id.to_string()),
        ),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    for e in &new {
        let actor = e.actor.as_ref().expect("an actor");
        assert_eq!(actor.key_id, o.actor.key_id.as_str());
        assert_eq!(actor.user_id, o.actor.user_id.as_str());
        assert_eq!(actor.user_email, "owner@example.com");
    }
    let added = new
        .iter()
        .find(|e| {
            e.kind == "user.added" && e.project.is_none() && e.details["id"] == ada.id.as_str()
        })
        .unwrap();
    assert_eq!(added.details["data"]["role"], "owner");
    let updated = new.iter().find(|e| e.kind == "user.updated").unwrap();
    assert_eq!(updated.details["changes_requested"]["role"], "owner");
    assert_eq!(updated.details["changes_requested"]["name"], "Old Timer");

    // The same file again: everything skipped, nothing written.
    let again = o.import(rows, ImportOptions::default()).await;
    assert_eq!(
        (again.created, again.updated, again.skipped, again.invalid),
        (0, 0, 4, 0),
        "{again:#?}"
    );
    assert_eq!(o.events().await.len(), events.len());

    // A project role that differs is changed, with the event the API writes.
    let report = o
        .import(
            vec![ImportRow {
                projects: vec![in_project(
                    ProjectKey::IdOrName("Ops".into()),
                    Some("owner"),
                )],
                ..row(2, "old@example.com")
            }],
            ImportOptions::default(),
        )
        .await;
    assert_eq!((report.updated, report.invalid), (1, 0));
    assert_eq!(
        o.project_role(&ops, "old@example.com").await,
        Some(ProjectBaseRole::Owner)
    );
    let last = o.events().await;
    let last = last.last().unwrap();
    assert_eq!(last.kind, "user.updated");
    assert_eq!(last.project.as_ref().unwrap().0, ops.id);
    assert_eq!(last.details["changes_requested"]["role"], "owner");
}

#[tokio::test]
async fn invalid_rows_are_reported_by_line_and_nothing_is_written_unless_skipped() {
    let o = org().await;
    o.project("Gateway").await;
    let archived = o.project("Legacy").await;
    o.store
        .archive_project(&o.actor, &archived.id)
        .await
        .unwrap();
    o.project("Twin").await;
    o.project("Twin").await;
    let users_before = o.users().await.len();
    let events_before = o.events().await.len();

    let rows = vec![
        row(2, "good@example.com"),
        row(3, "not-an-email"),
        ImportRow {
            role: Some("admin".into()),
            ..row(4, "role@example.com")
        },
        ImportRow {
            projects: vec![in_project(ProjectKey::IdOrName("Nowhere".into()), None)],
            ..row(5, "project@example.com")
        },
        row(6, "GOOD@example.com"),
        ImportRow {
            name: Some("x".repeat(300)),
            ..row(7, "long@example.com")
        },
        ImportRow {
            problem: Some("unknown field \"nmae\"".into()),
            ..row(8, "problem@example.com")
        },
        ImportRow {
            projects: vec![in_project(ProjectKey::Name("Legacy".into()), None)],
            ..row(9, "archived@example.com")
        },
        ImportRow {
            projects: vec![in_project(ProjectKey::IdOrName("Twin".into()), None)],
            ..row(10, "twin@example.com")
        },
        ImportRow {
            projects: vec![
                in_project(ProjectKey::IdOrName("Gateway".into()), None),
                in_project(ProjectKey::Name("Gateway".into()), Some("owner")),
            ],
            ..row(11, "twice@example.com")
        },
        row(12, "fine@example.com"),
    ];
    let report = o.import(rows.clone(), ImportOptions::default()).await;
    assert_eq!(lines(&report), [3, 4, 5, 6, 7, 8, 9, 10, 11], "{report:#?}");
    assert_eq!(report.invalid, 9);
    assert_eq!(report.created, 2, "what the valid rows would do");
    assert!(!report.committed);
    assert_eq!(o.users().await.len(), users_before, "nothing written");
    assert_eq!(o.events().await.len(), events_before, "no events");

    let message = |line: u64| {
        report
            .errors
            .iter()
            .find(|e| e.line == line)
            .unwrap()
            .message
            .clone()
    };
    assert!(message(3).contains("not a valid email"), "{}", message(3));
    assert!(message(4).contains("'admin' is not an organization role"));
    assert!(message(5).contains("no project has the ID or name 'Nowhere'"));
    assert!(message(6).contains("also on line 2"), "{}", message(6));
    assert!(message(7).contains("at most 255"));
    assert!(message(8).contains("nmae"));
    assert!(message(9).contains("archived"));
    assert!(message(10).contains("2 active projects are named 'Twin'"));
    assert!(message(11).contains("listed twice"));
    assert_eq!(report.errors[0].email, Some("not-an-email".into()));
    assert_eq!(report.errors[3].email, Some("GOOD@example.com".into()));

    // A dry run reports the same and writes nothing either.
    let dry = o
        .import(
            rows.clone(),
            ImportOptions {
                dry_run: true,
                skip_invalid: true,
                ..ImportOptions::default()
            },
        )
        .await;
    assert_eq!((dry.created, dry.invalid), (2, 9));
    assert!(dry.dry_run && !dry.committed);
    assert_eq!(o.users().await.len(), users_before);

    // With skip_invalid, the valid rows are imported.
    let skipped = o
        .import(
            rows,
            ImportOptions {
                skip_invalid: true,
                ..ImportOptions::default()
            },
        )
        .await;
    assert_eq!((skipped.created, skipped.invalid), (2, 9));
    assert!(skipped.committed);
    assert_eq!(o.users().await.len(), users_before + 2);
    assert_eq!(o.events().await.len(), events_before + 2);
    o.user("good@example.com").await;
    o.user("fine@example.com").await;
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_unless_the_file_makes_another() {
    let o = org().await;
    let demote = ImportRow {
        role: Some("reader".into()),
        ..row(2, "owner@example.com")
    };
    let refused = o
        .import(vec![demote.clone()], ImportOptions::default())
        .await;
    assert_eq!(lines(&refused), [2]);
    assert!(
        refused.errors[0].message.contains("last owner"),
        "{refused:#?}"
    );
    assert!(!refused.committed);
    assert_eq!(o.user("owner@example.com").await.role, OrgBaseRole::Owner);

    // The heir joins first, with a key of her own made while the owner may make it.
    let joined = o
        .import(vec![row(3, "heir@example.com")], ImportOptions::default())
        .await;
    assert_eq!(joined.created, 1, "{joined:#?}");
    let heir = o.key_of(&o.user("heir@example.com").await).await;

    // A new owner later in the same file makes the demotion possible, whatever the order.
    let report = o
        .import(
            vec![
                demote,
                ImportRow {
                    role: Some("owner".into()),
                    ..row(3, "heir@example.com")
                },
            ],
            ImportOptions::default(),
        )
        .await;
    assert_eq!(
        (report.created, report.updated, report.invalid),
        (0, 2, 0),
        "{report:#?}"
    );
    assert_eq!(o.user("owner@example.com").await.role, OrgBaseRole::Reader);
    assert_eq!(o.user("heir@example.com").await.role, OrgBaseRole::Owner);

    // Owners may swap roles in one file; demoting the last owner is refused. The first key's
    // owner is a reader now, who may not make anyone an owner (her key is refused: its
    // permissions narrowed since it was authenticated): the heir's key imports.
    let mut rows = vec![ImportRow {
        role: Some("owner".into()),
        ..row(2, "owner@example.com")
    }]
    .into_iter()
    .map(Ok);
    let stale = o
        .store
        .import_users(&o.actor, &mut rows, &ImportOptions::default())
        .await;
    assert!(
        matches!(&stale, Err(e @ orgadmin_core::DomainError::Forbidden { .. })
            if e.to_string().contains("Missing scopes: api.organization.")
                && e.to_string().contains("narrowed while this request was in flight")),
        "{stale:?}"
    );
    let both = o
        .import_as(
            &heir,
            vec![
                ImportRow {
                    role: Some("owner".into()),
                    ..row(2, "owner@example.com")
                },
                ImportRow {
                    role: Some("reader".into()),
                    ..row(3, "heir@example.com")
                },
            ],
            ImportOptions::default(),
        )
        .await;
    assert_eq!((both.updated, both.invalid), (2, 0), "{both:#?}");
    let neither = o
        .import(
            vec![
                ImportRow {
                    role: Some("reader".into()),
                    ..row(2, "owner@example.com")
                },
                ImportRow {
                    role: Some("reader".into()),
                    ..row(3, "nobody@example.com")
                },
            ],
            ImportOptions::default(),
        )
        .await;
    assert_eq!(lines(&neither), [2]);
}

#[tokio::test]
async fn a_person_keeps_their_user_id_across_organizations_and_project_access_is_checked() {
    let o = org().await;
    let other = o
        .store
        .create_organization(BootstrapRequest {
            organization_name: "Globex".into(),
            owner_email: Email::parse("root@globex.example", "email").unwrap(),
            owner_name: None,
            admin_key_secret: generate_admin_key(),
            fixture: None,
        })
        .await
        .unwrap();
    let gateway = o.project("Gateway").await;
    let report = o
        .import(
            vec![
                row(2, "Root@Globex.example"),
                ImportRow {
                    projects: vec![in_project(ProjectKey::Id(gateway.id.to_string()), None)],
                    ..row(3, "limited@example.com")
                },
            ],
            ImportOptions {
                skip_invalid: true,
                project_access: ProjectAccess::Only(HashSet::new()),
                ..ImportOptions::default()
            },
        )
        .await;
    assert_eq!((report.created, report.invalid), (1, 1), "{report:#?}");
    let refused = &report.errors[0].message;
    assert!(
        refused.starts_with("You have insufficient permissions for this operation. Missing scopes: api.organization.projects.users.write. ")
            && refused.ends_with(&format!(
                " 'api.project.users.write' held in project {} would allow this request too.",
                gateway.id
            )),
        "{refused}"
    );
    assert_eq!(o.user("root@globex.example").await.id, other.owner.user.id);

    let allowed = o
        .import(
            vec![ImportRow {
                projects: vec![in_project(ProjectKey::Id(gateway.id.to_string()), None)],
                ..row(2, "limited@example.com")
            }],
            ImportOptions {
                project_access: ProjectAccess::Only(HashSet::from([gateway.id.clone()])),
                ..ImportOptions::default()
            },
        )
        .await;
    assert_eq!((allowed.created, allowed.invalid), (1, 0));
}

#[tokio::test]
async fn with_per_organization_user_ids_an_imported_person_gets_a_fresh_id() {
    let o = org_with(UserIds::PerOrganization).await;
    let other = o
        .store
        .create_organization(BootstrapRequest {
            organization_name: "Globex".into(),
            owner_email: Email::parse("root@globex.example", "email").unwrap(),
            owner_name: None,
            admin_key_secret: generate_admin_key(),
            fixture: None,
        })
        .await
        .unwrap();
    let report = o
        .import(
            vec![row(2, "Root@Globex.example")],
            ImportOptions::default(),
        )
        .await;
    assert_eq!(report.created, 1, "{report:#?}");
    assert_ne!(o.user("root@globex.example").await.id, other.owner.user.id);
}

#[tokio::test]
async fn thousands_of_rows_go_in_chunks_and_a_read_error_writes_nothing() {
    let o = org().await;
    let rows: Vec<ImportRow> = (0..2500)
        .map(|i| ImportRow {
            name: Some(format!("User {i}")),
            ..row(i + 2, &format!("user{i}@example.com"))
        })
        .collect();
    // The file fails to read after 1500 rows: nothing is kept.
    let mut failing = rows
        .clone()
        .into_iter()
        .take(1500)
        .map(Ok)
        .chain(std::iter::once(Err(std::io::Error::other("disk gone"))));
    let failed = o
        .store
        .import_users(&o.actor, &mut failing, &ImportOptions::default())
        .await;
    assert!(failed.is_err());
    assert_eq!(o.users().await.len(), 1);

    let report = o.import(rows.clone(), ImportOptions::default()).await;
    assert_eq!(report.created, 2500);
    let all = o
        .store
        .list_users(
            ReadAt::latest(&o.actor.org_id),
            &[],
            &PageRequest::first(10_000),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(all.len(), 2501);
    // IDs are increasing in file order, as the API would have made them one by one.
    let ids: Vec<String> = rows
        .iter()
        .map(|r| {
            all.iter()
                .find(|u| u.user.email.as_str() == r.email)
                .unwrap()
                .user
                .id
                .to_string()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    // A duplicate far from its first occurrence (another chunk) is still found.
    let mut file = vec![row(2, "late@example.com")];
    file.extend(rows.iter().take(1200).enumerate().map(|(i, r)| ImportRow {
        line: i as u64 + 3,
        ..r.clone()
    }));
    file.push(row(5000, "LATE@example.com"));
    let dup = o.import(file, ImportOptions::default()).await;
    assert_eq!(lines(&dup), [5000]);
    assert!(dup.errors[0].message.contains("also on line 2"));
    assert_eq!((dup.skipped, dup.created), (1200, 1));
}

/// An import grants what its rows give, so a key gives no more than it holds: a member holding
/// only `api.organization.users.write` (and reader) imports readers, not owners, nor project
/// members (their model use is not hers to give).
#[tokio::test]
async fn rows_granting_more_than_the_key_holds_are_invalid() {
    use orgadmin_core::model::NewAdminKey;
    use orgadmin_core::role::{ResourceType, RoleName, RoleRef, RoleScope};
    use orgadmin_core::secret::redact;
    use orgadmin_core::store::NewRole;
    use orgadmin_core::PermissionSet;

    let o = org().await;
    let gateway = o.project("Gateway").await;
    let delegate = o
        .member("delegate@example.com", OrgBaseRole::Reader, Vec::new())
        .await;
    let role = o
        .store
        .create_role(
            &o.actor,
            &RoleScope::Organization,
            NewRole {
                name: RoleName::parse("Importer", ResourceType::Organization).unwrap(),
                description: None,
                permissions: PermissionSet::parse_names(&["api.organization.users.write"], "p")
                    .unwrap(),
            },
        )
        .await
        .unwrap();
    o.store
        .assign_user_role(&o.actor, &delegate.id, &RoleRef::parse(&role.id))
        .await
        .unwrap();
    let secret = generate_admin_key();
    let mut as_delegate = o.actor.clone();
    as_delegate.user_id = delegate.id.clone();
    o.store
        .create_admin_key(
            &as_delegate,
            NewAdminKey {
                name: Some("Importer".into()),
                secret_hash: hash_secret(&secret),
                redacted_value: redact(&secret),
                expires_in_seconds: None,
                scopes: None,
            },
        )
        .await
        .unwrap();
    let actor = o
        .store
        .authenticate(&hash_secret(&secret))
        .await
        .unwrap()
        .expect("the delegate's key authenticates");

    let rows = vec![
        row(2, "reader@example.com"),
        ImportRow {
            role: Some("owner".into()),
            ..row(3, "boss@example.com")
        },
        ImportRow {
            projects: vec![in_project(ProjectKey::Id(gateway.id.to_string()), None)],
            ..row(4, "member@example.com")
        },
        ImportRow {
            role: Some("owner".into()),
            ..row(5, "delegate@example.com")
        },
    ];
    let mut feed = rows.into_iter().map(Ok);
    let report = o
        .store
        .import_users(
            &actor,
            &mut feed,
            &ImportOptions {
                skip_invalid: true,
                ..ImportOptions::default()
            },
        )
        .await
        .expect("the import runs");
    assert_eq!((report.created, report.invalid), (1, 3), "{report:#?}");
    assert_eq!(lines(&report), [3, 4, 5]);
    for (error, missing) in report.errors.iter().zip([
        "api.organization.projects.write",
        "api.model.request",
        "api.organization.audit_logs.read",
    ]) {
        assert!(
            error
                .message
                .strip_prefix(
                    "You have insufficient permissions for this operation. Missing scopes: "
                )
                .and_then(|rest| rest.split_once(". Check that you have the correct role"))
                .is_some_and(|(scopes, _)| scopes.split(", ").any(|s| s == missing)),
            "{error:?}"
        );
    }
    assert_eq!(
        o.user("delegate@example.com").await.role,
        OrgBaseRole::Reader
    );
    assert_eq!(o.users().await.len(), 3);
}
