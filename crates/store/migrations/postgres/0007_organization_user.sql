-- The PostgreSQL twin of migrations/sqlite/0007_organization_user.sql: the rest of the official
-- `organization.user`. `created` is written with the member row (the earliest `created` of the
-- same person elsewhere, or `added_at`); `is_default` marks the owner the organization was
-- created with; `is_scim_managed` and `is_scale_tier_authorized_purchaser` are false until SCIM
-- or a fixture sets them.
ALTER TABLE users ADD COLUMN created BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_default BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN is_scim_managed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN is_scale_tier_authorized_purchaser BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE users SET created = (
    SELECT MIN(same.added_at) FROM users AS same
    WHERE same.email_norm = users.email_norm AND same.id = users.id
);

UPDATE users SET is_default = TRUE
WHERE role = 'owner'
  AND added_at = (SELECT o.created_at FROM organizations AS o WHERE o.id = users.org_id)
  AND EXISTS (
    SELECT 1 FROM admin_api_keys AS k JOIN organizations AS o ON o.id = k.org_id
    WHERE k.org_id = users.org_id AND k.owner_user_id = users.id
      AND k.name = 'Initial admin key' AND k.created_at = o.created_at
  );

-- Bumped after every refresh of an admin key's `last_used_at`; see the SQLite twin. Its own
-- table so that a refresh never waits for the organization row's lock.
CREATE TABLE key_use (
    org_id  TEXT PRIMARY KEY NOT NULL,
    epoch   BIGINT NOT NULL
);
