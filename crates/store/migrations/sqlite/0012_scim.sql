-- SCIM provisioning (ops/scim.rs). A SCIM user is a person the identity provider manages: the
-- resource outlives the membership, so that `active: false` removes the member (as the Admin
-- API's delete does) and `active: true` adds them back under the same ID (`id`, the user ID).
-- It holds what SCIM adds to a member (`user_name`, `external_id`, the attributes as the
-- provider sent them, JSON text) and, for while they are not a member, their email, name and the
-- base role they come back with. `counter` counts the SCIM writes (the ETag's first part);
-- `invite_id` is the pending invite of a person provisioned by invite (`--scim-provisioning
-- invite`). Filters on `user_name_norm`, `email_norm` and `external_id` are served by indexes.
CREATE TABLE scim_users (
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    id              TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    user_name_norm  TEXT NOT NULL,
    external_id     TEXT,
    email           TEXT NOT NULL,
    email_norm      TEXT NOT NULL,
    name            TEXT,
    display_name    TEXT,
    given_name      TEXT,
    family_name     TEXT,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'reader')),
    attributes      TEXT NOT NULL,
    counter         INTEGER NOT NULL,
    invite_id       TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_name_norm),
    UNIQUE (org_id, email_norm)
) WITHOUT ROWID;
CREATE INDEX scim_users_by_external_id ON scim_users (org_id, external_id);

-- What SCIM adds to a group (every orgadmin group is a SCIM group; one made by the Admin API
-- has no row until SCIM writes it): its `externalId`, a write counter and when SCIM last
-- changed it. Goes with the group.
CREATE TABLE scim_groups (
    org_id       TEXT NOT NULL,
    id           TEXT NOT NULL,
    external_id  TEXT,
    counter      INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, id) REFERENCES groups (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX scim_groups_by_external_id ON scim_groups (org_id, external_id);

-- A group's members who are SCIM users but not members now (`active: false`): a member
-- deactivated by SCIM keeps their groups here, and a group may be given such a person; both
-- become group memberships when they are active again.
CREATE TABLE scim_group_members (
    org_id    TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    PRIMARY KEY (org_id, group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX scim_group_members_by_user ON scim_group_members (org_id, user_id);
