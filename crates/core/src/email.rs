//! Email addresses: parsed once at the boundary, and one identity rule for comparing them
//! everywhere (uniqueness, invites, imports, filters).
//!
//! Two spellings are the same address when they are canonically equivalent (NFC, so `josé` typed
//! precomposed or with a combining accent is one person), their domains are the same IDNA domain
//! (`exämple.com` is `xn--exmple-cua.com`), and they differ only by case under Unicode case
//! folding. A compatibility look-alike (a fullwidth letter, a ligature, the Kelvin sign `K` for
//! `K`) is refused rather than merged with the address it imitates, so nobody can take
//! `kate@example.com` by registering `\u{212A}ate@example.com` first. All three algorithms come
//! from one ICU4X release (the IDNA mapping uses it too), so they read one Unicode version.

use std::borrow::Cow;
use std::fmt;

use icu_casemap::CaseMapper;
use icu_normalizer::properties::{CanonicalDecomposition, Decomposed};
use icu_normalizer::{ComposingNormalizer, DecomposingNormalizer};
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use crate::error::DomainError;

/// Longest address accepted (RFC 5321 limits a path to 256 octets including brackets).
const MAX_EMAIL_LEN: usize = 254;

/// A syntactically plausible email address. Keeps the spelling the client gave (in NFC) for
/// display, and the identity form ([`normalized`](Self::normalized)) for comparison and
/// uniqueness.
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
                format!(
                    "'{}' is not a valid email address: {why}.",
                    crate::text::clip(raw)
                ),
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
        if let Some(c) = compatibility_look_alike(trimmed) {
            return Err(invalid(&format!(
                "it contains '{c}' (U+{:04X}), a compatibility form that looks like other characters; type the plain letters or digits instead",
                u32::from(c)
            )));
        }
        let display = nfc(trimmed).into_owned();
        let Some((local, domain)) = display.rsplit_once('@') else {
            return Err(invalid("it has no '@'"));
        };
        if local.is_empty() || domain.is_empty() || local.contains('@') {
            return Err(invalid("it needs exactly one '@' with text on both sides"));
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(invalid("its domain is malformed"));
        }
        let Some(domain) = idna_domain(domain) else {
            return Err(invalid(
                "its domain is not a valid internationalized domain name",
            ));
        };
        let normalized = format!("{}@{domain}", fold(local));
        Ok(Self {
            display,
            normalized,
        })
    }

    /// Rebuild from storage, where the value was validated when it was written. Gives the same
    /// identity form as [`parse`](Self::parse) for every address `parse` accepts; for a value
    /// stored under an older, looser rule it never fails, falling back to case folding the
    /// domain where IDNA refuses it.
    pub fn from_stored(display: String) -> Self {
        let normalized = identity(&display);
        Self {
            display,
            normalized,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form used for comparison: NFC, case folded, the domain in IDNA ASCII form.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The identity form of a filter value (`emails`, `actor_emails`): `None` when the value is
    /// not an address [`parse`](Self::parse) accepts, and so can match no member.
    pub fn filter_key(raw: &str) -> Option<String> {
        Self::parse(raw, "emails").ok().map(|e| e.normalized)
    }
}

/// The identity form of any stored address, without failing (see [`Email::from_stored`]).
pub fn identity(stored: &str) -> String {
    let display = nfc(stored.trim());
    match display.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = idna_domain(domain).unwrap_or_else(|| fold(domain));
            format!("{}@{domain}", fold(local))
        }
        None => fold(&display),
    }
}

fn nfc(s: &str) -> Cow<'_, str> {
    ComposingNormalizer::new_nfc().normalize(s)
}

/// Unicode canonical caseless form (D145 of the Unicode standard: NFD, full case folding,
/// NFD), recomposed to NFC so it stays short and readable in the database.
fn fold(s: &str) -> String {
    let nfd = DecomposingNormalizer::new_nfd().normalize(s);
    let folded = CaseMapper::new().fold_string(&nfd);
    nfc(&folded).into_owned()
}

/// The domain in the ASCII form of UTS 46 (non-transitional, as browsers and mail systems use),
/// which also folds its case; `None` if IDNA refuses it. ASCII domains are checked no more
/// strictly than before (no ASCII deny list): only what IDNA itself requires.
fn idna_domain(domain: &str) -> Option<String> {
    Uts46::new()
        .to_ascii(
            domain.as_bytes(),
            AsciiDenyList::EMPTY,
            Hyphens::Allow,
            DnsLength::Ignore,
        )
        .ok()
        .map(Cow::into_owned)
}

