-- The PostgreSQL twin of migrations/sqlite/0012_scim.sql: what SCIM provisioning keeps of a
-- person (which outlives their membership) and of a group.
CREATE TABLE scim_users (
    org_id          TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    id              TEXT COLLATE "C" NOT NULL,
    user_name       TEXT NOT NULL,
    user_name_norm  TEXT NOT NULL,
    external_id     TEXT COLLATE "C",
    email           TEXT NOT NULL,
    email_norm      TEXT NOT NULL,
    name            TEXT,
    display_name    TEXT,
    given_name      TEXT,
    family_name     TEXT,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'reader')),
    attributes      TEXT NOT NULL,
    counter         BIGINT NOT NULL,
    invite_id       TEXT COLLATE "C",
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_name_norm),
    UNIQUE (org_id, email_norm)
);
CREATE INDEX scim_users_by_external_id ON scim_users (org_id, external_id);

CREATE TABLE scim_groups (
    org_id       TEXT COLLATE "C" NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    external_id  TEXT COLLATE "C",
    counter      BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, id) REFERENCES groups (org_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_groups_by_external_id ON scim_groups (org_id, external_id);

-- A group's members who are SCIM users but not members now (`active: false`): a member
-- deactivated by SCIM keeps their groups here, and a group may be given such a person; both
-- become group memberships when they are active again.
CREATE TABLE scim_group_members (
    org_id    TEXT COLLATE "C" NOT NULL,
    group_id  TEXT COLLATE "C" NOT NULL,
    user_id   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_by_user ON scim_group_members (org_id, user_id);
