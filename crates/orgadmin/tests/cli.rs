//! The command-line client end to end: the real `orgadmin` binary against a real server started
//! on `127.0.0.1:0` (on SQLite, or PostgreSQL with `ORGADMIN_TEST_BACKEND=postgres`). Every seed
//! operation and every class of error is run and its standard output, standard error and exit
//! status snapshotted (`tests/snapshots/`, with IDs, times and secrets redacted); lists are walked
//! with `--all`; every format is parsed back; `init` and `org key` are run against the database
//! the server uses, and the `org` commands of the operator API against a served binary.

#[path = "support/serve.rs"]
mod serve;
mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use clap::CommandFactory;
use orgadmin_core::clock::OffsetClock;
use orgadmin_core::model::NewInvite;
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::secret::hash_secret;
use orgadmin_core::store::BootstrapRequest;
use orgadmin_core::Email;
use orgadmin_testkit::{operator_key, owner_key, str_of, TestDatabase};
use serde_json::Value;
use support::{run, runtime, Harness, Transcript, BIN};

/// The IDs of a JSON list's `data`.
fn ids_of(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Invite and accept `email` through the CLI, in no project; returns the new user's ID.
fn member_via_cli(t: &mut Transcript, h: &Harness, email: &str, role: &str, name: &str) -> String {
    let invite = t
        .run(
            h,
            &[
                "admin:organization:invites",
                "create",
                "--email",
                email,
                "--role",
                role,
                "--no-projects",
            ],
        )
        .id();
    t.run(
        h,
        &[
            "admin:organization:invites",
            "accept",
            "--invite-id",
            &invite,
            "--name",
            name,
        ],
    )
    .id()
}

#[test]
fn organization_users_and_their_roles_from_the_command_line() {
    let h = Harness::start();
    let mut t = Transcript::new();
    let ada = member_via_cli(&mut t, &h, "ada@example.com", "reader", "Ada Lovelace");
    t.run(&h, &["admin:organization:users", "list"]);
    t.run(
        &h,
        &["admin:organization:users", "list", "--format", "table"],
    );
    t.run(
        &h,
        &[
            "admin:organization:users",
            "list",
            "--email",
            "ADA@example.com",
            "--format",
            "jsonl",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:users",
            "list",
            "--limit",
            "1",
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &["admin:organization:users", "retrieve", "--user-id", &ada],
    );
    t.run(
        &h,
        &[
            "admin",
            "organization",
            "users",
            "retrieve",
            "--user-id",
            &ada,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:users",
            "update",
            "--user-id",
            &ada,
            "--role",
            "owner",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:users",
            "update",
            "--user-id",
            &ada,
            "--developer-persona",
            "backend",
            "--technical-level",
            "expert",
            "--format",
            "yaml",
        ],
    );
    let role = t
        .run(
            &h,
            &[
                "admin:organization:roles",
                "create",
                "--role-name",
                "auditor",
                "--permission",
                "api.organization.audit_logs.read",
                "--description",
                "Reads the audit log",
            ],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:users:roles",
            "create",
            "--user-id",
            &ada,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:users:roles",
            "list",
            "--user-id",
            &ada,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:users:roles",
            "retrieve",
            "--user-id",
            &ada,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin",
            "organization",
            "users",
            "roles",
            "delete",
            "--user-id",
            &ada,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:users",
            "permissions",
            "--user-id",
            &ada,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &["admin:organization:users", "delete", "--user-id", &ada],
    );
    t.run(
        &h,
        &["admin:organization:users", "list", "--format", "table"],
    );
    insta::assert_snapshot!(t.redacted());
}

#[test]
fn projects_project_users_and_their_roles_from_the_command_line() {
    let h = Harness::start();
    let mut t = Transcript::new();
    let bob = member_via_cli(&mut t, &h, "bob@example.com", "reader", "Bob");
    member_via_cli(&mut t, &h, "carol@example.com", "reader", "Carol");
    let project = t
        .run(
            &h,
            &["admin:organization:projects", "create", "--name", "Gateway"],
        )
        .id();
    t.run(
        &h,
        &["admin:organization:projects", "list", "--format", "table"],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects",
            "retrieve",
            "--project-id",
            &project,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects",
            "update",
            "--project-id",
            &project,
            "--name",
            "Gateway (prod)",
            "--external-key-id",
            "ext-42",
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:users",
            "create",
            "--project-id",
            &project,
            "--user-id",
            &bob,
            "--role",
            "member",
        ],
    );
    let carol = t
        .run(
            &h,
            &[
                "admin:organization:projects:users",
                "create",
                "--project-id",
                &project,
                "--email",
                "carol@example.com",
                "--role",
                "viewer",
            ],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:projects:users",
            "list",
            "--project-id",
            &project,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:users",
            "retrieve",
            "--project-id",
            &project,
            "--user-id",
            &bob,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:users",
            "update",
            "--project-id",
            &project,
            "--user-id",
            &bob,
            "--role",
            "owner",
        ],
    );
    let role = t
        .run(
            &h,
            &[
                "admin:organization:projects:roles",
                "create",
                "--project-id",
                &project,
                "--role-name",
                "files",
                "--permission",
                "api.files.read",
                "--permission",
                "api.files.write",
                "--description",
                "Reads and writes files",
            ],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:projects:roles",
            "list",
            "--project-id",
            &project,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:roles",
            "update",
            "--project-id",
            &project,
            "--role-id",
            &role,
            "--role-name",
            "files-rw",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:users:roles",
            "create",
            "--project-id",
            &project,
            "--user-id",
            &bob,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:users:roles",
            "list",
            "--project-id",
            &project,
            "--user-id",
            &bob,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:users:roles",
            "retrieve",
            "--project-id",
            &project,
            "--user-id",
            &bob,
            "--role-id",
            "role-api-project-owner",
            "--format",
            "yaml",
        ],
    );
    t.run(
        &h,
        &[
            "admin",
            "organization",
            "projects",
            "users",
            "roles",
            "delete",
            "--project-id",
            &project,
            "--user-id",
            &bob,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:roles",
            "delete",
            "--project-id",
            &project,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:users",
            "delete",
            "--project-id",
            &project,
            "--user-id",
            &carol,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects",
            "archive",
            "--project-id",
            &project,
        ],
    );
    t.run(
        &h,
        &["admin:organization:projects", "list", "--format", "table"],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects",
            "list",
            "--include-archived",
            "--format",
            "table",
        ],
    );
    insta::assert_snapshot!(t.redacted());
}

