//! Output formats for standard output, and the progress indicator for standard error.
//!
//! - `json`: an object pretty-printed; a list page as the API's envelope (with `has_more` and its
//!   cursor); `--all` as one JSON array, streamed item by item.
//! - `jsonl`: one compact JSON object per line (list items without their envelope).
//! - `yaml`: like `json`; `--all` as one YAML sequence, streamed.
//! - `table`: for people. Lists as aligned columns chosen per resource, timestamps in UTC
//!   (RFC 3339); single objects as `field  value` lines. `--all` prints rows page by page.
//! - `auto`: `table` when standard output is a terminal, `json` otherwise.
//!
//! `--transform PATH` (a subset of the GJSON paths the official CLI takes: `id`, `owner.email`,
//! `permissions.0`, `projects.#.id`, `permissions.#`) prints, instead, the selected part of the
//! object — or of each list item — as one JSON value per line; with `--raw-output` strings are
//! printed bare.
//!
//! JSON and YAML are written from the `orgadmin_api` types themselves, so fields keep the API's
//! order and names. Text that came from the server is printed escaped in tables: a name holding an
//! escape sequence cannot reach the terminal.

use std::future::Future;
use std::io::{self, BufWriter, IsTerminal, Stdout, Write};
use std::time::Duration;

use serde::Serialize;
use serde_norway::Value as Tree;

use crate::error::{clean, colour_allowed, CliError};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// A table on a terminal, JSON otherwise.
    Auto,
    Json,
    /// JSON Lines: one object per line.
    Jsonl,
    Yaml,
    Table,
}

/// The format actually written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsonl,
    Yaml,
    Table,
}

impl FormatArg {
    /// `auto` becomes `table` on a terminal and `otherwise` elsewhere.
    pub fn resolve(self, stdout_is_terminal: bool, otherwise: Format) -> Format {
        match self {
            FormatArg::Auto if stdout_is_terminal => Format::Table,
            FormatArg::Auto => otherwise,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Yaml => Format::Yaml,
            FormatArg::Table => Format::Table,
        }
    }
}

