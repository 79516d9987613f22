//! The readers of import files: CSV and JSON Lines into [`ImportRow`]s, one physical line at a
//! time, with no I/O of their own, so the server can feed them a request body as it arrives and
//! the command line a file as it reads it.
//!
//! The CSV reader is RFC 4180 (quoted fields, doubled quotes, commas and line breaks inside
//! quotes), with a header row naming the columns in any order; a byte-order mark and CRLF line
//! ends are accepted, blank lines ignored. JSON Lines holds one object per line. A line that
//! cannot be read is an invalid row (with its line number and why), never the end of the file;
//! only a file that cannot be an import file at all (no header row, unknown or repeated columns)
//! is a [`FileError`].

use std::io::{self, BufRead};

use serde_json::Value;

use super::{clip, ImportProjectRef, ImportRow, ProjectKey};

/// The two formats of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// JSON Lines (also called NDJSON): one object per line.
    JsonLines,
}

/// Why a file cannot be an import file at all: nothing of it is imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError(pub String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileError {}

/// The columns of a CSV file, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    Name,
    Role,
    Projects,
}

/// The columns a CSV header may name, for messages.
pub const COLUMNS: &str = "email (required), name, role, projects";

/// Turns the physical lines of an import file into rows. Feed it every line as read (with its
/// line end, if it has one) with [`line`](Self::line), then call [`end`](Self::end) once.
#[derive(Debug)]
pub struct RowParser {
    format: ImportFormat,
    /// The CSV header, by position, once read.
    header: Option<Vec<Column>>,
    /// Physical lines seen so far.
    line: u64,
    /// A CSV record not yet complete (inside a quoted field), and the line it starts on.
    record: Vec<u8>,
    record_line: u64,
}

impl RowParser {
    pub fn new(format: ImportFormat) -> Self {
        Self {
            format,
            header: None,
            line: 0,
            record: Vec::new(),
            record_line: 0,
        }
    }

    /// Whether everything before the first row has been read: always for JSON Lines, after
    /// the header row for CSV.
    pub fn header_read(&self) -> bool {
        self.format == ImportFormat::JsonLines || self.header.is_some()
    }