#[test]
fn invites_admin_keys_and_the_audit_log_from_the_command_line() {
    let h = Harness::start();
    let mut t = Transcript::new();
    let default_project = h.server().default_project_id();
    let invite = t
        .run(
            &h,
            &[
                "admin:organization:invites",
                "create",
                "--email",
                "dan@example.com",
                "--role",
                "reader",
                "--project",
                &format!("{default_project}:owner"),
            ],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:invites",
            "create",
            "--email",
            "erin@example.com",
            "--role",
            "owner",
        ],
    );
    t.run(
        &h,
        &["admin:organization:invites", "list", "--format", "table"],
    );
    t.run(
        &h,
        &[
            "admin:organization:invites",
            "retrieve",
            "--invite-id",
            &invite,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:invites",
            "delete",
            "--invite-id",
            &invite,
        ],
    );
    let key = t
        .run(
            &h,
            &[
                "admin:organization:admin-api-keys",
                "create",
                "--name",
                "ci",
                "--scope",
                "api.organization.users.read",
                "--expires-in-seconds",
                "3600",
            ],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:admin-api-keys",
            "list",
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:admin-api-keys",
            "retrieve",
            "--key-id",
            &key,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:admin-api-keys",
            "delete",
            "--key-id",
            &key,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:audit-logs",
            "list",
            "--event-type",
            "invite.sent",
            "--event-type",
            "invite.deleted",
            "--format",
            "table",
        ],
    );
    // --all walks newest to oldest, a page at a time; --order asc the other way.
    for order in ["desc", "asc"] {
        t.run(
            &h,
            &[
                "admin:organization:audit-logs",
                "list",
                "--event-type",
                "invite.sent",
                "--event-type",
                "invite.deleted",
                "--order",
                order,
                "--limit",
                "1",
                "--all",
                "--format",
                "jsonl",
                "--transform",
                "type",
            ],
        );
    }
    t.run(
        &h,
        &[
            "admin:organization:audit-logs",
            "list",
            "--resource-id",
            &key,
            "--format",
            "jsonl",
        ],
    );
    insta::assert_snapshot!(t.redacted());
}

#[test]
fn groups_their_members_and_roles_from_the_command_line() {
    let h = Harness::start();
    let mut t = Transcript::new();
    let fay = member_via_cli(&mut t, &h, "fay@example.com", "reader", "Fay");
    let group = t
        .run(
            &h,
            &[
                "admin:organization:groups",
                "create",
                "--name",
                "engineering",
            ],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:groups",
            "update",
            "--group-id",
            &group,
            "--name",
            "platform",
        ],
    );
    t.run(
        &h,
        &["admin:organization:groups", "list", "--format", "table"],
    );
    t.run(
        &h,
        &[
            "admin:organization:groups:users",
            "create",
            "--group-id",
            &group,
            "--user-id",
            &fay,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:groups:users",
            "list",
            "--group-id",
            &group,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:groups:users",
            "retrieve",
            "--group-id",
            &group,
            "--user-id",
            &fay,
        ],
    );
    let role = t
        .run(
            &h,
            &[
                "admin:organization:roles",
                "create",
                "--role-name",
                "viewers",
                "--permission",
                "api.organization.read",
            ],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:groups:roles",
            "create",
            "--group-id",
            &group,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:groups:roles",
            "list",
            "--group-id",
            &group,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:users:roles",
            "list",
            "--user-id",
            &fay,
            "--format",
            "table",
        ],
    );
    let project = h.server().default_project_id();
    t.run(
        &h,
        &[
            "admin:organization:projects:groups",
            "create",
            "--project-id",
            &project,
            "--group-id",
            &group,
            "--role",
            "viewer",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:groups",
            "list",
            "--project-id",
            &project,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:groups:roles",
            "list",
            "--project-id",
            &project,
            "--group-id",
            &group,
            "--format",
            "table",
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:projects:groups",
            "delete",
            "--project-id",
            &project,
            "--group-id",
            &group,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:groups:roles",
            "delete",
            "--group-id",
            &group,
            "--role-id",
            &role,
        ],
    );
    t.run(
        &h,
        &[
            "admin:organization:groups:users",
            "delete",
            "--group-id",
            &group,
            "--user-id",
            &fay,
        ],
    );
    t.run(
        &h,
        &["admin:organization:groups", "delete", "--group-id", &group],
    );
    insta::assert_snapshot!(t.redacted());
}

/// A server that answers every request with 200 and a body that is not the Admin API's.
fn impostor() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "<html>hello</html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, thread)
}

#[test]
fn each_class_of_error_has_its_report_and_exit_status() {
    let h = Harness::start();
    let mut t = Transcript::new();
    // Usage (2): found before any request.
    for args in [
        &["admin:organization:users", "retrieve"][..],
        &[
            "admin:organization:users",
            "update",
            "--user-id",
            "user-x",
            "--role",
            "admin",
        ],
        &["admin:organization:users", "update", "--user-id", "user-x"],
        &["admin:organization:users", "list", "--limit", "101"],
        &[
            "admin:organization:users",
            "list",
            "--email",
            "not-an-email",
        ],
        &[
            "admin:organization:roles",
            "create",
            "--role-name",
            "x",
            "--permission",
            "api.organization.users.reed",
        ],
        &[
            "admin:organization:audit-logs",
            "list",
            "--event-type",
            "user.addd",
        ],
        &[
            "admin:organization:projects:users",
            "create",
            "--project-id",
            "proj_x",
            "--role",
            "member",
        ],
        &["admin:organization:roles", "list", "--all", "--limit", "0"],
        &["admin:organization:users", "frobnicate"],
        &[
            "--base-url",
            "127.0.0.1:8080",
            "admin:organization:users",
            "list",
        ],
    ] {
        t.record(&h.run(args).assert_status(2).clone());
    }
    t.record(
        &run(
            &["admin:organization:users", "list"],
            &[("OPENAI_BASE_URL", &h.base_url())],
        )
        .assert_status(2)
        .clone(),
    );

    // The API refused (1): 401 (an unknown key; a missing permission), 404, 409, 400.
    t.record(
        &h.run_as(
            &format!("sk-admin-{}", "b".repeat(40)),
            &["admin:organization:users", "list"],
        )
        .assert_status(1)
        .clone(),
    );
    let scoped = t
        .run(
            &h,
            &[
                "admin:organization:admin-api-keys",
                "create",
                "--name",
                "read-only",
                "--scope",
                "api.organization.users.read",
            ],
        )
        .field("value");
    t.record(
        &h.run_as(
            &scoped,
            &["admin:organization:projects", "create", "--name", "Nope"],
        )
        .assert_status(1)
        .clone(),
    );
    t.record(
        &h.run(&[
            "admin:organization:users",
            "retrieve",
            "--user-id",
            "user-nope",
        ])
        .assert_status(1)
        .clone(),
    );
    let owner = h.server().owner_id();
    t.record(
        &h.run(&[
            "admin:organization:users",
            "update",
            "--user-id",
            &owner,
            "--role",
            "reader",
        ])
        .assert_status(1)
        .clone(),
    );
    t.record(
        &h.run(&[
            "admin:organization:invites",
            "create",
            "--email",
            "owner@example.com",
            "--role",
            "reader",
        ])
        .assert_status(1)
        .clone(),
    );
    t.record(
        &h.run(&[
            "admin:organization:users",
            "update",
            "--user-id",
            &owner,
            "--role",
            "reader",
            "--role-id",
            "role-api-organization-owner",
        ])
        .assert_status(1)
        .clone(),
    );

    // No answer (3): nothing listens on the port.
    let dead = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/v1", listener.local_addr().unwrap())
    };
    t.record(
        &h.run(&["--base-url", &dead, "admin:organization:users", "list"])
            .assert_status(3)
            .clone(),
    );
    // An answer that is not the Admin API's (4).
    let (impostor_url, impostor) = impostor();
    t.record(
        &h.run(&[
            "--base-url",
            &impostor_url,
            "--max-retries",
            "0",
            "admin:organization:users",
            "list",
        ])
        .assert_status(4)
        .clone(),
    );
    impostor.join().unwrap();
    insta::assert_snapshot!(t.redacted());
}

