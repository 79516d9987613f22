//! Bulk import of organization members (`POST /v1/organization/users/import`, which
//! `orgadmin import users FILE` streams a file to): the rows a reader hands the store, what each
//! row asks for once checked, and the report of the outcome.
//!
//! A reader ([`read`]: CSV, JSON Lines) turns each line into an [`ImportRow`] holding the values as given;
//! [`ImportRow::check`] applies the same rules as the API (email syntax, roles, name length) and
//! the store does the rest inside one transaction: project lookup, duplicates within the file,
//! the last-owner rule, and what to create, update or leave alone.

use std::collections::HashSet;

use async_trait::async_trait;
use serde::Serialize;

use crate::email::Email;
use crate::id::ProjectId;
use crate::role::{OrgBaseRole, ProjectBaseRole};

/// Longest display name accepted (as when accepting an invite).
pub const MAX_NAME_CHARS: usize = 255;

/// How a row names a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectKey {
    /// `proj_…` or an exact name: an ID when a project has it, a name otherwise.
    IdOrName(String),
    Id(String),
    Name(String),
}

/// One project a row lists, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProjectRef {
    pub project: ProjectKey,
    /// `owner`, `member` or `viewer`; `None` when not given.
    pub role: Option<String>,
}

/// One row of an import file, with the values as given (not yet checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportRow {
    /// The line of the file where the row starts (the header is line 1 of a CSV file).
    pub line: u64,
    pub email: String,
    /// `None` (or empty) when not given: an existing member's name is then left as it is.
    pub name: Option<String>,
    /// `owner` or `reader`; `None` (or empty) when not given: `reader` for a new member, an
    /// existing member's role is left as it is.
    pub role: Option<String>,
    pub projects: Vec<ImportProjectRef>,
    /// Set by the reader when it could not read the row (malformed JSON, a field of the wrong
    /// type, an unknown field, …): the row is invalid with this message.
    pub problem: Option<String>,
}

/// A row that passed the checks that need no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRow {
    pub email: Email,
    pub name: Option<String>,
    pub role: Option<OrgBaseRole>,
    pub projects: Vec<(ProjectKey, Option<ProjectBaseRole>)>,
}

impl ImportRow {
    /// Apply the rules that need no database; the error is a message a person can act on.
    pub fn check(&self) -> Result<CheckedRow, String> {
        if let Some(problem) = &self.problem {
            return Err(problem.clone());
        }
        let email = Email::parse(&self.email, "email").map_err(|e| e.to_string())?;
        let name = match self.name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) if name.chars().count() > MAX_NAME_CHARS => {
                return Err(format!(
                    "the name is {} characters long; at most {MAX_NAME_CHARS} are allowed.",
                    name.chars().count()
                ))
            }
            Some(name) if crate::text::problem(name).is_some() => {
                return Err(format!(
                    "the name contains {}.",
                    crate::text::problem(name).unwrap_or_default()
                ))
            }
            Some(name) => Some(name.to_owned()),
        };
        let role = match self.role.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(role) => Some(OrgBaseRole::parse(role, "role").map_err(|e| e.to_string())?),
        };
        let mut projects = Vec::with_capacity(self.projects.len());
        for p in &self.projects {
            let key = match &p.project {
                ProjectKey::IdOrName(s) => ProjectKey::IdOrName(s.trim().to_owned()),
                ProjectKey::Id(s) => ProjectKey::Id(s.trim().to_owned()),
                ProjectKey::Name(s) => ProjectKey::Name(s.trim().to_owned()),
            };
            let text = match &key {
                ProjectKey::IdOrName(s) | ProjectKey::Id(s) | ProjectKey::Name(s) => s,
            };
            if text.is_empty() {
                return Err("a project is named by an empty string; give its ID or name.".into());
            }
            let role = match p.role.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(role) => Some(
                    ProjectBaseRole::parse(role, "projects")
                        .map_err(|e| format!("project '{}': {e}", clip(text)))?,
                ),
            };
            projects.push((key, role));
        }
        Ok(CheckedRow {
            email,
            name,
            role,
            projects,
        })
    }
}

pub use crate::text::clip;

