//! `orgadmin import users FILE`: members in bulk from a CSV or JSON Lines file, streamed to the
//! server's bulk endpoint (`POST /v1/organization/users/import`, an orgadmin extension) with the
//! admin key in `OPENAI_ADMIN_KEY`, which the import acts as: the server checks its permissions,
//! writes everything in one transaction and makes the key the actor of every audit event.
//!
//! The file is sent as it is read, never held whole. Only its CSV header row is read here first
//! (`core::import::RowParser`), so a file that cannot be an import file is a usage error before
//! anything is sent. The summary the server answers with goes to standard output (JSON unless
//! `--format` says otherwise); a line for people, the first invalid rows, and (on a terminal) the
//! bytes sent so far go to standard error.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use orgadmin_api::import::{ImportRefusal, ImportSummary};
use orgadmin_core::import::{FileError, ImportFormat, RowParser};
use tokio::sync::mpsc;

use crate::args::GlobalArgs;
use crate::client::{Client, ClientConfig, Query};
use crate::error::{clean, CliError};
use crate::output::{Format, Output};

const USERS_EXAMPLES: &str = "\
Examples:
  export OPENAI_ADMIN_KEY=sk-admin-…
  orgadmin import users people.csv
  orgadmin import users people.jsonl --dry-run --base-url http://127.0.0.1:8080/v1
  generate-people | orgadmin import users - --input-format jsonl --skip-invalid

CSV (header row required; columns in any order):
  email,name,role,projects
  ada@example.com,Ada Lovelace,owner,Gateway:owner;proj_01m86f0czk380hrj193a5z42
  \"grace@example.com\",\"Hopper, Grace\",reader,

JSON Lines (one object per line):
  {\"email\": \"ada@example.com\", \"role\": \"owner\", \"projects\": [\"Gateway:owner\", {\"id\": \"proj_…\", \"role\": \"viewer\"}]}

The file is sent to POST /v1/organization/users/import (at most 64 MiB); the request may take
--timeout seconds, or 10 minutes if that is longer.

Exit status: 0 imported (or, with --skip-invalid, the valid rows imported), 1 the key was refused
or rows were invalid (nothing written), 2 usage (a bad file, header or flag), 3 no answer from the
server, 4 an answer that is not the API's, 5 a local failure (the file could not be read).";

/// The shortest time the import request is given, whatever `--timeout` says: the server checks
/// and writes the whole file before it answers.
const MIN_IMPORT_TIMEOUT: Duration = Duration::from_secs(600);

/// Bytes read from the file and sent at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// `orgadmin import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Add or update organization members in bulk from a CSV or JSON Lines file, in one
    /// transaction, with the audit events the API writes. Idempotent: a row that changes
    /// nothing is skipped, and nothing not listed is ever removed.
    #[command(after_help = USERS_EXAMPLES)]
    Users(ImportUsersArgs),
}

#[derive(Debug, Args)]
pub struct ImportUsersArgs {
    /// The file: `.csv`, `.jsonl` or `.ndjson` (or any name with --input-format); `-` reads
    /// standard input.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// The file's format, when its name does not tell (standard input, another extension).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// Check every row and report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the valid rows even when others are invalid (without it, nothing is written if
    /// any row is invalid).
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    /// JSON Lines (also `.ndjson`).
    Jsonl,
}

impl InputFormat {
    fn parsed_as(self) -> ImportFormat {
        match self {
            InputFormat::Csv => ImportFormat::Csv,
            InputFormat::Jsonl => ImportFormat::JsonLines,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            InputFormat::Csv => "text/csv; charset=utf-8",
            InputFormat::Jsonl => "application/x-ndjson",
        }
    }
}

