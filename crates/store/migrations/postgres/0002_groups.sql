-- Groups of members, their access to projects, and role assignments to groups.

CREATE TABLE groups (
    org_id      TEXT COLLATE "C" NOT NULL REFERENCES organizations(id),
    id          TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL,
    name_norm   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name_norm)
);

CREATE TABLE group_users (
    org_id    TEXT COLLATE "C" NOT NULL,
    group_id  TEXT COLLATE "C" NOT NULL,
    user_id   TEXT COLLATE "C" NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX group_users_by_user ON group_users (org_id, user_id);

CREATE TABLE project_groups (
    org_id      TEXT COLLATE "C" NOT NULL,
    project_id  TEXT COLLATE "C" NOT NULL,
    group_id    TEXT COLLATE "C" NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, project_id, group_id),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE
);
CREATE INDEX project_groups_by_group ON project_groups (org_id, group_id);

-- Groups may hold predefined roles, which are not stored in `roles`: role assignments no longer
-- reference `roles`, and deleting a role deletes its assignments explicitly.
ALTER TABLE role_assignments DROP CONSTRAINT role_assignments_org_id_role_id_fkey;