/// The first character of `s` that is a compatibility look-alike: one that NFKC maps to other
/// characters (fullwidth forms, ligatures, superscripts, letterlike symbols), or whose canonical
/// decomposition is a single other character (the Kelvin sign for `K`, the Ohm sign for `Ω`,
/// the Angstrom sign for `Å`), which NFC would otherwise silently merge.
fn compatibility_look_alike(s: &str) -> Option<char> {
    let decompose = CanonicalDecomposition::new();
    if let Some(c) = s
        .chars()
        .find(|&c| matches!(decompose.decompose(c), Decomposed::Singleton(_)))
    {
        return Some(c);
    }
    let nfc = ComposingNormalizer::new_nfc();
    let nfkc = ComposingNormalizer::new_nfkc();
    if nfkc.is_normalized(&nfc.normalize(s)) {
        return None;
    }
    s.chars()
        .find(|&c| {
            let mut buf = [0u8; 4];
            let one = c.encode_utf8(&mut buf);
            !nfkc.is_normalized(&nfc.normalize(one))
        })
        .or(s.chars().next())
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
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

    #[test]
    fn canonically_equivalent_spellings_are_one_address() {
        let composed = Email::parse("jos\u{E9}@example.com", "email").unwrap();
        let decomposed = Email::parse("jose\u{301}@example.com", "email").unwrap();
        assert_eq!(composed.normalized(), decomposed.normalized());
        // Shown in NFC, whichever way it was typed.
        assert_eq!(decomposed.as_str(), "jos\u{E9}@example.com");
    }

    #[test]
    fn a_unicode_domain_and_its_ascii_form_are_one_address() {
        let unicode = Email::parse("bob@ex\u{E4}mple.com", "email").unwrap();
        let ascii = Email::parse("bob@xn--exmple-cua.com", "email").unwrap();
        let upper = Email::parse("BOB@EX\u{C4}MPLE.COM", "email").unwrap();
        assert_eq!(unicode.normalized(), "bob@xn--exmple-cua.com");
        assert_eq!(ascii.normalized(), unicode.normalized());
        assert_eq!(upper.normalized(), unicode.normalized());
        assert_eq!(unicode.as_str(), "bob@ex\u{E4}mple.com");
    }

    #[test]
    fn case_is_compared_by_unicode_case_folding() {
        let a = Email::parse("STRASSE@example.com", "email").unwrap();
        let b = Email::parse("stra\u{DF}e@example.com", "email").unwrap();
        assert_eq!(a.normalized(), b.normalized());
        let sigma =
            Email::parse("\u{3A3}\u{3BF}\u{3C6}\u{3B9}\u{3B1}@example.com", "email").unwrap();
        let final_sigma =
            Email::parse("\u{3C2}\u{3BF}\u{3C6}\u{3B9}\u{3B1}@example.com", "email").unwrap();
        assert_eq!(sigma.normalized(), final_sigma.normalized());
    }

    #[test]
    fn compatibility_look_alikes_are_refused_not_merged() {
        for bad in [
            "\u{212A}ate@example.com",     // KELVIN SIGN
            "\u{2126}mega@example.com",    // OHM SIGN
            "\u{212B}ngstrom@example.com", // ANGSTROM SIGN
            "\u{FF4B}ate@example.com",     // FULLWIDTH LATIN SMALL LETTER K
            "kate@ex\u{FF41}mple.com",     // fullwidth in the domain
            "\u{FB01}nance@example.com",   // LATIN SMALL LIGATURE FI
            "user\u{B2}@example.com",      // SUPERSCRIPT TWO
            "\u{2167}@example.com",        // ROMAN NUMERAL EIGHT
            "kate@example\u{FF0E}com",     // FULLWIDTH FULL STOP
            "owner\u{FF20}example.com",    // FULLWIDTH COMMERCIAL AT
        ] {
            let err = Email::parse(bad, "email").unwrap_err();
            assert_eq!(err.param(), Some("email"), "{bad}");
            assert!(err.to_string().contains("compatibility"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_domain_idna_refuses_is_refused() {
        for bad in ["a@xn--zz.com", "a@xn--a.com"] {
            let err = Email::parse(bad, "email").unwrap_err();
            assert_eq!(err.param(), Some("email"), "{bad}");
        }
    }

    #[test]
    fn a_stored_address_has_the_identity_it_had_when_parsed() {
        for raw in [
            "Ada@Example.COM",
            "jose\u{301}@example.com",
            "bob@EX\u{C4}MPLE.com",
            "stra\u{DF}e@example.com",
            "\u{0430}da@example.com",
        ] {
            let parsed = Email::parse(raw, "email").unwrap();
            let stored = Email::from_stored(parsed.as_str().to_owned());
            assert_eq!(stored.normalized(), parsed.normalized(), "{raw}");
            // And what an older release stored, as typed: the same identity.
            assert_eq!(identity(raw), parsed.normalized(), "{raw}");
        }
        // A value from before these rules never fails to rebuild.
        assert_eq!(identity("x@xn--zz.COM"), "x@xn--zz.com");
    }

    #[test]
    fn a_filter_value_that_is_no_address_matches_nothing() {
        assert_eq!(Email::filter_key("\u{212A}ate@example.com"), None);
        assert_eq!(Email::filter_key("nobody"), None);
        assert_eq!(
            Email::filter_key(" BOB@ex\u{E4}mple.com "),
            Some("bob@xn--exmple-cua.com".to_owned())
        );
    }
}
