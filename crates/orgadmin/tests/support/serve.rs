//! `orgadmin serve`, the real binary, as a child process on a database the test keeps: for the
//! tests of what only a process shows (killed with SIGKILL, out of disk, two processes on one
//! database). Those tests include this file alone (`#[path = "support/serve.rs"] mod serve;`),
//! not the command-line harness of `support/mod.rs`, so each compiles only what it uses.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `orgadmin serve`; killed with SIGKILL (and reaped) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, without `/v1`.
    pub base: String,
}

impl Server {
    /// Start the binary on `database` with `key` as the first start's admin key and the test
    /// operator key (`orgadmin_testkit::operator_key`, in `ORGADMIN_OPERATOR_KEY`), and wait until
    /// it answers `/healthz`.
    pub async fn start(database: &str, key: &str) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_orgadmin"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", database])
            .env("ORGADMIN_ADMIN_KEY", key)
            .env("ORGADMIN_OPERATOR_KEY", orgadmin_testkit::operator_key())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the orgadmin binary starts");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = client
                .get(format!("{}/healthz", server.base))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return server;
            }
            if let Some(status) = server.child.try_wait().expect("polling the server") {
                panic!("the server exited while starting: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the server did not come up within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}