#[test]
fn every_format_reads_back_as_the_same_objects() {
    let h = Harness::start();
    for name in ["ana", "ben", "cy", "di", "ed"] {
        h.runtime.block_on(
            h.server()
                .add_member(&format!("{name}@example.com"), "reader"),
        );
    }
    let (_, api) = h
        .runtime
        .block_on(h.server().get("/v1/organization/users?limit=100"));
    let expected = ids_of(&api);
    assert_eq!(expected.len(), 6);
    let emails: Vec<String> = api["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();

    // One page.
    let json = h
        .run(&["admin:organization:users", "list", "--format", "json"])
        .assert_status(0)
        .json();
    assert_eq!(ids_of(&json), expected);
    assert_eq!(json["has_more"], false);

    let jsonl = h.run(&["admin:organization:users", "list", "--format", "jsonl"]);
    let lines: Vec<Value> = jsonl
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines
            .iter()
            .map(|u| u["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        expected
    );

    let yaml = h.run(&["admin:organization:users", "list", "--format", "yaml"]);
    let parsed: Value = serde_norway::from_str(&yaml.stdout).unwrap();
    assert_eq!(parsed, json, "YAML and JSON carry the same document");

    let table = h.run(&["admin:organization:users", "list", "--format", "table"]);
    let mut rows = table
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>());
    assert_eq!(
        rows.next().unwrap(),
        ["ID", "EMAIL", "ROLE", "ADDED", "NAME"]
    );
    let rows: Vec<Vec<&str>> = rows.collect();
    assert_eq!(rows.iter().map(|r| r[0]).collect::<Vec<_>>(), expected);
    assert_eq!(rows.iter().map(|r| r[1]).collect::<Vec<_>>(), emails);
    assert!(rows.iter().all(|r| r[3].len() == 20 && r[3].ends_with('Z')));

    // Every page, two at a time, streamed: each format is still one document.
    let all = |format: &str| {
        h.run(&[
            "admin:organization:users",
            "list",
            "--all",
            "--limit",
            "2",
            "--format",
            format,
        ])
        .assert_status(0)
        .clone()
    };
    let array: Value = serde_json::from_str(&all("json").stdout).unwrap();
    let array_ids: Vec<&str> = array
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(array_ids, expected);
    assert_eq!(
        array, json["data"],
        "--all gives the same objects as one page"
    );
    let sequence: Value = serde_norway::from_str(&all("yaml").stdout).unwrap();
    assert_eq!(sequence, array);
    let jsonl_all: Vec<Value> = all("jsonl")
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(Value::Array(jsonl_all), array);
    let table_all = all("table");
    let table_ids: Vec<&str> = table_all
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(table_ids, expected);

    // One object.
    let id = &expected[1];
    let one = |format: &str| {
        h.run(&[
            "admin:organization:users",
            "retrieve",
            "--user-id",
            id,
            "--format",
            format,
        ])
        .assert_status(0)
        .stdout
        .clone()
    };
    let object: Value = serde_json::from_str(&one("json")).unwrap();
    assert_eq!(object, api["data"][1]);
    let line = one("jsonl");
    assert_eq!(line.lines().count(), 1);
    assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), object);
    assert_eq!(
        serde_norway::from_str::<Value>(&one("yaml")).unwrap(),
        object
    );
    let fields: Vec<(String, String)> = one("table")
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_owned(), v.trim().to_owned())
        })
        .collect();
    assert!(fields.contains(&("id".into(), id.clone())), "{fields:?}");
    assert!(
        fields.contains(&("email".into(), emails[1].clone())),
        "{fields:?}"
    );

    // --transform picks a part of each object, one per line; -r prints strings bare.
    let picked = h
        .run(&[
            "admin:organization:users",
            "list",
            "--all",
            "--limit",
            "2",
            "--transform",
            "id",
            "-r",
        ])
        .assert_status(0)
        .stdout
        .clone();
    assert_eq!(picked.lines().collect::<Vec<_>>(), expected);
    let quoted = h
        .run(&[
            "admin:organization:users",
            "retrieve",
            "--user-id",
            id,
            "--transform",
            "email",
        ])
        .assert_status(0)
        .stdout
        .clone();
    assert_eq!(quoted, format!("\"{}\"\n", emails[1]));

    // Empty lists are valid documents too.
    let empty = |format: &str| {
        h.run(&[
            "admin:organization:users",
            "list",
            "--email",
            "nobody@example.com",
            "--all",
            "--format",
            format,
        ])
        .assert_status(0)
        .clone()
    };
    assert_eq!(
        serde_json::from_str::<Value>(&empty("json").stdout).unwrap(),
        serde_json::json!([])
    );
    assert_eq!(
        serde_norway::from_str::<Value>(&empty("yaml").stdout).unwrap(),
        serde_json::json!([])
    );
    assert_eq!(empty("jsonl").stdout, "");
    let table = empty("table");
    assert_eq!(table.stdout, "");
    assert_eq!(table.stderr, "No users found.\n");
}

