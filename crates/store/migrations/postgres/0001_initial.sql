-- The initial schema, the PostgreSQL twin of migrations/sqlite/0001_initial.sql. Every row carries
-- its organization; every lookup filters by it. IDs are time-ordered strings compared byte by byte
-- (COLLATE "C", as SQLite compares them), so ORDER BY id is creation order and keyset pagination
-- compares IDs.

CREATE TABLE organizations (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A member of an organization. The same person keeps the same user ID in every organization.
CREATE TABLE users (
    org_id             TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    id                 TEXT COLLATE "C" NOT NULL,
    email              TEXT NOT NULL,
    email_norm         TEXT NOT NULL,
    name               TEXT,
    role               TEXT NOT NULL CHECK (role IN ('owner', 'reader')),
    added_at           BIGINT NOT NULL,
    developer_persona  TEXT,
    technical_level    TEXT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email_norm)
);
CREATE INDEX users_by_email ON users (email_norm);
CREATE INDEX users_by_role ON users (org_id, role);

CREATE TABLE projects (
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    id               TEXT COLLATE "C" NOT NULL,
    name             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    archived_at      BIGINT,
    is_default       BOOLEAN NOT NULL DEFAULT FALSE,
    external_key_id  TEXT,
    residency        TEXT,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE project_users (
    org_id      TEXT COLLATE "C" NOT NULL,
    project_id  TEXT COLLATE "C" NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, project_id, user_id),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX project_users_by_user ON project_users (org_id, user_id);

-- Custom roles. Predefined roles are not stored: they exist in every organization.
CREATE TABLE roles (
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    id           TEXT COLLATE "C" NOT NULL,
    project_id   TEXT COLLATE "C",
    scope_key    TEXT COLLATE "C" NOT NULL, -- '' for organization roles, else the project ID
    name         TEXT NOT NULL,
    name_norm    TEXT NOT NULL,
    description  TEXT,
    permissions  TEXT NOT NULL, -- JSON array of permission names
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    created_by   TEXT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, scope_key, name_norm)
);
CREATE INDEX roles_by_scope ON roles (org_id, scope_key, id);

-- Custom roles held by principals. Base roles live on the membership rows instead.
CREATE TABLE role_assignments (
    org_id          TEXT COLLATE "C" NOT NULL,
    principal_type  TEXT NOT NULL CHECK (principal_type IN ('user', 'group')),
    principal_id    TEXT COLLATE "C" NOT NULL,
    role_id         TEXT COLLATE "C" NOT NULL,
    scope_key       TEXT COLLATE "C" NOT NULL, -- '' for organization roles, else the project ID
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, principal_type, principal_id, scope_key, role_id),
    FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE
);
CREATE INDEX role_assignments_by_role ON role_assignments (org_id, role_id);

CREATE TABLE invites (
    org_id       TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    id           TEXT COLLATE "C" NOT NULL,
    email        TEXT NOT NULL,
    email_norm   TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'reader')),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    accepted_at  BIGINT,
    projects     TEXT NOT NULL, -- JSON array of {"id", "role"}
    PRIMARY KEY (org_id, id)
);
CREATE INDEX invites_by_email ON invites (org_id, email_norm);

CREATE TABLE admin_api_keys (
    org_id          TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    name            TEXT,
    secret_hash     TEXT NOT NULL UNIQUE,
    redacted_value  TEXT NOT NULL,
    owner_user_id   TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    last_used_at    BIGINT,
    scopes          TEXT, -- JSON array of permission names; NULL for an unscoped key
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, owner_user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX admin_api_keys_by_owner ON admin_api_keys (org_id, owner_user_id);

CREATE TABLE audit_logs (
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    id                TEXT COLLATE "C" NOT NULL,
    type              TEXT NOT NULL,
    effective_at      BIGINT NOT NULL,
    actor_key_id      TEXT COLLATE "C",
    actor_user_id     TEXT COLLATE "C",
    actor_email       TEXT,
    actor_email_norm  TEXT,
    project_id        TEXT COLLATE "C",
    resource_id       TEXT COLLATE "C",
    details           TEXT NOT NULL, -- JSON object
    PRIMARY KEY (org_id, id)
);
CREATE INDEX audit_logs_by_type ON audit_logs (org_id, type, id);
CREATE INDEX audit_logs_by_resource ON audit_logs (org_id, resource_id, id);
CREATE INDEX audit_logs_by_time ON audit_logs (org_id, effective_at);