/// `orgadmin import users FILE`.
pub async fn users(global: &GlobalArgs, args: ImportUsersArgs) -> Result<(), CliError> {
    let command = global.command.as_str();
    let settings = global.settings()?;
    let key = settings.admin_api_key.clone().ok_or_else(|| {
        CliError::usage(
            command,
            "no admin API key: set OPENAI_ADMIN_KEY (or pass --admin-api-key) to the key the import acts as",
        )
    })?;
    let format = match args.input_format {
        Some(format) => format,
        None => format_of(&args.file, command)?,
    };
    let shown = if args.file == "-" {
        "standard input".to_owned()
    } else {
        args.file.clone()
    };
    let (mut input, size): (Box<dyn BufRead + Send>, Option<u64>) = if args.file == "-" {
        (
            Box::new(BufReader::with_capacity(CHUNK_BYTES, io::stdin())),
            None,
        )
    } else {
        let file = File::open(&args.file)
            .map_err(|e| CliError::usage(command, format!("cannot read {}: {e}", clean(&shown))))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(CHUNK_BYTES, file)), size)
    };
    let header = read_header(&mut input, format.parsed_as()).map_err(|e| match e {
        HeaderError::File(e) => CliError::usage(command, format!("{}: {e}", clean(&shown))),
        HeaderError::Io(e) => CliError::local(format!("reading {}: {e}", clean(&shown))),
    })?;

    let client = Client::new(ClientConfig {
        base_url: settings.base_url,
        admin_key: key,
        timeout: Duration::from_secs(settings.timeout),
        max_retries: 0,
        verbose: settings.verbose,
    })?;
    let mut query = Query::new();
    if args.dry_run {
        query.push("dry_run", true);
    }
    if args.skip_invalid {
        query.push("skip_invalid", true);
    }
    let progress = Arc::new(Mutex::new(Progress::new(size)));
    let upload = Upload::start(header, input, progress.clone());
    let timeout = Duration::from_secs(settings.timeout).max(MIN_IMPORT_TIMEOUT);
    let outcome = client
        .post_stream::<ImportSummary, ImportRefusal>(
            &["organization", "users", "import"],
            &query,
            format.content_type(),
            upload.body,
            timeout,
        )
        .await;
    if let Ok(mut progress) = progress.lock() {
        progress.clear();
    }
    if let Some(e) = upload.failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(CliError::local(format!(
            "reading {}: {e}; nothing was imported",
            clean(&shown)
        )));
    }
    let summary = match outcome? {
        Ok(summary) => summary,
        Err(refusal) => refusal.summary,
    };

    let output_format = settings.format.resolve(false, Format::Json);
    Output::new(output_format)
        .with_selection(settings.selection)
        .object(&summary)?;
    tell(&shown, &summary);
    if summary.invalid > 0 && !args.skip_invalid {
        let rows = if summary.invalid == 1 {
            "1 row is".to_owned()
        } else {
            format!("{} rows are", summary.invalid)
        };
        return Err(CliError::Refused {
            message: format!(
                "{rows} invalid, so nothing was imported; fix them, or pass --skip-invalid to import the valid rows"
            ),
        });
    }
    Ok(())
}

/// The format a file's name tells; `command` names the command for usage errors.
fn format_of(file: &str, command: &str) -> Result<InputFormat, CliError> {
    if file == "-" {
        return Err(CliError::usage(
            command,
            "standard input has no name to tell its format: pass --input-format csv or --input-format jsonl",
        ));
    }
    let extension = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(InputFormat::Csv),
        Some("jsonl" | "ndjson") => Ok(InputFormat::Jsonl),
        _ => Err(CliError::usage(
            command,
            format!(
                "cannot tell the format of {} from its name: use .csv, .jsonl or .ndjson, or pass --input-format csv|jsonl",
                clean(file)
            ),
        )),
    }
}

enum HeaderError {
    File(FileError),
    Io(io::Error),
}

/// Read the input up to the end of its CSV header row (nothing for JSON Lines) and check it:
/// the bytes read, to be sent first.
fn read_header(input: &mut dyn BufRead, format: ImportFormat) -> Result<Vec<u8>, HeaderError> {
    let mut parser = RowParser::new(format);
    let mut read = Vec::new();
    while !parser.header_read() {
        let start = read.len();
        if input
            .read_until(b'\n', &mut read)
            .map_err(HeaderError::Io)?
            == 0
        {
            parser.end().map_err(HeaderError::File)?;
            break;
        }
        parser.line(&read[start..]).map_err(HeaderError::File)?;
    }
    Ok(read)
}

/// The line for people on standard error, and the first invalid rows.
fn tell(shown: &str, s: &ImportSummary) {
    let mut stderr = io::stderr().lock();
    let counts = format!(
        "{} created, {} updated, {} skipped, {} invalid",
        s.created, s.updated, s.skipped, s.invalid
    );
    let line = if s.dry_run {
        format!(
            "Dry run of {}: {counts}; nothing was written.",
            clean(shown)
        )
    } else if s.committed {
        format!("Imported {}: {counts}.", clean(shown))
    } else {
        format!("Nothing imported from {}: {counts}.", clean(shown))
    };
    let _ = writeln!(stderr, "{line}");
    const SHOWN_ERRORS: usize = 10;
    for e in s.errors.iter().take(SHOWN_ERRORS) {
        let who = e
            .email
            .as_deref()
            .map(|m| format!(" ({})", clean(m)))
            .unwrap_or_default();
        let _ = writeln!(stderr, "  line {}{who}: {}", e.line, clean(&e.message));
    }
    if s.errors.len() > SHOWN_ERRORS {
        let _ = writeln!(
            stderr,
            "  … and {} more (see \"errors\" in the summary)",
            s.errors.len() - SHOWN_ERRORS
        );
    }
}

// --- sending ---------------------------------------------------------------------------------

/// The file as a request body: a thread reads it (the header read already, then the rest) in
/// chunks and hands them to the HTTP client, at most a few chunks ahead of what was sent.
struct Upload {
    body: reqwest::Body,
    /// Why reading the file stopped early, if it did: the request then ends unfinished, and the
    /// server writes nothing.
    failure: Arc<Mutex<Option<io::Error>>>,
}

