//! The authorization matrix: every operation of the route table, called by every kind of caller,
//! over HTTP against a real server.
//!
//! Callers: no key; malformed keys (garbage, wrong scheme, empty); a revoked key; an expired key;
//! a key scoped without the permission the operation needs; the key of another organization; a
//! key owned by a reader; the owner's key. The permission each operation needs is written down in
//! the table (read from its handler), so every caller's expected answer is derived, not recorded.
//!
//! Tenancy: with the owner's key of organization A, every operation with IDs in its path is
//! called once for each ID with the object of organization B put in its place, and must answer
//! 404, exactly like a missing object; an ID in a body is answered like a never-issued one. No
//! answer of the whole run may contain an ID of the other organization that the request itself
//! did not name.
//!
//! The table is checked against the server's OpenAPI document (paths × methods), so an operation
//! added to the router and the document but not here fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use orgadmin_core::clock::OffsetClock;
use orgadmin_core::id::UserId;
use orgadmin_core::model::NewAdminKey;
use orgadmin_core::secret::{generate_admin_key, hash_secret, redact};
use orgadmin_core::store::BootstrapRequest;
use orgadmin_core::{Email, Permission as P};
use orgadmin_testkit::{
    assert_insufficient, insufficient, ok, owner_key, str_of, TestDatabase, TestServer, OWNER_EMAIL,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// --- what each operation needs ----------------------------------------------------------------

/// The permissions an operation needs: every entry of `All`, each satisfied by any one of its
/// alternatives (an organization permission, or the project permission held in the project).
#[derive(Clone, Copy, Debug)]
enum Need {
    /// No authentication at all (health probes, the OpenAPI document).
    Public,
    All(&'static [&'static [P]]),
}

const USERS_R: Need = Need::All(&[&[P::UsersRead]]);
const USERS_W: Need = Need::All(&[&[P::UsersWrite]]);
const ROLES_R: Need = Need::All(&[&[P::RolesRead]]);
const ROLES_W: Need = Need::All(&[&[P::RolesWrite]]);
const PROJECT_ROLES_R: Need = Need::All(&[&[P::RolesRead, P::ProjectRolesRead]]);
const PROJECT_ROLES_W: Need = Need::All(&[&[P::RolesWrite, P::ProjectRolesWrite]]);
const PROJECTS_R: Need = Need::All(&[&[P::ProjectsRead]]);
const PROJECTS_W: Need = Need::All(&[&[P::ProjectsWrite]]);
const PROJECT_R: Need = Need::All(&[&[P::ProjectsRead, P::ProjectRead]]);
/// A project's members, groups and service accounts (`require_project_principals`).
const PRINCIPALS_R: Need = Need::All(&[&[P::ProjectUsersRead, P::ProjectUsersReadInProject]]);
const PRINCIPALS_W: Need = Need::All(&[&[P::ProjectUsersWrite, P::ProjectUsersWriteInProject]]);
/// A project's API keys (`require_project_keys`): one name, held in the organization or in the
/// project.
const PROJECT_KEYS_R: Need = Need::All(&[&[P::ProjectApiKeysRead, P::ProjectApiKeysRead]]);
const PROJECT_KEYS_W: Need = Need::All(&[&[P::ProjectApiKeysWrite, P::ProjectApiKeysWrite]]);
const INVITES_R: Need = Need::All(&[&[P::InvitesRead]]);
const INVITES_W: Need = Need::All(&[&[P::InvitesWrite]]);
const KEYS_R: Need = Need::All(&[&[P::AdminKeysRead]]);
const KEYS_W: Need = Need::All(&[&[P::AdminKeysWrite]]);
const AUDIT_R: Need = Need::All(&[&[P::AuditLogsRead]]);
const GROUPS_R: Need = Need::All(&[&[P::GroupsRead]]);
const GROUPS_W: Need = Need::All(&[&[P::GroupsWrite]]);
/// Changing a group's members or organization roles (`require_group_access_write`).
const GRANTING: Need = Need::All(&[&[P::GroupsWrite], &[P::UsersWrite]]);

/// What the predefined organization role `reader` holds (`core::role`); the reader is in no
/// project, so no project permission helps it.
const READER: &[P] = &[
    P::OrganizationRead,
    P::UsersRead,
    P::RolesRead,
    P::InvitesRead,
    P::ProjectsRead,
    P::ProjectUsersRead,
    P::GroupsRead,
    P::ProjectApiKeysRead,
];

impl Need {
    fn satisfied_by(self, held: &[P]) -> bool {
        match self {
            Need::Public => true,
            Need::All(all) => all.iter().all(|any| any.iter().any(|p| held.contains(p))),
        }
    }
}

// --- the table --------------------------------------------------------------------------------

/// The bulk import's path.
const IMPORT: &str = "/v1/organization/users/import";

/// One operation: method, path template exactly as in the OpenAPI document, what it needs, and
/// a body the owner's call succeeds with. `{name}` in the path, and a body string that is exactly
/// `{name}`, are filled with the organization's fixture of that name (see [`fixture_key`]).
struct Row {
    method: Method,
    template: &'static str,
    need: Need,
    body: Option<Value>,
    /// Placeholders filled from another fixture than their name says.
    pins: Vec<(&'static str, &'static str)>,
}

impl Row {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn pin(mut self, placeholder: &'static str, fixture: &'static str) -> Self {
        self.pins.push((placeholder, fixture));
        self
    }

    fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

fn row(method: Method, template: &'static str, need: Need) -> Row {
    Row {
        method,
        template,
        need,
        body: None,
        pins: Vec::new(),
    }
}

/// Every operation, in an order the owner's key can run top to bottom with each call succeeding
/// on the fixtures of [`populate`]: reads and changes first, then deletions, leaves before what
/// they hang from.
fn table() -> Vec<Row> {
    use Method as M;
    vec![
        row(M::GET, "/healthz", Need::Public),
        row(M::GET, "/readyz", Need::Public),
        row(M::GET, "/v1/openapi.json", Need::Public),
        // Users and their organization roles.
        row(M::GET, "/v1/organization/users", USERS_R),
        row(M::GET, "/v1/organization/users/{user_id}", USERS_R),
        row(M::POST, "/v1/organization/users/{user_id}", USERS_W).body(json!({"role": "reader"})),
        row(M::GET, "/v1/organization/users/{user_id}/roles", USERS_R),
        row(M::POST, "/v1/organization/users/{user_id}/roles", USERS_W)
            .body(json!({"role_id": "{org_role_id}"})),
        row(
            M::GET,
            "/v1/organization/users/{user_id}/roles/{role_id}",
            USERS_R,
        ),
        row(
            M::GET,
            "/v1/organization/users/{user_id}/permissions",
            USERS_R,
        ),
        // The bulk import: a JSON Lines body of one row (see `Http::call`).
        row(M::POST, IMPORT, USERS_W).body(json!({"email": "imported@matrix.example"})),
        // Roles.
        row(M::GET, "/v1/organization/roles", ROLES_R),
        row(M::POST, "/v1/organization/roles", ROLES_W).body(json!({
            "role_name": "Matrix created",
            "permissions": ["api.organization.users.read"],
        })),
        row(M::GET, "/v1/organization/roles/{role_id}", ROLES_R),
        row(M::POST, "/v1/organization/roles/{role_id}", ROLES_W)
            .body(json!({"description": "Changed by the matrix"})),
        row(M::GET, "/v1/projects/{project_id}/roles", PROJECT_ROLES_R),
        row(M::POST, "/v1/projects/{project_id}/roles", PROJECT_ROLES_W).body(json!({
            "role_name": "Matrix created",
            "permissions": ["api.project.read"],
        })),
        row(
            M::GET,
            "/v1/projects/{project_id}/roles/{role_id}",
            PROJECT_ROLES_R,
        ),
        row(
            M::POST,
            "/v1/projects/{project_id}/roles/{role_id}",
            PROJECT_ROLES_W,
        )
        .body(json!({"description": "Changed by the matrix"})),
        // Projects, their members and service accounts.
        row(M::GET, "/v1/organization/projects", PROJECTS_R),
        row(M::POST, "/v1/organization/projects", PROJECTS_W)
            .body(json!({"name": "Matrix created"})),
        row(M::GET, "/v1/organization/projects/{project_id}", PROJECT_R),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}",
            PROJECTS_W,
        )
        .body(json!({"name": "Matrix renamed"})),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/archive",
            PROJECTS_W,
        )
        .pin("project_id", "archive_project_id"),
        // What a project may use: read as the project is, changed as it is.
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/model_permissions",
            PROJECT_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/model_permissions",
            PROJECTS_W,
        )
        .body(json!({"mode": "allow_list", "model_ids": ["gpt-4.1", "o3"]})),
        row(
            M::DELETE,
            "/v1/organization/projects/{project_id}/model_permissions",
            PROJECTS_W,
        ),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/hosted_tool_permissions",
            PROJECT_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/hosted_tool_permissions",
            PROJECTS_W,
        )
        .body(json!({"image_generation": {"enabled": false}})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/rate_limits",
            PROJECT_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/rate_limits/{rate_limit_id}",
            PROJECTS_W,
        )
        .body(json!({"max_requests_per_1_minute": 500})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/users",
            PRINCIPALS_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/users",
            PRINCIPALS_W,
        )
        .body(json!({"user_id": "{other_user_id}", "role": "member"})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/users/{user_id}",
            PRINCIPALS_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/users/{user_id}",
            PRINCIPALS_W,
        )
        .body(json!({"role": "member"})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/service_accounts",
            PRINCIPALS_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/service_accounts",
            PRINCIPALS_W,
        )
        .body(json!({"name": "Matrix bot"})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}",
            PRINCIPALS_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}",
            PRINCIPALS_W,
        )
        .body(json!({"name": "Renamed bot"})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/api_keys",
            PROJECT_KEYS_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/api_keys",
            PROJECT_KEYS_W,
        )
        .body(json!({"name": "Matrix member key", "user_id": "{user_id}"})),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys",
            PROJECT_KEYS_W,
        )
        .body(json!({"name": "Second key", "scopes": ["api.model.request"]})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/api_keys/{api_key_id}",
            PROJECT_KEYS_R,
        )
        .pin("api_key_id", "service_account_key_id"),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/api_keys/{api_key_id}",
            PROJECT_KEYS_W,
        )
        .body(json!({"scopes": ["api.model.request"], "expires_in_seconds": 3600}))
        .pin("api_key_id", "service_account_key_id"),
        row(
            M::GET,
            "/v1/projects/{project_id}/users/{user_id}/roles",
            PRINCIPALS_R,
        ),
        row(
            M::POST,
            "/v1/projects/{project_id}/users/{user_id}/roles",
            PRINCIPALS_W,
        )
        .body(json!({"role_id": "{project_role_id}"})),
        row(
            M::GET,
            "/v1/projects/{project_id}/users/{user_id}/roles/{role_id}",
            PRINCIPALS_R,
        ),
        // Invites.
        row(M::GET, "/v1/organization/invites", INVITES_R),
        row(M::POST, "/v1/organization/invites", INVITES_W).body(json!({
            "email": "created-by-matrix@example.com",
            "role": "reader",
            "projects": [],
        })),
        row(M::GET, "/v1/organization/invites/{invite_id}", INVITES_R),
        row(
            M::POST,
            "/v1/organization/invites/{invite_id}/accept",
            INVITES_W,
        )
        .pin("invite_id", "accept_invite_id")
        .body(json!({"name": "Accepted"})),
        // Admin API keys and the audit log.
        row(M::GET, "/v1/organization/admin_api_keys", KEYS_R),
        row(M::POST, "/v1/organization/admin_api_keys", KEYS_W)
            .body(json!({"name": "Matrix created"})),
        row(M::GET, "/v1/organization/admin_api_keys/{key_id}", KEYS_R),
        row(M::GET, "/v1/organization/audit_logs", AUDIT_R),
        // Groups.
        row(M::GET, "/v1/organization/groups", GROUPS_R),
        row(M::POST, "/v1/organization/groups", GROUPS_W).body(json!({"name": "Matrix created"})),
        row(M::GET, "/v1/organization/groups/{group_id}", GROUPS_R),
        row(M::POST, "/v1/organization/groups/{group_id}", GROUPS_W)
            .body(json!({"name": "Matrix renamed"})),
        row(M::GET, "/v1/organization/groups/{group_id}/users", GROUPS_R),
        row(
            M::POST,
            "/v1/organization/groups/{group_id}/users",
            GRANTING,
        )
        .body(json!({"user_id": "{other_user_id}"})),
        row(
            M::GET,
            "/v1/organization/groups/{group_id}/users/{user_id}",
            GROUPS_R,
        ),
        row(M::GET, "/v1/organization/groups/{group_id}/roles", GROUPS_R),
        row(
            M::POST,
            "/v1/organization/groups/{group_id}/roles",
            GRANTING,
        )
        .body(json!({"role_id": "{org_role_id}"})),
        row(
            M::GET,
            "/v1/organization/groups/{group_id}/roles/{role_id}",
            GROUPS_R,
        ),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/groups",
            PRINCIPALS_R,
        ),
        row(
            M::POST,
            "/v1/organization/projects/{project_id}/groups",
            PRINCIPALS_W,
        )
        .body(json!({"group_id": "{other_group_id}", "role": "member"})),
        row(
            M::GET,
            "/v1/organization/projects/{project_id}/groups/{group_id}",
            PRINCIPALS_R,
        ),
        row(
            M::GET,
            "/v1/projects/{project_id}/groups/{group_id}/roles",
            PRINCIPALS_R,
        ),
        row(
            M::POST,
            "/v1/projects/{project_id}/groups/{group_id}/roles",
            PRINCIPALS_W,
        )
        .body(json!({"role_id": "{project_role_id}"})),
        row(
            M::GET,
            "/v1/projects/{project_id}/groups/{group_id}/roles/{role_id}",
            PRINCIPALS_R,
        ),
        // Deletions, leaves first.
        row(
            M::DELETE,
            "/v1/organization/users/{user_id}/roles/{role_id}",
            USERS_W,
        ),
        row(
            M::DELETE,
            "/v1/projects/{project_id}/users/{user_id}/roles/{role_id}",
            PRINCIPALS_W,
        ),
        row(
            M::DELETE,
            "/v1/organization/groups/{group_id}/roles/{role_id}",
            GRANTING,
        ),
        row(
            M::DELETE,
            "/v1/projects/{project_id}/groups/{group_id}/roles/{role_id}",
            PRINCIPALS_W,
        ),
        row(
            M::DELETE,
            "/v1/organization/groups/{group_id}/users/{user_id}",
            GRANTING,
        ),
        row(
            M::DELETE,
            "/v1/organization/projects/{project_id}/groups/{group_id}",
            PRINCIPALS_W,
        ),
        row(
            M::DELETE,
            "/v1/organization/projects/{project_id}/api_keys/{api_key_id}",
            PROJECT_KEYS_W,
        )
        .pin("api_key_id", "service_account_key_id"),
        row(
            M::DELETE,
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}",
            PRINCIPALS_W,
        ),
        row(M::DELETE, "/v1/organization/invites/{invite_id}", INVITES_W),
        row(
            M::DELETE,
            "/v1/organization/admin_api_keys/{key_id}",
            KEYS_W,
        ),
        row(
            M::DELETE,
            "/v1/organization/projects/{project_id}/users/{user_id}",
            PRINCIPALS_W,
        ),
        row(M::DELETE, "/v1/organization/groups/{group_id}", GROUPS_W),
        row(M::DELETE, "/v1/organization/roles/{role_id}", ROLES_W),
        row(
            M::DELETE,
            "/v1/projects/{project_id}/roles/{role_id}",
            PROJECT_ROLES_W,
        ),
        row(M::DELETE, "/v1/organization/users/{user_id}", USERS_W),
    ]
}

