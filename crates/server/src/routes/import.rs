//! `POST /v1/organization/users/import` (an orgadmin extension): members in bulk from a CSV or
//! JSON Lines body, in one transaction, acting as the calling admin key, with the audit events
//! the API writes for each change. `orgadmin import users FILE` streams its file here.
//!
//! The body is read as the store consumes it: each frame is split into lines and parsed
//! (`core::import::RowParser`) as it arrives, so no file is ever held whole. It may be up to
//! [`MAX_IMPORT_BYTES`] (the one route exempt from the 1 MiB limit); a body declared larger is
//! refused before it is routed, one that turns out larger when it is sent is refused when it
//! passes the limit, 413 either way with nothing written. A body that stops arriving for
//! `BODY_READ_TIMEOUT` is refused with 408. The header row of a CSV body is read before the
//! import's transaction begins, so a file that cannot be an import file (no header, unknown
//! columns) is refused with 400 before anything is locked.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use orgadmin_api::import::ImportSummary;
use orgadmin_core::import::{
    FileError, ImportFormat, ImportOptions, ImportRow, ImportSource, ProjectAccess, RowParser,
};
use orgadmin_core::page::PageRequest;
use orgadmin_core::{Actor, DomainError, Permission, Store};

use crate::auth::Auth;
use crate::error::{ApiError, Code};
use crate::extract::{Query, BODY_READ_TIMEOUT};
use crate::state::AppState;

/// The route's path.
pub const IMPORT_PATH: &str = "/v1/organization/users/import";

/// Largest import body: 64 MiB, some 600,000 rows of a usual CSV file.
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

/// The query parameters the route reads; any other is refused, since a misspelt `dry_run` would
/// otherwise write.
const PARAMETERS: [&str; 2] = ["dry_run", "skip_invalid"];

/// How long the rest of a refused body (also one over the limit) is read, at most, before
/// answering anyway: answering
/// while the client is still sending and closing the connection with its data unread makes the
/// kernel reset the connection, and the client loses the answer.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Whether a request is the import's (whose body may be up to [`MAX_IMPORT_BYTES`]).
pub fn is_import(method: &Method, path: &str) -> bool {
    method == Method::POST && path == IMPORT_PATH
}

#[utoipa::path(post, path = "/v1/organization/users/import", tag = "orgadmin",
    params(
        ("dry_run" = Option<bool>, Query, description = "Check every row and report what would happen; write nothing."),
        ("skip_invalid" = Option<bool>, Query, description = "Import the valid rows even when others are invalid (without it, nothing is written if any row is invalid)."),
    ),
    request_body(
        description = "The file, at most 64 MiB: CSV with a header row (`email` required; `name`, `role`, `projects` in any order), or JSON Lines (one object per line with `email`, `name`, `role`, `projects`). See the README, 'Importing members in bulk'.",
        content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (String = "application/jsonl"),
        ),
    ),
    responses(
        (status = 200, body = ImportSummary, description = "Imported (or, with `dry_run`, checked); with `skip_invalid` the invalid rows are in `errors`."),
        (status = 400, body = orgadmin_api::ErrorBody, description = "The error envelope. For invalid rows without `skip_invalid` (code `invalid_rows`, param `file`) it carries `summary` beside `error`, the `import.summary` with every invalid row (schema `ImportRefusal`); nothing was written. A file that cannot be an import file, or a bad query parameter, is the envelope alone."),
        (status = 413, body = orgadmin_api::ErrorBody, description = "The body is larger than 64 MiB; nothing was written."),
        (status = 415, body = orgadmin_api::ErrorBody, description = "The Content-Type is none of text/csv, application/x-ndjson, application/jsonl."),
    ))]
pub async fn import_users(
    State(s): State<AppState>,
    auth: Result<Auth, Response>,
    q: Result<Query, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut rows = BodyRows::new(body);
    // A refused key (or an operator's fault) is answered like any refusal: after the body.
    let refused = match auth {
        Err(answer) => answer,
        Ok(auth) => match run(&s, auth, q, &headers, &mut rows).await {
            Ok(answer) => return answer,
            Err(e) => e.into_response(),
        },
    };
    rows.drain().await;
    refused
}