impl Upload {
    fn start(
        header: Vec<u8>,
        mut input: Box<dyn BufRead + Send>,
        progress: Arc<Mutex<Progress>>,
    ) -> Self {
        let (chunks, received) = mpsc::channel::<io::Result<Vec<u8>>>(4);
        let failure = Arc::new(Mutex::new(None));
        let failed = failure.clone();
        std::thread::spawn(move || {
            // False once the request is over (answered early, or failed): reading stops.
            let send = |chunk: Vec<u8>| {
                if let Ok(mut progress) = progress.lock() {
                    progress.sent(chunk.len() as u64);
                }
                chunks.blocking_send(Ok(chunk)).is_ok()
            };
            if !header.is_empty() && !send(header) {
                return;
            }
            loop {
                let mut chunk = vec![0; CHUNK_BYTES];
                match input.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        chunk.truncate(n);
                        if !send(chunk) {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // The body ends with an error, not at an end the server would take
                        // for the file's: the request is abandoned and nothing is written.
                        let told = io::Error::new(e.kind(), e.to_string());
                        if let Ok(mut failure) = failed.lock() {
                            *failure = Some(e);
                        }
                        let _ = chunks.blocking_send(Err(told));
                        return;
                    }
                }
            }
        });
        Self {
            body: reqwest::Body::wrap_stream(Chunks(received)),
            failure,
        }
    }
}

/// The chunks the reading thread hands over, as the stream the HTTP client sends.
struct Chunks(mpsc::Receiver<io::Result<Vec<u8>>>);

impl futures_core::Stream for Chunks {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_recv(cx)
    }
}

fn progress_wanted() -> bool {
    io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// The bytes sent so far on standard error, while the file is sent: of its size when known, and
/// the rate; then a line saying the server is importing. Drawn only on a terminal (and not with
/// `TERM=dumb`), at most ten times a second; cleared when the answer arrives.
struct Progress {
    enabled: bool,
    total: Option<u64>,
    sent: u64,
    started: Instant,
    drawn_at: Option<Instant>,
}

impl Progress {
    fn new(total: Option<u64>) -> Self {
        Self {
            enabled: progress_wanted(),
            total,
            sent: 0,
            started: Instant::now(),
            drawn_at: None,
        }
    }

    fn sent(&mut self, bytes: u64) {
        self.sent += bytes;
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let due = match self.drawn_at {
            None => now - self.started >= Duration::from_millis(200),
            Some(at) => now - at >= Duration::from_millis(100),
        };
        let all = self.total.is_some_and(|total| self.sent >= total);
        if due || (all && self.drawn_at.is_some()) {
            self.draw(now, all);
        }
    }

    fn draw(&mut self, now: Instant, all: bool) {
        const MIB: f64 = 1024.0 * 1024.0;
        let seconds = (now - self.started).as_secs_f64().max(0.001);
        let sent = self.sent as f64 / MIB;
        let line = match self.total {
            _ if all => {
                format!("importing users: {sent:.1} MiB sent; the server is importing them…")
            }
            Some(total) if total > 0 => format!(
                "importing users: {sent:.1} of {:.1} MiB sent ({:.0}%), {:.1} MiB/s",
                total as f64 / MIB,
                self.sent as f64 / total as f64 * 100.0,
                sent / seconds
            ),
            _ => format!(
                "importing users: {sent:.1} MiB sent, {:.1} MiB/s",
                sent / seconds
            ),
        };
        let mut stderr = io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{line}");
        let _ = stderr.flush();
        self.drawn_at = Some(now);
    }

    fn clear(&mut self) {
        if self.drawn_at.take().is_some() {
            let mut stderr = io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_name_or_the_flag() {
        assert_eq!(
            format_of("a.CSV", "import users").unwrap(),
            InputFormat::Csv
        );
        assert_eq!(
            format_of("dir/a.ndjson", "import users").unwrap(),
            InputFormat::Jsonl
        );
        assert_eq!(
            format_of("a.jsonl", "import users").unwrap(),
            InputFormat::Jsonl
        );
        assert!(format_of("a.txt", "import users").is_err());
        assert!(format_of("-", "import users").is_err());
    }

    fn header(text: &str, format: ImportFormat) -> Result<(String, String), String> {
        let mut input = text.as_bytes();
        let read = read_header(&mut input, format).map_err(|e| match e {
            HeaderError::File(e) => e.0,
            HeaderError::Io(e) => e.to_string(),
        })?;
        Ok((
            String::from_utf8(read).unwrap(),
            String::from_utf8(input.to_vec()).unwrap(),
        ))
    }

    #[test]
    fn only_the_header_is_read_before_sending_and_it_is_sent_first() {
        let (read, rest) = header("\n\"email\",\"name\"\na@x.io,A\n", ImportFormat::Csv).unwrap();
        assert_eq!(read, "\n\"email\",\"name\"\n");
        assert_eq!(rest, "a@x.io,A\n");
        let (read, rest) = header("{\"email\": \"a@x.io\"}\n", ImportFormat::JsonLines).unwrap();
        assert_eq!(
            (read.as_str(), rest.as_str()),
            ("", "{\"email\": \"a@x.io\"}\n")
        );
        let e = header("email,colour\na@x.io,red\n", ImportFormat::Csv).unwrap_err();
        assert!(e.contains("unknown column 'colour'"), "{e}");
        let e = header("", ImportFormat::Csv).unwrap_err();
        assert!(e.contains("the file is empty"), "{e}");
    }
}
