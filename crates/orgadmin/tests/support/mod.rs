//! The harness of the command-line tests: a real server (the server tests' harness, on the
//! backend `ORGADMIN_TEST_BACKEND` selects) in a runtime of its own, the real `orgadmin` binary
//! run against it with a clean environment, and transcripts of those runs — command, exit status,
//! standard output, standard error — with IDs, times, secrets, ports and request IDs redacted, for
//! snapshots.

use std::process::{Command, Stdio};
use std::sync::Arc;

use orgadmin_core::clock::OffsetClock;
use serde_json::Value;

use orgadmin_testkit::{owner_key, TestServer};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_orgadmin");

/// A server running on a runtime of its own, so that tests can block on the CLI's processes
/// while the server keeps answering.
pub struct Harness {
    pub runtime: tokio::runtime::Runtime,
    server: Option<TestServer>,
}

impl Harness {
    /// A server on a fresh database of its own, bootstrapped with [`owner_key`].
    pub fn start() -> Self {
        let runtime = runtime();
        let server = runtime.block_on(TestServer::start());
        Self {
            runtime,
            server: Some(server),
        }
    }

    /// A server on `database_url`, which the test keeps (and may have filled already).
    pub fn start_on(runtime: tokio::runtime::Runtime, database_url: &str) -> Self {
        let server = runtime.block_on(TestServer::start_on(
            database_url,
            Some(&owner_key()),
            Arc::new(OffsetClock::default()),
        ));
        Self {
            runtime,
            server: Some(server),
        }
    }

