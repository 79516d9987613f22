//! `orgadmin import users FILE`: members in bulk from a CSV or JSON Lines file, straight into the
//! database (through the store, like `init`), as the admin key named by `OPENAI_ADMIN_KEY` would
//! make them through the API: the key is authenticated against the database, needs the same
//! permissions, and is the actor of every audit event.
//!
//! The file is read as the store consumes it (a row at a time, never held whole). The CSV reader
//! is RFC 4180 (quoted fields, doubled quotes, commas and line breaks inside quotes), with a
//! header row naming the columns in any order; a byte-order mark and CRLF line ends are
//! accepted, blank lines ignored. The import is one transaction; the summary goes to standard
//! output (JSON unless `--format` says otherwise), a line for people and a progress bar (on a
//! terminal) to standard error.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use orgadmin_core::import::{
    ImportError, ImportOptions, ImportProjectRef, ImportReport, ImportRow, ProjectAccess,
    ProjectKey,
};
use orgadmin_core::page::PageRequest;
use orgadmin_core::secret::{hash_secret, ADMIN_KEY_PREFIX};
use orgadmin_core::{Actor, DomainError, Permission, Store};
use serde::Serialize;
use serde_json::Value;

use crate::admin::{open, redact_url, store_error};
use crate::args::{GlobalArgs, DEFAULT_DATABASE_URL};
use crate::error::{clean, CliError};
use crate::output::{Format, Output};

const USERS_EXAMPLES: &str = "\
Examples:
  export OPENAI_ADMIN_KEY=sk-admin-…
  orgadmin import users people.csv --database sqlite://orgadmin-data/orgadmin.db
  orgadmin import users people.jsonl --dry-run
  generate-people | orgadmin import users - --input-format jsonl --skip-invalid

CSV (header row required; columns in any order):
  email,name,role,projects
  ada@example.com,Ada Lovelace,owner,Gateway:owner;proj_01m86f0czk380hrj193a5z42
  \"grace@example.com\",\"Hopper, Grace\",reader,

JSON Lines (one object per line):
  {\"email\": \"ada@example.com\", \"role\": \"owner\", \"projects\": [\"Gateway:owner\", {\"id\": \"proj_…\", \"role\": \"viewer\"}]}

Exit status: 0 imported (or, with --skip-invalid, the valid rows imported), 1 the key was refused
or rows were invalid (nothing written), 2 usage (a bad file, header or flag), 3 the database is
unreachable, 5 a local failure.";

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
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (the one the server uses).
    #[arg(long, env = "ORGADMIN_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database: String,
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
    #[command(flatten)]
    pub user_ids: crate::args::UserIdsArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    /// JSON Lines (also `.ndjson`).
    Jsonl,
}

/// What `import users` prints.
#[derive(Debug, Serialize)]
pub struct ImportSummary {
    /// Always `import.summary`.
    pub object: &'static str,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub invalid: u64,
    pub errors: Vec<ImportError>,
    pub dry_run: bool,
    pub committed: bool,
}

