//! `orgadmin import users FILE` end to end: the real binary streaming its file to `orgadmin
//! serve` (the real binary too, `support/serve.rs`) on a database made by `orgadmin init`
//! (SQLite, or PostgreSQL with `ORGADMIN_TEST_BACKEND=postgres`), checked over the Admin API.
//! CSV and JSON Lines edge cases (quoted fields, a byte-order mark, CRLF, blank lines, headers),
//! the summary on standard output, the line on standard error, and the exit statuses.

#[path = "support/serve.rs"]
mod serve;
#[allow(unused, reason = "the command-line tests' harness, shared")]
mod support;

use orgadmin_core::role::{OrgBaseRole, ProjectBaseRole};
use orgadmin_core::{Email, Permission};
use orgadmin_testkit::TestDatabase;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use support::{run, runtime, Ran, BIN};

/// A database made by `orgadmin init`, `orgadmin serve` on it, its admin key, and a directory
/// for import files. What the import wrote is read over the Admin API: the server holds the
/// database's lease (on SQLite no other store may open it while it runs).
struct Setup {
    runtime: tokio::runtime::Runtime,
    server: Option<serve::Server>,
    http: reqwest::Client,
    key: String,
    dir: tempfile::TempDir,
    database: Option<TestDatabase>,
}

/// A member as the Admin API lists them (`organization.user`), the fields these tests read.
struct Member {
    id: String,
    email: Email,
    name: Option<String>,
    role: OrgBaseRole,
}

impl Setup {
    fn new() -> Self {
        let runtime = runtime();
        let database = runtime.block_on(TestDatabase::persistent());
        let init = run(
            &[
                "init",
                "--database",
                database.url(),
                "--transform",
                "admin_key.value",
                "-r",
            ],
            &[],
        );
        init.assert_status(0);
        let key = init.stdout.trim().to_owned();
        let server = runtime.block_on(serve::Server::start(database.url(), &key));
        Self {
            runtime,
            server: Some(server),
            http: reqwest::Client::new(),
            key,
            dir: tempfile::tempdir().unwrap(),
            database: Some(database),
        }
    }

    /// The served API's base URL.
    fn base_url(&self) -> String {
        format!("{}/v1", self.server.as_ref().unwrap().base)
    }

    /// `method` on `path` (under `/v1`) with the owner's key: the status and the JSON answer.
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method, format!("{}{path}", self.base_url()))
                .bearer_auth(&self.key);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let answer = request.send().await.expect("the server answers");
            let status = answer.status().as_u16();
            (status, answer.json().await.expect("a JSON answer"))
        })
    }

    fn get(&self, path: &str) -> Value {
        let (status, answer) = self.call(reqwest::Method::GET, path, None);
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(reqwest::Method::POST, path, Some(body));
        assert_eq!(status, 200, "POST {path}: {answer}");
        answer
    }

    /// Every item of the list at `path`, page by page.
    fn all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let cursor = after.map_or(String::new(), |a| format!("&after={a}"));
            let page = self.get(&format!("{path}?limit=100{cursor}"));
            let data = page["data"].as_array().expect("a list").clone();
            items.extend(data);
            if page["has_more"] != json!(true) {
                return items;
            }
            after = Some(page["last_id"].as_str().expect("a cursor").to_owned());
        }
    }

    /// Write `content` to a file of the test directory; its path.
    fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }

    /// `orgadmin import users ARGS… --base-url URL` with the key.
    fn import(&self, args: &[&str]) -> Ran {
        self.import_as(&self.key, args)
    }

    fn import_as(&self, key: &str, args: &[&str]) -> Ran {
        let mut all = vec!["import", "users"];
        all.extend_from_slice(args);
        let base_url = self.base_url();
        all.extend_from_slice(&["--base-url", &base_url]);
        run(&all, &[("OPENAI_ADMIN_KEY", key)])
    }

    fn users(&self) -> Vec<Member> {
        self.all("/organization/users")
            .into_iter()
            .map(|u| Member {
                id: u["id"].as_str().unwrap().to_owned(),
                email: Email::parse(u["email"].as_str().unwrap(), "email").unwrap(),
                name: u["name"].as_str().map(str::to_owned),
                role: OrgBaseRole::from_stored(u["role"].as_str().unwrap()),
            })
            .collect()
    }

    fn user(&self, email: &str) -> Member {
        self.users()
            .into_iter()
            .find(|u| u.email.normalized() == email)
            .unwrap_or_else(|| panic!("{email} is no member"))
    }

    fn audit_count(&self) -> usize {
        self.all("/organization/audit_logs").len()
    }

    fn project(&self, name: &str) -> String {
        let project = self.post("/organization/projects", json!({ "name": name }));
        project["id"].as_str().unwrap().to_owned()
    }

    fn project_role(&self, project: &str, email: &str) -> Option<ProjectBaseRole> {
        let user = self.user(email);
        let (status, member) = self.call(
            reqwest::Method::GET,
            &format!("/organization/projects/{project}/users/{}", user.id),
            None,
        );
        (status == 200).then(|| ProjectBaseRole::from_stored(member["role"].as_str().unwrap()))
    }

    /// A key of the owner limited to `scopes`.
    fn scoped_key(&self, scopes: &[Permission]) -> String {
        let scopes: Vec<&str> = scopes.iter().map(|p| p.as_str()).collect();
        let key = self.post(
            "/organization/admin_api_keys",
            json!({ "name": "scoped", "scopes": scopes }),
        );
        key["value"]
            .as_str()
            .expect("the new key's secret")
            .to_owned()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        // Stop the server before the database is dropped.
        self.server.take();
        self.database.take();
    }
}