/// The placeholders of a path template, in order.
fn placeholders(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// Path placeholders that name no organization's object but the same thing in every one (the
/// model catalogue is the server's configuration), with the value they are filled with. They
/// are not swapped for the other organization's in the tenancy probes: there is no other.
const SHARED: &[(&str, &str)] = &[("rate_limit_id", "rl-gpt-4o-mini")];

fn shared(placeholder: &str) -> Option<&'static str> {
    SHARED
        .iter()
        .find(|(name, _)| *name == placeholder)
        .map(|(_, value)| *value)
}

/// The fixture a path placeholder of `row` is filled with.
fn fixture_key(row: &Row, placeholder: &str) -> String {
    if let Some((_, fixture)) = row.pins.iter().find(|(p, _)| *p == placeholder) {
        return (*fixture).to_owned();
    }
    match placeholder {
        // Role routes under `/v1/projects/{project_id}` name the project's roles.
        "role_id" if row.template.starts_with("/v1/projects/") => "project_role_id".into(),
        "role_id" => "org_role_id".into(),
        other => other.to_owned(),
    }
}

/// The body placeholders (`"{name}"` strings) of a value.
fn body_keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(key) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                out.push(key.to_owned());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| body_keys(v, out)),
        Value::Object(map) => map.values().for_each(|v| body_keys(v, out)),
        _ => {}
    }
}