async fn run(
    s: &AppState,
    auth: Auth,
    q: Result<Query, ApiError>,
    headers: &HeaderMap,
    rows: &mut BodyRows,
) -> Result<Response, ApiError> {
    auth.require(Permission::UsersWrite)?;
    let q = q?;
    if let Some(name) = q.names().find(|n| !PARAMETERS.contains(n)) {
        return Err(DomainError::invalid(
            orgadmin_core::text::clip(name),
            format!(
                "Unknown query parameter '{}'; the import takes dry_run and skip_invalid.",
                orgadmin_core::text::clip(name)
            ),
        )
        .into());
    }
    let dry_run = q.boolean("dry_run")?.unwrap_or(false);
    let skip_invalid = q.boolean("skip_invalid")?.unwrap_or(false);
    rows.parser = Some(RowParser::new(format_of(headers)?));

    let actor = auth.actor();
    let options = ImportOptions {
        dry_run,
        skip_invalid,
        project_access: project_access(&*s.store, actor).await?,
    };
    // The CSV header (and the first row) before the transaction begins.
    rows.peeked = rows.row().await?;
    let outcome = s.store.import_users(actor, rows, &options).await;
    if let Some(e) = rows.failure.take() {
        return Err(e);
    }
    let summary = ImportSummary::from(outcome?);
    if summary.invalid > 0 && !skip_invalid {
        let rows = if summary.invalid == 1 {
            "1 row is".to_owned()
        } else {
            format!("{} rows are", summary.invalid)
        };
        let error = ApiError::new(
            Code::InvalidRows,
            Some("file"),
            format!(
                "{rows} invalid, so nothing was imported; fix them, or pass skip_invalid=true to import the valid rows. The rows are in summary.errors."
            ),
        );
        return Ok(error.with_import_summary(summary));
    }
    Ok(Json(summary).into_response())
}

/// The format the `Content-Type` names; UTF-8 is the only charset.
fn format_of(headers: &HeaderMap) -> Result<ImportFormat, ApiError> {
    const EXPECTED: &str =
        "send the file as text/csv, or as JSON Lines with application/x-ndjson (or application/jsonl)";
    let unsupported = |what: String| {
        ApiError::new(
            Code::UnsupportedMediaType,
            None,
            format!("{what}; {EXPECTED}."),
        )
    };
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Err(unsupported("The request has no Content-Type".into()));
    };
    let text = value.to_str().unwrap_or("");
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let format = match essence.as_str() {
        "text/csv" => ImportFormat::Csv,
        "application/x-ndjson" | "application/jsonl" => ImportFormat::JsonLines,
        _ => {
            return Err(unsupported(format!(
                "The import does not read Content-Type '{}'",
                orgadmin_core::text::clip(text)
            )))
        }
    };
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = value.trim().trim_matches('"').to_ascii_lowercase();
        if name.trim().eq_ignore_ascii_case("charset")
            && !matches!(value.as_str(), "utf-8" | "utf8")
        {
            return Err(unsupported(format!(
                "The import reads UTF-8 text only, not charset '{}'",
                orgadmin_core::text::clip(&value)
            )));
        }
    }
    Ok(format)
}

/// The projects whose members the key may manage: all of them with
/// `api.organization.projects.users.write`, else those where it holds `api.project.users.write`.
async fn project_access(store: &dyn Store, actor: &Actor) -> Result<ProjectAccess, DomainError> {
    if actor.permissions.contains(Permission::ProjectUsersWrite) {
        return Ok(ProjectAccess::All);
    }
    let mut allowed = std::collections::HashSet::new();
    let mut page = PageRequest::first(100);
    loop {
        let projects = store.list_projects(&actor.org_id, true, &page).await?;
        for p in &projects.items {
            let held = store
                .project_permissions(actor.read_at(), &p.id, &actor.user_id)
                .await?;
            if actor
                .limit(held)
                .contains(Permission::ProjectUsersWriteInProject)
            {
                allowed.insert(p.id.clone());
            }
        }
        match projects.items.last() {
            Some(last) if projects.has_more => page.after = Some(last.id.to_string()),
            _ => break,
        }
    }
    Ok(ProjectAccess::Only(allowed))
}

