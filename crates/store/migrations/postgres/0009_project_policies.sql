-- What a project may use, the PostgreSQL twin of migrations/sqlite/0009_project_policies.sql
-- (ops/project_policies.rs): its model permissions, hosted tools and rate limit overrides. Each
-- table holds only what was set; an absent row is the default (no model denied, every tool
-- enabled, the model catalogue's organization limits). Model IDs are the catalogue's
-- (`orgadmin serve --models`), which is configuration: no table lists the models.
--
-- `model_ids` is a JSON array of model IDs, in the order given, each once. A rate limit column
-- is NULL where the project keeps the organization's limit.

CREATE TABLE project_model_permissions (
    org_id      TEXT COLLATE "C" NOT NULL,
    project_id  TEXT COLLATE "C" NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('allow_list', 'deny_list')),
    model_ids   TEXT NOT NULL,
    PRIMARY KEY (org_id, project_id),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);

CREATE TABLE project_hosted_tools (
    org_id      TEXT COLLATE "C" NOT NULL,
    project_id  TEXT COLLATE "C" NOT NULL,
    tool        TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    PRIMARY KEY (org_id, project_id, tool),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);

CREATE TABLE project_rate_limits (
    org_id                            TEXT COLLATE "C" NOT NULL,
    project_id                        TEXT COLLATE "C" NOT NULL,
    model                             TEXT COLLATE "C" NOT NULL,
    max_requests_per_1_minute         BIGINT,
    max_tokens_per_1_minute           BIGINT,
    max_images_per_1_minute           BIGINT,
    max_audio_megabytes_per_1_minute  BIGINT,
    max_requests_per_1_day            BIGINT,
    batch_1_day_max_input_tokens      BIGINT,
    PRIMARY KEY (org_id, project_id, model),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);