fn summary(ran: &Ran) -> Value {
    let mut value = ran.json();
    assert_eq!(value["object"], "import.summary", "{ran:#?}");
    value.as_object_mut().unwrap().remove("object");
    value
}

#[test]
fn a_csv_file_with_quotes_bom_crlf_and_blank_lines_imports_once() {
    let s = Setup::new();
    let gateway = s.project("Gateway");
    let ops = s.project("Ops, North");
    let audit_before = s.audit_count();
    let csv = format!(
        "\u{feff}Email,NAME,role,projects\r\n\
         ada@example.com,\"Lovelace, Ada\",owner,Gateway:owner;{ops}:viewer\r\n\
         \r\n\
         \"grace@example.com\",\"Grace \"\"Amazing\"\" Hopper\",,\"Ops, North\"\r\n\
         \x20\r\n\
         owner@example.com,,,\r\n"
    );
    let file = s.file("people.csv", &csv);
    let first = s.import(&[&file]);
    first.assert_status(0);
    assert_eq!(
        summary(&first),
        json!({"created": 2, "updated": 0, "skipped": 1, "invalid": 0, "errors": [], "dry_run": false, "committed": true}),
        "{first:#?}"
    );
    assert!(
        first.stderr.contains("Imported ")
            && first
                .stderr
                .contains("2 created, 0 updated, 1 skipped, 0 invalid"),
        "{first:#?}"
    );
    let ada = s.user("ada@example.com");
    assert_eq!(ada.name.as_deref(), Some("Lovelace, Ada"));
    assert_eq!(ada.role, OrgBaseRole::Owner);
    assert_eq!(
        s.project_role(&gateway, "ada@example.com"),
        Some(ProjectBaseRole::Owner)
    );
    assert_eq!(
        s.project_role(&ops, "ada@example.com"),
        Some(ProjectBaseRole::Viewer)
    );
    let grace = s.user("grace@example.com");
    assert_eq!(grace.name.as_deref(), Some("Grace \"Amazing\" Hopper"));
    assert_eq!(grace.role, OrgBaseRole::Reader);
    assert_eq!(
        s.project_role(&ops, "grace@example.com"),
        Some(ProjectBaseRole::Member)
    );
    let audit = s.audit_count();
    assert_eq!(
        audit - audit_before,
        2 + 3,
        "user.added per member, and per project membership"
    );

    // Again: nothing to do, nothing written; the global --format is honoured.
    let again = s.import(&[&file, "--format", "jsonl"]);
    again.assert_status(0);
    assert_eq!(again.stdout.lines().count(), 1, "{again:#?}");
    assert_eq!(
        summary(&again),
        json!({"created": 0, "updated": 0, "skipped": 3, "invalid": 0, "errors": [], "dry_run": false, "committed": true})
    );
    assert_eq!(s.audit_count(), audit);
    let skipped = s.import(&[&file, "--transform", "skipped", "-r"]);
    assert_eq!(skipped.stdout, "3\n");

    // A quoted field goes on over line breaks (which a name may not hold), and the rows after
    // it keep their line numbers; a quote left open runs to the end of the file.
    let multiline = s.file(
        "multiline.csv",
        "email,name\r\n\"linus@example.com\",\"Linus\r\nTorvalds\"\r\nnext@example.com,Next\r\nbroken@example.com,\"open\r\nend@example.com,End\r\n",
    );
    let ran = s.import(&[&multiline, "--skip-invalid", "--dry-run"]);
    ran.assert_status(0);
    let value = summary(&ran);
    assert_eq!(value["created"], 1, "{ran:#?}");
    let errors = value["errors"].as_array().unwrap();
    assert_eq!(
        errors
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["message"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [
            (2, "the name contains control characters."),
            (5, "a quoted field is not closed: the file ends inside it")
        ]
    );
}

#[test]
fn invalid_rows_are_reported_by_line_and_nothing_is_written_without_skip_invalid() {
    let s = Setup::new();
    let users_before = s.users().len();
    let jsonl = "\
{\"email\": \"ok@example.com\", \"name\": \"Ok\"}\r\n\
\n\
{\"email\": \"typo@example.com\", \"nmae\": \"T\"}\n\
{\"email\": \"bad role@example.com\", \"role\": \"owner\"}\n\
{not json}\n\
{\"email\": \"OK@example.com\"}\n\
{\"email\": \"far@example.com\", \"projects\": [\"Nowhere:owner\"]}\n\
{\"email\": \"also-ok@example.com\", \"role\": \"reader\", \"projects\": []}\n";
    let file = s.file("people.jsonl", jsonl);
    let refused = s.import(&[&file]);
    refused.assert_status(1);
    let value = summary(&refused);
    assert_eq!(
        (
            &value["created"],
            &value["invalid"],
            &value["committed"],
            &value["dry_run"]
        ),
        (&json!(2), &json!(5), &json!(false), &json!(false)),
        "{refused:#?}"
    );
    let errors = value["errors"].as_array().unwrap();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7]);
    assert_eq!(errors[0]["email"], "typo@example.com");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown field \"nmae\""));
    assert!(errors[1]["message"]
        .as_str()
        .unwrap()
        .contains("not a valid email"));
    assert_eq!(errors[2]["email"], Value::Null);
    assert!(errors[3]["message"]
        .as_str()
        .unwrap()
        .contains("also on line 1"));
    assert!(!errors[4]["message"]
        .as_str()
        .unwrap()
        .contains("'Nowhere:owner'"));
    assert!(errors[4]["message"].as_str().unwrap().contains("'Nowhere'"));
    assert!(
        refused.stderr.contains("Nothing imported from")
            && refused.stderr.contains("  line 3 (typo@example.com): unknown field")
            && refused
                .stderr
                .contains("error: 5 rows are invalid, so nothing was imported; fix them, or pass --skip-invalid"),
        "{refused:#?}"
    );
    assert_eq!(s.users().len(), users_before, "nothing written");

    // A dry run says the same, and exits 1 too: the real run would write nothing.
    let dry = s.import(&[&file, "--dry-run"]);
    dry.assert_status(1);
    assert_eq!(summary(&dry)["dry_run"], true);
    assert!(dry.stderr.contains("Dry run of"), "{dry:#?}");
    let dry_skip = s.import(&[&file, "--dry-run", "--skip-invalid"]);
    dry_skip.assert_status(0);
    assert_eq!(summary(&dry_skip)["committed"], false);
    assert_eq!(s.users().len(), users_before);

    // With --skip-invalid the two valid rows go in.
    let skipped = s.import(&[&file, "--skip-invalid"]);
    skipped.assert_status(0);
    assert_eq!(
        (
            &summary(&skipped)["created"],
            &summary(&skipped)["committed"]
        ),
        (&json!(2), &json!(true))
    );
    assert_eq!(s.users().len(), users_before + 2);
    assert_eq!(s.user("ok@example.com").name.as_deref(), Some("Ok"));
}

