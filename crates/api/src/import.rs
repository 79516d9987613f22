//! The answers of the bulk import (`POST /v1/organization/users/import`, an orgadmin extension):
//! the summary of what was (or, in a dry run, would be) created, updated and skipped, with every
//! invalid row by line; and the 400 that refuses a file with invalid rows, which carries the same
//! summary beside the error envelope.

use orgadmin_core::import::{ImportError, ImportReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ErrorDetail;

/// `import.summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportSummary {
    /// Always `import.summary`.
    pub object: String,
    /// Members added to the organization.
    pub created: u64,
    /// Members whose role, name or listed project memberships changed.
    pub updated: u64,
    /// Rows that change nothing (and, with `skip_invalid`, not the invalid rows: those are
    /// `invalid`).
    pub skipped: u64,
    pub invalid: u64,
    /// The invalid rows, by line.
    pub errors: Vec<ImportRowError>,
    pub dry_run: bool,
    /// Whether the changes were written: false in a dry run, and when invalid rows without
    /// `skip_invalid` made the import write nothing.
    pub committed: bool,
}

/// An invalid row of an import file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportRowError {
    /// The line of the file where the row starts (a CSV file's header is line 1).
    pub line: u64,
    /// The email as the row gives it, when it gives one.
    pub email: Option<String>,
    /// Why the row is invalid, with the field or column at fault.
    pub message: String,
}

/// The answer to a file with invalid rows imported without `skip_invalid`: 400, the error
/// envelope (code `invalid_rows`, param `file`), and the summary with every invalid row.
/// Nothing was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportRefusal {
    pub error: ErrorDetail,
    pub summary: ImportSummary,
}

impl From<ImportError> for ImportRowError {
    fn from(e: ImportError) -> Self {
        Self {
            line: e.line,
            email: e.email,
            message: e.message,
        }
    }
}

impl From<ImportReport> for ImportSummary {
    fn from(r: ImportReport) -> Self {
        Self {
            object: "import.summary".into(),
            created: r.created,
            updated: r.updated,
            skipped: r.skipped,
            invalid: r.invalid,
            errors: r.errors.into_iter().map(ImportRowError::from).collect(),
            dry_run: r.dry_run,
            committed: r.committed,
        }
    }
}