fn fill_body(value: &Value, id: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(key) => Value::String(id(key)),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_body(v, id)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_body(v, id)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A concrete request of a row: `(path, body, every ID it names)`.
fn render(row: &Row, id: &dyn Fn(&str) -> String) -> (String, Option<Value>, Vec<String>) {
    let mut named = Vec::new();
    let path = row
        .template
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(placeholder) => match shared(placeholder) {
                    Some(value) => value.to_owned(),
                    None => {
                        let value = id(&fixture_key(row, placeholder));
                        named.push(value.clone());
                        value
                    }
                },
                None => seg.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/");
    let body = row.body.as_ref().map(|b| {
        let mut keys = Vec::new();
        body_keys(b, &mut keys);
        named.extend(keys.iter().map(|k| id(k)));
        fill_body(b, id)
    });
    (path, body, named)
}

// --- fixtures -----------------------------------------------------------------------------------

type Fixtures = BTreeMap<String, String>;

async fn create(s: &TestServer, key: &str, path: &str, body: Value) -> Value {
    ok(s.post_as(key, path, body).await)
}

async fn member(s: &TestServer, key: &str, email: &str) -> String {
    let invite = create(
        s,
        key,
        "/v1/organization/invites",
        json!({"email": email, "role": "reader", "projects": []}),
    )
    .await;
    let user = create(
        s,
        key,
        &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
        json!({"name": email.split('@').next().unwrap()}),
    )
    .await;
    str_of(&user["id"])
}

/// The objects every operation of the table names, made in the organization of `key` (whose
/// emails end in `@{tag}.example`): a target member `user_id` (in `project_id`, in `group_id`,
/// holding `org_role_id` directly and through the group, and `project_role_id` directly and
/// through the group), another member, a reader, projects, invites, a key, groups and a service
/// account.
async fn populate(s: &TestServer, key: &str, tag: &str) -> Fixtures {
    let mut f = Fixtures::new();
    let reader = member(s, key, &format!("reader@{tag}.example")).await;
    let user = member(s, key, &format!("target@{tag}.example")).await;
    let other_user = member(s, key, &format!("other@{tag}.example")).await;
    let project = str_of(
        &create(
            s,
            key,
            "/v1/organization/projects",
            json!({"name": format!("Matrix {tag}")}),
        )
        .await["id"],
    );
    let archive_project = str_of(
        &create(
            s,
            key,
            "/v1/organization/projects",
            json!({"name": format!("To archive {tag}")}),
        )
        .await["id"],
    );
    create(
        s,
        key,
        &format!("/v1/organization/projects/{project}/users"),
        json!({"user_id": user, "role": "member"}),
    )
    .await;
    let org_role = str_of(
        &create(
            s,
            key,
            "/v1/organization/roles",
            json!({"role_name": format!("Matrix {tag}"), "permissions": ["api.organization.users.read"]}),
        )
        .await["id"],
    );
    create(
        s,
        key,
        &format!("/v1/organization/users/{user}/roles"),
        json!({"role_id": org_role}),
    )
    .await;
    let project_role = str_of(
        &create(
            s,
            key,
            &format!("/v1/projects/{project}/roles"),
            json!({"role_name": format!("Matrix {tag}"), "permissions": ["api.project.read"]}),
        )
        .await["id"],
    );
    create(
        s,
        key,
        &format!("/v1/projects/{project}/users/{user}/roles"),
        json!({"role_id": project_role}),
    )
    .await;
    let invite = |email: String| {
        let body = json!({"email": email, "role": "reader", "projects": []});
        async move { str_of(&create(s, key, "/v1/organization/invites", body).await["id"]) }
    };
    let invite_id = invite(format!("invited@{tag}.example")).await;
    let accept_invite_id = invite(format!("accepting@{tag}.example")).await;
    let admin_key = str_of(
        &create(
            s,
            key,
            "/v1/organization/admin_api_keys",
            json!({"name": format!("Matrix {tag}")}),
        )
        .await["id"],
    );
    let group = str_of(
        &create(
            s,
            key,
            "/v1/organization/groups",
            json!({"name": format!("Matrix {tag}")}),
        )
        .await["id"],
    );
    let other_group = str_of(
        &create(
            s,
            key,
            "/v1/organization/groups",
            json!({"name": format!("Second {tag}")}),
        )
        .await["id"],
    );
    create(
        s,
        key,
        &format!("/v1/organization/groups/{group}/users"),
        json!({"user_id": user}),
    )
    .await;
    create(
        s,
        key,
        &format!("/v1/organization/groups/{group}/roles"),
        json!({"role_id": org_role}),
    )
    .await;
    create(
        s,
        key,
        &format!("/v1/organization/projects/{project}/groups"),
        json!({"group_id": group, "role": "member"}),
    )
    .await;
    create(
        s,
        key,
        &format!("/v1/projects/{project}/groups/{group}/roles"),
        json!({"role_id": project_role}),
    )
    .await;
    let account = create(
        s,
        key,
        &format!("/v1/organization/projects/{project}/service_accounts"),
        json!({"name": format!("Bot {tag}")}),
    )
    .await;
    for (name, value) in [
        ("reader_id", reader),
        ("user_id", user),
        ("other_user_id", other_user),
        ("project_id", project),
        ("archive_project_id", archive_project),
        ("org_role_id", org_role),
        ("project_role_id", project_role),
        ("invite_id", invite_id),
        ("accept_invite_id", accept_invite_id),
        ("key_id", admin_key),
        ("group_id", group),
        ("other_group_id", other_group),
        ("service_account_id", str_of(&account["id"])),
        ("service_account_key_id", str_of(&account["api_key"]["id"])),
    ] {
        f.insert(name.to_owned(), value);
    }
    f
}

/// A made-up ID of the same kind as `id` (same prefix) that was never issued.
fn never_issued(id: &str) -> String {
    let cut = id.rfind(['-', '_']).map_or(0, |i| i + 1);
    format!("{}{}", &id[..cut], "0".repeat(24))
}

// --- calling and checking ------------------------------------------------------------------------

struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    /// Send one request; the answer's status and raw body text.
    async fn call(
        &self,
        method: &Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, String) {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(header) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, header);
        }
        if let Some(body) = body {
            // The import reads JSON Lines, of which one object is a file of one row.
            let content_type = if path == IMPORT {
                "application/x-ndjson"
            } else {
                "application/json"
            };
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        (status, text)
    }
}

/// The OpenAI error envelope, with this status and `code`.
#[track_caller]
fn assert_envelope(context: &str, got: &(StatusCode, String), status: StatusCode, code: &str) {
    let (got_status, text) = got;
    assert_eq!(*got_status, status, "{context}: status; body: {text}");
    let body: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{context}: the body is not JSON ({e}): {text}"));
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{context}: error.message; body: {text}"
    );
    assert_eq!(
        error["type"], "invalid_request_error",
        "{context}: error.type; body: {text}"
    );
    assert!(
        error["param"].is_string() || error["param"].is_null(),
        "{context}: error.param; body: {text}"
    );
    assert_eq!(
        error["code"],
        json!(code),
        "{context}: error.code; body: {text}"
    );
}

/// `got` as the harness's answers are: status and JSON body.
fn parsed((status, text): &(StatusCode, String)) -> orgadmin_testkit::Answer {
    (*status, serde_json::from_str(text).unwrap_or(Value::Null))
}

/// The refusal of a caller lacking every permission of `any` (the organization permission
/// first, then the project permission that would do on a project route): the real API's 401
/// naming the first, and ours naming the alternative.
#[track_caller]
fn assert_lacking(context: &str, got: &(StatusCode, String), any: &[P]) {
    let detail = insufficient(&parsed(got), any[0].as_str())
        .unwrap_or_else(|wrong| panic!("{context}: {wrong}"));
    match any {
        [_] => assert_eq!(detail, "", "{context}"),
        [_, in_project] => assert!(
            detail.starts_with(&format!("'{in_project}' held in project proj_")),
            "{context}: {detail}"
        ),
        _ => unreachable!("{context}: a requirement is one permission or two"),
    }
}

/// No ID of `foreign` appears in `text`, except the ones the request named itself (an error
/// may quote the ID it could not find).
#[track_caller]
fn assert_no_leak(context: &str, text: &str, foreign: &BTreeSet<String>, named: &[String]) {
    for id in foreign {
        if !named.contains(id) {
            assert!(
                !text.contains(id.as_str()),
                "{context}: the answer holds {id}, an ID of the other organization: {text}"
            );
        }
    }
}