#[test]
fn standard_input_needs_a_format_and_reads_like_a_file() {
    let s = Setup::new();
    let mut child = Command::new(BIN)
        .args([
            "import",
            "users",
            "-",
            "--input-format",
            "csv",
            "--base-url",
            &s.base_url(),
        ])
        .env_clear()
        .env("OPENAI_ADMIN_KEY", &s.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"email\npiped@example.com\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("Imported standard input: 1 created"),
        "{stderr}"
    );
    s.user("piped@example.com");

    let ran = s.import(&["-"]);
    ran.assert_status(2);
    assert!(ran.stderr.contains("--input-format"), "{ran:#?}");
}

#[test]
fn files_headers_and_keys_that_cannot_be_used_are_refused_before_anything_is_written() {
    let s = Setup::new();
    let users_before = s.users().len();
    let usage = |ran: Ran, needle: &str| {
        ran.assert_status(2);
        assert!(ran.stdout.is_empty(), "{ran:#?}");
        assert!(ran.stderr.contains(needle), "{needle:?} not in {ran:#?}");
        assert!(
            ran.stderr.contains("orgadmin import users --help"),
            "{ran:#?}"
        );
    };
    let unknown = s.file("unknown.csv", "email,nmae,colour\na@example.com,A,red\n");
    usage(
        s.import(&[&unknown]),
        "unknown columns 'nmae', 'colour' in the header; the columns are email (required), name, role, projects",
    );
    let no_email = s.file("no-email.csv", "\u{feff}name,role\r\nA,reader\r\n");
    usage(s.import(&[&no_email]), "the header has no 'email' column");
    let empty = s.file("empty.csv", "\r\n\r\n");
    usage(s.import(&[&empty]), "the file is empty");
    let txt = s.file("people.txt", "email\na@example.com\n");
    usage(s.import(&[&txt]), "cannot tell the format");
    let missing = s.dir.path().join("missing.csv").display().to_string();
    usage(s.import(&[&missing]), "cannot read");
    // The flag names the format whatever the name.
    s.import(&[&txt, "--input-format", "csv"]).assert_status(0);

    let good = s.file("good.csv", "email\nb@example.com\n");
    let no_key = run(
        &["import", "users", &good, "--base-url", &s.base_url()],
        &[],
    );
    no_key.assert_status(2);
    assert!(no_key.stderr.contains("OPENAI_ADMIN_KEY"), "{no_key:#?}");

    let wrong = s.import_as(&format!("sk-admin-{}", "z".repeat(40)), &[&good]);
    wrong.assert_status(1);
    assert!(
        wrong.stderr.contains("Incorrect admin API key provided"),
        "{wrong:#?}"
    );
    let reader_key = s.scoped_key(&[Permission::UsersRead]);
    let forbidden = s.import_as(&reader_key, &[&good]);
    forbidden.assert_status(1);
    assert!(
        forbidden
            .stderr
            .contains("error: You have insufficient permissions for this operation. Missing scopes: api.organization.users.write. Check that"),
        "{forbidden:#?}"
    );
    assert_eq!(
        s.users().len(),
        users_before + 1,
        "only the --input-format run wrote"
    );

    let unreachable = run(
        &[
            "import",
            "users",
            &good,
            "--base-url",
            "http://127.0.0.1:1/v1",
        ],
        &[("OPENAI_ADMIN_KEY", &s.key)],
    );
    unreachable.assert_status(3);
}

