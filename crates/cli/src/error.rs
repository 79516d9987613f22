//! What can go wrong in a command, how it is reported on standard error, and the exit status
//! each kind gives. One table, so a script can tell "the API said no" from "I typed it wrong"
//! from "the server is not there":
//!
//! | status | kind | when |
//! | --- | --- | --- |
//! | 0 | success | also when the reader of standard output went away (`… \| head`) |
//! | 1 | [`CliError::Api`], [`CliError::Refused`] | the API answered with an error; `init` found an initialized database; the database cannot be used (not SQLite, not writable, disk full, unsupported server or newer schema) |
//! | 2 | [`CliError::Usage`] | the command line is wrong; found before any request (clap's own errors exit 2 too) |
//! | 3 | [`CliError::Connection`] | no answer: connection refused, name not resolved, timed out, connection lost, database unreachable |
//! | 4 | [`CliError::Response`] | an answer that is not the Admin API's (not JSON, or not the expected object) |
//! | 5 | [`CliError::Local`] | a local failure: writing the output, an unexpected database error |

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use orgadmin_api::ErrorDetail;

/// Exit statuses (see the module documentation).
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const API: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const CONNECTION: u8 = 3;
    pub const RESPONSE: u8 = 4;
    pub const LOCAL: u8 = 5;
}

#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong; nothing was sent.
    Usage {
        message: String,
        /// The command to ask for `--help` on, e.g. `admin organization users update`.
        command: String,
    },
    /// The server answered with an error status.
    Api(Box<ApiFailure>),
    /// No answer at all.
    Connection {
        message: String,
        hint: Option<String>,
    },
    /// An answer that is not what the Admin API sends.
    Response {
        message: String,
        request_id: Option<String>,
    },
    /// Server-side administration refused the request (e.g. `init` on an initialized database).
    Refused { message: String },
    /// A local failure.
    Local { message: String },
    /// Standard output was closed by its reader: stop quietly.
    BrokenPipe,
}

/// What the server answered when it refused a request.
#[derive(Debug)]
pub struct ApiFailure {
    pub status: u16,
    pub reason: String,
    /// The OpenAI error envelope, when the answer carried one.
    pub error: Option<ErrorDetail>,
    /// The start of a body that was not the envelope (a proxy's HTML page, …).
    pub body: Option<String>,
    pub request_id: Option<String>,
    /// `GET http://…/v1/organization/users/user-…`
    pub request: String,
    /// `Retry-After` of a 429 or 503 that was still refused after the last retry.
    pub retry_after: Option<u64>,
}

impl CliError {
    pub fn usage(command: impl Into<String>, message: impl Into<String>) -> Self {
        CliError::Usage {
            message: message.into(),
            command: command.into(),
        }
    }

    pub fn local(message: impl Into<String>) -> Self {
        CliError::Local {
            message: message.into(),
        }
    }

    /// An error writing standard output: a closed pipe ends the command quietly.
    pub fn output(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::local(format!("writing the output: {e}"))
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Api(_) | CliError::Refused { .. } => exit::API,
            CliError::Usage { .. } => exit::USAGE,
            CliError::Connection { .. } => exit::CONNECTION,
            CliError::Response { .. } => exit::RESPONSE,
            CliError::Local { .. } => exit::LOCAL,
            CliError::BrokenPipe => exit::SUCCESS,
        }
    }

    /// The report for standard error (empty for a broken pipe). `styled` colours the first
    /// word, for a terminal that has not asked for `NO_COLOR`.
    pub fn render(&self, styled: bool) -> String {
        let label = if styled {
            "\x1b[1;31merror:\x1b[0m"
        } else {
            "error:"
        };
        let mut out = String::new();
        match self {
            CliError::BrokenPipe => {}
            CliError::Usage { message, command } => {
                let _ = writeln!(out, "{label} {message}");
                let _ = writeln!(out);
                let target = if command.is_empty() {
                    "orgadmin --help".to_owned()
                } else {
                    format!("orgadmin {command} --help")
                };
                let _ = writeln!(out, "For more information, try '{target}'.");
            }
            CliError::Api(failure) => {
                let ApiFailure {
                    status,
                    reason,
                    error,
                    body,
                    request_id,
                    request,
                    retry_after,
                } = &**failure;
                let message = error
                    .as_ref()
                    .map(|e| e.message.as_str())
                    .filter(|m| !m.is_empty())
                    .unwrap_or("The server refused the request.");
                let _ = writeln!(out, "{label} {}", clean(message));
                field(&mut out, "status", Some(&format!("{status} {reason}")));
                if let Some(e) = error {
                    field(&mut out, "type", Some(&e.kind));
                    field(&mut out, "code", e.code.as_deref());
                    field(&mut out, "param", e.param.as_deref());
                }
                field(&mut out, "request", Some(request));
                field(&mut out, "request id", request_id.as_deref());
                if let Some(seconds) = retry_after {
                    field(&mut out, "retry after", Some(&format!("{seconds}s")));
                }
                field(&mut out, "body", body.as_deref());
            }
            CliError::Connection { message, hint } => {
                let _ = writeln!(out, "{label} {}", clean(message));
                field(&mut out, "hint", hint.as_deref());
            }
            CliError::Response {
                message,
                request_id,
            } => {
                let _ = writeln!(out, "{label} {}", clean(message));
                field(&mut out, "request id", request_id.as_deref());
            }
            CliError::Refused { message } | CliError::Local { message } => {
                let _ = writeln!(out, "{label} {}", clean(message));
            }
        }
        out
    }

    /// Write the report to standard error.
    pub fn report(&self) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(self.render(stderr_styled()).as_bytes());
        let _ = stderr.flush();
    }
}

/// Is standard error a terminal that may be coloured (`NO_COLOR` unset or empty)?
pub fn stderr_styled() -> bool {
    std::io::stderr().is_terminal() && colour_allowed()
}

/// `NO_COLOR` (<https://no-color.org>): present and not empty turns colour off. `TERM=dumb` too.
pub fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

fn field(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        let _ = writeln!(out, "  {:<12}{}", format!("{name}:"), clean(value));
    }
}

/// Text from the server or the user, safe to print on a terminal: control characters (an
/// escape sequence in a name, a newline in a message) are shown escaped, not interpreted.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::output(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_error_names_status_code_message_param_and_request_id() {
        let error = CliError::Api(Box::new(ApiFailure {
            status: 404,
            reason: "Not Found".into(),
            error: Some(ErrorDetail {
                message: "No user found with id 'user-x'.".into(),
                kind: "invalid_request_error".into(),
                param: Some("user_id".into()),
                code: Some("not_found".into()),
            }),
            body: None,
            request_id: Some("req_1".into()),
            request: "GET http://h/v1/organization/users/user-x".into(),
            retry_after: None,
        }));
        assert_eq!(
            error.render(false),
            "error: No user found with id 'user-x'.\n  status:     404 Not Found\n  type:       invalid_request_error\n  code:       not_found\n  param:      user_id\n  request:    GET http://h/v1/organization/users/user-x\n  request id: req_1\n"
        );
        assert_eq!(error.exit_code(), exit::API);
    }

    #[test]
    fn control_characters_from_the_server_are_shown_escaped() {
        assert_eq!(clean("a\x1b[2Jb\nc"), "a\\u{1b}[2Jb\\nc");
    }

    #[test]
    fn a_broken_pipe_exits_quietly_with_success() {
        let e = CliError::output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(e.exit_code(), exit::SUCCESS);
        assert_eq!(e.render(true), "");
    }
}