/// One call of a row: its context, a single authorization header value, and what the caller
/// lacks if it is refused (the requirement it does not meet).
type Call = (String, Option<String>, Option<&'static [P]>);

/// Who calls, and what the answer to each row must be.
enum Caller {
    /// No key or an unusable one: 401 with this code on every authenticated route.
    Unauthenticated(&'static str),
    /// A key scoped without the permission a row needs: 401 naming it on every authenticated
    /// route.
    Scoped,
    /// The owner key of the other organization: the fixtures named are not found there.
    OtherOrganization,
    /// A key owned by a member whose organization role is `reader`.
    Reader,
    /// The owner's unscoped key: every row succeeds.
    Owner,
}

struct Principal {
    label: &'static str,
    authorization: Option<String>,
    caller: Caller,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_principal_as_its_permission_requires() {
    let database = TestDatabase::persistent().await;
    let clock = Arc::new(OffsetClock::default());
    let s = TestServer::start_on(database.url(), Some(&owner_key()), clock.clone()).await;
    let http = Http {
        client: reqwest::Client::new(),
        base: s.base_url.clone(),
    };
    let owner = owner_key();

    // Organization B, in the same database, made through the store as `orgadmin org create` does.
    let store = s.store();
    let other_key = generate_admin_key();
    let other = store
        .create_organization(BootstrapRequest {
            organization_name: "Other".into(),
            owner_email: Email::parse("owner@other.example", "email").unwrap(),
            owner_name: Some("Other owner".into()),
            admin_key_secret: other_key.clone(),
            fixture: None,
        })
        .await
        .expect("the second organization is created");

    let a = populate(&s, &owner, "a").await;
    let b = populate(&s, &other_key, "b").await;

    // The keys of the principals, all in organization A.
    // Used once before it is revoked, so that a server remembering authentications has seen it.
    let (revoked_id, revoked) = s.create_key(json!({"name": "revoked"})).await;
    ok(s.get_as(&revoked, "/v1/organization/users").await);
    ok(
        s.delete(&format!("/v1/organization/admin_api_keys/{revoked_id}"))
            .await,
    );
    let (_, expired) = s
        .create_key(json!({"name": "expiring", "expires_in_seconds": 60}))
        .await;
    // A key owned by the reader: keys are owned by their creator, so make it through the store.
    let mut actor = store
        .authenticate(&hash_secret(&owner))
        .await
        .unwrap()
        .expect("the owner key authenticates");
    actor.user_id = UserId::from_raw(a["reader_id"].clone());
    let reader_key = generate_admin_key();
    store
        .create_admin_key(
            &actor,
            NewAdminKey {
                name: Some("Reader's key".into()),
                secret_hash: hash_secret(&reader_key),
                redacted_value: redact(&reader_key),
                expires_in_seconds: None,
                scopes: None,
            },
        )
        .await
        .expect("the reader's key is created");
    drop(store);
    // Scoped keys: for each permission requirement of the table, a key holding every permission
    // but the ones that would satisfy it.
    let rows = table();
    let mut scoped: BTreeMap<Vec<&'static str>, String> = BTreeMap::new();
    for r in &rows {
        if let Need::All(all) = r.need {
            for any in all {
                let mut excluded: Vec<&'static str> = any.iter().map(|p| p.as_str()).collect();
                excluded.sort();
                if scoped.contains_key(&excluded) {
                    continue;
                }
                let scopes: Vec<&str> = P::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .filter(|p| !excluded.contains(p))
                    .collect();
                let (_, secret) = s
                    .create_key(json!({"name": format!("without {}", excluded.join(" ")), "scopes": scopes}))
                    .await;
                scoped.insert(excluded, secret);
            }
        }
    }
    // The expiring key is still good; a little later it is not.
    ok(s.get_as(&expired, "/v1/organization/users").await);
    clock.advance(61);

    // Every ID of each organization, and its members' email domain, to check that no answer
    // shows one to the other.
    let mut ids_a: BTreeSet<String> = a.values().cloned().collect();
    ids_a.extend([
        s.org_id(),
        s.owner_id(),
        s.owner_key_id(),
        s.default_project_id(),
        OWNER_EMAIL.to_owned(),
        "@a.example".to_owned(),
    ]);
    let mut ids_b: BTreeSet<String> = b.values().cloned().collect();
    ids_b.extend([
        other.organization.id.to_string(),
        other.owner.user.id.to_string(),
        other.admin_key.id.to_string(),
        other.default_project.id.to_string(),
        "@other.example".to_owned(),
        "@b.example".to_owned(),
    ]);
    assert!(ids_a.is_disjoint(&ids_b), "the organizations share no ID");

    // The table covers the OpenAPI document exactly.
    let (status, text) = http
        .call(&Method::GET, "/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let document: Value = serde_json::from_str(&text).unwrap();
    let mut documented = BTreeSet::new();
    // The operator API answers to the operator key alone, never to an admin key: its own
    // matrix is in `tests/operator.rs`.
    let admin_api = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(path, _)| !path.starts_with("/_orgadmin/"));
    for (path, item) in admin_api {
        for method in item.as_object().expect("a path item").keys() {
            if [
                "get", "post", "put", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let tabled: BTreeSet<String> = rows.iter().map(Row::label).collect();
    assert_eq!(tabled.len(), rows.len(), "each operation has one row");
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let extra: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the matrix and the OpenAPI document disagree: operations without a row {missing:?}, rows without an operation {extra:?}"
    );

    let principals = vec![
        Principal {
            label: "no key",
            authorization: None,
            caller: Caller::Unauthenticated("missing_api_key"),
        },
        Principal {
            label: "garbage key",
            authorization: Some("Bearer garbage".into()),
            caller: Caller::Unauthenticated("invalid_api_key"),
        },
        Principal {
            label: "wrong scheme",
            authorization: Some(format!("Basic {owner}")),
            caller: Caller::Unauthenticated("invalid_api_key"),
        },
        Principal {
            label: "empty authorization",
            authorization: Some(String::new()),
            caller: Caller::Unauthenticated("invalid_api_key"),
        },
        Principal {
            label: "revoked key",
            authorization: Some(format!("Bearer {revoked}")),
            caller: Caller::Unauthenticated("invalid_api_key"),
        },
        Principal {
            label: "expired key",
            authorization: Some(format!("Bearer {expired}")),
            caller: Caller::Unauthenticated("invalid_api_key"),
        },
        Principal {
            label: "scoped key without the permission",
            authorization: None,
            caller: Caller::Scoped,
        },
        Principal {
            label: "another organization's key",
            authorization: Some(format!("Bearer {other_key}")),
            caller: Caller::OtherOrganization,
        },
        Principal {
            label: "reader's key",
            authorization: Some(format!("Bearer {reader_key}")),
            caller: Caller::Reader,
        },
        Principal {
            label: "owner key",
            authorization: Some(format!("Bearer {owner}")),
            caller: Caller::Owner,
        },
    ];

    let id_a = |key: &str| -> String {
        a.get(key)
            .unwrap_or_else(|| panic!("no fixture {key}"))
            .clone()
    };
    let id_b = |key: &str| -> String {
        b.get(key)
            .unwrap_or_else(|| panic!("no fixture {key}"))
            .clone()
    };
    let mut pairs = 0usize;
    let mut requests = 0usize;
    for principal in &principals {
        // The owner goes last, and after the cross-organization probes: its deletions consume
        // the fixtures.
        if matches!(principal.caller, Caller::Owner) {
            requests += cross_organization_probes(&http, &rows, &id_a, &id_b, &ids_b).await;
        }
        for r in &rows {
            pairs += 1;
            let context = format!("{} as {}", r.label(), principal.label);
            let (path, body, named) = render(r, &id_a);
            // The scoped caller makes one call per requirement of the row.
            let mut calls: Vec<Call> = Vec::new();
            match (&principal.caller, r.need) {
                (Caller::Scoped, Need::All(all)) => {
                    for any in all {
                        let mut excluded: Vec<&'static str> =
                            any.iter().map(|p| p.as_str()).collect();
                        excluded.sort();
                        calls.push((
                            format!("{context} (lacking {})", excluded.join(" and ")),
                            Some(format!("Bearer {}", scoped[&excluded])),
                            Some(any),
                        ));
                    }
                }
                (Caller::Scoped, Need::Public) => calls.push((
                    context.clone(),
                    Some(format!("Bearer {}", scoped.values().next().unwrap())),
                    None,
                )),
                // The reader is refused for the first requirement she does not meet.
                (Caller::Reader, Need::All(all)) => calls.push((
                    context.clone(),
                    principal.authorization.clone(),
                    all.iter()
                        .copied()
                        .find(|any| !any.iter().any(|p| READER.contains(p))),
                )),
                _ => calls.push((context.clone(), principal.authorization.clone(), None)),
            }
            for (context, authorization, lacking) in calls {
                requests += 1;
                let got = http
                    .call(&r.method, &path, authorization.as_deref(), body.as_ref())
                    .await;
                let (status, text) = &got;
                assert!(
                    !status.is_server_error(),
                    "{context}: {status} (no caller may cause a 5xx): {text}"
                );
                let public = matches!(r.need, Need::Public);
                match &principal.caller {
                    _ if public => assert_eq!(*status, StatusCode::OK, "{context}: {text}"),
                    Caller::Unauthenticated(code) => {
                        assert_envelope(&context, &got, StatusCode::UNAUTHORIZED, code)
                    }
                    Caller::Reader if r.need.satisfied_by(READER) => {
                        assert_eq!(*status, StatusCode::OK, "{context}: {text}")
                    }
                    Caller::Scoped | Caller::Reader => assert_lacking(
                        &context,
                        &got,
                        lacking.expect("a refused caller lacks a requirement"),
                    ),
                    Caller::OtherOrganization if !placeholders(r.template).is_empty() => {
                        assert_envelope(&context, &got, StatusCode::NOT_FOUND, "not_found")
                    }
                    Caller::OtherOrganization | Caller::Owner => {
                        assert_eq!(*status, StatusCode::OK, "{context}: {text}")
                    }
                }
                if !public {
                    match principal.caller {
                        Caller::OtherOrganization => assert_no_leak(&context, text, &ids_a, &named),
                        _ => assert_no_leak(&context, text, &ids_b, &named),
                    }
                }
            }
        }
    }
    eprintln!(
        "routes × principals checked: {pairs} ({} operations × {} principals; {requests} requests)",
        rows.len(),
        principals.len()
    );
    s.stop().await;
}

/// With organization A's owner key, every row once per fixture it names, with organization B's
/// object of that kind in its place: an ID in the path must be 404 `not_found`, never a refusal
/// for permissions or a success, and an ID in a body must be answered exactly as a never-issued
/// ID is. Returns the number of requests made.
async fn cross_organization_probes(
    http: &Http,
    rows: &[Row],
    id_a: &dyn Fn(&str) -> String,
    id_b: &dyn Fn(&str) -> String,
    ids_b: &BTreeSet<String>,
) -> usize {
    let owner = format!("Bearer {}", owner_key());
    let mut requests = 0;
    for r in rows {
        let in_path: Vec<String> = placeholders(r.template)
            .into_iter()
            .filter(|p| shared(p).is_none())
            .map(|p| fixture_key(r, p))
            .collect();
        let mut in_body = Vec::new();
        if let Some(body) = &r.body {
            body_keys(body, &mut in_body);
        }
        for swapped in in_path.iter().chain(in_body.iter()) {
            let context = format!("{} with {swapped} of the other organization", r.label());
            let mixed = |key: &str| {
                if key == swapped {
                    id_b(key)
                } else {
                    id_a(key)
                }
            };
            let (path, body, named) = render(r, &mixed);
            let got = http
                .call(&r.method, &path, Some(&owner), body.as_ref())
                .await;
            requests += 1;
            assert_no_leak(&context, &got.1, ids_b, &named);
            if in_path.contains(swapped) {
                assert_envelope(&context, &got, StatusCode::NOT_FOUND, "not_found");
                continue;
            }
            // In a body: indistinguishable from an ID that was never issued.
            let unknown = |key: &str| {
                if key == swapped {
                    never_issued(&id_b(key))
                } else {
                    id_a(key)
                }
            };
            let (path, body, _) = render(r, &unknown);
            let baseline = http
                .call(&r.method, &path, Some(&owner), body.as_ref())
                .await;
            requests += 1;
            assert!(
                baseline.0.is_client_error() && baseline.0 != StatusCode::UNAUTHORIZED,
                "{context}: a never-issued ID answers {}: {}",
                baseline.0,
                baseline.1
            );
            let shape = |(status, text): &(StatusCode, String)| {
                let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                (
                    *status,
                    v["error"]["code"].clone(),
                    v["error"]["param"].clone(),
                    v["error"]["type"].clone(),
                )
            };
            assert_eq!(
                shape(&got),
                shape(&baseline),
                "{context}: answered unlike a never-issued ID: {} vs {}",
                got.1,
                baseline.1
            );
        }
    }
    requests
}

// --- grant more than you hold --------------------------------------------------------------------

/// Every permission of the delegate's custom role: the route permission of every granting route,
/// but not `api.organization.projects.write` nor `api.organization.audit_logs.read` (so not all
/// of an owner's), and no project permission in any project beyond those the organization
/// permissions stand for (`api.project.read`, `…users.read|write`, `…roles.read|write`).
const DELEGATE: &[&str] = &[
    "api.organization.users.read",
    "api.organization.users.write",
    "api.organization.roles.read",
    "api.organization.roles.write",
    "api.organization.invites.read",
    "api.organization.invites.write",
    "api.organization.projects.read",
    "api.organization.projects.users.read",
    "api.organization.projects.users.write",
    "api.groups.read",
    "api.groups.write",
    "api.organization.admin_api_keys.read",
    "api.organization.admin_api_keys.write",
    "api.organization.projects.api_keys.read",
    "api.organization.projects.api_keys.write",
];

/// One granting route called by a key that passes its route permission but lacks something the
/// body grants: `(method, template of the table, path, body, what the refusal names missing)`.
type GrantRow = (Method, &'static str, String, Value, &'static str);

/// Every route that grants, each with a body granting more than the delegate holds, is refused
/// with the permission error naming what it lacks, changes nothing (the same call by the owner
/// then succeeds), and is listed in the main table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_granting_route_refuses_to_grant_more_than_the_caller_holds() {
    use Method as M;
    let s = TestServer::start_persistent().await;
    let owner = owner_key();
    let f = populate(&s, &owner, "g").await;
    let id = |k: &str| f[k].clone();
    let project = id("project_id");

    // The delegate: a reader holding DELEGATE through a custom role, with a key of her own.
    let delegate = member(&s, &owner, "delegate@g.example").await;
    let role = str_of(
        &create(
            &s,
            &owner,
            "/v1/organization/roles",
            json!({"role_name": "Delegate", "permissions": DELEGATE}),
        )
        .await["id"],
    );
    create(
        &s,
        &owner,
        &format!("/v1/organization/users/{delegate}/roles"),
        json!({"role_id": role}),
    )
    .await;
    let key = s.key_for(&delegate).await;

    // What the grants name: a role with a permission she lacks in each scope, a group holding the
    // owner role, a project member (as viewer), a service account (role `none`), a group with
    // access to the project, and an owner invite made by the owner.
    let projects_role = str_of(
        &create(
            &s,
            &owner,
            "/v1/organization/roles",
            json!({"role_name": "Projects", "permissions": ["api.organization.projects.write"]}),
        )
        .await["id"],
    );
    let model_role = str_of(
        &create(
            &s,
            &owner,
            &format!("/v1/projects/{project}/roles"),
            json!({"role_name": "Model use", "permissions": ["api.model.request"]}),
        )
        .await["id"],
    );
    let owners_group = str_of(
        &create(
            &s,
            &owner,
            "/v1/organization/groups",
            json!({"name": "Owners"}),
        )
        .await["id"],
    );
    create(
        &s,
        &owner,
        &format!("/v1/organization/groups/{owners_group}/roles"),
        json!({"role_id": "role-api-organization-owner"}),
    )
    .await;
    let viewer = member(&s, &owner, "viewer@g.example").await;
    create(
        &s,
        &owner,
        &format!("/v1/organization/projects/{project}/users"),
        json!({"user_id": viewer, "role": "viewer"}),
    )
    .await;
    let bot = str_of(
        &create(
            &s,
            &owner,
            &format!("/v1/organization/projects/{project}/service_accounts"),
            json!({"name": "Keyless bot", "create_service_account_only": true}),
        )
        .await["id"],
    );
    let viewers = str_of(
        &create(
            &s,
            &owner,
            "/v1/organization/groups",
            json!({"name": "Viewers"}),
        )
        .await["id"],
    );
    create(
        &s,
        &owner,
        &format!("/v1/organization/projects/{project}/groups"),
        json!({"group_id": viewers, "role": "viewer"}),
    )
    .await;
    let boss_invite = str_of(
        &create(
            &s,
            &owner,
            "/v1/organization/invites",
            json!({"email": "boss@g.example", "role": "owner", "projects": []}),
        )
        .await["id"],
    );
    let target = id("other_user_id");
    // A key of the keyless bot (role `none`), which the owner may make: it reaches nothing.
    let bot_key = str_of(
        &create(
            &s,
            &owner,
            &format!("/v1/organization/projects/{project}/service_accounts/{bot}/api_keys"),
            json!({"name": "Inert"}),
        )
        .await["id"],
    );

    // What the predefined project role `member` holds and the delegate lacks in the project.
    const MEMBER_MODEL_USE: &str = "api.model.request, api.responses.write, api.files.read, api.files.write, api.vector_stores.read, api.vector_stores.write, api.fine_tuning.jobs.read, api.fine_tuning.jobs.write, api.batches.read, api.batches.write";
    let rows: Vec<GrantRow> = vec![
        (
            M::POST,
            "/v1/organization/users/{user_id}",
            format!("/v1/organization/users/{target}"),
            json!({"role": "owner"}),
            "api.organization.projects.write, api.organization.audit_logs.read",
        ),
        (
            M::POST,
            "/v1/organization/users/{user_id}/roles",
            format!("/v1/organization/users/{target}/roles"),
            json!({"role_id": projects_role}),
            "api.organization.projects.write",
        ),
        (
            M::POST,
            "/v1/organization/roles",
            "/v1/organization/roles".into(),
            json!({"role_name": "Wider", "permissions": ["api.organization.audit_logs.read"]}),
            "api.organization.audit_logs.read",
        ),
        (
            M::POST,
            "/v1/organization/roles/{role_id}",
            format!("/v1/organization/roles/{}", id("org_role_id")),
            json!({"permissions": ["api.organization.users.read", "api.organization.projects.write"]}),
            "api.organization.projects.write",
        ),
        (
            M::POST,
            "/v1/projects/{project_id}/roles",
            format!("/v1/projects/{project}/roles"),
            json!({"role_name": "Wider", "permissions": ["api.model.request"]}),
            "api.model.request",
        ),
        (
            M::POST,
            "/v1/projects/{project_id}/roles/{role_id}",
            format!("/v1/projects/{project}/roles/{}", id("project_role_id")),
            json!({"permissions": ["api.project.read", "api.files.write"]}),
            "api.files.write",
        ),
        (
            M::POST,
            "/v1/organization/projects/{project_id}/users",
            format!("/v1/organization/projects/{project}/users"),
            json!({"user_id": target, "role": "member"}),
            MEMBER_MODEL_USE,
        ),
        (
            M::POST,
            "/v1/organization/projects/{project_id}/users/{user_id}",
            format!("/v1/organization/projects/{project}/users/{viewer}"),
            json!({"role": "owner"}),
            "api.model.request, api.responses.write, api.files.write, api.vector_stores.write, api.fine_tuning.jobs.read, api.fine_tuning.jobs.write, api.batches.read, api.batches.write",
        ),
        (
            M::POST,
            "/v1/projects/{project_id}/users/{user_id}/roles",
            format!("/v1/projects/{project}/users/{viewer}/roles"),
            json!({"role_id": model_role}),
            "api.model.request",
        ),
        // While the bot's role is `none` (the rows below change it).
        (
            M::POST,
            "/v1/organization/projects/{project_id}/api_keys",
            format!("/v1/organization/projects/{project}/api_keys"),
            json!({"name": "Viewer's key", "user_id": viewer, "scopes": ["api.files.read"]}),
            "api.files.read",
        ),
        (
            M::POST,
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys",
            format!("/v1/organization/projects/{project}/service_accounts/{bot}/api_keys"),
            json!({"name": "Model key", "scopes": ["api.model.request"]}),
            "api.model.request",
        ),
        (
            M::POST,
            "/v1/organization/projects/{project_id}/api_keys/{api_key_id}",
            format!("/v1/organization/projects/{project}/api_keys/{bot_key}"),
            json!({"scopes": ["api.model.request"]}),
            "api.model.request",
        ),
        (
            M::POST,
            "/v1/organization/projects/{project_id}/service_accounts",
            format!("/v1/organization/projects/{project}/service_accounts"),
            json!({"name": "Delegate's bot"}),
            MEMBER_MODEL_USE,
        ),
        (
            M::POST,
            "/v1/organization/projects/{project_id}/service_accounts/{service_account_id}",
            format!("/v1/organization/projects/{project}/service_accounts/{bot}"),
            json!({"role": "member"}),
            MEMBER_MODEL_USE,
        ),
        (
            M::POST,
            "/v1/organization/invites",
            "/v1/organization/invites".into(),
            json!({"email": "new-owner@g.example", "role": "owner", "projects": []}),
            "api.organization.projects.write, api.organization.audit_logs.read",
        ),
        (
            M::POST,
            "/v1/organization/invites/{invite_id}/accept",
            format!("/v1/organization/invites/{boss_invite}/accept"),
            json!({}),
            "api.organization.projects.write, api.organization.audit_logs.read",
        ),
        (
            M::POST,
            "/v1/organization/admin_api_keys",
            "/v1/organization/admin_api_keys".into(),
            json!({"name": "Wider", "scopes": ["api.organization.audit_logs.read"]}),
            "api.organization.audit_logs.read",
        ),
        (
            M::POST,
            "/v1/organization/groups/{group_id}/users",
            format!("/v1/organization/groups/{owners_group}/users"),
            json!({"user_id": target}),
            "api.organization.projects.write, api.organization.audit_logs.read",
        ),
        (
            M::POST,
            "/v1/organization/groups/{group_id}/roles",
            format!("/v1/organization/groups/{}/roles", id("group_id")),
            json!({"role_id": "role-api-organization-owner"}),
            "api.organization.projects.write, api.organization.audit_logs.read",
        ),
        (
            M::POST,
            "/v1/organization/projects/{project_id}/groups",
            format!("/v1/organization/projects/{project}/groups"),
            json!({"group_id": id("other_group_id"), "role": "member"}),
            MEMBER_MODEL_USE,
        ),
        (
            M::POST,
            "/v1/projects/{project_id}/groups/{group_id}/roles",
            format!("/v1/projects/{project}/groups/{viewers}/roles"),
            json!({"role_id": model_role}),
            "api.model.request",
        ),
    ];

    let tabled: BTreeSet<String> = table().iter().map(Row::label).collect();
    let http = Http {
        client: reqwest::Client::new(),
        base: s.base_url.clone(),
    };
    for (method, template, path, body, missing) in &rows {
        let context = format!("{method} {template} granting more than held");
        assert!(
            tabled.contains(&format!("{method} {template}")),
            "{context}: not a route of the table"
        );
        let before = s.audit("limit=1").await;
        let got = http
            .call(method, path, Some(&format!("Bearer {key}")), Some(body))
            .await;
        let detail = assert_insufficient(&parsed(&got), missing);
        assert!(detail.contains("would grant"), "{context}: {detail}");
        assert_eq!(
            s.audit("limit=1").await,
            before,
            "{context}: nothing is written"
        );
        // The owner holds everything, so the same grant is hers to make.
        let by_owner = http
            .call(method, path, Some(&format!("Bearer {owner}")), Some(body))
            .await;
        assert_eq!(
            by_owner.0,
            StatusCode::OK,
            "{context}, by the owner: {}",
            by_owner.1
        );
    }
    s.stop().await;
}

/// Every path of the table refuses the methods it does not route with 405 in the envelope and an
/// `Allow` header naming exactly the methods it routes: the checks schemathesis would make
/// (`unsupported_method`, `allow_header_conformance`), but on every path and knowing which
/// methods orgadmin serves beyond the official document (the member-key extension
/// `POST …/api_keys` and the SDK's `POST …/api_keys/{api_key_id}`).
#[tokio::test]
async fn every_path_refuses_the_methods_it_does_not_route_with_405() {
    let s = TestServer::start().await;
    let http = Http {
        client: reqwest::Client::new(),
        base: s.base_url.clone(),
    };
    let mut routed: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for r in table() {
        routed
            .entry(r.template)
            .or_default()
            .insert(r.method.to_string());
    }
    let mut refused = 0;
    for (template, methods) in &routed {
        let path: String = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "probe_1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in [
            Method::GET,
            Method::POST,
            Method::DELETE,
            Method::PUT,
            Method::PATCH,
        ] {
            if methods.contains(method.as_str()) {
                continue;
            }
            let response = http
                .client
                .request(method.clone(), format!("{}{path}", http.base))
                .bearer_auth(owner_key())
                .send()
                .await
                .expect("the server answers");
            // `Allow` lists exactly what the path routes (HEAD with GET).
            let allow: BTreeSet<String> = response
                .headers()
                .get(reqwest::header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty() && m != "HEAD")
                .collect();
            assert_eq!(&allow, methods, "{method} {template}: Allow");
            let got = (response.status(), response.text().await.unwrap_or_default());
            assert_envelope(
                &format!("{method} {template}"),
                &got,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            );
            refused += 1;
        }
    }
    assert!(
        refused > routed.len(),
        "{refused} refusals over {} paths",
        routed.len()
    );
    s.stop().await;
}
