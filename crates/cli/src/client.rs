//! The HTTP client: one Admin API request at a time, bodies and answers as `orgadmin_api`
//! types, failures sorted into [`CliError`] kinds. Requests the server explicitly asks to repeat
//! (429 with `Retry-After`, 503) and connections that could not be opened are retried a few
//! times; nothing else is, so a create is never sent twice.

use std::io::Write;
use std::time::{Duration, Instant};

use orgadmin_api::ErrorBody;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiFailure, CliError};

/// Longest wait a `Retry-After` may impose before a retry; longer ones are reported instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// First pause before a retry without `Retry-After`; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub admin_key: String,
    pub timeout: Duration,
    pub max_retries: u32,
    /// Log each request and its answer on standard error.
    pub verbose: bool,
}

pub struct Client {
    http: reqwest::Client,
    base: Url,
    authorization: String,
    max_retries: u32,
    verbose: bool,
    timeout: Duration,
}

/// A query string as ordered pairs; array parameters repeat their `name[]`, as the SDKs send.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, name: &str, value: impl ToString) -> &mut Self {
        self.0.push((name.to_owned(), value.to_string()));
        self
    }

    pub fn push_opt(&mut self, name: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(value) = value {
            self.push(name, value);
        }
        self
    }

    /// `name[]=a&name[]=b`.
    pub fn push_all(&mut self, name: &str, values: &[String]) -> &mut Self {
        let key = format!("{name}[]");
        for value in values {
            self.push(&key, value);
        }
        self
    }
}

/// Check a base URL offline: `http(s)://host[:port][/path]`.
pub fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("'{raw}' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "'{raw}' is not an http:// or https:// URL (for example http://127.0.0.1:8080/v1)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{raw}' names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("'{raw}' must not carry a query or a fragment"));
    }
    Ok(url)
}