impl From<ImportReport> for ImportSummary {
    fn from(r: ImportReport) -> Self {
        Self {
            object: "import.summary",
            created: r.created,
            updated: r.updated,
            skipped: r.skipped,
            invalid: r.invalid,
            errors: r.errors,
            dry_run: r.dry_run,
            committed: r.committed,
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
    let input: Box<dyn BufRead + Send> = if args.file == "-" {
        Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
    } else {
        let file = File::open(&args.file)
            .map_err(|e| CliError::usage(command, format!("cannot read {}: {e}", clean(&shown))))?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let mut rows = Rows::new(input, format).map_err(|e| match e {
        ReadError::Usage(message) => {
            CliError::usage(command, format!("{}: {message}", clean(&shown)))
        }
        ReadError::Io(e) => CliError::local(format!("reading {}: {e}", clean(&shown))),
    })?;

    let store = open(&args.database, args.user_ids.user_ids, command).await?;
    let actor = authenticate(&*store, &key, &args.database).await?;
    if !actor.permissions.contains(Permission::UsersWrite) {
        return Err(CliError::Refused {
            message: DomainError::forbidden(Permission::UsersWrite, None).to_string(),
        });
    }
    let options = ImportOptions {
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        project_access: project_access(&*store, &actor)
            .await
            .map_err(|e| store_error(e, &args.database))?,
    };

    let total = if args.file != "-" && progress_wanted() {
        count_rows(&args.file, format)
    } else {
        None
    };
    rows.progress = Progress::new(total);
    let outcome = store.import_users(&actor, &mut rows, &options).await;
    rows.progress.clear();
    if let Some(e) = rows.failure.take() {
        return Err(CliError::local(format!(
            "reading {}: {e}; nothing was imported",
            clean(&shown)
        )));
    }
    let report = outcome.map_err(|e| store_error(e, &args.database))?;

    let summary = ImportSummary::from(report);
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

/// The actor the key acts as, found in the database as the server finds it.
async fn authenticate(store: &dyn Store, key: &str, database: &str) -> Result<Actor, CliError> {
    let refused = || {
        CliError::Refused {
        message: format!(
            "the admin API key is not valid in the database {}: unknown, revoked or expired (set OPENAI_ADMIN_KEY to a key of the organization to import into)",
            redact_url(database)
        ),
    }
    };
    if !key.starts_with(ADMIN_KEY_PREFIX) || key.len() > 256 {
        return Err(refused());
    }
    store
        .authenticate(&hash_secret(key))
        .await
        .map_err(|e| store_error(e, database))?
        .ok_or_else(refused)
}

/// The projects whose members the key may manage: all of them with
/// `api.organization.projects.users.write`, else those where it holds `api.project.users.write`.
async fn project_access(store: &dyn Store, actor: &Actor) -> Result<ProjectAccess, DomainError> {
    if actor.permissions.contains(Permission::ProjectUsersWrite) {
        return Ok(ProjectAccess::All);
    }
    let mut allowed = HashSet::new();
    let mut page = PageRequest::first(100);
    loop {
        let projects = store.list_projects(&actor.org_id, true, &page).await?;
        for p in &projects.items {
            let held = store
                .project_permissions(&actor.org_id, &p.id, &actor.user_id)
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

// --- reading ---------------------------------------------------------------------------------

#[derive(Debug)]
enum ReadError {
    /// The file cannot be an import file (no header, unknown columns, …).
    Usage(String),
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// The columns of a CSV file, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    Name,
    Role,
    Projects,
}

const COLUMNS: &str = "email (required), name, role, projects";

/// The rows of an import file, read as the store asks for them.
pub struct Rows {
    lines: Lines,
    format: InputFormat,
    /// The CSV header, by position.
    header: Vec<Column>,
    /// The error that ended reading early; the import is then rolled back.
    failure: Option<io::Error>,
    progress: Progress,
}

impl Rows {
    fn new(input: Box<dyn BufRead + Send>, format: InputFormat) -> Result<Self, ReadError> {
        let mut rows = Rows {
            lines: Lines::new(input),
            format,
            header: Vec::new(),
            failure: None,
            progress: Progress::new(None),
        };
        if format == InputFormat::Csv {
            rows.header = rows.read_header()?;
        }
        Ok(rows)
    }

    fn read_header(&mut self) -> Result<Vec<Column>, ReadError> {
        let Some((line, record)) = self.lines.csv_record()? else {
            return Err(ReadError::Usage(format!(
                "the file is empty; a CSV import starts with a header row naming its columns: {COLUMNS}"
            )));
        };
        let fields = record.map_err(|m| {
            ReadError::Usage(format!("the header row (line {line}) cannot be read: {m}"))
        })?;
        let mut header = Vec::with_capacity(fields.len());
        let mut unknown = Vec::new();
        for field in &fields {
            let name = field.trim().to_ascii_lowercase();
            let column = match name.as_str() {
                "email" => Column::Email,
                "name" => Column::Name,
                "role" => Column::Role,
                "projects" => Column::Projects,
                _ => {
                    unknown.push(format!("'{}'", clean(field.trim())));
                    continue;
                }
            };
            if header.contains(&column) {
                return Err(ReadError::Usage(format!(
                    "the header names the column '{name}' twice"
                )));
            }
            header.push(column);
        }
        if !unknown.is_empty() {
            return Err(ReadError::Usage(format!(
                "unknown column{} {} in the header; the columns are {COLUMNS}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", ")
            )));
        }
        if !header.contains(&Column::Email) {
            return Err(ReadError::Usage(format!(
                "the header has no 'email' column; the columns are {COLUMNS}"
            )));
        }
        Ok(header)
    }

    fn csv_row(&mut self) -> io::Result<Option<ImportRow>> {
        let Some((line, record)) = self.lines.csv_record()? else {
            return Ok(None);
        };
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        let fields = match record {
            Ok(fields) => fields,
            Err(message) => {
                row.problem = Some(message);
                return Ok(Some(row));
            }
        };
        for (column, value) in self.header.iter().zip(fields.iter()) {
            match column {
                Column::Email => row.email = value.clone(),
                Column::Name => row.name = Some(value.clone()),
                Column::Role => row.role = Some(value.clone()),
                Column::Projects => {
                    row.projects = value
                        .split(';')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(project_ref)
                        .collect();
                }
            }
        }
        if fields.len() > self.header.len() {
            row.problem = Some(format!(
                "the row has {} fields but the header names {} columns; quote a value holding a comma (\"Hopper, Grace\")",
                fields.len(),
                self.header.len()
            ));
        }
        Ok(Some(row))
    }

    fn jsonl_row(&mut self) -> io::Result<Option<ImportRow>> {
        let Some((line, text)) = self.lines.next_line()? else {
            return Ok(None);
        };
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        let text = match text {
            Ok(text) => text,
            Err(message) => {
                row.problem = Some(message);
                return Ok(Some(row));
            }
        };
        if let Err(message) = json_row(&text, &mut row) {
            row.problem = Some(message);
        }
        Ok(Some(row))
    }
}

impl Iterator for Rows {
    type Item = io::Result<ImportRow>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failure.is_some() {
            return None;
        }
        let next = match self.format {
            InputFormat::Csv => self.csv_row(),
            InputFormat::Jsonl => self.jsonl_row(),
        };
        match next {
            Ok(Some(row)) => {
                self.progress.tick();
                Some(Ok(row))
            }
            Ok(None) => {
                self.progress.read_all();
                None
            }
            Err(e) => {
                // Keep the error for the report; the store rolls back on it.
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failure = Some(e);
                Some(Err(copy))
            }
        }
    }
}

/// `PROJECT[:ROLE]`: the role follows the last `:` when it is one.
fn project_ref(text: &str) -> ImportProjectRef {
    if let Some((project, role)) = text.rsplit_once(':') {
        let role = role.trim();
        if matches!(role, "owner" | "member" | "viewer") {
            return ImportProjectRef {
                project: ProjectKey::IdOrName(project.trim().to_owned()),
                role: Some(role.to_owned()),
            };
        }
    }
    ImportProjectRef {
        project: ProjectKey::IdOrName(text.trim().to_owned()),
        role: None,
    }
}

/// Fill `row` from one JSON Lines object.
fn json_row(text: &str, row: &mut ImportRow) -> Result<(), String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("not a JSON object: {}", without_position(&e)))?;
    let Value::Object(object) = value else {
        return Err("not a JSON object; each line holds one object with an \"email\"".into());
    };
    // The email first, so that an invalid line still names whose it is.
    match object.get("email") {
        Some(Value::String(email)) => row.email = email.clone(),
        Some(_) => return Err("\"email\" must be a string".into()),
        None => return Err("the \"email\" field is missing".into()),
    }
    let unknown: Vec<String> = object
        .keys()
        .filter(|k| !matches!(k.as_str(), "email" | "name" | "role" | "projects"))
        .map(|k| format!("\"{}\"", clip_key(k)))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown field{} {}; the fields are email, name, role, projects",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        ));
    }
    row.name = optional_string(&object, "name")?;
    row.role = optional_string(&object, "role")?;
    match object.get("projects") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                row.projects.push(json_project(i, item)?);
            }
        }
        Some(_) => {
            return Err(
                "\"projects\" must be an array of \"PROJECT[:ROLE]\" strings or {\"id\"|\"name\", \"role\"} objects"
                    .into(),
            )
        }
    }
    Ok(())
}

