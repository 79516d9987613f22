//! The harness of the HTTP test suites: a real orgadmin server started in-process on
//! `127.0.0.1:0` with a fresh database and a movable clock, and an HTTP client that talks to it
//! over the socket. A library rather than a module each suite includes, so it compiles once and
//! every suite links it.
//!
//! The database is on the backend `ORGADMIN_TEST_BACKEND` selects (`sqlite`, the default, or
//! `postgres`); see [`database`]. [`load`] and [`paging`] hold the counted clients and the race
//! rounds of the concurrency and replica suites.

pub mod database;
pub mod load;
pub mod paging;

use std::sync::Arc;
use std::time::Duration;

use orgadmin_core::clock::OffsetClock;
use orgadmin_core::store::Bootstrapped;
use orgadmin_server::{Application, ServeConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use database::TestDatabase;

/// The operator-chosen key (`ORGADMIN_ADMIN_KEY`) every test server starts with.
pub fn owner_key() -> String {
    format!("sk-admin-{}", "a".repeat(40))
}

/// The operator key (`--operator-key`) every test server starts with.
pub fn operator_key() -> String {
    format!("sk-operator-{}", "o".repeat(40))
}

/// The email of the owner the first start creates.
pub const OWNER_EMAIL: &str = "owner@example.com";

/// Which 5xx answers a request may get without failing the test.
#[derive(Clone, Copy)]
enum ServerErrors {
    /// None: no input may produce a 5xx.
    Refused,
    /// A storage outage's 503 `service_unavailable`.
    Outage,
    /// Any: an operator's fault was injected.
    Injected,
}

/// One answer: status and JSON body (`null` when the body is empty).
pub type Answer = (StatusCode, Value);

/// An application serving on a task of its own until it is stopped.
pub struct Serving {
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Serving {
    pub fn spawn(app: Application) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .expect("the server runs");
        });
        Self {
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Shut down gracefully and wait (at most 5 s, then abort) until the server let go of its
    /// connections and its database.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

pub struct TestServer {
    pub base_url: String,
    /// `http://ADDR` of the metrics listener, when `/metrics` has one of its own
    /// (`ServeConfig::metrics`).
    pub metrics_url: Option<String>,
    /// The key requests are sent with unless a test names another.
    pub owner_key: String,
    pub clock: Arc<OffsetClock>,
    /// What the first start created; `None` when this start found the database initialized.
    pub bootstrapped: Option<Bootstrapped>,
    client: Option<reqwest::Client>,
    /// The server's own store ([`store`](Self::store)); let go of when the server stops.
    store: Option<Arc<dyn orgadmin_core::Store>>,
    serving: Serving,
    /// The database of a server made by [`start`](Self::start), dropped after the server
    /// (declared last, so dropped last).
    database: Option<TestDatabase>,
}

impl TestServer {
    /// A server on a fresh database of its own (in memory on SQLite), dropped with the server.
    pub async fn start() -> Self {
        Self::start_owning(TestDatabase::ephemeral().await).await
    }

    /// A server like [`start`](Self::start), on a database that the test can also open through
    /// the store (a file on SQLite), for [`key_for`](Self::key_for).
    pub async fn start_persistent() -> Self {
        Self::start_owning(TestDatabase::persistent().await).await
    }

    /// A server on `database` with the owner key, which it drops when it stops.
    async fn start_owning(database: TestDatabase) -> Self {
        let mut server = Self::start_on(
            database.url(),
            Some(&owner_key()),
            Arc::new(OffsetClock::default()),
        )
        .await;
        server.database = Some(database);
        server
    }

    /// The URL of the database of a server made by [`start_persistent`](Self::start_persistent),
    /// for opening it through the store beside the server.
    pub fn database_url(&self) -> &str {
        self.database
            .as_ref()
            .map(TestDatabase::url)
            .filter(|url| *url != "sqlite::memory:")
            .expect("a server made by start_persistent")
    }

    /// A new unscoped admin key owned by the member `user`, made through the store as the owner
    /// key makes keys. Keys made over HTTP belong to the user whose key makes them, so this is
    /// how a test gets a key of another member.
    pub async fn key_for(&self, user: &str) -> String {
        use orgadmin_core::model::NewAdminKey;
        use orgadmin_core::secret::{generate_admin_key, hash_secret, redact};
        let store = self.store();
        let mut actor = store
            .authenticate(&hash_secret(&self.owner_key))
            .await
            .expect("the database answers")
            .expect("the owner key authenticates");
        actor.user_id = orgadmin_core::id::UserId::from_raw(user);
        let secret = generate_admin_key();
        store
            .create_admin_key(
                &actor,
                NewAdminKey {
                    name: Some(format!("Key of {user}")),
                    secret_hash: hash_secret(&secret),
                    redacted_value: redact(&secret),
                    expires_in_seconds: None,
                    scopes: None,
                },
            )
            .await
            .expect("the key is created");
        secret
    }

    /// A server on `database_url` (usually a [`TestDatabase::persistent`] the test keeps), with
    /// `admin_key` as `ORGADMIN_ADMIN_KEY` (if any) and `clock`.
    pub async fn start_on(
        database_url: &str,
        admin_key: Option<&str>,
        clock: Arc<OffsetClock>,
    ) -> Self {
        Self::start_on_with(database_url, admin_key, clock, |_| {}).await
    }

    /// A server like [`start`](Self::start) (fresh database, owner key), with `configure`
    /// applied to its `ServeConfig` (for example a rate limit).
    pub async fn start_with(configure: impl FnOnce(&mut ServeConfig)) -> Self {
        let database = TestDatabase::ephemeral().await;
        let mut server = Self::start_on_with(
            database.url(),
            Some(&owner_key()),
            Arc::new(OffsetClock::default()),
            configure,
        )
        .await;
        server.database = Some(database);
        server
    }

    /// [`start_on`](Self::start_on), with `configure` applied to the `ServeConfig` last.
    pub async fn start_on_with(
        database_url: &str,
        admin_key: Option<&str>,
        clock: Arc<OffsetClock>,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> Self {
        let mut config = ServeConfig::new("127.0.0.1:0", database_url);
        config.admin_key = admin_key.map(str::to_owned);
        config.clock = clock.clone();
        config.operator_key = Some(operator_key());
        configure(&mut config);
        let app = Application::build(config)
            .await
            .expect("the application builds");
        let port = app.port();
        let metrics_url = app.metrics_addr().map(|a| format!("http://{a}"));
        let initial = app.initial_key().cloned();
        let store = app.store();
        let serving = Serving::spawn(app);
        let owner_key = admin_key
            .map(str::to_owned)
            .or_else(|| initial.as_ref().map(|k| k.secret.clone()))
            .unwrap_or_default();
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            metrics_url,
            owner_key,
            clock,
            bootstrapped: initial.map(|k| k.created),
            client: Some(reqwest::Client::new()),
            store: Some(store),
            serving,
            database: None,
        }
    }

    /// Stop the server gracefully and wait until it has let go of its database.
    pub async fn stop(mut self) {
        // Dropping the client closes its kept-alive connections, so the graceful shutdown does
        // not wait for them.
        self.client.take();
        self.store.take();
        self.serving.stop().await;
    }

    /// The server's own store: what a test uses to work on the database beside the server
    /// (keys of other members, rows no route makes). A SQLite file has one store at a time
    /// (its lease), so a second `orgadmin_store::open` of it is refused while the server runs.
    pub fn store(&self) -> Arc<dyn orgadmin_core::Store> {
        self.store.clone().expect("a running server has its store")
    }

    fn created(&self) -> &Bootstrapped {
        self.bootstrapped
            .as_ref()
            .expect("this server start bootstrapped the database")
    }

    pub fn org_id(&self) -> String {
        self.created().organization.id.to_string()
    }

    pub fn owner_id(&self) -> String {
        self.created().owner.user.id.to_string()
    }

    pub fn owner_key_id(&self) -> String {
        self.created().admin_key.id.to_string()
    }

    pub fn default_project_id(&self) -> String {
        self.created().default_project.id.to_string()
    }

    /// A raw HTTP/1.1 exchange: the request head, then `body` sent in chunks (1 MiB each) by a
    /// task of its own while the answer is read; the answer's status and JSON body. For bodies
    /// declared larger than they are, or sent with no length, which `reqwest` does not make.
    pub async fn raw_exchange(&self, head: String, body: Vec<u8>) -> (u16, Value) {
        let address = self.base_url.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        writer.write_all(head.as_bytes()).await.unwrap();
        let sending = tokio::spawn(async move {
            for chunk in body.chunks(1 << 20) {
                let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                if writer.write_all(&framed).await.is_err() {
                    return;
                }
            }
            let _ = writer.write_all(b"0\r\n\r\n").await;
            let _ = writer.flush().await;
            // Keep the write half open until the answer is read.
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        });
        let mut answer = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = reader.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                });
                if length.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
        sending.abort();
        let text = String::from_utf8(answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, serde_json::from_str(body).unwrap())
    }

    /// Send a request with `authorization` as the raw `Authorization` header (none if `None`).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        self.send_checked(method, path, authorization, body, ServerErrors::Refused)
            .await
    }

    /// [`post`](Self::post) while the storage may be failing: a 503 `service_unavailable` is an
    /// answer too (any other 5xx still fails the test).
    pub async fn post_during_outage(&self, path: &str, body: Value) -> Answer {
        let authorization = format!("Bearer {}", self.owner_key);
        self.send_checked(
            Method::POST,
            path,
            Some(&authorization),
            Some(&body),
            ServerErrors::Outage,
        )
        .await
    }

    /// A request with the owner key to a route an operator's fault may answer with a 5xx
    /// (`/_orgadmin/…/faults`): any answer is one.
    pub async fn send_faulted(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let authorization = format!("Bearer {}", self.owner_key);
        self.send_checked(
            method,
            path,
            Some(&authorization),
            body,
            ServerErrors::Injected,
        )
        .await
    }

    /// [`get`](Self::get) while the storage may be failing (see [`post_during_outage`]).
    pub async fn get_during_outage(&self, path: &str) -> Answer {
        let authorization = format!("Bearer {}", self.owner_key);
        self.send_checked(
            Method::GET,
            path,
            Some(&authorization),
            None,
            ServerErrors::Outage,
        )
        .await
    }

    async fn send_checked(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&Value>,
        server_errors: ServerErrors,
    ) -> Answer {
        let client = self.client.as_ref().expect("the server is running");
        let mut request = client.request(method.clone(), format!("{}{path}", self.base_url));
        if let Some(header) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{method} {path}: the body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        let outage = status == StatusCode::SERVICE_UNAVAILABLE
            && value["error"]["code"] == "service_unavailable";
        let expected = match server_errors {
            ServerErrors::Refused => false,
            ServerErrors::Outage => outage,
            ServerErrors::Injected => true,
        };
        assert!(
            !status.is_server_error() || expected,
            "{method} {path} answered {status} (no input may produce a 5xx): {value}"
        );
        (status, value)
    }

    async fn with_key(
        &self,
        method: Method,
        key: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        self.send(method, path, Some(&format!("Bearer {key}")), body)
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.get_as(&self.owner_key, path).await
    }

    /// A request to the operator API (`/_orgadmin/…`) with the server's operator key.
    pub async fn operator(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.with_key(method, &operator_key(), path, body.as_ref())
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.post_as(&self.owner_key, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.delete_as(&self.owner_key, path).await
    }

    pub async fn get_as(&self, key: &str, path: &str) -> Answer {
        self.with_key(Method::GET, key, path, None).await
    }

    pub async fn post_as(&self, key: &str, path: &str, body: Value) -> Answer {
        self.with_key(Method::POST, key, path, Some(&body)).await
    }

    pub async fn delete_as(&self, key: &str, path: &str) -> Answer {
        self.with_key(Method::DELETE, key, path, None).await
    }

    /// Make `email` a member with the organization `role`, in no project: invite, then accept.
    /// Returns the new user's ID.
    pub async fn add_member(&self, email: &str, role: &str) -> String {
        let invite = ok(self
            .post(
                "/v1/organization/invites",
                json!({"email": email, "role": role, "projects": []}),
            )
            .await);
        let name = email.split('@').next().unwrap_or(email);
        let user = ok(self
            .post(
                &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
                json!({"name": name}),
            )
            .await);
        assert_eq!(user["object"], "organization.user", "{user}");
        assert_eq!(user["role"], role, "{user}");
        str_of(&user["id"])
    }

    pub async fn create_project(&self, name: &str) -> String {
        let project = ok(self
            .post("/v1/organization/projects", json!({"name": name}))
            .await);
        str_of(&project["id"])
    }

    pub async fn add_project_user(&self, project: &str, user: &str, role: &str) {
        let member = ok(self
            .post(
                &format!("/v1/organization/projects/{project}/users"),
                json!({"user_id": user, "role": role}),
            )
            .await);
        assert_eq!(member["role"], role, "{member}");
    }

    /// A custom organization role; returns its ID.
    pub async fn create_org_role(&self, name: &str, permissions: &[&str]) -> String {
        let role = ok(self
            .post(
                "/v1/organization/roles",
                json!({"role_name": name, "permissions": permissions}),
            )
            .await);
        str_of(&role["id"])
    }

    /// A custom role of `project`; returns its ID.
    pub async fn create_project_role(
        &self,
        project: &str,
        name: &str,
        permissions: &[&str],
    ) -> String {
        let role = ok(self
            .post(
                &format!("/v1/projects/{project}/roles"),
                json!({"role_name": name, "permissions": permissions}),
            )
            .await);
        str_of(&role["id"])
    }

    /// A new admin key made with the owner key (so owned by the bootstrap owner): `(id, secret)`.
    pub async fn create_key(&self, body: Value) -> (String, String) {
        let key = ok(self.post("/v1/organization/admin_api_keys", body).await);
        (str_of(&key["id"]), str_of(&key["value"]))
    }

    /// The audit log events matching `query` (a raw query string), read with the owner key.
    pub async fn audit(&self, query: &str) -> Vec<Value> {
        let list = ok(self
            .get(&format!("/v1/organization/audit_logs?{query}"))
            .await);
        list["data"].as_array().cloned().unwrap_or_default()
    }
}

