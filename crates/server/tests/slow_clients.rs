//! Slow and silent clients cannot exhaust the server (slowloris): a request head must arrive
//! within the header-read timeout (which also closes a kept-alive connection left silent), and a
//! body within `BODY_READ_TIMEOUT` of its head, while every other client is served as usual.

use std::sync::Arc;
use std::time::{Duration, Instant};

use orgadmin_core::clock::OffsetClock;
use orgadmin_server::{Application, ServeConfig, BODY_READ_TIMEOUT};
use orgadmin_testkit::{owner_key, TestDatabase};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEAD_TIMEOUT: Duration = Duration::from_millis(800);

/// A server whose clients have `HEAD_TIMEOUT` to send a request head.
async fn server(database: &TestDatabase) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mut config = ServeConfig::new("127.0.0.1:0", database.url());
    config.admin_key = Some(owner_key());
    config.clock = Arc::new(OffsetClock::default());
    config.header_read_timeout = HEAD_TIMEOUT;
    let app = Application::build(config).await.expect("the server builds");
    let address = format!("127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Read until the server closes the connection (or `limit` passes); what it sent.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_trickled_head_is_cut_off_while_other_clients_are_served() {
    let database = TestDatabase::ephemeral().await;
    let (address, _stop) = server(&database).await;
    // Many clients each send part of a head, then nothing more.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /v1/organization/users HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }

    // Meanwhile an ordinary client is answered at once.
    let started = Instant::now();
    let answer = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));

    // Every slow client is disconnected once its time is up, without an answer.
    let started = Instant::now();
    for stream in &mut slow {
        let sent = read_to_close(stream, HEAD_TIMEOUT * 5)
            .await
            .expect("the server closes a connection whose head does not arrive in time");
        assert!(!sent.contains("200 OK"), "{sent}");
    }
    assert!(started.elapsed() < HEAD_TIMEOUT * 5);
}

#[tokio::test]
async fn a_silent_kept_alive_connection_is_closed() {
    let database = TestDatabase::ephemeral().await;
    let (address, _stop) = server(&database).await;
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    // The connection is kept alive for a next request, but not forever.
    let started = Instant::now();
    read_to_close(&mut stream, HEAD_TIMEOUT * 5)
        .await
        .expect("an idle connection is closed");
    assert!(started.elapsed() >= HEAD_TIMEOUT / 2);
}

#[tokio::test]
async fn a_trickled_body_is_answered_408_in_the_envelope() {
    let database = TestDatabase::ephemeral().await;
    let (address, _stop) = server(&database).await;
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/organization/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":",
        owner_key()
    );
    stream.write_all(head.as_bytes()).await.unwrap();

    let started = Instant::now();
    let answer = read_to_close(&mut stream, BODY_READ_TIMEOUT + Duration::from_secs(5))
        .await
        .expect("the server answers and closes");
    let waited = started.elapsed();

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(
        waited >= BODY_READ_TIMEOUT - Duration::from_secs(1),
        "{waited:?}"
    );
    // Nothing was created.
    let projects: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{address}/v1/organization/projects"))
        .bearer_auth(owner_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(projects["data"].as_array().unwrap().len(), 1, "{projects}");
}