fn json_project(i: usize, item: &Value) -> Result<ImportProjectRef, String> {
    match item {
        Value::String(text) => Ok(project_ref(text)),
        Value::Object(object) => {
            if let Some(k) = object
                .keys()
                .find(|k| !matches!(k.as_str(), "id" | "name" | "role"))
            {
                return Err(format!(
                    "projects[{i}]: unknown field \"{}\"; a project is {{\"id\" or \"name\", \"role\"}}",
                    clip_key(k)
                ));
            }
            let project = match (
                optional_string(object, "id")?,
                optional_string(object, "name")?,
            ) {
                (Some(id), None) => ProjectKey::Id(id),
                (None, Some(name)) => ProjectKey::Name(name),
                _ => {
                    return Err(format!(
                        "projects[{i}]: give exactly one of \"id\" and \"name\""
                    ))
                }
            };
            Ok(ImportProjectRef {
                project,
                role: optional_string(object, "role")
                    .map_err(|e| format!("projects[{i}]: {e}"))?,
            })
        }
        _ => Err(format!(
            "projects[{i}] must be a \"PROJECT[:ROLE]\" string or an {{\"id\"|\"name\", \"role\"}} object"
        )),
    }
}

fn optional_string(
    object: &serde_json::Map<String, Value>,
    field: &str,
) -> Result<Option<String>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("\"{field}\" must be a string")),
    }
}