    /// Stop the server: it lets go of its database (on SQLite, of the file's lease).
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.stop());
        }
    }

    /// Start the server again on `database_url` after [`stop`](Self::stop).
    pub fn restart_on(&mut self, database_url: &str) {
        self.stop();
        let server = self.runtime.block_on(TestServer::start_on(
            database_url,
            Some(&owner_key()),
            Arc::new(OffsetClock::default()),
        ));
        self.server = Some(server);
    }

    pub fn server(&self) -> &TestServer {
        self.server.as_ref().expect("the server is running")
    }

    /// The base URL the CLI is given (`…/v1`).
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server().base_url)
    }

    /// Run the CLI with the owner key.
    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_as(&owner_key(), args)
    }

    /// Run the CLI with another key.
    pub fn run_as(&self, key: &str, args: &[&str]) -> Ran {
        run(
            args,
            &[
                ("OPENAI_BASE_URL", &self.base_url()),
                ("OPENAI_ADMIN_KEY", key),
            ],
        )
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// One run of the binary.
#[derive(Debug, Clone)]
pub struct Ran {
    pub args: Vec<String>,
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Standard output as JSON (panics with the whole run when it is not).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// `id` of the JSON object on standard output.
    #[track_caller]
    pub fn id(&self) -> String {
        self.field("id")
    }

    #[track_caller]
    pub fn field(&self, name: &str) -> String {
        self.json()[name]
            .as_str()
            .unwrap_or_else(|| panic!("no string '{name}' in {self:#?}"))
            .to_owned()
    }

    #[track_caller]
    pub fn assert_status(&self, status: i32) -> &Self {
        assert_eq!(self.status, status, "exit status of {self:#?}");
        self
    }
}

/// Run the binary with exactly this environment (nothing inherited: no `OPENAI_*`, no
/// `NO_COLOR`, no terminal), standard input closed.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let output = Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {BIN}: {e}"));
    Ran {
        args: args.iter().map(|a| a.to_string()).collect(),
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs collected for one snapshot.
#[derive(Default)]
pub struct Transcript {
    text: String,
}

impl Transcript {
    pub fn new() -> Self {
        Self::default()
    }

    /// Run with the owner key and record the run.
    pub fn run(&mut self, harness: &Harness, args: &[&str]) -> Ran {
        let ran = harness.run(args);
        self.record(&ran);
        ran
    }

    /// Record a run made some other way.
    pub fn record(&mut self, ran: &Ran) {
        let line: Vec<String> = ran.args.iter().map(|a| shell_word(a)).collect();
        self.text
            .push_str(&format!("$ orgadmin {}\n", line.join(" ")));
        self.text
            .push_str(&format!("exit status: {}\n", ran.status));
        if !ran.stdout.is_empty() {
            self.text.push_str("--- stdout\n");
            self.text.push_str(&ran.stdout);
            if !ran.stdout.ends_with('\n') {
                self.text.push_str("⏎ (no final newline)\n");
            }
        }
        if !ran.stderr.is_empty() {
            self.text.push_str("--- stderr\n");
            self.text.push_str(&ran.stderr);
        }
        self.text.push('\n');
    }

    /// The transcript with volatile values replaced (see [`redact`]).
    pub fn redacted(&self) -> String {
        redact(&self.text)
    }
}

fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@=[]+,".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// ID prefixes; an ID is its prefix and 24 characters of lower-case base32.
const ID_PREFIXES: &[&str] = &[
    "user-",
    "proj_",
    "invite-",
    "role_",
    "group_",
    "key_",
    "audit_log-",
    "org-",
    "svc_acct_",
];
const ID_BODY: usize = 24;

/// The kinds of secret: admin keys, members' project keys, service accounts' keys.
const SECRET_KINDS: &[&str] = &["sk-admin", "sk-proj", "sk-svcacct"];

/// Replace what changes from run to run, keeping what a reader needs to follow the story:
/// - IDs become `user-000000000000000000000001`, `proj_000000000000000000000002`, … numbered by
///   first appearance per kind, so the same object keeps its name throughout (and tables their
///   alignment);
/// - request IDs become `<req>`; secrets (admin and project keys) `<secret>`, redacted ones
///   `sk-admin...<tail>`, `sk-proj...<tail>`, `sk-svcacct...<tail>`;
/// - Unix times (ten digits) become `<time>`; RFC 3339 times `YYYY-MM-DDTHH:MM:SSZ` (same
///   width, so tables stay aligned);
/// - the server's port becomes `<port>`.
pub fn redact(text: &str) -> String {
    let mut names: Vec<(String, String)> = Vec::new();
    let mut counters: Vec<(String, usize)> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < chars.len() {
        // IDs may follow `_` (`role-api-project-owner__api-project__proj_…`); other tokens
        // start at a word boundary.
        let after_alphanumeric = i > 0 && chars[i - 1].is_ascii_alphanumeric();
        let at_word_start = i == 0 || !is_word(chars[i - 1]);
        if !after_alphanumeric {
            for prefix in ID_PREFIXES {
                if let Some(end) = id_at(&chars, i, prefix) {
                    let id: String = chars[i..end].iter().collect();
                    let name = match names.iter().find(|(known, _)| *known == id) {
                        Some((_, name)) => name.clone(),
                        None => {
                            let n = match counters.iter_mut().find(|(p, _)| p == prefix) {
                                Some((_, n)) => {
                                    *n += 1;
                                    *n
                                }
                                None => {
                                    counters.push((prefix.to_string(), 1));
                                    1
                                }
                            };
                            let name = format!("{prefix}{n:0>ID_BODY$}");
                            names.push((id, name.clone()));
                            name
                        }
                    };
                    out.push_str(&name);
                    i = end;
                    continue 'scan;
                }
            }
        }
        if at_word_start {
            if let Some(end) = token_at(&chars, i, "req_", |c| c.is_ascii_alphanumeric()) {
                out.push_str("<req>");
                i = end;
                continue;
            }
            for kind in SECRET_KINDS {
                if let Some(end) = token_at(&chars, i, &format!("{kind}-"), |c| {
                    c.is_ascii_alphanumeric() || c == '-' || c == '_'
                }) {
                    out.push_str("<secret>");
                    i = end;
                    continue 'scan;
                }
                if let Some(end) = token_at(&chars, i, &format!("{kind}..."), |c| {
                    c.is_ascii_alphanumeric()
                }) {
                    out.push_str(&format!("{kind}...<tail>"));
                    i = end;
                    continue 'scan;
                }
            }
            if let Some(end) = rfc3339_at(&chars, i) {
                out.push_str("YYYY-MM-DDTHH:MM:SSZ");
                i = end;
                continue;
            }
            let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 10 && chars.get(i + 10).is_none_or(|c| !is_word(*c)) {
                out.push_str("<time>");
                i += 10;
                continue;
            }
        }
        if text_at(&chars, i, "127.0.0.1:") {
            out.push_str("127.0.0.1:");
            i += "127.0.0.1:".len();
            let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 {
                out.push_str("<port>");
                i += digits;
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn text_at(chars: &[char], i: usize, text: &str) -> bool {
    let n = text.chars().count();
    i + n <= chars.len() && chars[i..i + n].iter().copied().eq(text.chars())
}

fn id_at(chars: &[char], i: usize, prefix: &str) -> Option<usize> {
    if !text_at(chars, i, prefix) {
        return None;
    }
    let start = i + prefix.len();
    let body = chars[start..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        .count();
    (body == ID_BODY).then_some(start + ID_BODY)
}

fn token_at(chars: &[char], i: usize, prefix: &str, body: impl Fn(char) -> bool) -> Option<usize> {
    if !text_at(chars, i, prefix) {
        return None;
    }
    let start = i + prefix.chars().count();
    let n = chars[start..].iter().take_while(|c| body(**c)).count();
    (n > 0).then_some(start + n)
}

/// `YYYY-MM-DDTHH:MM:SSZ`
fn rfc3339_at(chars: &[char], i: usize) -> Option<usize> {
    const SHAPE: &str = "dddd-dd-ddTdd:dd:ddZ";
    if i + SHAPE.len() > chars.len() {
        return None;
    }
    let fits = SHAPE.chars().zip(&chars[i..i + SHAPE.len()]).all(|(s, c)| {
        if s == 'd' {
            c.is_ascii_digit()
        } else {
            s == *c
        }
    });
    fits.then_some(i + SHAPE.len())
}

#[test]
fn redaction_names_each_id_once_and_hides_times_and_secrets() {
    let text = "user-01m86enhd360dbtqkpy2bbds user-01m86enp8c7zq2ccwxt98095 user-01m86enhd360dbtqkpy2bbds \
                req_kv36y75h585ntq00zq7rrb45 1795513042 2026-11-24T09:37:22Z http://127.0.0.1:41234/v1 \
                sk-admin-abcdefghijklmnopqrstuvwxyz0123456789ABCD sk-admin...wxyz role-api-organization-owner user-x \
                role-api-project-owner__api-project__proj_01m86f0czk380hrj193a5z42 \
                sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL sk-proj...IJKL sk-svcacct-abcdefXYZ sk-svcacct...wxyz";
    assert_eq!(
        redact(text),
        "user-000000000000000000000001 user-000000000000000000000002 user-000000000000000000000001 <req> <time> YYYY-MM-DDTHH:MM:SSZ http://127.0.0.1:<port>/v1 \
         <secret> sk-admin...<tail> role-api-organization-owner user-x \
         role-api-project-owner__api-project__proj_000000000000000000000001 \
         <secret> sk-proj...<tail> <secret> sk-svcacct...<tail>"
    );
}