/// Which projects the importing key may add members to or change members of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProjectAccess {
    /// Every project (`api.organization.projects.users.write`).
    #[default]
    All,
    /// Only these (`api.project.users.write` held in each).
    Only(HashSet<ProjectId>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Check every row and report what would happen; write nothing.
    pub dry_run: bool,
    /// Import the valid rows even when some are invalid. Without it, one invalid row means
    /// nothing at all is written.
    pub skip_invalid: bool,
    /// The projects the key may manage the members of; a row naming another is invalid.
    pub project_access: ProjectAccess,
}

/// An invalid row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub line: u64,
    /// The email as given, when the row has one.
    pub email: Option<String>,
    pub message: String,
}

/// What an import did (or, in a dry run or when it was refused, would have done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub invalid: u64,
    /// The invalid rows, by line.
    pub errors: Vec<ImportError>,
    pub dry_run: bool,
    /// Whether the changes were written: false in a dry run, and when invalid rows without
    /// `skip_invalid` made the import write nothing.
    pub committed: bool,
}

pub mod read;

pub use read::{FileError, ImportFormat, ReadError, ReadRows, RowParser};

/// Where the rows of an import come from, read as the store consumes them, so a file of any
/// length is never held in memory whole: a request body as it arrives, or any iterator of rows.
/// An error (the input could not be read to its end) ends the import with nothing written.
#[async_trait]
pub trait ImportSource: Send {
    /// The next row; `None` at the end of the input.
    async fn next_row(&mut self) -> std::io::Result<Option<ImportRow>>;
}

#[async_trait]
impl<I> ImportSource for I
where
    I: Iterator<Item = std::io::Result<ImportRow>> + Send,
{
    async fn next_row(&mut self) -> std::io::Result<Option<ImportRow>> {
        self.next().transpose()
    }
}

/// The rows of an import, as the store takes them.
pub type ImportRows<'a> = &'a mut dyn ImportSource;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(email: &str) -> ImportRow {
        ImportRow {
            line: 2,
            email: email.into(),
            ..ImportRow::default()
        }
    }

    #[test]
    fn rows_are_checked_like_api_requests() {
        let ok = ImportRow {
            name: Some("  Ada  ".into()),
            role: Some("owner".into()),
            projects: vec![ImportProjectRef {
                project: ProjectKey::IdOrName("Gateway".into()),
                role: Some("viewer".into()),
            }],
            ..row(" Ada@Example.com ")
        }
        .check()
        .unwrap();
        assert_eq!(ok.email.normalized(), "ada@example.com");
        assert_eq!(ok.name.as_deref(), Some("Ada"));
        assert_eq!(ok.role, Some(OrgBaseRole::Owner));
        assert_eq!(
            ok.projects,
            [(
                ProjectKey::IdOrName("Gateway".into()),
                Some(ProjectBaseRole::Viewer)
            )]
        );
        let blank = ImportRow {
            name: Some(" ".into()),
            role: Some("".into()),
            ..row("a@b.c")
        }
        .check()
        .unwrap();
        assert_eq!((blank.name, blank.role), (None, None));

        for (bad, needle) in [
            (row("not-an-email"), "not a valid email"),
            (
                ImportRow {
                    role: Some("admin".into()),
                    ..row("a@b.c")
                },
                "'admin' is not an organization role",
            ),
            (
                ImportRow {
                    name: Some("x".repeat(256)),
                    ..row("a@b.c")
                },
                "at most 255",
            ),
            (
                ImportRow {
                    name: Some("a\u{1b}b".into()),
                    ..row("a@b.c")
                },
                "control characters",
            ),
            (
                ImportRow {
                    projects: vec![ImportProjectRef {
                        project: ProjectKey::Name("Gateway".into()),
                        role: Some("admin".into()),
                    }],
                    ..row("a@b.c")
                },
                "project 'Gateway': 'admin' is not a project role",
            ),
            (
                ImportRow {
                    problem: Some("unknown field `nmae`".into()),
                    ..row("a@b.c")
                },
                "unknown field",
            ),
        ] {
            let message = bad.check().unwrap_err();
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }
}