fn clip_key(key: &str) -> String {
    orgadmin_core::import::clip(key)
}

/// serde_json's message without "at line 1 column 5" (the line is the file's, reported apart).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => format!("{} (column {})", &text[..at], e.column()),
        None => text,
    }
}

/// Physical lines of the input, numbered; the byte-order mark of the first is dropped.
struct Lines {
    input: Box<dyn BufRead + Send>,
    /// Lines read so far.
    line: u64,
    buf: Vec<u8>,
}

impl Lines {
    fn new(input: Box<dyn BufRead + Send>) -> Self {
        Self {
            input,
            line: 0,
            buf: Vec::with_capacity(256),
        }
    }

    /// Append the next physical line (with its line end) to `buf`; false at the end.
    fn read_more(&mut self) -> io::Result<bool> {
        let start = self.buf.len();
        let n = self.input.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.line == 1 && self.buf[start..].starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(start..start + 3);
        }
        Ok(true)
    }

    /// The next line that is not blank, without its line end, as text.
    fn next_line(&mut self) -> io::Result<Option<(u64, Result<String, String>)>> {
        loop {
            self.buf.clear();
            if !self.read_more()? {
                return Ok(None);
            }
            let text = trim_line_end(&self.buf);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let text = std::str::from_utf8(text)
                .map(str::to_owned)
                .map_err(|_| "the line is not UTF-8 text".to_owned());
            return Ok(Some((self.line, text)));
        }
    }

    /// The next CSV record that is not a blank line: its first line and its fields (or why it
    /// cannot be read). A quoted field may go on over several lines.
    fn csv_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            self.buf.clear();
            if !self.read_more()? {
                return Ok(None);
            }
            if trim_line_end(&self.buf).iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let first = self.line;
            loop {
                match parse_csv(&self.buf) {
                    Parsed::Record(fields) => return Ok(Some((first, fields))),
                    Parsed::OpenQuote => {
                        if !self.read_more()? {
                            return Ok(Some((
                                first,
                                Err("a quoted field is not closed: the file ends inside it".into()),
                            )));
                        }
                    }
                }
            }
        }
    }
}

