-- The PostgreSQL twin of migrations/sqlite/0011_organization_origins.sql: what creating an
-- organization made (ops/organizations.rs), so that the operator API's reset
-- (`POST /_orgadmin/organizations/{org_id}/reset`) can bring the organization back to that state
-- under the same IDs: its first owner, its default project and its first admin key, whose secret
-- is kept as creation stored it (its SHA-256 and redacted form), never in the clear. Everything
-- else an organization holds is made after its creation and goes on reset. `fixture` is the
-- document the organization was seeded from (JSON text), NULL for none.
--
-- One row per organization, written in the transaction that creates it and deleted with it.

CREATE TABLE organization_origins (
    org_id                    TEXT COLLATE "C" PRIMARY KEY REFERENCES organizations(id),
    owner_user_id             TEXT COLLATE "C" NOT NULL,
    owner_email               TEXT NOT NULL,
    owner_name                TEXT,
    owner_created             BIGINT NOT NULL,
    default_project_id        TEXT COLLATE "C" NOT NULL,
    admin_key_id              TEXT COLLATE "C" NOT NULL,
    admin_key_name            TEXT,
    admin_key_secret_hash     TEXT NOT NULL,
    admin_key_redacted_value  TEXT NOT NULL,
    fixture                   TEXT
);

-- Organizations made before this migration: their origin is read from what is there now — the
-- oldest admin key held by an owner (the organization's first owner's first), that key's owner,
-- and the default project. An organization with no admin key held by an owner, or with no
-- project, gets no row, and its reset is refused with 409 `not_resettable`.
INSERT INTO organization_origins
    (org_id, owner_user_id, owner_email, owner_name, owner_created, default_project_id,
     admin_key_id, admin_key_name, admin_key_secret_hash, admin_key_redacted_value)
SELECT o.id, u.id, u.email, u.name, u.created, p.id, k.id, k.name, k.secret_hash, k.redacted_value
FROM organizations AS o
JOIN admin_api_keys AS k ON k.org_id = o.id AND k.id = (
    SELECT k2.id FROM admin_api_keys AS k2
    JOIN users AS u2 ON u2.org_id = k2.org_id AND u2.id = k2.owner_user_id
    WHERE k2.org_id = o.id AND u2.role = 'owner'
    ORDER BY u2.is_default DESC, k2.created_at, k2.id
    LIMIT 1
)
JOIN users AS u ON u.org_id = o.id AND u.id = k.owner_user_id
JOIN projects AS p ON p.org_id = o.id AND p.id = (
    SELECT p2.id FROM projects AS p2
    WHERE p2.org_id = o.id
    ORDER BY p2.is_default DESC, p2.created_at, p2.id
    LIMIT 1
);