    /// One physical line, with its line end if it has one. Gives the row that it completes, if
    /// any; a header that cannot be one is a [`FileError`].
    pub fn line(&mut self, line: &[u8]) -> Result<Option<ImportRow>, FileError> {
        self.line += 1;
        let line = if self.line == 1 {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        match self.format {
            ImportFormat::JsonLines => Ok(jsonl_row(self.line, line)),
            ImportFormat::Csv => {
                if self.record.is_empty() {
                    if is_blank(line) {
                        return Ok(None);
                    }
                    self.record_line = self.line;
                }
                self.record.extend_from_slice(line);
                match parse_csv(&self.record) {
                    Parsed::OpenQuote => Ok(None),
                    Parsed::Record(fields) => {
                        self.record.clear();
                        self.csv_record(fields)
                    }
                }
            }
        }
    }

    /// The input ended: a CSV record left open inside quotes is an invalid row, and a CSV file
    /// without a header row is a [`FileError`].
    pub fn end(&mut self) -> Result<Option<ImportRow>, FileError> {
        if self.format == ImportFormat::JsonLines {
            return Ok(None);
        }
        if !self.record.is_empty() {
            self.record.clear();
            return self.csv_record(Err(
                "a quoted field is not closed: the file ends inside it".into()
            ));
        }
        if self.header.is_none() {
            return Err(FileError(format!(
                "the file is empty; a CSV import starts with a header row naming its columns: {COLUMNS}"
            )));
        }
        Ok(None)
    }

    fn csv_record(
        &mut self,
        fields: Result<Vec<String>, String>,
    ) -> Result<Option<ImportRow>, FileError> {
        let line = self.record_line;
        let Some(header) = &self.header else {
            self.header = Some(read_header(line, fields)?);
            return Ok(None);
        };
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        let fields = match fields {
            Ok(fields) => fields,
            Err(message) => {
                row.problem = Some(message);
                return Ok(Some(row));
            }
        };
        for (column, value) in header.iter().zip(fields.iter()) {
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
        if fields.len() > header.len() {
            row.problem = Some(format!(
                "the row has {} fields but the header names {} columns; quote a value holding a comma (\"Hopper, Grace\")",
                fields.len(),
                header.len()
            ));
        }
        Ok(Some(row))
    }
}

fn read_header(line: u64, fields: Result<Vec<String>, String>) -> Result<Vec<Column>, FileError> {
    let fields = fields
        .map_err(|m| FileError(format!("the header row (line {line}) cannot be read: {m}")))?;
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
                unknown.push(format!("'{}'", clip(field.trim())));
                continue;
            }
        };
        if header.contains(&column) {
            return Err(FileError(format!(
                "the header names the column '{name}' twice"
            )));
        }
        header.push(column);
    }
    if !unknown.is_empty() {
        return Err(FileError(format!(
            "unknown column{} {} in the header; the columns are {COLUMNS}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        )));
    }
    if !header.contains(&Column::Email) {
        return Err(FileError(format!(
            "the header has no 'email' column; the columns are {COLUMNS}"
        )));
    }
    Ok(header)
}

fn is_blank(line: &[u8]) -> bool {
    trim_line_end(line).iter().all(u8::is_ascii_whitespace)
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The row of one JSON Lines line; none for a blank line.
fn jsonl_row(line: u64, text: &[u8]) -> Option<ImportRow> {
    if is_blank(text) {
        return None;
    }
    let mut row = ImportRow {
        line,
        ..ImportRow::default()
    };
    match std::str::from_utf8(trim_line_end(text)) {
        Err(_) => row.problem = Some("the line is not UTF-8 text".to_owned()),
        Ok(text) => {
            if let Err(message) = json_row(text, &mut row) {
                row.problem = Some(message);
            }
        }
    }
    Some(row)
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
    for &b in trim_line_end(text) {
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
        .map(|k| format!("\"{}\"", clip(k)))
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
                    clip(k)
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

/// serde_json's message without "at line 1 column 5" (the line is the file's, reported apart).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => format!("{} (column {})", &text[..at], e.column()),
        None => text,
    }
}

/// Why reading rows from a file stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The file cannot be an import file.
    File(FileError),
    Io(io::Error),
}

/// The rows of a file read with blocking I/O, one line at a time.
pub struct ReadRows<R> {
    input: R,
    parser: RowParser,
    buf: Vec<u8>,
    ended: bool,
}

impl<R: BufRead> ReadRows<R> {
    pub fn new(input: R, format: ImportFormat) -> Self {
        Self {
            input,
            parser: RowParser::new(format),
            buf: Vec::with_capacity(256),
            ended: false,
        }
    }
}

impl<R: BufRead> Iterator for ReadRows<R> {
    type Item = Result<ImportRow, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.ended {
            self.buf.clear();
            let step = match self.input.read_until(b'\n', &mut self.buf) {
                Err(e) => {
                    self.ended = true;
                    return Some(Err(ReadError::Io(e)));
                }
                Ok(0) => {
                    self.ended = true;
                    self.parser.end()
                }
                Ok(_) => self.parser.line(&self.buf),
            };
            match step {
                Ok(None) => {}
                Ok(Some(row)) => return Some(Ok(row)),
                Err(e) => {
                    self.ended = true;
                    return Some(Err(ReadError::File(e)));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, format: ImportFormat) -> Result<Vec<ImportRow>, String> {
        ReadRows::new(text.as_bytes(), format)
            .map(|r| {
                r.map_err(|e| match e {
                    ReadError::File(e) => e.0,
                    ReadError::Io(e) => e.to_string(),
                })
            })
            .collect()
    }

    fn csv(text: &str) -> Vec<ImportRow> {
        rows(text, ImportFormat::Csv).unwrap()
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
        let e = rows("email,nmae,colour\n", ImportFormat::Csv).unwrap_err();
        assert!(e.contains("unknown columns 'nmae', 'colour'"), "{e}");
        let e = rows("name,role\n", ImportFormat::Csv).unwrap_err();
        assert!(e.contains("no 'email' column"), "{e}");
        let e = rows("email,Email\n", ImportFormat::Csv).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = rows("\n\n", ImportFormat::Csv).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = rows("\"email\n", ImportFormat::Csv).unwrap_err();
        assert!(e.contains("header row (line 1) cannot be read"), "{e}");
    }

    #[test]
    fn the_header_is_read_as_soon_as_its_line_is() {
        let mut parser = RowParser::new(ImportFormat::Csv);
        assert!(!parser.header_read());
        assert_eq!(parser.line(b"\n"), Ok(None));
        assert!(!parser.header_read(), "a blank line is no header");
        assert_eq!(parser.line(b"email,name\r\n"), Ok(None));
        assert!(parser.header_read());
        // A row goes on inside quotes, and is numbered by its first line.
        assert_eq!(parser.line(b"a@x.io,\"A\n"), Ok(None));
        let row = parser.line(b"B\"").unwrap().unwrap();
        assert_eq!((row.line, row.name.as_deref()), (3, Some("A\nB")));
        assert_eq!(parser.end(), Ok(None));
        assert!(RowParser::new(ImportFormat::JsonLines).header_read());
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
            ImportFormat::JsonLines,
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
        let bad = got[5].problem.as_deref().unwrap();
        assert!(bad.contains("not a JSON object"), "{bad}");
        assert!(bad.contains("(column 2)"), "{bad}");
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_invalid_row() {
        let mut parser = RowParser::new(ImportFormat::JsonLines);
        let row = parser.line(b"{\"email\": \"\xff\"}\n").unwrap().unwrap();
        assert_eq!(row.problem.as_deref(), Some("the line is not UTF-8 text"));
        let mut parser = RowParser::new(ImportFormat::Csv);
        parser.line(b"email\n").unwrap();
        let row = parser.line(b"\xff@x.io\n").unwrap().unwrap();
        assert_eq!(row.problem.as_deref(), Some("the row is not UTF-8 text"));
    }
}
