-- Email identity became NFC, IDNA domains and Unicode case folding (core/src/email.rs), which
-- SQL cannot compute. A stored `email_norm` (users, invites) or `actor_email_norm` (audit_logs)
-- written under the old rule (lower case only) can differ from the new one only where the
-- address holds a non-ASCII character. This row asks the store to recompute those once, in
-- Rust, right after the migrations run (`ops/email_identity.rs`), which then deletes it. A
-- database created by this release has nothing to recompute and no row.
CREATE TABLE email_identity_pending (id INTEGER PRIMARY KEY);
INSERT INTO email_identity_pending (id)
SELECT 1 WHERE EXISTS (SELECT 1 FROM organizations);