/// How one column of a list table is filled from an object.
#[derive(Clone, Copy)]
pub enum Cell {
    /// A field (dotted path); arrays of scalars joined with commas.
    Text(&'static str),
    /// A Unix timestamp field, shown in UTC.
    Time(&'static str),
    /// The number of elements of an array field.
    Count(&'static str),
    /// Anything else, computed from the whole object.
    With(fn(&Tree) -> String),
}

#[derive(Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub cell: Cell,
}

impl Column {
    pub const fn new(header: &'static str, cell: Cell) -> Self {
        Column { header, cell }
    }
}

/// How a list is shown: what it holds (for messages) and its table columns.
pub struct View {
    /// Plural noun: "users", "roles", …
    pub noun: &'static str,
    pub columns: &'static [Column],
}

pub struct Output {
    format: Format,
    out: BufWriter<Stdout>,
    /// Bold table headers: standard output is a terminal and colour is allowed.
    styled: bool,
    /// `--transform`: print this part of each object, one per line.
    selection: Option<Selection>,
}

impl Output {
    pub fn new(format: Format) -> Self {
        let stdout = io::stdout();
        let styled = stdout.is_terminal() && colour_allowed();
        Self {
            format,
            out: BufWriter::new(stdout),
            styled,
            selection: None,
        }
    }

    /// Print only the part of each object `selection` picks (`--transform`).
    pub fn with_selection(mut self, selection: Option<Selection>) -> Self {
        self.selection = selection;
        self
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Is a `--transform` in force?
    pub fn has_selection(&self) -> bool {
        self.selection.is_some()
    }

    /// Are list items printed without their envelope (so the cursor is not on standard output)?
    pub fn prints_items(&self) -> bool {
        self.selection.is_some() || matches!(self.format, Format::Table | Format::Jsonl)
    }

    /// One object (retrieve, create, update, delete).
    pub fn object<T: Serialize>(&mut self, value: &T) -> Result<(), CliError> {
        if let Some(selection) = &self.selection {
            let text = selection.line(value)?;
            return self.write(&text);
        }
        let text = match self.format {
            Format::Json => json_pretty(value)? + "\n",
            Format::Jsonl => json_line(value)? + "\n",
            Format::Yaml => yaml(value)?,
            Format::Table => fields_table(&tree(value)?),
        };
        self.write(&text)
    }

    /// One page of a list: the envelope in JSON and YAML, the items in JSON Lines and tables.
    pub fn page<L: Serialize, T: Serialize>(
        &mut self,
        envelope: &L,
        items: &[T],
        view: &View,
    ) -> Result<(), CliError> {
        if self.selection.is_some() {
            let mut stream = self.stream(view);
            stream.push(items)?;
            return stream.finish();
        }
        match self.format {
            Format::Json => {
                let text = json_pretty(envelope)? + "\n";
                self.write(&text)
            }
            Format::Yaml => {
                let text = yaml(envelope)?;
                self.write(&text)
            }
            Format::Jsonl | Format::Table => {
                let mut stream = self.stream(view);
                stream.push(items)?;
                stream.finish()
            }
        }
    }

    /// A list written as its pages arrive (`--all`).
    pub fn stream<'a>(&'a mut self, view: &'a View) -> Stream<'a> {
        Stream {
            output: self,
            view,
            count: 0,
            widths: Vec::new(),
        }
    }

    fn write(&mut self, text: &str) -> Result<(), CliError> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        Ok(())
    }
}

/// A list being written item by item, in any format, as one valid document.
pub struct Stream<'a> {
    output: &'a mut Output,
    view: &'a View,
    count: usize,
    /// Table column widths so far (they only grow).
    widths: Vec<usize>,
}

impl Stream<'_> {
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn push<T: Serialize>(&mut self, items: &[T]) -> Result<(), CliError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        if let Some(selection) = &self.output.selection {
            for item in items {
                text.push_str(&selection.line(item)?);
                self.count += 1;
            }
            return self.output.write(&text);
        }
        match self.output.format {
            Format::Json => {
                for item in items {
                    text.push_str(if self.count == 0 { "[\n" } else { ",\n" });
                    let pretty = json_pretty(item)?;
                    for (i, line) in pretty.lines().enumerate() {
                        if i > 0 {
                            text.push('\n');
                        }
                        text.push_str("  ");
                        text.push_str(line);
                    }
                    self.count += 1;
                }
            }
            Format::Jsonl => {
                for item in items {
                    text.push_str(&json_line(item)?);
                    text.push('\n');
                    self.count += 1;
                }
            }
            Format::Yaml => {
                for item in items {
                    text.push_str(&yaml(&[item])?);
                    self.count += 1;
                }
            }
            Format::Table => {
                let columns = self.view.columns;
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|item| {
                        let t = tree(item)?;
                        Ok(columns.iter().map(|c| cell(&t, c.cell)).collect())
                    })
                    .collect::<Result<_, CliError>>()?;
                let first = self.count == 0;
                if first {
                    self.widths = columns.iter().map(|c| c.header.len()).collect();
                }
                for row in &rows {
                    for (w, value) in self.widths.iter_mut().zip(row) {
                        *w = (*w).max(value.chars().count());
                    }
                }
                if first {
                    let header: Vec<String> = columns.iter().map(|c| c.header.into()).collect();
                    let line = aligned(&header, &self.widths);
                    if self.output.styled {
                        text.push_str(&format!("\x1b[1m{line}\x1b[0m\n"));
                    } else {
                        text.push_str(&line);
                        text.push('\n');
                    }
                }
                for row in &rows {
                    text.push_str(&aligned(row, &self.widths));
                    text.push('\n');
                }
                self.count += rows.len();
            }
        }
        self.output.write(&text)
    }

    /// Close the document (`]` of a JSON array, `[]` for an empty one).
    pub fn finish(self) -> Result<(), CliError> {
        if self.output.selection.is_some() {
            return Ok(());
        }
        let text = match (self.output.format, self.count) {
            (Format::Json, 0) => "[]\n",
            (Format::Json, _) => "\n]\n",
            (Format::Yaml, 0) => "[]\n",
            (Format::Table, 0) => {
                let mut stderr = io::stderr().lock();
                let _ = writeln!(stderr, "No {} found.", self.view.noun);
                ""
            }
            _ => "",
        };
        if text.is_empty() {
            return Ok(());
        }
        self.output.write(text)
    }
}

/// A `--transform` path and whether strings are printed bare (`--raw-output`).
#[derive(Debug, Clone)]
pub struct Selection {
    path: Vec<Step>,
    raw: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    /// A position in an array (or a key made of digits in an object).
    Index(usize),
    /// `#`: every element of an array (their number, when last).
    Each,
}

impl Selection {
    /// Parse `a.b.0.#.c`; an empty path selects the whole object.
    pub fn parse(path: &str, raw: bool) -> Result<Self, String> {
        let path = path.trim();
        let steps = if path.is_empty() {
            Vec::new()
        } else {
            path.split('.')
                .map(|part| match part {
                    "" => Err(format!(
                        "'{path}' has an empty step; write steps like owner.email"
                    )),
                    "#" => Ok(Step::Each),
                    digits if digits.bytes().all(|b| b.is_ascii_digit()) => digits
                        .parse()
                        .map(Step::Index)
                        .map_err(|_| format!("'{digits}' is too large an index")),
                    key => Ok(Step::Key(key.to_owned())),
                })
                .collect::<Result<_, _>>()?
        };
        Ok(Self { path: steps, raw })
    }

