-- Project API keys, one table for both kinds of owner (ops/project_keys.rs): a project member
-- (`sk-proj-…`) or a service account (`sk-svcacct-…`). Exactly one of `owner_user_id` and
-- `owner_service_account_id` is set. Only the SHA-256 of a secret is stored.
--
-- A member's key is not deleted when they lose access to the project (removed from it or from
-- the organization): it stays listed as `owner_project_access: inactive` and authenticates
-- nothing, and is active again when they are added back. So nothing refers from it to the user
-- row; `owner_email`, `owner_name`, `owner_created` and `owner_role` remember the owner as they
-- were when they last had access (written at creation and again at removal), which the answer
-- shows while they are away. A service account's keys go with it (the cascade, and said
-- explicitly by `delete_service_account`). `scopes` is a JSON array of permissions, NULL for
-- every permission of the owner.

CREATE TABLE project_api_keys (
    org_id                    TEXT NOT NULL,
    id                        TEXT NOT NULL,
    project_id                TEXT NOT NULL,
    name                      TEXT NOT NULL,
    secret_hash               TEXT NOT NULL UNIQUE,
    redacted_value            TEXT NOT NULL,
    created_at                INTEGER NOT NULL,
    expires_at                INTEGER,
    last_used_at              INTEGER,
    scopes                    TEXT,
    owner_user_id             TEXT,
    owner_service_account_id  TEXT,
    owner_email               TEXT,
    owner_name                TEXT,
    owner_created             INTEGER,
    owner_role                TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, owner_service_account_id) REFERENCES service_accounts (org_id, id) ON DELETE CASCADE,
    CHECK ((owner_user_id IS NULL) <> (owner_service_account_id IS NULL))
) WITHOUT ROWID;
CREATE INDEX project_api_keys_by_project ON project_api_keys (org_id, project_id, id);
CREATE INDEX project_api_keys_by_user ON project_api_keys (org_id, owner_user_id);
CREATE INDEX project_api_keys_by_account ON project_api_keys (org_id, owner_service_account_id);

-- The service accounts' keys made so far become project keys of their account's project.
INSERT INTO project_api_keys
    (org_id, id, project_id, name, secret_hash, redacted_value, created_at, expires_at,
     owner_service_account_id)
SELECT k.org_id, k.id, s.project_id, k.name, k.secret_hash, k.redacted_value, k.created_at,
       k.expires_at, k.service_account_id
FROM service_account_api_keys AS k
JOIN service_accounts AS s ON s.org_id = k.org_id AND s.id = k.service_account_id;

DROP TABLE service_account_api_keys;