/// A CSV record: the line it starts on, and its fields or why they cannot be read.
type Record = (u64, Result<Vec<String>, String>);

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

enum Parsed {
    Record(Result<Vec<String>, String>),
    /// The record goes on past the end of the text read so far, inside a quoted field.
    OpenQuote,
}

/// One RFC 4180 record from `text` (one or more physical lines, the last with its line end).
/// Fields may be quoted; a doubled quote inside quotes is a quote; commas and line breaks
/// inside quotes belong to the field. Spaces before an opening or after a closing quote are
/// ignored.
fn parse_csv(text: &[u8]) -> Parsed {
    #[derive(PartialEq)]
    enum State {
        Start,
        Unquoted,
        Quoted,
        AfterQuote,
    }
    let mut fields = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut state = State::Start;
    let mut problem: Option<String> = None;
    let body = trim_line_end(text);
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        match state {
            State::Start => match b {
                b'"' => {
                    field.clear();
                    state = State::Quoted;
                }
                b',' => fields.push(std::mem::take(&mut field)),
                b' ' | b'\t' => field.push(b),
                _ => {
                    field.push(b);
                    state = State::Unquoted;
                }
            },
            State::Unquoted => match b {
                b',' => {
                    fields.push(std::mem::take(&mut field));
                    state = State::Start;
                }
                b'"' => {
                    problem.get_or_insert_with(|| {
                        format!(
                            "field {} has a quote inside an unquoted value; quote the whole field and double the quote (\"a \"\"b\"\" c\")",
                            fields.len() + 1
                        )
                    });
                    field.push(b);
                }
                _ => field.push(b),
            },
            State::Quoted => match b {
                b'"' => state = State::AfterQuote,
                _ => field.push(b),
            },
            State::AfterQuote => match b {
                b'"' => {
                    field.push(b'"');
                    state = State::Quoted;
                }
                b',' => {
                    fields.push(std::mem::take(&mut field));
                    state = State::Start;
                }
                b' ' | b'\t' => {}
                _ => {
                    problem.get_or_insert_with(|| {
                        format!(
                            "field {} has text after its closing quote; double a quote inside a quoted field (\"a \"\"b\"\" c\")",
                            fields.len() + 1
                        )
                    });
                    field.push(b);
                }
            },
        }
        i += 1;
    }
    if state == State::Quoted {
        // The line end belongs to the field, which goes on.
        return Parsed::OpenQuote;
    }
    fields.push(field);
    if let Some(problem) = problem {
        return Parsed::Record(Err(problem));
    }
    Parsed::Record(
        fields
            .into_iter()
            .map(String::from_utf8)
            .collect::<Result<_, _>>()
            .map_err(|_| "the row is not UTF-8 text".to_owned()),
    )
}

/// The rows of a file, for the progress bar: its lines that are not blank, less a CSV header.
/// (A quoted field over several lines makes this an overestimate; the bar stops at the end.)
fn count_rows(path: &str, format: InputFormat) -> Option<u64> {
    let mut file = BufReader::with_capacity(1 << 16, File::open(path).ok()?);
    let mut rows = 0u64;
    let mut blank = true;
    let mut chunk = [0u8; 1 << 16];
    loop {
        let n = file.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        for &b in &chunk[..n] {
            if b == b'\n' {
                if !blank {
                    rows += 1;
                }
                blank = true;
            } else if !b.is_ascii_whitespace() {
                blank = false;
            }
        }
    }
    if !blank {
        rows += 1;
    }
    Some(match format {
        InputFormat::Csv => rows.saturating_sub(1),
        InputFormat::Jsonl => rows,
    })
}

