//! Email addresses: parsed once at the boundary, compared case-insensitively everywhere.

use std::fmt;

use crate::error::DomainError;

/// Longest address accepted (RFC 5321 limits a path to 256 octets including brackets).
const MAX_EMAIL_LEN: usize = 254;

/// A syntactically plausible email address. Keeps the spelling the client gave for display and
/// a lower-cased form for comparison and uniqueness.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email {
    display: String,
    normalized: String,
}

impl Email {
    /// Parse an address given for the field `param`.
    pub fn parse(raw: &str, param: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        let invalid = |why: &str| {
            DomainError::invalid(
                param,
                format!("'{}' is not a valid email address: {why}.", truncate(raw)),
            )
        };
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if trimmed.len() > MAX_EMAIL_LEN {
            return Err(invalid("it is longer than 254 characters"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it contains whitespace or control characters"));
        }
        if trimmed.chars().any(crate::text::is_invisible_format) {
            return Err(invalid(
                "it contains an invisible formatting character (zero-width, byte-order mark or text-direction control)",
            ));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(invalid("it has no '@'"));
        };
        if local.is_empty() || domain.is_empty() || local.contains('@') {
            return Err(invalid("it needs exactly one '@' with text on both sides"));
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(invalid("its domain is malformed"));
        }
        Ok(Self {
            display: trimmed.to_owned(),
            normalized: trimmed.to_lowercase(),
        })
    }

    /// Rebuild from storage, where the value was validated when it was written.
    pub fn from_stored(display: String) -> Self {
        let normalized = display.to_lowercase();
        Self {
            display,
            normalized,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form used for comparison: lower case.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 64 {
        let head: String = s.chars().take(64).collect();
        format!("{head}…")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_ignoring_case() {
        let a = Email::parse("Ada@Example.COM", "email").unwrap();
        let b = Email::parse("ada@example.com", "email").unwrap();
        assert_eq!(a.normalized(), b.normalized());
        assert_eq!(a.as_str(), "Ada@Example.COM");
    }

    #[test]
    fn malformed_emails_are_refused_with_the_field_named() {
        for bad in [
            "",
            "no-at",
            "@example.com",
            "a@",
            "a b@example.com",
            "a@b@c",
            "a@.com",
            "a\0@x.com",
            "owner\u{200B}@example.com",
            "owner@exam\u{200D}ple.com",
            "\u{FEFF}owner@example.com",
            "owner@\u{202E}moc.elpmaxe",
        ] {
            let err = Email::parse(bad, "email").unwrap_err();
            assert_eq!(err.param(), Some("email"), "{bad}");
        }
    }

    #[test]
    fn look_alike_letters_are_distinct_addresses() {
        // Cyrillic 'а' is a letter of its own: a different, valid address.
        let latin = Email::parse("ada@example.com", "email").unwrap();
        let cyrillic = Email::parse("\u{0430}da@example.com", "email").unwrap();
        assert_ne!(latin.normalized(), cyrillic.normalized());
    }
}