/// A database holding the owner and `n` more members, made through the store directly (the
/// fastest way to many users), before any server runs on it.
fn database_with_members(runtime: &tokio::runtime::Runtime, n: usize) -> TestDatabase {
    runtime.block_on(async {
        let database = TestDatabase::persistent().await;
        let store = orgadmin_store::open(database.url(), Arc::new(OffsetClock::default()))
            .await
            .expect("the store opens");
        store
            .bootstrap_if_empty(BootstrapRequest {
                organization_name: "Default Organization".into(),
                owner_email: Email::parse(orgadmin_testkit::OWNER_EMAIL, "email").unwrap(),
                owner_name: Some("Owner".into()),
                admin_key_secret: owner_key(),
                fixture: None,
            })
            .await
            .expect("bootstrap")
            .expect("an empty database");
        let actor = store
            .authenticate(&hash_secret(&owner_key()))
            .await
            .unwrap()
            .expect("the owner key authenticates");
        let mut tasks = tokio::task::JoinSet::new();
        let workers = 8;
        for w in 0..workers {
            let store = store.clone();
            let actor = actor.clone();
            tasks.spawn(async move {
                for i in (w..n).step_by(workers) {
                    let email = format!("member{i:04}@example.com");
                    let invite = store
                        .create_invite(
                            &actor,
                            NewInvite {
                                email: Email::parse(&email, "email").unwrap(),
                                role: OrgBaseRole::Reader,
                                projects: Some(Vec::new()),
                            },
                        )
                        .await
                        .expect("invite");
                    store
                        .accept_invite(&actor, &invite.id, Some(format!("member{i:04}")))
                        .await
                        .expect("accept");
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("a worker");
        }
        database
    })
}

#[test]
fn all_walks_a_thousand_users_in_order_without_repeats() {
    let runtime = runtime();
    let started = Instant::now();
    let database = database_with_members(&runtime, 1000);
    let filled = started.elapsed();
    let h = Harness::start_on(runtime, database.url());

    let started = Instant::now();
    let ran = h
        .run(&[
            "admin:organization:users",
            "list",
            "--all",
            "--format",
            "jsonl",
        ])
        .assert_status(0)
        .clone();
    let walked = started.elapsed();
    assert_eq!(ran.stderr, "");
    let ids: Vec<String> = ran
        .stdout
        .lines()
        .map(|l| {
            let user: Value = serde_json::from_str(l).unwrap();
            user["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1001, "the owner and 1,000 members");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1001);
    let emails: HashSet<String> = ran
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["email"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!((0..1000).all(|i| emails.contains(&format!("member{i:04}@example.com"))));

    // Pages of an odd size, and the other formats, give the same walk.
    let by_seven = h
        .run(&[
            "admin:organization:users",
            "list",
            "--all",
            "--limit",
            "7",
            "--format",
            "json",
        ])
        .assert_status(0)
        .json();
    let seven: Vec<&str> = by_seven
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(seven, ids);
    let table = h
        .run(&[
            "admin:organization:users",
            "list",
            "--all",
            "--format",
            "table",
        ])
        .assert_status(0)
        .clone();
    let rows: Vec<&str> = table
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(rows, ids);
    // Starting after a cursor continues from there.
    let rest = h
        .run(&[
            "admin:organization:users",
            "list",
            "--all",
            "--after",
            &ids[499],
            "--format",
            "jsonl",
        ])
        .assert_status(0)
        .clone();
    assert_eq!(rest.stdout.lines().count(), 501);

    // A reader that goes away (`| head -1`) ends the walk quietly.
    let mut child = Command::new(BIN)
        .args([
            "admin:organization:users",
            "list",
            "--all",
            "--limit",
            "10",
            "--format",
            "jsonl",
        ])
        .env_clear()
        .env("OPENAI_BASE_URL", h.base_url())
        .env("OPENAI_ADMIN_KEY", owner_key())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains(&ids[0]));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));

    eprintln!(
        "1,000 members made through the store in {:.1} s; `--all` walked 1,001 users in {} ms",
        filled.as_secs_f64(),
        walked.as_millis()
    );
    drop(h);
    drop(database);
}

/// Run the CLI against a served binary, with the operator key (and `admin_key`, if any) in the
/// environment.
fn run_against(server: &serve::Server, admin_key: Option<&str>, args: &[&str]) -> support::Ran {
    let base_url = format!("{}/v1", server.base);
    let operator_key = operator_key();
    let mut env = vec![
        ("OPENAI_BASE_URL", base_url.as_str()),
        ("ORGADMIN_OPERATOR_KEY", operator_key.as_str()),
    ];
    if let Some(key) = admin_key {
        env.push(("OPENAI_ADMIN_KEY", key));
    }
    run(args, &env)
}

#[test]
fn org_commands_create_list_reset_and_delete_organizations_through_the_operator_api() {
    let runtime = runtime();
    let database = runtime.block_on(TestDatabase::persistent());
    let server = runtime.block_on(serve::Server::start(database.url(), &owner_key()));
    let mut t = Transcript::new();
    let mut recorded = |args: &[&str]| {
        let ran = run_against(&server, None, args);
        t.record(&ran);
        ran
    };
    let create = |recorded: &mut dyn FnMut(&[&str]) -> support::Ran, name: &str, email: &str| {
        let ran = recorded(&["org", "create", "--name", name, "--owner-email", email]);
        ran.assert_status(0);
        ran.json()
    };
    let acme = create(&mut recorded, "Acme", "root@acme.example");
    let globex = create(&mut recorded, "Globex", "root@globex.example");
    let listed = recorded(&["org", "list", "--format", "table"]);
    listed.assert_status(0);
    let shown = recorded(&[
        "org",
        "retrieve",
        "--org-id",
        &str_of(&acme["organization"]["id"]),
    ]);
    shown.assert_status(0);
    assert_eq!(shown.json(), acme["organization"]);

    let key = |org: &Value| str_of(&org["admin_key"]["value"]);
    let (acme_key, globex_key) = (key(&acme), key(&globex));
    assert_ne!(acme["organization"]["id"], globex["organization"]["id"]);
    for (org, own_key, other) in [(&acme, &acme_key, &globex), (&globex, &globex_key, &acme)] {
        // Each key sees its own organization: its owner alone, its default project.
        let users = run_against(
            &server,
            Some(own_key),
            &["admin:organization:users", "list"],
        );
        assert_eq!(ids_of(&users.json()), [str_of(&org["owner"]["id"])]);
        let projects = run_against(
            &server,
            Some(own_key),
            &["admin:organization:projects", "list"],
        );
        assert_eq!(
            ids_of(&projects.json()),
            [str_of(&org["default_project"]["id"])]
        );
        // And nothing of the other's: its IDs are not found.
        let other_owner = str_of(&other["owner"]["id"]);
        let other_project = str_of(&other["default_project"]["id"]);
        let other_key = str_of(&other["admin_key"]["id"]);
        for args in [
            &[
                "admin:organization:users",
                "retrieve",
                "--user-id",
                &other_owner,
            ][..],
            &[
                "admin:organization:projects",
                "retrieve",
                "--project-id",
                &other_project,
            ],
            &[
                "admin:organization:admin-api-keys",
                "retrieve",
                "--key-id",
                &other_key,
            ],
            &[
                "admin:organization:projects:users",
                "list",
                "--project-id",
                &other_project,
            ],
        ] {
            let ran = run_against(&server, Some(own_key), args);
            ran.assert_status(1);
            assert!(ran.stderr.contains("status:     404 Not Found"), "{ran:#?}");
        }
    }

    // The list holds the first organization and both new ones, oldest first.
    let all = run_against(&server, None, &["org", "list"]).json();
    let acme_id = str_of(&acme["organization"]["id"]);
    let globex_id = str_of(&globex["organization"]["id"]);
    assert_eq!(ids_of(&all)[1..], [acme_id.clone(), globex_id.clone()]);

    // Reset takes Acme back to its creation; its key keeps working.
    let project = run_against(
        &server,
        Some(&acme_key),
        &["admin:organization:projects", "create", "--name", "Gateway"],
    );
    project.assert_status(0);
    let reset = recorded(&["org", "reset", "--org-id", &acme_id]);
    reset.assert_status(0);
    assert_eq!(reset.json()["default_project"], acme["default_project"]);
    let projects = run_against(
        &server,
        Some(&acme_key),
        &["admin:organization:projects", "list"],
    );
    assert_eq!(
        ids_of(&projects.json()),
        [str_of(&acme["default_project"]["id"])]
    );

    // Delete takes Globex away, and its key with it.
    recorded(&["org", "delete", "--org-id", &globex_id]).assert_status(0);
    let refused = run_against(
        &server,
        Some(&globex_key),
        &["admin:organization:users", "list"],
    );
    refused.assert_status(1);
    assert!(refused.stderr.contains("401 Unauthorized"), "{refused:#?}");
    let gone = recorded(&["org", "retrieve", "--org-id", &globex_id]);
    gone.assert_status(1);
    // Without the operator key nothing is sent; with a wrong one the server refuses.
    let without = recorded_without_key(&server, &mut t);
    without.assert_status(2);
    let wrong = run(
        &["org", "list"],
        &[
            ("OPENAI_BASE_URL", &format!("{}/v1", server.base)),
            ("ORGADMIN_OPERATOR_KEY", &owner_key()),
        ],
    );
    wrong.assert_status(1);
    assert!(
        wrong.stderr.contains("does not open the operator API"),
        "{wrong:#?}"
    );
    insta::assert_snapshot!(t.redacted());

    // The first organization, made by the server's first start, is untouched.
    let first = run_against(
        &server,
        Some(&owner_key()),
        &["admin:organization:users", "list"],
    );
    assert_eq!(ids_of(&first.json()).len(), 1);
    drop(server);
    drop(database);
}

/// `org list` with no operator key anywhere: a usage error, recorded.
fn recorded_without_key(server: &serve::Server, t: &mut Transcript) -> support::Ran {
    let ran = run(
        &["org", "list"],
        &[("OPENAI_BASE_URL", &format!("{}/v1", server.base))],
    );
    t.record(&ran);
    ran
}

#[test]
fn org_key_mints_an_owner_a_key_after_every_key_was_deleted() {
    let runtime = runtime();
    let database = runtime.block_on(TestDatabase::persistent());
    let mut h = Harness::start_on(runtime, database.url());
    let org = h.server().org_id();
    let owner_id = h.server().owner_id();
    let mut t = Transcript::new();
    member_via_cli(&mut t, &h, "reader@example.com", "reader", "Reader");
    let second_owner = member_via_cli(&mut t, &h, "second@example.com", "owner", "Second");

    // Every key deleted, the last one by itself: nothing can make a key through the API.
    let keys = h
        .run(&["admin:organization:admin-api-keys", "list"])
        .assert_status(0)
        .json();
    for id in ids_of(&keys) {
        h.run(&[
            "admin:organization:admin-api-keys",
            "delete",
            "--key-id",
            &id,
        ])
        .assert_status(0);
    }
    h.run(&["admin:organization:users", "list"])
        .assert_status(1);

    let key = |args: &[&str]| {
        let mut all = vec!["org", "key", "--database", database.url()];
        all.extend_from_slice(args);
        run(&all, &[])
    };
    // A SQLite file is the serving process's alone (its lease): `org key` beside it is refused
    // at once, naming it; stopped, the server lets go.
    if database.sqlite_dir().is_some() {
        let busy = key(&["--org", &org]);
        busy.assert_status(1);
        assert!(
            busy.stdout.is_empty()
                && busy.stderr.lines().count() == 1
                && busy.stderr.contains(&format!("PID {}", std::process::id()))
                && busy.stderr.contains("use PostgreSQL to run replicas"),
            "{busy:#?}"
        );
    }
    h.stop();
    // Only for an owner of an organization that exists, and the email must be an address.
    let reader = key(&["--org", &org, "--owner", "reader@example.com"]);
    reader.assert_status(1);
    assert!(reader.stdout.is_empty());
    assert!(reader.stderr.contains("not an owner"), "{reader:#?}");
    let stranger = key(&["--org", &org, "--owner", "nobody@example.com"]);
    stranger.assert_status(1);
    assert!(stranger.stderr.contains("No member"), "{stranger:#?}");
    let missing = key(&["--org", "org-nope"]);
    missing.assert_status(1);
    assert!(missing.stderr.contains("org-nope"), "{missing:#?}");
    key(&["--org", &org, "--owner", "not an address"]).assert_status(2);

    // By default the longest-standing owner's; printed once, as the API's object.
    let made = key(&["--org", &org]);
    made.assert_status(0);
    assert!(made.stderr.contains("not shown again"), "{made:#?}");
    let made = made.json();
    assert_eq!(made["object"], "organization.admin_api_key");
    assert_eq!(made["owner"]["id"], owner_id.as_str());
    assert_eq!(made["name"], "Recovery admin key");
    let secret = made["value"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk-admin-"));
    h.restart_on(database.url());
    let users = h
        .run_as(&secret, &["admin:organization:users", "list"])
        .assert_status(0)
        .json();
    assert_eq!(ids_of(&users).len(), 3);
    // It is listed like any key, without its secret, and its making is in the audit log.
    let listed = h
        .run_as(&secret, &["admin:organization:admin-api-keys", "list"])
        .assert_status(0)
        .json();
    assert_eq!(ids_of(&listed), [made["id"].as_str().unwrap()]);
    assert!(listed["data"][0].get("value").is_none(), "{listed}");
    let events = h
        .run_as(
            &secret,
            &[
                "admin:organization:audit-logs",
                "list",
                "--event-type",
                "api_key.created",
            ],
        )
        .assert_status(0)
        .json();
    let event = &events["data"][0];
    assert_eq!(event["api_key.created"]["id"], made["id"], "{events}");
    assert_eq!(event["actor"]["api_key"]["id"], made["id"], "{events}");

    // For a named owner, in a script.
    h.stop();
    let scripted = key(&[
        "--org",
        &org,
        "--owner",
        "SECOND@example.com",
        "--name",
        "break glass",
        "--transform",
        "value",
        "-r",
    ]);
    h.restart_on(database.url());
    scripted.assert_status(0);
    let second_secret = scripted.stdout.trim().to_owned();
    assert!(
        second_secret.starts_with("sk-admin-") && scripted.stdout.lines().count() == 1,
        "{scripted:#?}"
    );
    let me = h
        .run_as(
            &second_secret,
            &["admin:organization:admin-api-keys", "list"],
        )
        .assert_status(0)
        .json();
    let named = me["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "break glass")
        .cloned()
        .unwrap_or_else(|| panic!("{me}"));
    assert_eq!(named["owner"]["id"], second_owner.as_str());
    drop(h);
    drop(database);
}

#[test]
fn init_creates_the_first_organization_once_and_the_server_serves_it() {
    let runtime = runtime();
    let database = runtime.block_on(TestDatabase::persistent());
    let init = |args: &[&str]| {
        let mut all = vec!["init", "--database", database.url()];
        all.extend_from_slice(args);
        run(&all, &[])
    };
    let scripted = {
        let other = runtime.block_on(TestDatabase::persistent());
        let ran = run(
            &[
                "init",
                "--database",
                other.url(),
                "--transform",
                "admin_key.value",
                "-r",
            ],
            &[],
        );
        ran.assert_status(0);
        drop(other);
        ran.stdout
    };
    assert!(
        scripted.starts_with("sk-admin-") && scripted.lines().count() == 1,
        "{scripted:?}"
    );
    let first = init(&["--owner-email", "founder@example.com", "--name", "Founders"]);
    first.assert_status(0);
    assert!(first.stderr.contains("it is not shown again"), "{first:#?}");
    let created = first.json();
    assert_eq!(created["organization"]["object"], "organization");
    assert_eq!(created["organization"]["name"], "Founders");
    assert_eq!(created["owner"]["email"], "founder@example.com");
    assert_eq!(created["owner"]["role"], "owner");
    let secret = created["admin_key"]["value"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk-admin-"));

    let again = init(&[]);
    again.assert_status(1);
    assert!(again.stdout.is_empty());
    assert!(
        again.stderr.contains("already holds an organization")
            && again.stderr.contains("org create"),
        "{again:#?}"
    );

    // The server started on it keeps what init made, and the printed key works.
    let h = Harness::start_on(runtime, database.url());
    let users = h
        .run_as(&secret, &["admin:organization:users", "list"])
        .assert_status(0)
        .json();
    assert_eq!(ids_of(&users), [created["owner"]["id"].as_str().unwrap()]);
    drop(h);
    drop(database);
}

#[test]
fn help_works_offline_on_every_command_with_an_example() {
    fn walk(command: &clap::Command, path: &mut Vec<String>, paths: &mut Vec<Vec<String>>) {
        paths.push(path.clone());
        for sub in command.get_subcommands() {
            if sub.get_name() != "help" {
                path.push(sub.get_name().to_owned());
                walk(sub, path, paths);
                path.pop();
            }
        }
    }
    let mut paths = Vec::new();
    walk(&orgadmin_cli::Cli::command(), &mut Vec::new(), &mut paths);
    assert!(paths.len() > 60, "{} commands", paths.len());
    for path in &paths {
        // No server, no key, nothing in the environment.
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let ran = run(&args, &[]);
        assert_eq!(ran.status, 0, "{ran:#?}");
        assert!(ran.stdout.contains("Usage: orgadmin"), "{ran:#?}");
        assert!(
            ran.stdout.contains("Example"),
            "no example in the help of {path:?}"
        );
    }
    // The colon form asks for the same help.
    let colon = run(
        &[
            "admin:organization:projects:users:roles",
            "create",
            "--help",
        ],
        &[],
    );
    let words = run(
        &[
            "admin",
            "organization",
            "projects",
            "users",
            "roles",
            "create",
            "--help",
        ],
        &[],
    );
    assert_eq!(colon.stdout, words.stdout);
    insta::assert_snapshot!(run(&["admin:organization:users", "list", "-h"], &[])
        .assert_status(0)
        .stdout
        .clone());
}

#[test]
fn completion_scripts_cover_the_admin_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let ran = run(&["completion", shell], &[]);
        ran.assert_status(0);
        assert!(ran.stderr.is_empty(), "{ran:#?}");
        for word in ["orgadmin", "organization", "admin-api-keys", "user-id"] {
            assert!(ran.stdout.contains(word), "{shell}: no '{word}'");
        }
    }
    run(&["completion", "tcsh"], &[]).assert_status(2);
}

/// The README's command-line walkthrough, run as written: the block after the marker, with
/// `orgadmin` on the `PATH`, in a directory holding `orgadmin-data/initial-admin-key` as the
/// server's first start leaves it, and `OPENAI_BASE_URL` pointing at the test server.
#[test]
fn the_readme_walkthrough_runs_as_written() {
    const MARKER: &str =
        "<!-- The block below runs as written in crates/orgadmin/tests/cli.rs. -->";
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let after = &readme[readme
        .find(MARKER)
        .expect("the README marks its walkthrough")..];
    let start = after.find("```sh\n").expect("a sh block after the marker") + "```sh\n".len();
    let script = &after[start..start + after[start..].find("```").expect("the block ends")];
    assert!(script.contains("orgadmin admin:organization:users list"));

    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("orgadmin-data")).unwrap();
    std::fs::write(
        dir.path().join("orgadmin-data/initial-admin-key"),
        format!("{}\n", owner_key()),
    )
    .unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("OPENAI_BASE_URL", h.base_url())
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walkthrough failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("\"email\": \"ada@example.com\""),
        "{stdout}"
    );
    assert!(stdout.contains("\"type\": \"user.deleted\""), "{stdout}");
    let (_, users) = h.runtime.block_on(h.server().get("/v1/organization/users"));
    assert_eq!(
        ids_of(&users),
        [h.server().owner_id()],
        "Ada was offboarded"
    );
}

#[test]
fn service_accounts_from_the_command_line() {
    let h = Harness::start();
    let project = h.server().default_project_id();
    let sa = "admin:organization:projects:service-accounts";
    let created = h
        .run(&[
            sa,
            "create",
            "--project-id",
            &project,
            "--name",
            "deploy-bot",
        ])
        .assert_status(0)
        .clone();
    assert!(created.stderr.contains("not shown again"), "{created:#?}");
    let created = created.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["role"], "member");
    assert!(created["api_key"]["value"]
        .as_str()
        .unwrap()
        .starts_with("sk-"));

    let bare = h
        .run(&[
            sa,
            "create",
            "--project-id",
            &project,
            "--name",
            "bare",
            "--create-service-account-only",
            "--transform",
            "api_key",
        ])
        .assert_status(0)
        .clone();
    assert_eq!(bare.stdout, "null\n");

    let listed = h
        .run(&[
            sa,
            "list",
            "--project-id",
            &project,
            "--all",
            "--format",
            "jsonl",
        ])
        .assert_status(0)
        .clone();
    assert_eq!(listed.stdout.lines().count(), 2);
    let updated = h
        .run(&[
            sa,
            "update",
            "--project-id",
            &project,
            "--service-account-id",
            &id,
            "--role",
            "owner",
            "--name",
            "deployer",
        ])
        .assert_status(0)
        .json();
    assert_eq!(
        (updated["role"].as_str(), updated["name"].as_str()),
        (Some("owner"), Some("deployer"))
    );
    let table = h
        .run(&[
            sa,
            "retrieve",
            "--project-id",
            &project,
            "--service-account-id",
            &id,
            "--format",
            "table",
        ])
        .assert_status(0)
        .stdout
        .clone();
    assert!(table.contains("name        deployer"), "{table}");
    // Service accounts are among the organization's users, without email or organization role.
    let users = h
        .run(&["admin:organization:users", "list", "--format", "table"])
        .assert_status(0)
        .stdout
        .clone();
    assert!(
        users
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("  -  ")),
        "{users}"
    );
    h.run(&[
        sa,
        "delete",
        "--project-id",
        &project,
        "--service-account-id",
        &id,
    ])
    .assert_status(0);
    let gone = h.run(&[
        sa,
        "retrieve",
        "--project-id",
        &project,
        "--service-account-id",
        &id,
    ]);
    gone.assert_status(1);
    assert!(gone.stderr.contains("404 Not Found"), "{gone:#?}");
    h.run(&[
        sa,
        "update",
        "--project-id",
        &project,
        "--service-account-id",
        &id,
    ])
    .assert_status(2);
}

#[test]
fn project_api_keys_from_the_command_line() {
    let h = Harness::start();
    let mut t = Transcript::new();
    let keys = "admin:organization:projects:api-keys";
    let dev = member_via_cli(&mut t, &h, "dev@example.com", "reader", "Dev");
    let project = t
        .run(
            &h,
            &["admin:organization:projects", "create", "--name", "Keys"],
        )
        .id();
    t.run(
        &h,
        &[
            "admin:organization:projects:users",
            "create",
            "--project-id",
            &project,
            "--user-id",
            &dev,
            "--role",
            "member",
        ],
    )
    .assert_status(0);

    // A member's key: the secret once, on standard output, and a word about it on standard error.
    let laptop = t.run(
        &h,
        &[
            keys,
            "create",
            "--project-id",
            &project,
            "--name",
            "Laptop",
            "--user-id",
            &dev,
        ],
    );
    laptop.assert_status(0);
    assert!(laptop.stderr.contains("not shown again"), "{laptop:#?}");
    let laptop = laptop.json();
    let laptop_id = str_of(&laptop["id"]);
    let secret = str_of(&laptop["value"]);
    assert!(secret.starts_with("sk-proj-"), "{laptop}");
    assert_eq!(laptop["object"], "organization.project.api_key");
    assert_eq!(laptop["scopes"], serde_json::json!([]), "unscoped");
    assert_eq!(laptop["owner"]["user"]["id"], dev.as_str());
    assert_eq!(laptop["expires_at"], Value::Null);
    let ci = h
        .run(&[
            keys,
            "create",
            "--project-id",
            &project,
            "--name",
            "CI",
            "--user-id",
            &dev,
            "--scope",
            "api.model.request",
            "--expires-in-seconds",
            "3600",
        ])
        .assert_status(0)
        .json();
    assert_eq!(ci["scopes"], serde_json::json!(["api.model.request"]));
    assert_eq!(
        ci["expires_at"].as_i64().unwrap(),
        ci["created_at"].as_i64().unwrap() + 3600
    );
    let ci_id = str_of(&ci["id"]);

    // A service account's further keys, named or not.
    let account = h
        .run(&[
            "admin:organization:projects:service-accounts",
            "create",
            "--project-id",
            &project,
            "--name",
            "Deployer",
        ])
        .assert_status(0)
        .id();
    let account_key = t.run(
        &h,
        &[
            "admin:organization:projects:service-accounts:api-keys",
            "create",
            "--project-id",
            &project,
            "--service-account-id",
            &account,
            "--name",
            "Production App",
            "--scope",
            "api.model.request",
        ],
    );
    account_key.assert_status(0);
    assert!(account_key.stderr.contains("not shown again"));
    let account_key = account_key.json();
    assert_eq!(
        account_key["object"],
        "organization.project.service_account.api_key"
    );
    assert!(str_of(&account_key["value"]).starts_with("sk-svcacct-"));
    let unnamed = h
        .run(&[
            "admin",
            "organization",
            "projects",
            "service-accounts",
            "api-keys",
            "create",
            "--project-id",
            &project,
            "--service-account-id",
            &account,
        ])
        .assert_status(0)
        .json();
    assert_eq!(unnamed["name"], "Secret Key");

    t.run(
        &h,
        &[keys, "list", "--project-id", &project, "--format", "table"],
    )
    .assert_status(0);
    let all = h
        .run(&[
            keys,
            "list",
            "--project-id",
            &project,
            "--all",
            "--limit",
            "2",
            "--format",
            "jsonl",
        ])
        .assert_status(0)
        .clone();
    let listed: Vec<Value> = all
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 5, "two of the member, three of the account");
    assert!(
        listed.iter().all(|k| k.get("value").is_none()),
        "no secret in a list"
    );
    assert!(!all.stdout.contains(&secret));
    let page = h
        .run(&[keys, "list", "--project-id", &project, "--limit", "2"])
        .assert_status(0)
        .json();
    assert_eq!(
        ids_of(&page),
        ids_of(&serde_json::json!({ "data": listed[..2] }))
    );
    assert_eq!(page["has_more"], true);
    let page = h
        .run(&[
            keys,
            "list",
            "--project-id",
            &project,
            "--limit",
            "2",
            "--format",
            "jsonl",
        ])
        .assert_status(0)
        .clone();
    assert_eq!(page.stdout.lines().count(), 2);
    assert!(
        page.stderr.contains("More project API keys follow"),
        "{page:#?}"
    );

    // The SDK's update: scopes, then no scopes and an expiry.
    let scoped = t
        .run(
            &h,
            &[
                keys,
                "update",
                "--project-id",
                &project,
                "--api-key-id",
                &laptop_id,
                "--scope",
                "api.files.read",
                "--scope",
                "api.model.request",
            ],
        )
        .assert_status(0)
        .json();
    assert_eq!(
        scoped["scopes"],
        serde_json::json!(["api.model.request", "api.files.read"])
    );
    assert_eq!(scoped["expires_at"], Value::Null, "the expiry untouched");
    let lifted = h
        .run(&[
            keys,
            "update",
            "--project-id",
            &project,
            "--api-key-id",
            &laptop_id,
            "--unscoped",
            "--expires-in-seconds",
            "60",
        ])
        .assert_status(0)
        .json();
    assert_eq!(lifted["scopes"], serde_json::json!([]));
    assert!(lifted["expires_at"].as_i64().is_some(), "{lifted}");
    let expiry_only = h
        .run(&[
            keys,
            "update",
            "--project-id",
            &project,
            "--api-key-id",
            &ci_id,
            "--expires-in-seconds",
            "120",
        ])
        .assert_status(0)
        .json();
    assert_eq!(
        expiry_only["scopes"],
        serde_json::json!(["api.model.request"]),
        "the scopes untouched"
    );
    // Refused before any request: nothing to change, both scopes and none, an organization
    // permission, a lifetime beyond a year.
    for args in [
        vec!["--api-key-id", ci_id.as_str()],
        vec![
            "--api-key-id",
            ci_id.as_str(),
            "--unscoped",
            "--scope",
            "api.files.read",
        ],
        vec![
            "--api-key-id",
            ci_id.as_str(),
            "--scope",
            "api.organization.users.read",
        ],
        vec![
            "--api-key-id",
            ci_id.as_str(),
            "--expires-in-seconds",
            "31536001",
        ],
    ] {
        let mut command = vec![keys, "update", "--project-id", project.as_str()];
        command.extend(args);
        let ran = t.run(&h, &command);
        ran.assert_status(2);
        assert!(ran.stdout.is_empty(), "{ran:#?}");
    }

    let got = h
        .run(&[
            keys,
            "retrieve",
            "--project-id",
            &project,
            "--api-key-id",
            &laptop_id,
        ])
        .assert_status(0)
        .clone();
    assert!(
        got.json().get("value").is_none() && !got.stdout.contains(&secret),
        "{got:#?}"
    );

    // A member removed from the project: their keys are listed only when asked for.
    h.run(&[
        "admin:organization:projects:users",
        "delete",
        "--project-id",
        &project,
        "--user-id",
        &dev,
    ])
    .assert_status(0);
    let access = |filter: Option<&str>| {
        let mut args = vec![keys, "list", "--project-id", project.as_str()];
        if let Some(filter) = filter {
            args.extend(["--owner-project-access", filter]);
        }
        ids_of(&h.run(&args).assert_status(0).json())
    };
    let member_keys = vec![laptop_id.clone(), ci_id.clone()];
    assert!(access(None).iter().all(|id| !member_keys.contains(id)));
    assert_eq!(access(Some("active")).len(), 3);
    assert_eq!(access(Some("inactive")), member_keys);
    assert_eq!(access(Some("any")).len(), 5);
    t.run(
        &h,
        &[
            keys,
            "list",
            "--project-id",
            &project,
            "--owner-project-access",
            "elsewhere",
        ],
    )
    .assert_status(2);

    t.run(
        &h,
        &[
            keys,
            "delete",
            "--project-id",
            &project,
            "--api-key-id",
            &laptop_id,
        ],
    )
    .assert_status(0);
    let gone = t.run(
        &h,
        &[
            keys,
            "retrieve",
            "--project-id",
            &project,
            "--api-key-id",
            &laptop_id,
        ],
    );
    gone.assert_status(1);
    assert!(gone.stderr.contains("404 Not Found"), "{gone:#?}");
    insta::assert_snapshot!(t.redacted());
}