/// The server's root URL from the Admin API's base URL: without its last segment when that is
/// `v1` (`http://h:8080/v1` → `http://h:8080/`), as it is otherwise. The operator API
/// (`/_orgadmin/…`) lives there, beside `/v1`.
pub fn server_root(base_url: &str) -> Result<String, String> {
    let mut url = parse_base_url(base_url)?;
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if segments.last().is_some_and(|s| s == "v1") {
        url.set_path(&segments[..segments.len() - 1].join("/"));
    }
    Ok(url.to_string())
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, CliError> {
        let base = parse_base_url(&config.base_url)
            .map_err(|e| CliError::usage("admin", format!("invalid --base-url: {e}")))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("orgadmin-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .timeout(config.timeout)
            .build()
            .map_err(|e| CliError::local(format!("setting up the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            authorization: format!("Bearer {}", config.admin_key),
            max_retries: config.max_retries,
            verbose: config.verbose,
            timeout: config.timeout,
        })
    }

    /// The URL of an API path: the base URL and the segments, each percent-encoded (an ID
    /// holding `/` or `?` stays one segment).
    pub fn url(&self, segments: &[&str], query: &Query) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        if !query.0.is_empty() {
            url.query_pairs_mut().extend_pairs(query.0.iter());
        }
        url
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &Query,
    ) -> Result<T, CliError> {
        self.send(Method::GET, self.url(segments, query), None)
            .await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<T, CliError> {
        let mut body = serde_json::to_value(body)
            .map_err(|e| CliError::local(format!("encoding the request body: {e}")))?;
        drop_nulls(&mut body);
        self.send(Method::POST, self.url(segments, &Query::new()), Some(body))
            .await
    }

    /// Send a whole document as it is, its `null`s included (the operator API's snapshots,
    /// whose rows have every column): [`post`](Self::post) drops `null` fields, which mean
    /// "not given" in the Admin API's bodies.
    pub async fn send_document<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Value,
    ) -> Result<T, CliError> {
        self.send(method, self.url(segments, &Query::new()), Some(body))
            .await
    }

    pub async fn delete<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T, CliError> {
        self.send(Method::DELETE, self.url(segments, &Query::new()), None)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
    ) -> Result<T, CliError> {
        let request_line = format!("{method} {url}");
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::AUTHORIZATION, &self.authorization)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request.json(body);
            }
            self.log(format_args!("> {request_line}"));
            let started = Instant::now();
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) if e.is_connect() && attempt < self.max_retries => {
                    // Nothing reached the server: safe to try again, whatever the method.
                    self.log(format_args!("< {}", describe_transport(&e, self.timeout)));
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(self.transport_error(&e, &request_line)),
            };
            let status = response.status();
            let request_id = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            self.log(format_args!(
                "< {status} ({} ms{})",
                started.elapsed().as_millis(),
                request_id
                    .as_deref()
                    .map(|id| format!(", {id}"))
                    .unwrap_or_default()
            ));
            let retryable = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            if retryable && attempt < self.max_retries {
                // The server refused before doing anything (rate limit) or could not commit
                // (storage outage): repeating the request is safe.
                let pause = match retry_after {
                    Some(s) if Duration::from_secs(s) <= MAX_RETRY_AFTER => Duration::from_secs(s),
                    Some(_) => {
                        return Err(self
                            .api_error(status, response, request_id, &request_line, retry_after)
                            .await)
                    }
                    None => backoff(attempt),
                };
                tokio::time::sleep(pause).await;
                attempt += 1;
                continue;
            }
            if !status.is_success() {
                return Err(self
                    .api_error(status, response, request_id, &request_line, retry_after)
                    .await);
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no content type")
                .to_owned();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| self.transport_error(&e, &request_line))?;
            return decode(&bytes, &content_type, &request_line, request_id);
        }
    }

    async fn api_error(
        &self,
        status: StatusCode,
        response: reqwest::Response,
        request_id: Option<String>,
        request_line: &str,
        retry_after: Option<u64>,
    ) -> CliError {
        let bytes = response.bytes().await.unwrap_or_default();
        api_failure(status, &bytes, request_id, request_line, retry_after)
    }

    /// POST a streamed body (`import users`) once: it is read as it is sent, so it cannot be
    /// sent again, and is never retried. A success is `Ok(Ok(T))`; a 400 whose body reads as
    /// `R` (a refusal carrying more than the envelope) is `Ok(Err(R))`; any other answer is the
    /// usual [`CliError`].
    pub async fn post_stream<T: DeserializeOwned, R: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &Query,
        content_type: &str,
        body: reqwest::Body,
        timeout: Duration,
    ) -> Result<Result<T, R>, CliError> {
        let url = self.url(segments, query);
        let request_line = format!("POST {url}");
        self.log(format_args!("> {request_line} ({content_type})"));
        let started = Instant::now();
        let response = self
            .http
            .post(url)
            .timeout(timeout)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(&e, &request_line))?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_owned();
        self.log(format_args!(
            "< {status} ({} ms{})",
            started.elapsed().as_millis(),
            request_id
                .as_deref()
                .map(|id| format!(", {id}"))
                .unwrap_or_default()
        ));
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e, &request_line))?;
        if status.is_success() {
            return decode(&bytes, &content_type, &request_line, request_id).map(Ok);
        }
        if status == StatusCode::BAD_REQUEST {
            if let Ok(refusal) = serde_json::from_slice::<R>(&bytes) {
                return Ok(Err(refusal));
            }
        }
        Err(api_failure(status, &bytes, request_id, &request_line, None))
    }
}

/// The error of an answer with an error status.
fn api_failure(
    status: StatusCode,
    bytes: &[u8],
    request_id: Option<String>,
    request_line: &str,
    retry_after: Option<u64>,
) -> CliError {
    let error = serde_json::from_slice::<ErrorBody>(bytes)
        .ok()
        .map(|b| b.error);
    let body = if error.is_none() && !bytes.is_empty() {
        let text = String::from_utf8_lossy(bytes);
        Some(orgadmin_core::text::clip_to(text.trim(), 200))
    } else {
        None
    };
    CliError::Api(Box::new(ApiFailure {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_owned(),
        error,
        body,
        request_id,
        request: request_line.to_owned(),
        retry_after: retry_after.filter(|_| {
            matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            )
        }),
    }))
}

impl Client {
    fn transport_error(&self, e: &reqwest::Error, request_line: &str) -> CliError {
        let what = describe_transport(e, self.timeout);
        let server = server_of(&self.base);
        if e.is_connect() {
            CliError::Connection {
                message: format!("could not connect to {server}: {what}"),
                hint: Some(
                    "is the server running? Start it with 'orgadmin serve', or point --base-url \
                     (OPENAI_BASE_URL) at it"
                        .into(),
                ),
            }
        } else if e.is_timeout() {
            CliError::Connection {
                message: format!("{request_line}: {what}"),
                hint: Some("raise --timeout (ORGADMIN_TIMEOUT) if the server is just slow".into()),
            }
        } else {
            CliError::Connection {
                message: format!("{request_line}: the connection to {server} failed: {what}"),
                hint: None,
            }
        }
    }