    /// The selected part of `value` as one line.
    fn line<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, CliError> {
        let value = serde_json::to_value(value)
            .map_err(|e| CliError::local(format!("encoding JSON: {e}")))?;
        let picked = select(&value, &self.path);
        let mut line = match (&picked, self.raw) {
            (serde_json::Value::String(s), true) => s.clone(),
            _ => json_line(&picked)?,
        };
        line.push('\n');
        Ok(line)
    }
}

fn select(value: &serde_json::Value, path: &[Step]) -> serde_json::Value {
    use serde_json::Value;
    let Some((step, rest)) = path.split_first() else {
        return value.clone();
    };
    match (step, value) {
        (Step::Key(key), Value::Object(map)) => {
            map.get(key).map_or(Value::Null, |v| select(v, rest))
        }
        (Step::Index(i), Value::Array(items)) => {
            items.get(*i).map_or(Value::Null, |v| select(v, rest))
        }
        (Step::Index(i), Value::Object(map)) => map
            .get(&i.to_string())
            .map_or(Value::Null, |v| select(v, rest)),
        (Step::Each, Value::Array(items)) if rest.is_empty() => Value::from(items.len()),
        (Step::Each, Value::Array(items)) => {
            Value::Array(items.iter().map(|v| select(v, rest)).collect())
        }
        _ => Value::Null,
    }
}

fn json_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value).map_err(|e| CliError::local(format!("encoding JSON: {e}")))
}

fn json_line<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    serde_json::to_string(value).map_err(|e| CliError::local(format!("encoding JSON: {e}")))
}

fn yaml<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    serde_norway::to_string(value).map_err(|e| CliError::local(format!("encoding YAML: {e}")))
}

/// A value as a tree that keeps field order, for tables.
fn tree<T: Serialize + ?Sized>(value: &T) -> Result<Tree, CliError> {
    serde_norway::to_value(value).map_err(|e| CliError::local(format!("encoding a table: {e}")))
}

/// Cells padded to their column's width, two spaces apart; no trailing blanks.
fn aligned(cells: &[String], widths: &[usize]) -> String {
    let mut line = String::new();
    let last = cells.len().saturating_sub(1);
    for (i, (value, width)) in cells.iter().zip(widths).enumerate() {
        line.push_str(value);
        if i < last {
            let pad = width.saturating_sub(value.chars().count()) + 2;
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    line
}

/// The field at a dotted path.
fn at<'a>(value: &'a Tree, path: &str) -> Option<&'a Tree> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn cell(value: &Tree, cell: Cell) -> String {
    match cell {
        Cell::Text(path) => at(value, path).map(text).unwrap_or_else(|| "-".into()),
        Cell::Time(path) => at(value, path).map(time).unwrap_or_else(|| "-".into()),
        Cell::Count(path) => match at(value, path) {
            Some(Tree::Sequence(items)) => items.len().to_string(),
            _ => "-".into(),
        },
        Cell::With(f) => f(value),
    }
}

/// A scalar (or an array of scalars) as one table cell; `-` for null or empty.
pub fn text(value: &Tree) -> String {
    match value {
        Tree::Null => "-".into(),
        Tree::Bool(b) => b.to_string(),
        Tree::Number(n) => n.to_string(),
        Tree::String(s) if s.is_empty() => "-".into(),
        Tree::String(s) => clean(s),
        Tree::Sequence(items) if items.is_empty() => "-".into(),
        Tree::Sequence(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        Tree::Mapping(_) | Tree::Tagged(_) => serde_json::to_string(value)
            .map(|s| clean(&s))
            .unwrap_or_default(),
    }
}

/// A Unix timestamp as `YYYY-MM-DDTHH:MM:SSZ`; `-` for null.
fn time(value: &Tree) -> String {
    match value.as_i64() {
        Some(seconds) => rfc3339(seconds),
        None => text(value),
    }
}

pub use orgadmin_core::clock::rfc3339;

/// A single object as `field  value` lines; nested objects as dotted names, arrays of objects
/// with their index. Fields ending in `_at` holding a number are timestamps.
fn fields_table(value: &Tree) -> String {
    let mut rows = Vec::new();
    flatten("", value, &mut rows);
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in rows {
        out.push_str(&format!("{key:<width$}  {value}\n"));
    }
    out
}

fn flatten(prefix: &str, value: &Tree, rows: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Tree::Mapping(map) if !map.is_empty() => {
            for (key, v) in map {
                let key = match key {
                    Tree::String(s) => clean(s),
                    other => text(other),
                };
                flatten(&join(&key), v, rows);
            }
        }
        Tree::Sequence(items) if items.iter().any(|v| v.is_mapping() || v.is_sequence()) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, rows);
            }
        }
        Tree::Mapping(_) => rows.push((prefix.to_owned(), "{}".into())),
        Tree::Sequence(items) if items.is_empty() => rows.push((prefix.to_owned(), "[]".into())),
        Tree::Sequence(items) => rows.push((
            prefix.to_owned(),
            items.iter().map(text).collect::<Vec<_>>().join(", "),
        )),
        Tree::Number(_) if prefix.ends_with("_at") => rows.push((prefix.to_owned(), time(value))),
        other => rows.push((prefix.to_owned(), text(other))),
    }
}