/// The rows of the request body, parsed line by line as its frames arrive.
struct BodyRows {
    body: Body,
    /// Set once the `Content-Type` is known.
    parser: Option<RowParser>,
    /// Bytes received and not yet parsed: a line not yet complete, from `start`; the bytes up
    /// to `scanned` are known to hold no line end (so a long line is scanned once).
    pending: Vec<u8>,
    start: usize,
    scanned: usize,
    received: u64,
    /// The body has ended (and, with `finished`, so has the parser).
    ended: bool,
    finished: bool,
    /// The first row, read before the import began.
    peeked: Option<ImportRow>,
    /// Why reading stopped: the answer, whatever the store then reports.
    failure: Option<ApiError>,
}

impl BodyRows {
    fn new(body: Body) -> Self {
        Self {
            body,
            parser: None,
            pending: Vec::with_capacity(64 * 1024),
            start: 0,
            scanned: 0,
            received: 0,
            ended: false,
            finished: false,
            peeked: None,
            failure: None,
        }
    }

    /// The next row, reading more of the body when no complete line is left.
    async fn row(&mut self) -> Result<Option<ImportRow>, ApiError> {
        let Some(parser) = self.parser.as_mut() else {
            return Ok(None);
        };
        loop {
            let from = self.scanned.max(self.start);
            if let Some(at) = self.pending[from..].iter().position(|&b| b == b'\n') {
                let end = from + at + 1;
                let row = parser
                    .line(&self.pending[self.start..end])
                    .map_err(file_error)?;
                self.start = end;
                self.scanned = end;
                match row {
                    Some(row) => return Ok(Some(row)),
                    None => continue,
                }
            }
            self.scanned = self.pending.len();
            if self.ended {
                if self.finished {
                    return Ok(None);
                }
                let rest = &self.pending[self.start..];
                if !rest.is_empty() {
                    // The last line, without a line end.
                    let row = parser.line(rest).map_err(file_error)?;
                    self.start = self.pending.len();
                    if row.is_some() {
                        return Ok(row);
                    }
                }
                self.finished = true;
                return parser.end().map_err(file_error);
            }
            self.pending.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
            match next_data(&mut self.body).await? {
                None => self.ended = true,
                Some(data) => {
                    self.received += data.len() as u64;
                    if self.received > MAX_IMPORT_BYTES {
                        return Err(ApiError::too_large_for(MAX_IMPORT_BYTES));
                    }
                    self.pending.extend_from_slice(&data);
                }
            }
        }
    }

    /// Read what is left of a refused body (for [`DRAIN_TIME`] at most), so that the client
    /// gets to read the answer.
    async fn drain(&mut self) {
        if self.ended {
            return;
        }
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Ok(Some(_)) = next_data(&mut self.body).await {}
        })
        .await;
    }
}

/// The next data of a body; `None` at its end.
async fn next_data(body: &mut Body) -> Result<Option<Bytes>, ApiError> {
    loop {
        let frame = tokio::time::timeout(
            BODY_READ_TIMEOUT,
            poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)),
        )
        .await
        .map_err(|_| ApiError::body_stalled(BODY_READ_TIMEOUT))?;
        match frame {
            None => return Ok(None),
            Some(Err(e)) => {
                return Err(ApiError::new(
                    Code::InvalidValue,
                    None,
                    format!("Could not read the request body: {e}."),
                ))
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

fn file_error(e: FileError) -> ApiError {
    DomainError::invalid("file", format!("The file cannot be imported: {e}.")).into()
}

#[async_trait]
impl ImportSource for BodyRows {
    async fn next_row(&mut self) -> io::Result<Option<ImportRow>> {
        if let Some(row) = self.peeked.take() {
            return Ok(Some(row));
        }
        if let Some(failure) = &self.failure {
            return Err(io::Error::other(failure.message().to_owned()));
        }
        self.row().await.map_err(|e| {
            let error = io::Error::other(e.message().to_owned());
            self.failure = Some(e);
            error
        })
    }
}
