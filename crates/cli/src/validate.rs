//! Checks made on the command line before any request, with the rules of `orgadmin_core` where
//! it has them (email syntax, the permission catalogue, audit event types), so a typo is a usage
//! error (exit 2) that names the fix rather than a round trip to the server.

use orgadmin_core::audit::KNOWN_EVENT_TYPES;
use orgadmin_core::permission::PermissionScope;
use orgadmin_core::{Email, Permission};

/// An email address, as the server would accept it.
pub fn email(raw: &str) -> Result<String, String> {
    Email::parse(raw, "email")
        .map(|e| e.to_string())
        .map_err(|e| e.to_string())
}

/// A permission of the catalogue (SPEC §6).
pub fn permission(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if Permission::from_name(name).is_some() {
        return Ok(name.to_owned());
    }
    let names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    Err(match nearest(name, &names) {
        Some(near) => format!("not a permission; did you mean '{near}'?"),
        None => format!(
            "not a permission; the permissions are: {}",
            names.join(", ")
        ),
    })
}

/// A permission a project API key may be limited to: a project permission, or one of those that
/// fit both scopes (the API key permissions), as the server requires.
pub fn project_permission(raw: &str) -> Result<String, String> {
    let name = permission(raw)?;
    match Permission::from_name(&name) {
        Some(p) if !p.fits(PermissionScope::Project) => Err(format!(
            "'{name}' is an organization permission; a project API key's scopes are project \
             permissions (api.project.*, api.model.request, …)"
        )),
        _ => Ok(name),
    }
}

/// An audit log event type the server knows.
pub fn event_type(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if KNOWN_EVENT_TYPES.contains(&name) {
        return Ok(name.to_owned());
    }
    Err(match nearest(name, KNOWN_EVENT_TYPES) {
        Some(near) => format!("not an audit log event type; did you mean '{near}'?"),
        None => format!(
            "not an audit log event type; they are: {}",
            KNOWN_EVENT_TYPES.join(", ")
        ),
    })
}

/// The candidate closest to `given` by edit distance, if it is close enough to be a typo.
fn nearest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = 3.max(given.chars().count() / 8);
    candidates
        .iter()
        .map(|c| (distance(given, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// Text the API stores: not empty, no control characters.
pub fn text(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(why) = orgadmin_core::text::problem(raw) {
        return Err(format!("must not contain {why}"));
    }
    Ok(raw.to_owned())
}

/// An object ID as given: not empty, no whitespace or control characters.
pub fn id(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Err("must not be empty".into());
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_permission_suggests_the_ones_it_resembles() {
        assert_eq!(
            permission("api.organization.users.read").unwrap(),
            "api.organization.users.read"
        );
        let err = permission("api.organization.users.reed").unwrap_err();
        assert_eq!(
            err,
            "not a permission; did you mean 'api.organization.users.read'?"
        );
        let err = permission("everything").unwrap_err();
        assert!(
            err.starts_with("not a permission; the permissions are: api.organization.read, "),
            "{err}"
        );
    }

    #[test]
    fn a_project_keys_scopes_are_project_permissions() {
        assert_eq!(
            project_permission("api.model.request").unwrap(),
            "api.model.request"
        );
        assert!(project_permission("api.organization.projects.api_keys.read").is_ok());
        let err = project_permission("api.organization.users.read").unwrap_err();
        assert!(err.contains("is an organization permission"), "{err}");
        assert!(project_permission("api.model.requets")
            .unwrap_err()
            .contains("did you mean 'api.model.request'"));
    }

    #[test]
    fn event_types_are_checked_against_the_known_ones() {
        assert!(event_type("user.added").is_ok());
        let err = event_type("user.addd").unwrap_err();
        assert_eq!(
            err,
            "not an audit log event type; did you mean 'user.added'?"
        );
    }

    #[test]
    fn emails_are_checked_like_the_server_does() {
        assert_eq!(email(" Ada@Example.com ").unwrap(), "Ada@Example.com");
        assert!(email("ada").is_err());
    }
}