/// A spinner on standard error while `--all` fetches pages, with the count so far. Drawn only
/// when standard error is a terminal; cleared before rows are written and when done.
pub struct Progress {
    enabled: bool,
    noun: &'static str,
    count: usize,
    frame: usize,
    drawn: bool,
}

const FRAMES: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

impl Progress {
    pub fn new(noun: &'static str) -> Self {
        let enabled =
            io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        Self {
            enabled,
            noun,
            count: 0,
            frame: 0,
            drawn: false,
        }
    }

    /// Await `work`, spinning meanwhile (after a short delay, so fast pages do not flicker).
    pub async fn wait<F: Future>(&mut self, work: F) -> F::Output {
        if !self.enabled {
            return work.await;
        }
        let work = std::pin::pin!(work);
        let mut work = work;
        let start = tokio::time::Instant::now() + Duration::from_millis(150);
        let mut tick = tokio::time::interval_at(start, Duration::from_millis(100));
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = tick.tick() => self.draw(),
            }
        }
    }

    pub fn add(&mut self, n: usize) {
        self.count += n;
    }

    fn draw(&mut self) {
        self.frame = (self.frame + 1) % FRAMES.len();
        let mut stderr = io::stderr().lock();
        let _ = write!(
            stderr,
            "\r\x1b[2K{} fetching {}… {} so far",
            FRAMES[self.frame], self.noun, self.count
        );
        let _ = stderr.flush();
        self.drawn = true;
    }

    pub fn clear(&mut self) {
        if self.drawn {
            let mut stderr = io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            self.drawn = false;
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

    #[test]
    fn timestamps_are_shown_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_711_471_533), "2024-03-26T16:45:33Z");
        assert_eq!(rfc3339(951_825_600), "2000-02-29T12:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn a_single_object_is_shown_field_by_field_in_its_own_order() {
        let value = serde_json::json!({"id": "x", "owner": {"id": "u", "added_at": 0}, "tags": ["a", "b"], "none": null});
        let table = fields_table(&tree(&value).unwrap());
        // serde_json sorts keys; the tree keeps whatever order it was given.
        assert_eq!(
            table,
            "id              x\nnone            -\nowner.added_at  1970-01-01T00:00:00Z\nowner.id        u\ntags            a, b\n"
        );
    }

    #[test]
    fn table_cells_escape_control_characters() {
        let value = tree(&serde_json::json!({"name": "a\u{1b}[31mb"})).unwrap();
        assert_eq!(cell(&value, Cell::Text("name")), "a\\u{1b}[31mb");
    }

    #[test]
    fn transform_paths_select_like_gjson() {
        let value = serde_json::json!({
            "id": "x",
            "owner": {"email": "a@b"},
            "projects": [{"id": "p1"}, {"id": "p2"}],
        });
        let pick =
            |path: &str, raw: bool| Selection::parse(path, raw).unwrap().line(&value).unwrap();
        assert_eq!(pick("id", false), "\"x\"\n");
        assert_eq!(pick("id", true), "x\n");
        assert_eq!(pick("owner.email", true), "a@b\n");
        assert_eq!(pick("projects.1.id", true), "p2\n");
        assert_eq!(pick("projects.#.id", true), "[\"p1\",\"p2\"]\n");
        assert_eq!(pick("projects.#", false), "2\n");
        assert_eq!(pick("missing.field", true), "null\n");
        assert!(Selection::parse("a..b", false).is_err());
    }

    #[test]
    fn cells_are_aligned_without_trailing_blanks() {
        assert_eq!(
            aligned(&["ID".into(), "EMAIL".into()], &[4, 10]),
            "ID    EMAIL"
        );
    }
}
