//! Admin key and project API key (a member's or a service account's) secrets: generation, hashing for storage, redaction for
//! display, and comparison in constant time.

use sha2::{Digest, Sha256};

pub const ADMIN_KEY_PREFIX: &str = "sk-admin-";
/// A service account's project API key. It is not an admin key: the Admin API refuses it.
pub const SERVICE_ACCOUNT_KEY_PREFIX: &str = "sk-svcacct-";
/// A project API key owned by a project member. Not an admin key either.
pub const PROJECT_KEY_PREFIX: &str = "sk-proj-";
/// The operator key of a server: it opens the operator API (`/_orgadmin/…`) and nothing else.
pub const OPERATOR_KEY_PREFIX: &str = "sk-operator-";
/// Characters after the prefix in a generated key.
const GENERATED_LEN: usize = 48;
/// A key supplied by the operator (`ORGADMIN_ADMIN_KEY`) needs at least this many after the prefix.
pub const MIN_SUPPLIED_LEN: usize = 32;

/// A fresh random admin key: `sk-admin-` and 48 random characters.
pub fn generate_admin_key() -> String {
    generate_with_prefix(ADMIN_KEY_PREFIX)
}

/// A fresh random operator key: `sk-operator-` and 48 random characters.
pub fn generate_operator_key() -> String {
    generate_with_prefix(OPERATOR_KEY_PREFIX)
}

/// A fresh random service account key: `sk-svcacct-` and 48 random characters.
pub fn generate_service_account_key() -> String {
    generate_with_prefix(SERVICE_ACCOUNT_KEY_PREFIX)
}

/// A fresh random project key of a member: `sk-proj-` and 48 random characters.
pub fn generate_project_key() -> String {
    generate_with_prefix(PROJECT_KEY_PREFIX)
}

/// Whether a presented secret is shaped like a project API key (either kind), so that a gateway
/// hashes only what could be one.
pub fn is_project_key(secret: &str) -> bool {
    (secret.starts_with(PROJECT_KEY_PREFIX) || secret.starts_with(SERVICE_ACCOUNT_KEY_PREFIX))
        && secret.len() <= 256
}

fn generate_with_prefix(prefix: &str) -> String {
    use rand::Rng;
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let body: String = (0..GENERATED_LEN)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect();
    format!("{prefix}{body}")
}

/// Is this shaped like an admin key an operator may supply?
pub fn is_acceptable_supplied_key(key: &str) -> bool {
    is_acceptable_supplied(ADMIN_KEY_PREFIX, key)
}

/// Is this shaped like an operator key an operator may supply (`ORGADMIN_OPERATOR_KEY`)?
pub fn is_acceptable_operator_key(key: &str) -> bool {
    is_acceptable_supplied(OPERATOR_KEY_PREFIX, key)
}

/// `prefix` followed by at least [`MIN_SUPPLIED_LEN`] letters, digits, `-` or `_`: a secret an
/// operator may choose (an admin, operator or project key's, in a request or a fixture).
pub fn is_acceptable_supplied(prefix: &str, key: &str) -> bool {
    key.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() >= MIN_SUPPLIED_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// The stored form of a secret: lower-case hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `sk-admin...wxyz`: enough to recognise a key, not enough to use it.
pub fn redact(secret: &str) -> String {
    redact_as("sk-admin", secret)
}

/// `sk-svcacct...wxyz`, the redacted form of a service account key.
pub fn redact_service_account_key(secret: &str) -> String {
    redact_as("sk-svcacct", secret)
}

/// `sk-proj...wxyz`, the redacted form of a member's project key.
pub fn redact_project_key(secret: &str) -> String {
    redact_as("sk-proj", secret)
}

/// Any secret (`sk-…`) redacted: the label of its kind when it is one of ours (`sk-admin`,
/// `sk-proj`, `sk-svcacct`, `sk-operator`), `sk` otherwise, and its last four characters.
pub fn redact_any(secret: &str) -> String {
    let label = [
        ADMIN_KEY_PREFIX,
        PROJECT_KEY_PREFIX,
        SERVICE_ACCOUNT_KEY_PREFIX,
        OPERATOR_KEY_PREFIX,
    ]
    .into_iter()
    .find(|prefix| secret.starts_with(prefix))
    .map_or("sk", |prefix| prefix.trim_end_matches('-'));
    redact_as(label, secret)
}

fn redact_as(label: &str, secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{label}...{tail}")
}

/// Compare two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_acceptable_and_redacted_to_their_tail() {
        let key = generate_admin_key();
        assert!(is_acceptable_supplied_key(&key));
        assert_eq!(
            redact(&key),
            format!("sk-admin...{}", &key[key.len() - 4..])
        );
        assert_eq!(hash_secret(&key).len(), 64);
        assert!(!is_acceptable_supplied_key("sk-admin-short"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }

    #[test]
    fn service_account_keys_are_not_admin_keys() {
        let key = generate_service_account_key();
        assert!(key.starts_with(SERVICE_ACCOUNT_KEY_PREFIX));
        assert_eq!(key.len(), SERVICE_ACCOUNT_KEY_PREFIX.len() + GENERATED_LEN);
        assert!(!is_acceptable_supplied_key(&key));
        assert_eq!(
            redact_service_account_key(&key),
            format!("sk-svcacct...{}", &key[key.len() - 4..])
        );
        assert_ne!(generate_service_account_key(), key);
    }

    #[test]
    fn member_project_keys_are_project_keys_and_not_admin_keys() {
        let key = generate_project_key();
        assert!(key.starts_with("sk-proj-") && is_project_key(&key));
        assert!(is_project_key(&generate_service_account_key()));
        assert!(!is_project_key(&generate_admin_key()));
        assert!(!is_acceptable_supplied_key(&key));
        assert_eq!(
            redact_project_key(&key),
            format!("sk-proj...{}", &key[key.len() - 4..])
        );
    }

    #[test]
    fn operator_keys_are_neither_admin_nor_project_keys() {
        let key = generate_operator_key();
        assert!(key.starts_with(OPERATOR_KEY_PREFIX) && is_acceptable_operator_key(&key));
        assert!(!is_acceptable_supplied_key(&key) && !is_project_key(&key));
        assert!(!is_acceptable_operator_key(&generate_admin_key()));
        assert!(!is_acceptable_operator_key("sk-operator-short"));
    }
}