fn progress_wanted() -> bool {
    io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// A progress bar on standard error while rows are imported: rows done (of the total, when
/// known) and the rate. Drawn only on a terminal (and not with `TERM=dumb`), at most ten times
/// a second; cleared when done.
struct Progress {
    enabled: bool,
    total: Option<u64>,
    done: u64,
    started: Instant,
    drawn_at: Option<Instant>,
}

impl Progress {
    fn new(total: Option<u64>) -> Self {
        Self {
            enabled: progress_wanted(),
            total,
            done: 0,
            started: Instant::now(),
            drawn_at: None,
        }
    }

    fn tick(&mut self) {
        self.done += 1;
        if !self.enabled || self.done % 256 != 0 {
            return;
        }
        let now = Instant::now();
        let due = match self.drawn_at {
            None => now - self.started >= Duration::from_millis(200),
            Some(at) => now - at >= Duration::from_millis(100),
        };
        if due {
            self.draw(now);
        }
    }

    fn draw(&mut self, now: Instant) {
        let seconds = (now - self.started).as_secs_f64().max(0.001);
        let rate = self.done as f64 / seconds;
        const WIDTH: usize = 30;
        let line = match self.total {
            Some(total) if total > 0 => {
                let done = self.done.min(total);
                let filled = (done as f64 / total as f64 * WIDTH as f64) as usize;
                format!(
                    "importing users [{}{}] {done}/{total} rows, {rate:.0} rows/s",
                    "#".repeat(filled),
                    "-".repeat(WIDTH - filled),
                )
            }
            _ => format!("importing users… {} rows, {rate:.0} rows/s", self.done),
        };
        let mut stderr = io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{line}");
        let _ = stderr.flush();
        self.drawn_at = Some(now);
    }

    /// Every row is read: what remains is the last writes and the commit.
    fn read_all(&mut self) {
        if self.enabled && self.drawn_at.is_some() {
            let mut stderr = io::stderr().lock();
            let _ = write!(
                stderr,
                "\r\x1b[2Kimporting users: {} rows read, finishing and committing…",
                self.done
            );
            let _ = stderr.flush();
        }
    }

    fn clear(&mut self) {
        if self.drawn_at.take().is_some() {
            let mut stderr = io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, format: InputFormat) -> Result<Vec<ImportRow>, String> {
        let input: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
        let rows = Rows::new(input, format).map_err(|e| match e {
            ReadError::Usage(m) => m,
            ReadError::Io(e) => e.to_string(),
        })?;
        Ok(rows.map(|r| r.unwrap()).collect())
    }

    fn csv(text: &str) -> Vec<ImportRow> {
        rows(text, InputFormat::Csv).unwrap()
    }

    #[test]
    fn csv_fields_may_be_quoted_with_commas_quotes_and_line_breaks_inside() {
        let got = csv("\u{feff}Name,EMAIL,role\r\n\"Hopper, Grace\",grace@example.com,owner\r\n\r\n\"Ada \"\"the first\"\"\nLovelace\",ada@example.com,\r\n  \n\"\",x@example.com,reader");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].line, 2);
        assert_eq!(got[0].name.as_deref(), Some("Hopper, Grace"));
        assert_eq!(got[0].email, "grace@example.com");
        assert_eq!(got[0].role.as_deref(), Some("owner"));
        assert_eq!(got[1].line, 4);
        assert_eq!(got[1].name.as_deref(), Some("Ada \"the first\"\nLovelace"));
        assert_eq!(got[1].role.as_deref(), Some(""));
        assert_eq!(got[2].line, 7);
        assert_eq!(got[2].name.as_deref(), Some(""));
        assert!(got.iter().all(|r| r.problem.is_none()), "{got:#?}");
    }

    #[test]
    fn csv_rows_that_cannot_be_read_are_invalid_by_line() {
        let got = csv("email,name\na@x.io,\"open\nb@x.io,x\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].line, 2);
        assert!(got[0].problem.as_deref().unwrap().contains("not closed"));

        let got = csv("email,name\na@x.io,Ada,extra\nb@x.io,Bo\"b\nc@x.io,\"C\"x\nd@x.io\n");
        assert!(got[0].problem.as_deref().unwrap().contains("3 fields"));
        assert!(got[1].problem.as_deref().unwrap().contains("quote inside"));
        assert!(got[2]
            .problem
            .as_deref()
            .unwrap()
            .contains("after its closing quote"));
        // Fewer fields than columns: the missing ones are empty.
        assert_eq!(got[3].problem, None);
        assert_eq!(got[3].email, "d@x.io");
    }

    #[test]
    fn csv_headers_are_checked_before_anything_is_read() {
        let e = rows("email,nmae,colour\n", InputFormat::Csv).unwrap_err();
        assert!(e.contains("unknown columns 'nmae', 'colour'"), "{e}");
        let e = rows("name,role\n", InputFormat::Csv).unwrap_err();
        assert!(e.contains("no 'email' column"), "{e}");
        let e = rows("email,Email\n", InputFormat::Csv).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = rows("\n\n", InputFormat::Csv).unwrap_err();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn csv_projects_are_a_semicolon_list_with_optional_roles() {
        let got = csv("email,projects\na@x.io,Gateway:owner; proj_1 ;Team: Blue;;Ops:admin\n");
        let projects: Vec<(ProjectKey, Option<String>)> = got[0]
            .projects
            .iter()
            .map(|p| (p.project.clone(), p.role.clone()))
            .collect();
        assert_eq!(
            projects,
            [
                (ProjectKey::IdOrName("Gateway".into()), Some("owner".into())),
                (ProjectKey::IdOrName("proj_1".into()), None),
                (ProjectKey::IdOrName("Team: Blue".into()), None),
                (ProjectKey::IdOrName("Ops:admin".into()), None),
            ]
        );
    }

    #[test]
    fn json_lines_are_objects_with_known_fields() {
        let got = rows(
            "\u{feff}{\"email\": \"a@x.io\", \"name\": \"A\", \"role\": null, \"projects\": [\"Gateway:viewer\", {\"id\": \"proj_1\", \"role\": \"owner\"}, {\"name\": \"Ops\"}]}\r\n\n{\"email\": \"b@x.io\", \"nmae\": \"B\"}\n[1]\n{\"name\": \"C\"}\n{\"email\": \"d@x.io\", \"projects\": [{\"id\": \"p\", \"name\": \"q\"}]}\n{not json\n",
            InputFormat::Jsonl,
        )
        .unwrap();
        assert_eq!(got.len(), 6);
        assert_eq!(got[0].line, 1);
        assert_eq!(got[0].problem, None);
        assert_eq!(got[0].name.as_deref(), Some("A"));
        assert_eq!(got[0].role, None);
        assert_eq!(
            got[0]
                .projects
                .iter()
                .map(|p| (p.project.clone(), p.role.clone()))
                .collect::<Vec<_>>(),
            [
                (
                    ProjectKey::IdOrName("Gateway".into()),
                    Some("viewer".into())
                ),
                (ProjectKey::Id("proj_1".into()), Some("owner".into())),
                (ProjectKey::Name("Ops".into()), None),
            ]
        );
        assert_eq!(got[1].line, 3);
        assert_eq!(got[1].email, "b@x.io");
        assert!(got[1]
            .problem
            .as_deref()
            .unwrap()
            .contains("unknown field \"nmae\""));
        assert!(got[2]
            .problem
            .as_deref()
            .unwrap()
            .contains("not a JSON object"));
        assert!(got[3]
            .problem
            .as_deref()
            .unwrap()
            .contains("\"email\" field is missing"));
        assert!(got[4]
            .problem
            .as_deref()
            .unwrap()
            .contains("exactly one of"));
        assert!(got[5]
            .problem
            .as_deref()
            .unwrap()
            .contains("not a JSON object"));
    }

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
}
