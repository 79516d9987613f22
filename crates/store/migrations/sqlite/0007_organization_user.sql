-- The rest of the official `organization.user` (ops/users.rs, `MEMBER_SELECT`).
--
-- `created`: when this person first joined any organization on the server. It is written when
-- the member row is (the earliest `created` of the same person elsewhere, or `added_at`), so a
-- read never looks into another organization and leaving one keeps the date in the others.
-- `is_default`: the owner the organization was created with. `is_scim_managed` and
-- `is_scale_tier_authorized_purchaser` are false until SCIM or a fixture sets them.
ALTER TABLE users ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_scim_managed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_scale_tier_authorized_purchaser INTEGER NOT NULL DEFAULT 0;

-- The same person has the same ID and address in every organization (`--user-ids global`).
UPDATE users SET created = (
    SELECT MIN(same.added_at) FROM users AS same
    WHERE same.email_norm = users.email_norm AND same.id = users.id
);

-- The organization's first owner: the owner of its initial admin key, added when the
-- organization was created (`init`, `org create` and the first start write both at once).
UPDATE users SET is_default = 1
WHERE role = 'owner'
  AND added_at = (SELECT o.created_at FROM organizations AS o WHERE o.id = users.org_id)
  AND EXISTS (
    SELECT 1 FROM admin_api_keys AS k JOIN organizations AS o ON o.id = k.org_id
    WHERE k.org_id = users.org_id AND k.owner_user_id = users.id
      AND k.name = 'Initial admin key' AND k.created_at = o.created_at
  );

-- `api_key_last_used_at` is the latest use of a member's admin keys, read per page (PostgreSQL
-- has had this index since 0001).
CREATE INDEX admin_api_keys_by_owner ON admin_api_keys (org_id, owner_user_id);

-- Bumped after every refresh of an admin key's `last_used_at` (ops/keys.rs,
-- `touch_last_used`), which is not a write transaction and leaves `generation` alone. Member
-- answers remembered by a server are filed under both numbers (read_cache.rs), so a use of a
-- key reaches the next answer of `api_key_last_used_at` on every replica. A table of its own,
-- not a column of `organizations`, so that a refresh never waits for the organization's row
-- lock that a write transaction holds on PostgreSQL.
CREATE TABLE key_use (
    org_id  TEXT PRIMARY KEY NOT NULL,
    epoch   INTEGER NOT NULL
) WITHOUT ROWID;
