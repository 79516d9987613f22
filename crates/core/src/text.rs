//! The one rule for text a client gives and the API stores and returns (names, descriptions,
//! profile fields, external key IDs): bounded length, and nothing that a terminal or a list would
//! show as something else than what is stored.

use crate::error::DomainError;

/// Check `value`, given for the field `param`: at most `max_chars` characters, no control
/// character (C0 including tab, CR and LF; DEL; C1, which covers ESC sequences and OSC), and no
/// invisible formatting character ([`is_invisible_format`]). The message names the field.
pub fn check(value: &str, param: &str, max_chars: usize) -> Result<(), DomainError> {
    if value.chars().count() > max_chars {
        return Err(DomainError::invalid(
            param,
            format!("{param} must be at most {max_chars} characters."),
        ));
    }
    if let Some(why) = problem(value) {
        return Err(DomainError::invalid(
            param,
            format!("{param} must not contain {why}."),
        ));
    }
    Ok(())
}

/// A name given for `param` (a project's, a group's, a custom role's): trimmed, not empty, and
/// then [`check`]ed at 255 characters. Returns the trimmed name, as it is stored.
pub fn name(raw: &str, param: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(DomainError::invalid(
            param,
            format!("{param} must not be empty."),
        ));
    }
    check(name, param, 255)?;
    Ok(name.to_owned())
}

/// What [`check`] refuses in `value` apart from its length, as a phrase ("control characters"),
/// for callers that word their own message (the import report, the CLI's offline checks).
pub fn problem(value: &str) -> Option<&'static str> {
    if value.chars().any(char::is_control) {
        return Some("control characters");
    }
    if value.chars().any(is_invisible_format) {
        return Some(
            "invisible formatting characters (zero-width, soft hyphen, byte-order mark or text-direction control)",
        );
    }
    None
}

/// Characters that render as nothing, or reorder what follows: two values differing only by them
/// would look identical in every list, and a text-direction override makes a value read as
/// another.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// How much of a client's input an error message repeats.
pub const SHOWN_CHARS: usize = 64;

/// `text` as an error message may repeat it: cut to [`SHOWN_CHARS`] characters (an ellipsis
/// says so) with control characters escaped. The one way input is echoed back.
pub fn clip(text: &str) -> String {
    clip_to(text, SHOWN_CHARS)
}

/// [`clip`] to `max` characters.
pub fn clip_to(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_are_refused_with_the_field_named() {
        for bad in [
            "a\u{1B}[31mred",
            "a\u{1B}]8;;https://x\u{7}link",
            "line\r\nbreak",
            "tab\there",
            "del\u{7F}",
            "c1\u{9B}31m",
            "zero\u{200B}width",
            "\u{202E}reversed",
            "bom\u{FEFF}",
        ] {
            let err = check(bad, "description", 1000).unwrap_err();
            assert_eq!(err.param(), Some("description"), "{bad:?}");
        }
    }

    #[test]
    fn ordinary_text_passes_and_length_counts_characters() {
        check(
            "Reads the audit log — für Prüfer, 監査",
            "description",
            1000,
        )
        .unwrap();
        check(&"é".repeat(255), "name", 255).unwrap();
        let err = check(&"é".repeat(256), "name", 255).unwrap_err();
        assert!(err.to_string().contains("at most 255"), "{err}");
    }
}