#[test]
fn rows_naming_projects_need_the_right_to_manage_their_members() {
    let s = Setup::new();
    let gateway = s.project("Gateway");
    // Users may be written, and project members only where the owner holds
    // api.project.users.write: the default project (they own it), not Gateway. The key also
    // holds what it gives (a reader's permissions, a viewer's in the project): nobody grants more
    // than they hold.
    let key = s.scoped_key(&[
        Permission::UsersWrite,
        Permission::ProjectUsersWriteInProject,
        Permission::OrganizationRead,
        Permission::UsersRead,
        Permission::RolesRead,
        Permission::InvitesRead,
        Permission::ProjectsRead,
        Permission::ProjectUsersRead,
        Permission::GroupsRead,
        Permission::ProjectApiKeysRead,
        Permission::ProjectRead,
        Permission::ProjectUsersReadInProject,
        Permission::FilesRead,
        Permission::VectorStoresRead,
    ]);
    let file = s.file(
        "people.csv",
        &format!(
            "email,projects\n\
             here@example.com,Default Project:viewer\n\
             there@example.com,{gateway}\n\
             nowhere@example.com,\n"
        ),
    );
    let ran = s.import_as(&key, &[&file, "--skip-invalid"]);
    ran.assert_status(0);
    let value = summary(&ran);
    assert_eq!(
        (&value["created"], &value["invalid"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(value["errors"][0]["line"], 3);
    let refused = value["errors"][0]["message"].as_str().unwrap();
    assert!(
        refused.starts_with(
            "You have insufficient permissions for this operation. Missing scopes: api.organization.projects.users.write. "
        ) && refused.ends_with(&format!(
            " 'api.project.users.write' held in project {gateway} would allow this request too."
        )),
        "{refused}"
    );
    assert!(s
        .users()
        .iter()
        .all(|u| u.email.as_str() != "there@example.com"));
}

#[test]
fn a_file_over_the_usual_body_limit_streams_to_the_server() {
    let s = Setup::new();
    let users_before = s.users().len();
    let padding = "x".repeat(60);
    let mut csv = String::from("email,name\n");
    let mut rows = 0;
    while csv.len() <= 1024 * 1024 + 4096 {
        rows += 1;
        csv.push_str(&format!("bulk{rows}@example.com,Bulk {rows} {padding}\n"));
    }
    let file = s.file("bulk.csv", &csv);
    let ran = s.import(&[&file]);
    ran.assert_status(0);
    assert_eq!(summary(&ran)["created"], rows, "{ran:#?}");
    assert!(s.users().len() > users_before);
    // All of them are there: a second run changes nothing.
    let again = s.import(&[&file]);
    again.assert_status(0);
    assert_eq!(summary(&again)["skipped"], rows, "{again:#?}");
}
