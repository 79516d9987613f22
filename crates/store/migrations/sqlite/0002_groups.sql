-- Groups of members, their access to projects, and role assignments to groups.

CREATE TABLE groups (
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_norm   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name_norm)
) WITHOUT ROWID;

CREATE TABLE group_users (
    org_id    TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_users_by_user ON group_users (org_id, user_id);

CREATE TABLE project_groups (
    org_id      TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, project_id, group_id),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX project_groups_by_group ON project_groups (org_id, group_id);

-- Groups may hold predefined roles, which are not stored in `roles`: role assignments no longer
-- reference `roles`, and deleting a role deletes its assignments explicitly. SQLite cannot drop a
-- constraint, so the table is rebuilt.
CREATE TABLE role_assignments_new (
    org_id          TEXT NOT NULL,
    principal_type  TEXT NOT NULL CHECK (principal_type IN ('user', 'group')),
    principal_id    TEXT NOT NULL,
    role_id         TEXT NOT NULL,
    scope_key       TEXT NOT NULL, -- '' for organization roles, else the project ID
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (org_id, principal_type, principal_id, scope_key, role_id)
) WITHOUT ROWID;
INSERT INTO role_assignments_new SELECT org_id, principal_type, principal_id, role_id, scope_key, created_at FROM role_assignments;
DROP TABLE role_assignments;
ALTER TABLE role_assignments_new RENAME TO role_assignments;
CREATE INDEX role_assignments_by_role ON role_assignments (org_id, role_id);