/// The body of a 200 answer.
#[track_caller]
pub fn ok(answer: Answer) -> Value {
    let (status, body) = answer;
    assert_eq!(status, StatusCode::OK, "expected 200, got {status}: {body}");
    body
}

/// An error answer in the OpenAI envelope with exactly this status, `code` and `param`.
#[track_caller]
pub fn assert_error(answer: &Answer, status: StatusCode, code: &str, param: Option<&str>) {
    let (got, body) = answer;
    assert_eq!(*got, status, "status; body: {body}");
    let error = &body["error"];
    assert_eq!(error["code"], json!(code), "error.code; body: {body}");
    assert_eq!(error["param"], json!(param), "error.param; body: {body}");
    assert_eq!(
        error["type"], "invalid_request_error",
        "error.type; body: {body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error.message; body: {body}"
    );
}

/// [`assert_error`], and the message is exactly `message`, with every generated ID in it written
/// as its prefix and `…` (`user-…`, `proj_…`): a changed message is a visible diff.
#[track_caller]
pub fn assert_error_says(
    answer: &Answer,
    status: StatusCode,
    code: &str,
    param: Option<&str>,
    message: &str,
) {
    assert_error(answer, status, code, param);
    let (_, body) = answer;
    let said = body["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(without_ids(said), message, "error.message; body: {body}");
}

/// How the real API's refusal of a missing permission begins; the missing scopes follow.
pub const INSUFFICIENT: &str =
    "You have insufficient permissions for this operation. Missing scopes: ";
/// The real API's sentence after the missing scopes.
pub const INSUFFICIENT_CHECK: &str = "Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.";

/// The refusal of a key that lacks permissions, as the real API answers it: 401,
/// `invalid_request_error`, `code` and `param` null, and the real API's message naming exactly
/// `missing` (the scopes, joined by `, `). Returns what the message says after the real API's
/// words (our detail, IDs written as [`without_ids`] writes them), empty when it says nothing more.
#[track_caller]
pub fn assert_insufficient(answer: &Answer, missing: &str) -> String {
    match insufficient(answer, missing) {
        Ok(detail) => detail,
        Err(wrong) => panic!("{wrong}"),
    }
}

/// [`assert_insufficient`]'s check, saying what is wrong rather than panicking.
pub fn insufficient(answer: &Answer, missing: &str) -> Result<String, String> {
    let (got, body) = answer;
    let error = &body["error"];
    let wrong = |what: &str| Err(format!("{what} of a missing permission; body: {body}"));
    if *got != StatusCode::UNAUTHORIZED {
        return wrong(&format!("status {got}, not 401 Unauthorized,"));
    }
    if error["type"] != "invalid_request_error" || !error["code"].is_null() {
        return wrong("not type invalid_request_error with code null, the refusal");
    }
    if !error["param"].is_null() {
        return wrong("a param in the refusal");
    }
    let said = without_ids(error["message"].as_str().unwrap_or_default());
    let real = format!("{INSUFFICIENT}{missing}. {INSUFFICIENT_CHECK}");
    let Some(rest) = said.strip_prefix(&real) else {
        return wrong(&format!("not the message {real:?} (then our detail)"));
    };
    if rest.is_empty() {
        return Ok(String::new());
    }
    match rest.strip_prefix(' ') {
        Some(detail) => Ok(detail.to_owned()),
        None => wrong("no space before our detail in the message"),
    }
}

/// The scopes a refusal for missing permissions names (401, `invalid_request_error`, code null,
/// the real API's message), or `None` when `body` (answered with `status`) is not one. For races
/// where what is missing depends on the interleaving.
pub fn missing_scopes(status: StatusCode, body: &Value) -> Option<Vec<String>> {
    let error = &body["error"];
    if status != StatusCode::UNAUTHORIZED
        || error["type"] != "invalid_request_error"
        || !error["code"].is_null()
    {
        return None;
    }
    let (names, check) = error["message"]
        .as_str()?
        .strip_prefix(INSUFFICIENT)?
        .split_once(". ")?;
    check
        .starts_with(INSUFFICIENT_CHECK)
        .then(|| names.split(", ").map(str::to_owned).collect())
}

/// The prefixes of the IDs the server generates (`orgadmin_core::id`).
const ID_PREFIXES: [&str; 9] = [
    "org-",
    "user-",
    "proj_",
    "invite-",
    "role_",
    "key_",
    "audit_log-",
    "group_",
    "svc_acct_",
];

/// `text` with every generated ID (a prefix, then 24 characters of the ID alphabet) written as its
/// prefix and `…`.
pub fn without_ids(text: &str) -> String {
    const BODY: usize = 24;
    let is_id_char = |c: char| c.is_ascii_digit() || c.is_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while let Some(c) = rest.chars().next() {
        for prefix in ID_PREFIXES {
            if let Some(after) = rest.strip_prefix(prefix) {
                let body: String = after.chars().take(BODY).collect();
                let ends = after[body.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !is_id_char(c));
                if body.chars().count() == BODY && body.chars().all(is_id_char) && ends {
                    out.push_str(prefix);
                    out.push('…');
                    rest = &after[body.len()..];
                    continue 'scan;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn generated_ids_are_left_out_of_messages() {
    assert_eq!(
        without_ids("No user found with id 'user-01j9zq0c4m8k7w2x3y4z5a6b' in proj_01j9zq0c4m8k7w2x3y4z5a6b."),
        "No user found with id 'user-…' in proj_…."
    );
    assert_eq!(
        without_ids("'role-api-project-owner' and svc_acct_doesnotexist stay"),
        "'role-api-project-owner' and svc_acct_doesnotexist stay"
    );
}

/// A JSON string as an owned `String` (panics on anything else).
#[track_caller]
pub fn str_of(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

/// The `id` of every object in a list answer's `data`.
#[track_caller]
pub fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|x| str_of(&x["id"]))
        .collect()
}
