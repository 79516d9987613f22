-- Project service accounts and their API keys, the PostgreSQL twin of
-- migrations/sqlite/0003_service_accounts.sql. A service account belongs to one project and holds
-- a role there (`none` when created without one). It is not a user and nothing ties it to the
-- user who created it, so it outlives them. Only the SHA-256 of a key's secret is stored.

CREATE TABLE service_accounts (
    org_id      TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    project_id  TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'member', 'none')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);
CREATE INDEX service_accounts_by_project ON service_accounts (org_id, project_id, id);

CREATE TABLE service_account_api_keys (
    org_id              TEXT COLLATE "C" NOT NULL,
    id                  TEXT COLLATE "C" NOT NULL,
    service_account_id  TEXT COLLATE "C" NOT NULL,
    name                TEXT NOT NULL,
    secret_hash         TEXT NOT NULL UNIQUE,
    redacted_value      TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, service_account_id) REFERENCES service_accounts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX service_account_api_keys_by_account ON service_account_api_keys (org_id, service_account_id);