    fn log(&self, line: std::fmt::Arguments<'_>) {
        if self.verbose {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

/// A successful answer as `T`, or why it is not what the Admin API sends.
fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    content_type: &str,
    request_line: &str,
    request_id: Option<String>,
) -> Result<T, CliError> {
    let hint = "is --base-url the Admin API's base URL (ending in /v1)?";
    let value: Value = serde_json::from_slice(bytes).map_err(|_| {
        let text = String::from_utf8_lossy(bytes);
        let excerpt = orgadmin_core::text::clip_to(text.trim(), 80);
        CliError::Response {
            message: format!(
                "the answer to {request_line} is not JSON ({content_type}: \"{excerpt}\"); {hint}"
            ),
            request_id: request_id.clone(),
        }
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let place = if at == "." || at.is_empty() {
            String::new()
        } else {
            format!(" at '{at}'")
        };
        CliError::Response {
            message: format!(
                "the answer to {request_line} is not the object the Admin API sends{place}: {}; {hint}",
                e.into_inner()
            ),
            request_id,
        }
    })
}

/// `scheme://host:port` of the base URL.
fn server_of(url: &Url) -> String {
    match url.port_or_known_default() {
        Some(port) => format!(
            "{}://{}:{port}",
            url.scheme(),
            url.host_str().unwrap_or_default()
        ),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default()),
    }
}

/// The innermost cause of a transport failure, in words.
fn describe_transport(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut innermost = e.to_string();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset by the server".into(),
                std::io::ErrorKind::ConnectionAborted => "connection aborted".into(),
                std::io::ErrorKind::TimedOut => "timed out".into(),
                std::io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
                _ => io.to_string(),
            };
        }
        innermost = err.to_string();
        source = err.source();
    }
    innermost
}

fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF.saturating_mul(1 << attempt.min(4))
}

/// Remove `null` members from objects: an absent field says "leave it", which every server
/// understands; an explicit `null` is not accepted everywhere.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::new(ClientConfig {
            base_url: base.into(),
            admin_key: "k".into(),
            timeout: Duration::from_secs(1),
            max_retries: 0,
            verbose: false,
        })
        .unwrap()
    }

    #[test]
    fn path_segments_are_percent_encoded_one_by_one() {
        let c = client("http://127.0.0.1:8080/v1/");
        let url = c.url(&["organization", "users", "a/b?c"], &Query::new());
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/v1/organization/users/a%2Fb%3Fc"
        );
    }

    #[test]
    fn array_parameters_are_sent_with_brackets() {
        let c = client("http://h/v1");
        let mut q = Query::new();
        q.push("limit", 5)
            .push_all("emails", &["a@x.com".into(), "b@x.com".into()]);
        assert_eq!(
            c.url(&["organization", "users"], &q).as_str(),
            "http://h/v1/organization/users?limit=5&emails%5B%5D=a%40x.com&emails%5B%5D=b%40x.com"
        );
    }

    #[test]
    fn base_urls_are_checked_offline() {
        assert!(parse_base_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(parse_base_url("127.0.0.1:8080").is_err());
        assert!(parse_base_url("ftp://h/v1").is_err());
        assert!(parse_base_url("http://h/v1?x=1").is_err());
    }

    #[test]
    fn the_server_root_is_the_base_url_without_v1() {
        for (base, root) in [
            ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/"),
            ("http://h:1/v1/", "http://h:1/"),
            ("https://h/proxy/v1", "https://h/proxy"),
            ("http://h:1", "http://h:1/"),
        ] {
            assert_eq!(server_root(base).unwrap(), root, "{base}");
        }
        let c = client(&server_root("http://h:1/proxy/v1").unwrap());
        assert_eq!(
            c.url(&["_orgadmin", "organizations"], &Query::new())
                .as_str(),
            "http://h:1/proxy/_orgadmin/organizations"
        );
        assert!(server_root("h:1/v1").is_err());
    }

    #[test]
    fn nulls_are_left_out_of_request_bodies() {
        let mut v = serde_json::json!({"a": null, "b": [{"c": null, "d": 1}], "e": "x"});
        drop_nulls(&mut v);
        assert_eq!(v, serde_json::json!({"b": [{"d": 1}], "e": "x"}));
    }
}