#[test]
fn the_project_api_key_commands_explain_themselves_offline() {
    insta::assert_snapshot!(
        "project_api_keys_help",
        run(&["admin:organization:projects:api-keys", "--help"], &[])
            .assert_status(0)
            .stdout
            .clone()
    );
    insta::assert_snapshot!(
        "project_api_keys_update_help",
        run(
            &["admin:organization:projects:api-keys", "update", "--help"],
            &[]
        )
        .assert_status(0)
        .stdout
        .clone()
    );
    insta::assert_snapshot!(
        "service_account_api_keys_create_help",
        run(
            &[
                "admin:organization:projects:service-accounts:api-keys",
                "create",
                "--help"
            ],
            &[]
        )
        .assert_status(0)
        .stdout
        .clone()
    );
}

#[test]
fn clock_faults_requests_snapshot_and_restore_commands_drive_the_operator_api() {
    let runtime = runtime();
    let database = runtime.block_on(TestDatabase::persistent());
    let server = runtime.block_on(serve::Server::start(database.url(), &owner_key()));
    let org = run_against(
        &server,
        None,
        &["org", "create", "--owner-email", "qa@example.com"],
    );
    org.assert_status(0);
    let org = org.json();
    let org_id = str_of(&org["organization"]["id"]);
    let key = str_of(&org["admin_key"]["value"]);

    // The clock: read, advanced, frozen; one change at a time.
    let read = run_against(&server, None, &["clock", "--org-id", &org_id]);
    read.assert_status(0);
    let before = read.json()["now"].as_i64().unwrap();
    let advanced = run_against(
        &server,
        None,
        &["clock", "--org-id", &org_id, "--advance", "86400"],
    );
    advanced.assert_status(0);
    assert!(advanced.json()["now"].as_i64().unwrap() >= before + 86400);
    let frozen = run_against(&server, None, &["clock", "--org-id", &org_id, "--freeze"]);
    assert_eq!(frozen.json()["frozen"], true);
    run_against(
        &server,
        None,
        &["clock", "--org-id", &org_id, "--advance", "1", "--freeze"],
    )
    .assert_status(2);
    run_against(
        &server,
        None,
        &["clock", "--org-id", &org_id, "--advance", "-5"],
    )
    .assert_status(2);

    // A fault: injected, it answers the organization's next invite, and is counted.
    let injected = run_against(
        &server,
        None,
        &[
            "faults",
            "inject",
            "--org-id",
            &org_id,
            "--path",
            "/v1/organization/invites",
            "--method",
            "POST",
            "--status",
            "503",
            "--times",
            "1",
        ],
    );
    injected.assert_status(0);
    assert_eq!(injected.json()["object"], "organization.fault");
    let invite = [
        "admin:organization:invites",
        "create",
        "--email",
        "ada@example.com",
        "--role",
        "reader",
        "--max-retries",
        "0",
    ];
    let faulted = run_against(&server, Some(&key), &invite);
    faulted.assert_status(1);
    assert!(
        faulted.stderr.contains("service_unavailable"),
        "{}",
        faulted.stderr
    );
    run_against(&server, Some(&key), &invite).assert_status(0);
    let listed = run_against(&server, None, &["faults", "list", "--org-id", &org_id]);
    assert_eq!(listed.json()["data"][0]["fired"], 1);
    let refused = run_against(
        &server,
        None,
        &[
            "faults",
            "inject",
            "--org-id",
            &org_id,
            "--path",
            "/v1/nowhere/{x}",
            "--status",
            "503",
        ],
    );
    refused.assert_status(1);
    assert!(
        refused.stderr.contains("names no route"),
        "{}",
        refused.stderr
    );
    let cleared = run_against(&server, None, &["faults", "clear", "--org-id", &org_id]);
    assert_eq!(cleared.json()["deleted"], 1);

    // The journal: what the key sent, newest first, filtered.
    let journal = run_against(
        &server,
        None,
        &["requests", "list", "--org-id", &org_id, "--method", "POST"],
    );
    journal.assert_status(0);
    let entries = journal.json()["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[1]["status"], 503);
    let table = run_against(
        &server,
        None,
        &["requests", "list", "--org-id", &org_id, "--format", "table"],
    );
    assert!(
        table.stdout.contains("/v1/organization/invites"),
        "{}",
        table.stdout
    );
    run_against(&server, None, &["requests", "clear", "--org-id", &org_id]).assert_status(0);

    // A snapshot, restored in place after a change, and as a new organization.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("golden.json");
    let snapshot = run_against(&server, None, &["org", "snapshot", "--org-id", &org_id]);
    snapshot.assert_status(0);
    std::fs::write(&file, &snapshot.stdout).unwrap();
    let file = file.to_str().unwrap();
    run_against(
        &server,
        Some(&key),
        &[
            "admin:organization:projects",
            "create",
            "--name",
            "After the snapshot",
        ],
    )
    .assert_status(0);
    run_against(
        &server,
        None,
        &["org", "restore", file, "--org-id", &org_id],
    )
    .assert_status(0);
    let projects = run_against(
        &server,
        Some(&key),
        &["admin:organization:projects", "list"],
    );
    assert_eq!(
        ids_of(&projects.json()),
        [str_of(&org["default_project"]["id"])]
    );
    let copy = run_against(&server, None, &["org", "restore", file]);
    copy.assert_status(0);
    let copy = copy.json();
    assert_ne!(copy["organization"]["id"], org["organization"]["id"]);
    let copy_key = str_of(&copy["admin_key"]["value"]);
    let users = run_against(
        &server,
        Some(&copy_key),
        &["admin:organization:users", "list"],
    );
    assert_eq!(ids_of(&users.json()), [str_of(&org["owner"]["id"])]);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    run_against(&server, None, &["org", "restore", bad.to_str().unwrap()]).assert_status(2);
    drop(server);
    drop(database);
}
