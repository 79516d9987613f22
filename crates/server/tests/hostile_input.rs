//! A catalogue of hostile input, sent as raw HTTP to a real server: malformed, truncated and
//! mistyped JSON, bodies over and just under the size limit, deep nesting, huge arrays, NUL bytes
//! and invalid UTF-8, very long IDs and names, SQL- and path-traversal-shaped values, duplicate
//! and nonsensical query parameters, wrong content types, empty bodies and unknown methods.
//!
//! Every case must be refused with the status and `code` its handler's code gives (always a 4xx,
//! never a 5xx, never a success), in the OpenAI error envelope, within a time limit; and the whole
//! catalogue must write nothing: the organization (its users, projects, roles, invites, keys,
//! groups, project members and service accounts, and the audit log) is the same afterwards.
//!
//! What the API legitimately accepts (look-alike but valid emails, SQL-shaped names, forged list
//! cursors, a JSON body labelled with another content type) is checked afterwards, in its own
//! section, against what the Admin API answers.

use std::time::Duration;

use orgadmin_testkit::{ok, str_of, TestServer, OWNER_EMAIL};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The server's body limit (`extract::MAX_BODY_BYTES`).
const MAX_BODY: usize = 1024 * 1024;
/// An answer slower than this is a hang.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

// --- cases -----------------------------------------------------------------------------------

enum Authorization {
    Owner,
    None,
    Raw(Vec<u8>),
}

/// The `param` an error must name.
#[derive(Clone, Debug)]
enum Param {
    Null,
    Is(String),
}

struct Case {
    name: String,
    method: Method,
    path: String,
    authorization: Authorization,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Vec<u8>>,
    status: StatusCode,
    code: &'static str,
    param: Param,
}

fn case(name: impl Into<String>, method: Method, path: impl Into<String>) -> Case {
    Case {
        name: name.into(),
        method,
        path: path.into(),
        authorization: Authorization::Owner,
        headers: Vec::new(),
        body: None,
        status: StatusCode::BAD_REQUEST,
        code: "invalid_value",
        param: Param::Null,
    }
}

impl Case {
    fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    fn json(self, body: &Value) -> Self {
        self.raw(body.to_string())
    }

    fn header(mut self, name: &'static str, value: &[u8]) -> Self {
        self.headers.push((
            HeaderName::from_static(name),
            HeaderValue::from_bytes(value).expect("a header value reqwest can send"),
        ));
        self
    }

    fn authorization(mut self, authorization: Authorization) -> Self {
        self.authorization = authorization;
        self
    }

    /// Expect this status and code, with `param` null.
    fn expect(mut self, status: StatusCode, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }

    fn param(mut self, param: &str) -> Self {
        self.param = Param::Is(param.to_owned());
        self
    }

    fn not_found(self, param: Option<&str>) -> Self {
        let case = self.expect(StatusCode::NOT_FOUND, "not_found");
        match param {
            Some(p) => case.param(p),
            None => case,
        }
    }

    fn missing(self, param: &str) -> Self {
        self.expect(StatusCode::BAD_REQUEST, "missing_required_parameter")
            .param(param)
    }

    fn method_not_allowed(self) -> Self {
        self.expect(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    }
}

/// The objects the catalogue aims at.
struct Targets {
    user: String,
    other_user: String,
    project: String,
    org_role: String,
    project_role: String,
    group: String,
    invite: String,
    key: String,
    service_account: String,
    /// The service account's first key, a project API key.
    project_key: String,
}

/// Percent-encode everything but unreserved characters (for paths and query values).
fn enc(raw: impl AsRef<[u8]>) -> String {
    raw.as_ref()
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// --- wrong JSON types -------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
    StrArray,
    ObjArray,
}

/// One field of a representative body: where it is (a JSON pointer), the `param` naming it, its
/// kind, and whether the handler requires it (so that `null`, which reads as absent, is refused).
struct Field {
    pointer: &'static str,
    param: &'static str,
    kind: Kind,
    required: bool,
}

fn field(pointer: &'static str, param: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        pointer,
        param,
        kind,
        required,
    }
}

/// Values of every JSON type but `kind` (and but `null`, which reads as absent).
fn wrong_values(kind: Kind) -> Vec<Value> {
    let mut values = vec![json!(42), json!(true), json!({}), json!({"a": "b"})];
    match kind {
        Kind::Str => values.extend([json!(-1), json!(1.5), json!([]), json!(["x"])]),
        Kind::Int => values.extend([
            json!("60"),
            json!(1.5),
            json!(1e300),
            json!([60]),
            json!(false),
        ]),
        Kind::Bool => values.extend([json!("true"), json!(0), json!([true])]),
        Kind::StrArray | Kind::ObjArray => values.extend([json!("x"), json!(1.5)]),
    }
    values.retain(|v| match kind {
        Kind::Int => !v.is_i64(),
        Kind::Bool => !v.is_boolean(),
        _ => true,
    });
    values
}

/// Wrong values for the elements of an array field.
fn wrong_elements(kind: Kind) -> Vec<Value> {
    match kind {
        Kind::StrArray => vec![json!(42), json!(true), json!([]), json!({}), Value::Null],
        // Not an array: serde reads a struct from the array of its fields' values in order, so
        // `[["proj_…", "member"]]` means `[{"id": "proj_…", "role": "member"}]`. Only the body
        // itself must be an object (`extract::parse_json`).
        Kind::ObjArray => vec![json!("x"), json!(42), json!(true), Value::Null],
        _ => Vec::new(),
    }
}

fn with(base: &Value, pointer: &str, value: Value) -> Value {
    let mut body = base.clone();
    *body
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} in {base}")) = value;
    body
}

/// Every wrong type for every field of a body, and every non-object body.
fn wrong_types(cases: &mut Vec<Case>, label: &str, path: &str, base: Value, fields: &[Field]) {
    let post = |name: String| case(format!("{label}: {name}"), Method::POST, path);
    for f in fields {
        for value in wrong_values(f.kind) {
            cases.push(
                post(format!("{} = {value}", f.param))
                    .json(&with(&base, f.pointer, value))
                    .param(f.param),
            );
        }
        if f.required {
            cases.push(
                post(format!("{} = null", f.param))
                    .json(&with(&base, f.pointer, Value::Null))
                    .missing(f.param),
            );
        }
        for value in wrong_elements(f.kind) {
            let pointer = format!("{}/0", f.pointer);
            let param = format!("{}[0]", f.param);
            cases.push(
                post(format!("{param} = {value}"))
                    .json(&with(&base, &pointer, value))
                    .param(&param),
            );
        }
    }
    // The body itself is not an object: every other JSON type, including the array of the
    // fields' values in order (which serde would read as the struct).
    let positional = Value::Array(base.as_object().unwrap().values().cloned().collect());
    for body in [
        json!([]),
        positional,
        json!("x"),
        json!(42),
        json!(true),
        Value::Null,
    ] {
        cases.push(post(format!("body = {body}")).json(&body));
    }
}

// --- the catalogue ----------------------------------------------------------------------------

/// The paths the catalogue aims at, made once from the [`Targets`].
struct Paths<'a> {
    t: &'a Targets,
    projects: &'static str,
    invites: &'static str,
    keys: &'static str,
    roles: &'static str,
    groups: &'static str,
    user_path: String,
    user_roles: String,
    project_users: String,
    project_user: String,
    accounts: String,
    project_roles: String,
    group_users: String,
    accept: String,
}

impl<'a> Paths<'a> {
    fn of(t: &'a Targets) -> Self {
        let user_path = format!("/v1/organization/users/{}", t.user);
        let project_users = format!("/v1/organization/projects/{}/users", t.project);
        Self {
            t,
            projects: "/v1/organization/projects",
            invites: "/v1/organization/invites",
            keys: "/v1/organization/admin_api_keys",
            roles: "/v1/organization/roles",
            groups: "/v1/organization/groups",
            user_roles: format!("{user_path}/roles"),
            project_user: format!("{project_users}/{}", t.user),
            accounts: format!("/v1/organization/projects/{}/service_accounts", t.project),
            project_roles: format!("/v1/projects/{}/roles", t.project),
            group_users: format!("/v1/organization/groups/{}/users", t.group),
            accept: format!("/v1/organization/invites/{}/accept", t.invite),
            user_path,
            project_users,
        }
    }
}

/// Bind the named fields of the [`Paths`] `p` as locals: `paths!(p => projects, keys; accept)`
/// binds the fixed paths before `;` as they are (`&'static str`) and the ones after it as owned
/// `String`s, so a section reads as if it had made them itself.
macro_rules! paths {
    ($p:ident => $($fixed:ident),*; $($made:ident),*) => {
        $(let $fixed = $p.$fixed;)*
        $(let $made = $p.$made.clone();)*
    };
}

/// Every case, section by section.
fn catalogue(t: &Targets) -> Vec<Case> {
    let p = Paths::of(t);
    let mut cases = Vec::new();
    malformed_json(&mut cases, &p);
    wrong_json_types(&mut cases, &p);
    values_out_of_range(&mut cases, &p);
    huge_bodies(&mut cases, &p);
    deep_nesting(&mut cases, &p);
    huge_arrays(&mut cases, &p);
    nul_characters(&mut cases, &p);
    long_values(&mut cases, &p);
    look_alike_emails(&mut cases, &p);
    sql_and_traversal_shapes(&mut cases, &p);
    missing_project_alias(&mut cases, &p);
    project_keys(&mut cases, &p);
    project_policies(&mut cases, &p);
    hostile_path_ids(&mut cases, &p);
    hostile_query_strings(&mut cases, &p);
    oversized_filters(&mut cases, &p);
    wrong_content_types(&mut cases, &p);
    empty_bodies(&mut cases, &p);
    unknown_methods(&mut cases, &p);
    hostile_authorization(&mut cases, &p);
    oversized_declared_bodies(&mut cases, &p);
    cases
}

/// Malformed and truncated JSON, on every kind of write.
fn malformed_json(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects, invites, keys, roles, groups; user_path, project_users, accounts, accept);
    let malformed: &[(&str, &[u8])] = &[
        ("an open brace", b"{"),
        ("a truncated member", b"{\"name\": "),
        ("a truncated string", b"{\"name\": \"x"),
        ("an unclosed object", b"{\"name\": \"x\""),
        ("a trailing comma", b"{\"name\": \"x\",}"),
        ("unquoted keys", b"{name: \"x\"}"),
        ("single quotes", b"{'name': 'x'}"),
        ("trailing garbage", b"{\"name\": \"x\"} trailing"),
        ("two documents", b"{\"name\": \"x\"}{\"name\": \"y\"}"),
        ("NaN", b"NaN"),
        (
            "a NaN member",
            b"{\"name\": \"x\", \"expires_in_seconds\": NaN}",
        ),
        (
            "Infinity",
            b"{\"name\": \"x\", \"expires_in_seconds\": Infinity}",
        ),
        ("a number out of range", b"{\"name\": 1e400}"),
        ("a byte order mark", b"\xEF\xBB\xBF{\"name\": \"x\"}"),
        ("an invalid escape", b"{\"name\": \"\\x41\"}"),
        ("a lone surrogate", b"{\"name\": \"\\ud800\"}"),
        ("a misspelt literal", b"{\"name\": tru}"),
        ("a missing colon", b"{\"name\" \"x\"}"),
        ("reversed braces", b"}{"),
        ("a lone quote", b"\""),
        ("an open bracket", b"["),
        ("a raw NUL byte", b"\x00"),
        ("a raw NUL after the document", b"{\"name\": \"x\"}\x00"),
        ("a raw NUL in a string", b"{\"name\": \"a\x00b\"}"),
        (
            "a raw control character in a string",
            b"{\"name\": \"a\x01b\"}",
        ),
        ("invalid UTF-8 in a string", b"{\"name\": \"\xff\xfe\"}"),
        ("invalid UTF-8 outside strings", b"{\xff: 1}"),
        ("truncated UTF-8", b"{\"name\": \"\xe2\x82\"}"),
        ("UTF-16", b"\xff\xfe{\x00\"\x00n\x00\"\x00:\x001\x00}\x00"),
    ];
    for (path, what) in [
        (projects, "project"),
        (invites, "invite"),
        (keys, "admin key"),
        (roles, "role"),
        (groups, "group"),
        (user_path.as_str(), "user"),
        (project_users.as_str(), "project user"),
        (accounts.as_str(), "service account"),
        (accept.as_str(), "accept"),
    ] {
        for (name, body) in malformed {
            c.push(case(format!("{what}: {name}"), M::POST, path).raw(*body));
        }
    }
}

/// Wrong JSON types for every field of representative bodies.
fn wrong_json_types(c: &mut Vec<Case>, p: &Paths) {
    paths!(p => t, projects, invites, keys, roles; user_path, project_users, accounts,
        project_roles, group_users, accept);
    wrong_types(
        c,
        "project",
        projects,
        json!({"name": "Hostile", "external_key_id": "ext-1", "residency": "GLOBAL"}),
        &[
            field("/name", "name", Kind::Str, true),
            field("/external_key_id", "external_key_id", Kind::Str, false),
            field("/residency", "residency", Kind::Str, false),
        ],
    );
    wrong_types(
        c,
        "invite",
        invites,
        json!({"email": "hostile@example.com", "role": "reader", "projects": [{"id": t.project, "role": "member"}]}),
        &[
            field("/email", "email", Kind::Str, true),
            field("/role", "role", Kind::Str, true),
            field("/projects", "projects", Kind::ObjArray, false),
            field("/projects/0/id", "projects[0].id", Kind::Str, true),
            field("/projects/0/role", "projects[0].role", Kind::Str, true),
        ],
    );
    wrong_types(
        c,
        "admin key",
        keys,
        json!({"name": "Hostile", "expires_in_seconds": 3600, "scopes": ["api.organization.users.read"]}),
        &[
            field("/name", "name", Kind::Str, true),
            field(
                "/expires_in_seconds",
                "expires_in_seconds",
                Kind::Int,
                false,
            ),
            field("/scopes", "scopes", Kind::StrArray, false),
        ],
    );
    wrong_types(
        c,
        "role",
        roles,
        json!({"role_name": "Hostile", "permissions": ["api.organization.users.read"], "description": "d"}),
        &[
            field("/role_name", "role_name", Kind::Str, true),
            field("/permissions", "permissions", Kind::StrArray, true),
            field("/description", "description", Kind::Str, false),
        ],
    );
    wrong_types(
        c,
        "user",
        &user_path,
        json!({"role": "reader", "role_id": "role-api-organization-reader", "technical_level": "x", "developer_persona": "y"}),
        &[
            field("/role", "role", Kind::Str, false),
            field("/role_id", "role_id", Kind::Str, false),
            field("/technical_level", "technical_level", Kind::Str, false),
            field("/developer_persona", "developer_persona", Kind::Str, false),
        ],
    );
    wrong_types(
        c,
        "service account",
        &accounts,
        json!({"name": "Bot", "create_service_account_only": false, "expires_in_seconds": 60}),
        &[
            field("/name", "name", Kind::Str, true),
            field(
                "/create_service_account_only",
                "create_service_account_only",
                Kind::Bool,
                false,
            ),
            field(
                "/expires_in_seconds",
                "expires_in_seconds",
                Kind::Int,
                false,
            ),
        ],
    );
    wrong_types(
        c,
        "service account update",
        &format!("{accounts}/{}", t.service_account),
        json!({"name": "Renamed", "role": "member"}),
        &[
            field("/name", "name", Kind::Str, false),
            field("/role", "role", Kind::Str, false),
        ],
    );
    wrong_types(
        c,
        "project role update",
        &format!("{project_roles}/{}", t.project_role),
        json!({"role_name": "Renamed", "permissions": ["api.project.read"], "description": "d"}),
        &[
            field("/role_name", "role_name", Kind::Str, false),
            field("/permissions", "permissions", Kind::StrArray, false),
            field("/description", "description", Kind::Str, false),
        ],
    );
    wrong_types(
        c,
        "project user",
        &project_users,
        json!({"user_id": t.other_user, "role": "member"}),
        &[
            field("/user_id", "user_id", Kind::Str, false),
            field("/role", "role", Kind::Str, true),
        ],
    );
    wrong_types(
        c,
        "group member",
        &group_users,
        json!({"user_id": t.other_user}),
        &[field("/user_id", "user_id", Kind::Str, true)],
    );
    wrong_types(
        c,
        "accept",
        &accept,
        json!({"name": "Accepted"}),
        &[field("/name", "name", Kind::Str, false)],
    );
}

/// Right types, values out of range.
fn values_out_of_range(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => keys; accounts);
    for (value, param) in [
        (json!(0), "expires_in_seconds"),
        (json!(-1), "expires_in_seconds"),
        (json!(31_536_001), "expires_in_seconds"),
        (json!(i64::MAX), "expires_in_seconds"),
        (json!(i64::MIN), "expires_in_seconds"),
    ] {
        c.push(
            case(
                format!("admin key: expires_in_seconds = {value}"),
                M::POST,
                keys,
            )
            .json(&json!({"name": "k", "expires_in_seconds": value}))
            .param(param),
        );
    }
    c.push(
        case(
            "admin key: expires_in_seconds = 99999999999999999999",
            M::POST,
            keys,
        )
        .raw(&b"{\"name\": \"k\", \"expires_in_seconds\": 99999999999999999999}"[..])
        .param("expires_in_seconds"),
    );
    c.push(
        case(
            "service account: a key lifetime without a key",
            M::POST,
            &accounts,
        )
        .json(
            &json!({"name": "Bot", "create_service_account_only": true, "expires_in_seconds": 60}),
        )
        .param("expires_in_seconds"),
    );
}

/// Project API keys: the member key extension, a service account's further key and the SDK's
/// update, with every field mistyped, out of range, missing, `null` where the update forbids it,
/// scopes that are no project permission, and bad list filters.
fn project_keys(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    let t = p.t;
    let keys = format!("/v1/organization/projects/{}/api_keys", t.project);
    let key = format!("{keys}/{}", t.project_key);
    let account_keys = format!(
        "/v1/organization/projects/{}/service_accounts/{}/api_keys",
        t.project, t.service_account
    );
    wrong_types(
        c,
        "member key",
        &keys,
        json!({"name": "k", "user_id": t.user, "scopes": ["api.model.request"], "expires_in_seconds": 60}),
        &[
            field("/name", "name", Kind::Str, true),
            field("/user_id", "user_id", Kind::Str, true),
            field("/scopes", "scopes", Kind::StrArray, false),
            field(
                "/expires_in_seconds",
                "expires_in_seconds",
                Kind::Int,
                false,
            ),
        ],
    );
    wrong_types(
        c,
        "service account key",
        &account_keys,
        json!({"name": "k", "scopes": ["api.model.request"], "expires_in_seconds": 60}),
        &[
            field("/name", "name", Kind::Str, false),
            field("/scopes", "scopes", Kind::StrArray, false),
            field(
                "/expires_in_seconds",
                "expires_in_seconds",
                Kind::Int,
                false,
            ),
        ],
    );
    for (label, path, body) in [
        (
            "member key",
            &keys,
            json!({"name": "k", "user_id": t.user, "scopes": [], "expires_in_seconds": 60}),
        ),
        (
            "service account key",
            &account_keys,
            json!({"name": "k", "scopes": [], "expires_in_seconds": 60}),
        ),
    ] {
        for value in [json!(0), json!(-5), json!(31_536_001), json!(i64::MAX)] {
            c.push(
                case(
                    format!("{label}: expires_in_seconds = {value}"),
                    M::POST,
                    path,
                )
                .json(&with(&body, "/expires_in_seconds", value))
                .param("expires_in_seconds"),
            );
        }
        for scope in [
            "api.nonsense",
            "api.organization.users.write",
            "",
            "'; DROP TABLE project_api_keys; --",
        ] {
            c.push(
                case(format!("{label}: scope {scope:?}"), M::POST, path)
                    .json(&with(&body, "/scopes", json!([scope])))
                    .param("scopes"),
            );
        }
    }
    c.push(
        case("member key: no name", M::POST, &keys)
            .json(&json!({"user_id": t.user}))
            .missing("name"),
    );
    c.push(
        case("member key: no user_id", M::POST, &keys)
            .json(&json!({"name": "k"}))
            .missing("user_id"),
    );
    c.push(
        case("member key: a user outside the project", M::POST, &keys)
            .json(&json!({"name": "k", "user_id": t.other_user}))
            .param("user_id"),
    );
    c.push(
        case("member key: a user never issued", M::POST, &keys)
            .json(&json!({"name": "k", "user_id": "user-'; DROP TABLE users; --"}))
            .param("user_id"),
    );
    c.push(
        case("member key: a user_id of 10,000 characters", M::POST, &keys)
            .json(&json!({"name": "k", "user_id": "u".repeat(10_000)}))
            .param("user_id"),
    );
    c.push(
        case("update: an empty body", M::POST, &key)
            .json(&json!({}))
            .missing("scopes"),
    );
    for (body, param) in [
        (json!({"scopes": null}), "scopes"),
        (json!({"expires_in_seconds": null}), "expires_in_seconds"),
        (json!({"scopes": "api.model.request"}), "scopes"),
        (json!({"scopes": [1]}), "scopes[0]"),
        (json!({"scopes": ["api.organization.read"]}), "scopes"),
        (json!({"expires_in_seconds": "60"}), "expires_in_seconds"),
        (json!({"expires_in_seconds": 0}), "expires_in_seconds"),
        (json!({"expires_in_seconds": 1.5}), "expires_in_seconds"),
        (
            json!({"expires_in_seconds": 31_536_001}),
            "expires_in_seconds",
        ),
    ] {
        c.push(
            case(format!("update: {body}"), M::POST, &key)
                .json(&body)
                .param(param),
        );
    }
    for value in ["bogus", "ACTIVE", "", "any'--", "active\u{202e}"] {
        c.push(
            case(
                format!("key list: owner_project_access={value:?}"),
                M::GET,
                format!("{keys}?owner_project_access={}", enc(value)),
            )
            .param("owner_project_access"),
        );
    }
    c.push(
        case(
            "key list: owner_project_access twice",
            M::GET,
            format!("{keys}?owner_project_access=any&owner_project_access=active"),
        )
        .param("owner_project_access"),
    );
    for limit in ["0", "101", "-1", "ten", "1e2"] {
        c.push(
            case(
                format!("key list: limit={limit}"),
                M::GET,
                format!("{keys}?limit={limit}"),
            )
            .param("limit"),
        );
    }
    for (label, path) in [
        ("retrieve", format!("{keys}/key_{}", "0".repeat(24))),
        (
            "retrieve a 10,000-character ID",
            format!("{keys}/{}", "k".repeat(10_000)),
        ),
        ("update", format!("{keys}/{}", enc("key_' OR '1'='1"))),
    ] {
        let method = if label == "update" { M::POST } else { M::GET };
        let case = case(format!("project key: {label}"), method, path);
        let case = if label == "update" {
            case.json(&json!({"scopes": []}))
        } else {
            case
        };
        c.push(case.not_found(Some("api_key_id")));
    }
    c.push(
        case(
            "service account key: an account never issued",
            M::POST,
            format!(
                "/v1/organization/projects/{}/service_accounts/svc_acct_{}/api_keys",
                t.project,
                "0".repeat(24)
            ),
        )
        .json(&json!({"name": "k"}))
        .not_found(Some("service_account_id")),
    );
}

/// `{key: value}`.
fn one(key: &str, value: Value) -> Value {
    Value::Object([(key.to_owned(), value)].into_iter().collect())
}

/// What a project may use: model permissions, hosted tools and rate limits.
fn project_policies(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    let t = p.t;
    let base = format!("/v1/organization/projects/{}", t.project);
    let models = format!("{base}/model_permissions");
    let tools = format!("{base}/hosted_tool_permissions");
    let limits = format!("{base}/rate_limits");
    let limit = format!("{limits}/rl-gpt-4o");
    wrong_types(
        c,
        "model permissions",
        &models,
        json!({"mode": "allow_list", "model_ids": ["o3"]}),
        &[
            field("/mode", "mode", Kind::Str, true),
            field("/model_ids", "model_ids", Kind::StrArray, true),
        ],
    );
    for (body, param) in [
        (json!({"mode": "", "model_ids": []}), "mode"),
        (json!({"mode": "allow_list\u{0}", "model_ids": []}), "mode"),
        (
            json!({"mode": "deny_list", "model_ids": ["'; DROP TABLE project_model_permissions; --"]}),
            "model_ids",
        ),
        (
            json!({"mode": "deny_list", "model_ids": ["o3".repeat(5_000)]}),
            "model_ids",
        ),
        (
            json!({"mode": "deny_list", "model_ids": ["../../etc/passwd"]}),
            "model_ids",
        ),
    ] {
        c.push(
            case(
                format!("model permissions: {}", clip(&body.to_string())),
                M::POST,
                &models,
            )
            .json(&body)
            .param(param),
        );
    }
    let unknown: Vec<String> = (0..20_000).map(|i| format!("model-{i}")).collect();
    c.push(
        case("model permissions: 20,000 unknown models", M::POST, &models)
            .json(&json!({"mode": "deny_list", "model_ids": unknown}))
            .param("model_ids"),
    );
    c.push(case("model permissions: no body", M::POST, &models).missing("mode"));
    for tool in [
        "file_search",
        "web_search",
        "image_generation",
        "mcp",
        "code_interpreter",
    ] {
        // Not `[true]`: serde reads a struct from the array of its fields' values, as for the
        // invite's projects (see `wrong_elements`).
        for value in [json!(42), json!(true), json!("on"), json!([])] {
            c.push(
                case(format!("hosted tools: {tool} = {value}"), M::POST, &tools)
                    .json(&one(tool, value))
                    .param(tool),
            );
        }
        let enabled = format!("{tool}.enabled");
        for value in [json!("true"), json!(1), json!({}), json!([true])] {
            c.push(
                case(
                    format!("hosted tools: {enabled} = {value}"),
                    M::POST,
                    &tools,
                )
                .json(&one(tool, json!({"enabled": value})))
                .param(&enabled),
            );
        }
        for body in [one(tool, json!({})), one(tool, json!({"enabled": null}))] {
            c.push(
                case(format!("hosted tools: {body}"), M::POST, &tools)
                    .json(&body)
                    .missing(&enabled),
            );
        }
    }
    for name in [
        "browser",
        "FILE_SEARCH",
        "'; DROP TABLE project_hosted_tools; --",
        "",
    ] {
        c.push(
            case(
                format!("hosted tools: unknown tool {name:?}"),
                M::POST,
                &tools,
            )
            .json(&one(name, json!({"enabled": false})))
            .param(name),
        );
    }
    for body in [json!([]), json!("x"), json!(1), Value::Null] {
        c.push(case(format!("hosted tools: body = {body}"), M::POST, &tools).json(&body));
    }
    for field in [
        "max_requests_per_1_minute",
        "max_tokens_per_1_minute",
        "batch_1_day_max_input_tokens",
    ] {
        for value in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("60"),
            json!(1e300),
            json!(i64::MAX),
            json!(u64::MAX),
            json!([60]),
            json!({}),
            json!(true),
            Value::Null,
        ] {
            c.push(
                case(format!("rate limit: {field} = {value}"), M::POST, &limit)
                    .json(&one(field, value))
                    .param(field),
            );
        }
    }
    c.push(
        case("rate limit: a field gpt-4o does not have", M::POST, &limit)
            .json(&json!({"max_images_per_1_minute": 1}))
            .param("max_images_per_1_minute"),
    );
    c.push(
        case("rate limit: an unknown field", M::POST, &limit)
            .json(&json!({"max_requests_per_1_minute": 1, "rpm": 1}))
            .param("rpm"),
    );
    for (name, body) in [("empty", &b""[..]), ("{}", b"{}")] {
        c.push(
            case(format!("rate limit: {name} body"), M::POST, &limit)
                .raw(body)
                .missing("max_requests_per_1_minute"),
        );
    }
    for id in [
        "rl-gpt-9".to_owned(),
        "gpt-4o".to_owned(),
        enc("rl-' OR '1'='1"),
        "rl-".to_owned() + &"x".repeat(10_000),
        enc("rl-gpt-4o\u{202e}"),
        "..%2F..%2Fetc".to_owned(),
    ] {
        c.push(
            case(
                format!("rate limit: id {}", clip(&id)),
                M::POST,
                format!("{limits}/{id}"),
            )
            .json(&json!({"max_requests_per_1_minute": 1}))
            .not_found(Some("rate_limit_id")),
        );
    }
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=1e2", "limit"),
        ("after=rl-nothing", "after"),
        ("after=%27%20OR%201%3D1", "after"),
        ("before=rl-nothing", "before"),
        ("after=rl-o3&before=rl-o3", "before"),
        ("limit=1&limit=2", "limit"),
    ] {
        c.push(
            case(
                format!("rate limit list: {query}"),
                M::GET,
                format!("{limits}?{query}"),
            )
            .param(param),
        );
    }
    for path in [&models, &tools, &limits] {
        c.push(
            case(
                format!("{path}: a project never issued"),
                M::GET,
                path.replace(&t.project, &format!("proj_{}", "0".repeat(24))),
            )
            .not_found(Some("project_id")),
        );
    }
    c.push(case("rate limits: PUT", M::PUT, &limits).method_not_allowed());
    c.push(case("rate limit: GET", M::GET, &limit).method_not_allowed());
    c.push(case("hosted tools: DELETE", M::DELETE, &tools).method_not_allowed());
}

/// A body of exactly `size` bytes: `prefix`, then `a`s, then `suffix`.
fn padded(size: usize, prefix: &str, suffix: &str) -> Vec<u8> {
    let mut body = prefix.as_bytes().to_vec();
    body.resize(size - suffix.len(), b'a');
    body.extend_from_slice(suffix.as_bytes());
    body
}

/// Huge bodies: over the limit, and just under it (then refused for what they hold).
fn huge_bodies(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects, invites, keys; accept);
    for (name, size) in [("1 MiB + 1 byte", MAX_BODY + 1), ("4 MiB", 4 * MAX_BODY)] {
        for path in [projects, invites, keys] {
            c.push(
                case(format!("{path}: a body of {name}"), M::POST, path)
                    .raw(padded(size, "{\"name\": \"x\", \"pad\": \"", "\"}"))
                    .expect(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large"),
            );
        }
    }
    c.push(
        case(
            "project: a body of exactly 1 MiB, name too long",
            M::POST,
            projects,
        )
        .raw(padded(MAX_BODY, "{\"name\": \"", "\"}"))
        .param("name"),
    );
    c.push(
        case(
            "project: a body of 1 MiB - 1 byte without a name",
            M::POST,
            projects,
        )
        .raw(padded(MAX_BODY - 1, "{\"pad\": \"", "\"}"))
        .missing("name"),
    );
    c.push(
        case(
            "project: a body of 1 MiB, external_key_id too long",
            M::POST,
            projects,
        )
        .raw(padded(
            MAX_BODY,
            "{\"name\": \"Hostile\", \"external_key_id\": \"",
            "\"}",
        ))
        .param("external_key_id"),
    );
    c.push(
        case("invite: a body of 1 MiB, email too long", M::POST, invites)
            .raw(padded(
                MAX_BODY,
                "{\"role\": \"reader\", \"email\": \"a@",
                ".example.com\"}",
            ))
            .param("email"),
    );
    c.push(
        case("accept: a body of 1 MiB, name too long", M::POST, &accept)
            .raw(padded(MAX_BODY, "{\"name\": \"", "\"}"))
            .param("name"),
    );
}

/// Deep nesting.
fn deep_nesting(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => keys, roles; );
    let deep = 100_000;
    for (name, body) in [
        ("100,000 [", "[".repeat(deep)),
        ("100,000 balanced [ ]", "[".repeat(deep) + &"]".repeat(deep)),
        ("100,000 {\"a\":", "{\"a\":".repeat(deep)),
        (
            "100,000 levels of scopes",
            format!(
                "{{\"name\": \"k\", \"scopes\": {}{}}}",
                "[".repeat(deep),
                "]".repeat(deep)
            ),
        ),
    ] {
        for path in [keys, roles] {
            c.push(case(format!("{path}: {name}"), M::POST, path).raw(body.clone()));
        }
    }
}

/// 10,000-element arrays.
fn huge_arrays(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => t, invites, keys, roles; project_roles);
    let many = 10_000;
    let valid_then_unknown = |valid: &str| -> Vec<Value> {
        let mut names = vec![json!(valid); many - 1];
        names.push(json!("api.unknown.permission"));
        names
    };
    c.push(
        case("admin key: 10,000 unknown scopes", M::POST, keys)
            .json(&json!({"name": "k", "scopes": vec!["api.unknown"; many]}))
            .param("scopes"),
    );
    c.push(
        case("admin key: 9,999 scopes and an unknown one", M::POST, keys)
            .json(
                &json!({"name": "k", "scopes": valid_then_unknown("api.organization.users.read")}),
            )
            .param("scopes"),
    );
    c.push(
        case("admin key: 10,000 numeric scopes", M::POST, keys)
            .json(&json!({"name": "k", "scopes": vec![1; many]}))
            .param("scopes[0]"),
    );
    c.push(
        case("role: 9,999 permissions and an unknown one", M::POST, roles)
            .json(&json!({"role_name": "r", "permissions": valid_then_unknown("api.organization.users.read")}))
            .param("permissions"),
    );
    c.push(
        case(
            "project role: 9,999 permissions and an unknown one",
            M::POST,
            &project_roles,
        )
        .json(&json!({"role_name": "r", "permissions": valid_then_unknown("api.project.read")}))
        .param("permissions"),
    );
    c.push(
        case("role: 10,000 null permissions", M::POST, roles)
            .json(&json!({"role_name": "r", "permissions": vec![Value::Null; many]}))
            .param("permissions[0]"),
    );
    for count in [101, many] {
        let list = vec![json!({"id": t.project, "role": "member"}); count];
        c.push(
            case(format!("invite: {count} projects"), M::POST, invites)
                .json(&json!({"email": "many@example.com", "role": "reader", "projects": list}))
                .param("projects"),
        );
    }
    c.push(
        case("invite: one project twice", M::POST, invites)
            .json(
                &json!({"email": "twice@example.com", "role": "reader", "projects": [
                {"id": t.project, "role": "member"}, {"id": t.project, "role": "owner"}]}),
            )
            .param("projects"),
    );
}

/// NUL characters in body strings and keys, escaped so that the JSON itself is valid (raw
/// NUL bytes and invalid UTF-8 are among the malformed bodies above).
fn nul_characters(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects, invites, keys, roles, groups; user_path);
    for (name, path, body, param) in [
        ("project name", projects, json!({"name": "a\u{0}b"}), "name"),
        ("a key", projects, json!({"na\u{0}me": "x"}), "na\\0me"),
        (
            "invite email",
            invites,
            json!({"email": "a@example.com\u{0}", "role": "reader"}),
            "email",
        ),
        (
            "invite project",
            invites,
            json!({"email": "a@example.com", "role": "reader", "projects": [{"id": "proj_\u{0}", "role": "member"}]}),
            "projects[0].id",
        ),
        (
            "a scope",
            keys,
            json!({"name": "k", "scopes": ["api.organization.users.read\u{0}"]}),
            "scopes[0]",
        ),
        ("group name", groups, json!({"name": "\u{0}"}), "name"),
        (
            "role description",
            roles,
            json!({"role_name": "r", "permissions": [], "description": "\u{0}"}),
            "description",
        ),
        (
            "user persona",
            user_path.as_str(),
            json!({"developer_persona": "x\u{0}"}),
            "developer_persona",
        ),
        (
            "user technical level",
            user_path.as_str(),
            json!({"technical_level": "x\u{0}"}),
            "technical_level",
        ),
    ] {
        c.push(
            case(format!("NUL in {name}"), M::POST, path)
                .json(&body)
                .param(param),
        );
    }
}

/// Very long values: 10 KB, and just over each documented limit.
fn long_values(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects, invites, keys, roles, groups; user_path, project_users, accounts, accept);
    let ten_kb = "x".repeat(10 * 1024);
    let long_email = format!("{}@example.com", "a".repeat(10 * 1024));
    let email_255 = format!("{}@example.com", "a".repeat(255 - "@example.com".len()));
    for (name, path, body, param) in [
        (
            "project name of 10 KB",
            projects,
            json!({"name": ten_kb}),
            "name",
        ),
        (
            "project name of 256",
            projects,
            json!({"name": "n".repeat(256)}),
            "name",
        ),
        (
            "external_key_id of 256",
            projects,
            json!({"name": "n", "external_key_id": "e".repeat(256)}),
            "external_key_id",
        ),
        (
            "email of 10 KB",
            invites,
            json!({"email": long_email, "role": "reader"}),
            "email",
        ),
        (
            "email of 255",
            invites,
            json!({"email": email_255, "role": "reader"}),
            "email",
        ),
        ("key name of 10 KB", keys, json!({"name": ten_kb}), "name"),
        (
            "key name of 256",
            keys,
            json!({"name": "k".repeat(256)}),
            "name",
        ),
        (
            "role name of 256",
            roles,
            json!({"role_name": "r".repeat(256), "permissions": []}),
            "role_name",
        ),
        (
            "role description of 1001",
            roles,
            json!({"role_name": "r", "permissions": [], "description": "d".repeat(1001)}),
            "description",
        ),
        (
            "group name of 256",
            groups,
            json!({"name": "g".repeat(256)}),
            "name",
        ),
        (
            "service account name of 256",
            accounts.as_str(),
            json!({"name": "s".repeat(256)}),
            "name",
        ),
        (
            "member name of 256",
            accept.as_str(),
            json!({"name": "m".repeat(256)}),
            "name",
        ),
        (
            "developer persona of 10 KB",
            user_path.as_str(),
            json!({"developer_persona": ten_kb}),
            "developer_persona",
        ),
        (
            "technical level of 256",
            user_path.as_str(),
            json!({"technical_level": "t".repeat(256)}),
            "technical_level",
        ),
        (
            "project user email of 10 KB",
            project_users.as_str(),
            json!({"email": long_email, "role": "member"}),
            "email",
        ),
    ] {
        c.push(case(name, M::POST, path).json(&body).param(param));
    }
}

/// Look-alike emails that are not email addresses.
fn look_alike_emails(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => invites; );
    for email in [
        "owner\u{FF20}example.com",
        "owner@@example.com",
        "owner@example..com",
        "owner@.example.com",
        "owner @example.com",
        "owner@example.com\u{7}",
        "",
        "   ",
    ] {
        c.push(
            case(format!("invite email {email:?}"), M::POST, invites)
                .json(&json!({"email": email, "role": "reader"}))
                .param("email"),
        );
    }
}

/// SQL- and path-traversal-shaped values.
fn sql_and_traversal_shapes(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects, invites, keys, roles; user_path, user_roles, project_users, project_user,
        accounts, group_users);
    let hostile = [
        "' OR 1=1 --",
        "' OR '1'='1",
        "1; DROP TABLE users; --",
        "../../etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "%2e%2e%2f",
        "%00",
        "*",
        "%",
        "_",
    ];
    for value in hostile {
        // In path IDs: nothing has that ID.
        for (template, param) in [
            ("/v1/organization/users/{}", "user_id"),
            ("/v1/organization/projects/{}", "project_id"),
            ("/v1/organization/roles/{}", "role_id"),
            ("/v1/organization/invites/{}", "invite_id"),
            ("/v1/organization/admin_api_keys/{}", "key_id"),
            ("/v1/organization/groups/{}", "group_id"),
        ] {
            let path = template.replace("{}", &enc(value));
            c.push(
                case(format!("GET {template} = {value:?}"), M::GET, &path).not_found(Some(param)),
            );
            // Projects are archived, never deleted.
            let delete = case(format!("DELETE {template} = {value:?}"), M::DELETE, &path);
            c.push(if param == "project_id" {
                delete.method_not_allowed()
            } else {
                delete.not_found(Some(param))
            });
        }
        let sa_path = format!("{accounts}/{}", enc(value));
        c.push(
            case(format!("service account ID {value:?}"), M::GET, &sa_path)
                .not_found(Some("service_account_id")),
        );
        let archive = format!("/v1/organization/projects/{}/archive", enc(value));
        c.push(
            case(format!("archive project {value:?}"), M::POST, &archive)
                .not_found(Some("project_id")),
        );
        let accept_path = format!("/v1/organization/invites/{}/accept", enc(value));
        c.push(
            case(format!("accept invite {value:?}"), M::POST, &accept_path)
                .json(&json!({"name": "x"}))
                .not_found(Some("invite_id")),
        );
        let member = format!("{project_users}/{}", enc(value));
        c.push(
            case(format!("remove project user {value:?}"), M::DELETE, &member)
                .not_found(Some("user_id")),
        );
        let held = format!("{user_roles}/{}", enc(value));
        c.push(
            case(format!("unassign role {value:?}"), M::DELETE, &held).not_found(Some("role_id")),
        );
        // In query parameters that name objects.
        let permissions = format!("{user_path}/permissions?project_id={}", enc(value));
        c.push(
            case(
                format!("permissions in project {value:?}"),
                M::GET,
                &permissions,
            )
            .not_found(Some("project_id")),
        );
        let events = format!("/v1/organization/audit_logs?event_types[]={}", enc(value));
        c.push(case(format!("audit event type {value:?}"), M::GET, &events).param("event_types"));
        let effective = format!(
            "/v1/organization/audit_logs?effective_at[gte]={}",
            enc(value)
        );
        c.push(
            case(format!("audit effective_at {value:?}"), M::GET, &effective)
                .param("effective_at[gte]"),
        );
        let order = format!("/v1/organization/roles?order={}", enc(value));
        c.push(case(format!("order {value:?}"), M::GET, &order).param("order"));
        let archived = format!("{projects}?include_archived={}", enc(value));
        c.push(
            case(format!("include_archived {value:?}"), M::GET, &archived)
                .param("include_archived"),
        );
        // In body fields.
        c.push(
            case(format!("invite role {value:?}"), M::POST, invites)
                .json(&json!({"email": "sql@example.com", "role": value}))
                .param("role"),
        );
        c.push(
            case(format!("invite email {value:?}"), M::POST, invites)
                .json(&json!({"email": value, "role": "reader"}))
                .param("email"),
        );
        c.push(
            case(format!("invite project {value:?}"), M::POST, invites)
                .json(&json!({"email": "sql@example.com", "role": "reader", "projects": [{"id": value, "role": "member"}]}))
                .param("projects"),
        );
        c.push(
            case(
                format!("project user by ID {value:?}"),
                M::POST,
                &project_users,
            )
            .json(&json!({"user_id": value, "role": "member"}))
            .param("user_id"),
        );
        c.push(
            case(
                format!("project user role {value:?}"),
                M::POST,
                &project_user,
            )
            .json(&json!({"role": value}))
            .param("role"),
        );
        c.push(
            case(format!("group member {value:?}"), M::POST, &group_users)
                .json(&json!({"user_id": value}))
                .param("user_id"),
        );
        c.push(
            case(format!("assign role {value:?}"), M::POST, &user_roles)
                .json(&json!({"role_id": value}))
                .not_found(Some("role_id")),
        );
        c.push(
            case(format!("user role {value:?}"), M::POST, &user_path)
                .json(&json!({"role": value}))
                .param("role"),
        );
        c.push(
            case(format!("a scope {value:?}"), M::POST, keys)
                .json(&json!({"name": "k", "scopes": [value]}))
                .param("scopes"),
        );
        c.push(
            case(format!("a permission {value:?}"), M::POST, roles)
                .json(&json!({"role_name": "r", "permissions": [value]}))
                .param("permissions"),
        );
        c.push(
            case(format!("residency {value:?}"), M::POST, projects)
                .json(&json!({"name": "p", "residency": value}))
                .param("residency"),
        );
    }
}

/// A predefined role's project alias naming a project that is not there.
fn missing_project_alias(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => ; project_roles);
    let alias = format!(
        "{project_roles}/role-api-project-member__api-project__{}",
        enc("' OR 1=1 --")
    );
    c.push(case("alias of a hostile project", M::GET, &alias).not_found(Some("role_id")));
}

/// NUL, invalid UTF-8 and oversized IDs in paths.
fn hostile_path_ids(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => t, keys; group_users);
    for (name, id) in [
        ("NUL", "%00".to_owned()),
        ("an embedded NUL", format!("{}%00", t.user)),
        ("an encoded percent-NUL", "%2500".to_owned()),
        ("10 KB", "u".repeat(10 * 1024)),
        ("60 KB", "u".repeat(60 * 1024)),
        ("an encoded slash", "a%2Fb".to_owned()),
        ("a space", "a%20b".to_owned()),
        ("a tab", "a%09b".to_owned()),
        ("a newline", "a%0Ab".to_owned()),
        ("an emoji", enc("🦀")),
        ("an RTL override", enc(format!("{}\u{202E}", t.user))),
    ] {
        let param = Some("user_id");
        c.push(
            case(
                format!("GET a user ID with {name}"),
                M::GET,
                format!("/v1/organization/users/{id}"),
            )
            .not_found(param),
        );
        c.push(
            case(
                format!("POST a user ID with {name}"),
                M::POST,
                format!("/v1/organization/users/{id}"),
            )
            .json(&json!({"role": "reader"}))
            .not_found(param),
        );
        c.push(
            case(
                format!("DELETE a user ID with {name}"),
                M::DELETE,
                format!("/v1/organization/users/{id}"),
            )
            .not_found(param),
        );
        c.push(
            case(
                format!("project users of a project ID with {name}"),
                M::GET,
                format!("/v1/organization/projects/{id}/users"),
            )
            .not_found(Some("project_id")),
        );
        c.push(
            case(
                format!("group member with {name}"),
                M::DELETE,
                format!("{group_users}/{id}"),
            )
            .not_found(param),
        );
        c.push(
            case(
                format!("a key ID with {name}"),
                M::DELETE,
                format!("{keys}/{id}"),
            )
            .not_found(Some("key_id")),
        );
    }
    for (name, id) in [
        ("invalid UTF-8", "%FF%FE"),
        ("a truncated UTF-8 sequence", "%E2%82"),
        ("an overlong NUL", "%C0%80"),
        ("a UTF-16 surrogate", "%ED%A0%80"),
    ] {
        // The path parameter cannot be decoded: no object matches.
        for (method, path) in [
            (M::GET, format!("/v1/organization/users/{id}")),
            (M::DELETE, format!("/v1/organization/groups/{id}")),
            (M::POST, format!("/v1/organization/projects/{id}/archive")),
            (M::GET, format!("/v1/projects/{}/roles/{id}", t.project)),
        ] {
            c.push(case(format!("{method} {path} ({name})"), method, path).not_found(None));
        }
    }
    for path in [
        "/v1/organization/users/".to_owned(),
        "//v1/organization/users".to_owned(),
        "/v1/organization/users/../../../etc/passwd".to_owned(),
        "/v1/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/v1/organization/%00".to_owned(),
        "/v1/organization/userz".to_owned(),
        "/V1/ORGANIZATION/USERS".to_owned(),
        format!("/v1/{}", "a/".repeat(2000)),
        format!(
            "/v1/organization/users/{}/roles/{}/extra",
            t.user, t.org_role
        ),
    ] {
        c.push(
            case(
                format!("unknown route {}", &path[..path.len().min(60)]),
                M::GET,
                path,
            )
            .not_found(None),
        );
    }
}

/// Query strings: NUL, invalid UTF-8, duplicate keys, and every kind of bad `limit`.
fn hostile_query_strings(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => t; user_path);
    let lists = [
        "/v1/organization/users",
        "/v1/organization/projects",
        "/v1/organization/invites",
        "/v1/organization/audit_logs",
        "/v1/organization/admin_api_keys",
        "/v1/organization/roles",
        "/v1/organization/groups",
    ];
    for list in lists {
        let id_list = [
            "/v1/organization/users",
            "/v1/organization/projects",
            "/v1/organization/invites",
            "/v1/organization/audit_logs",
        ]
        .contains(&list);
        let mut limits = vec![
            "-1",
            "99999999999999999999",
            "-99999999999999999999",
            "1.5",
            "1e2",
            "",
            "abc",
            "0x10",
            "%00",
            "%FF",
            "1%00",
            "' OR 1=1 --",
            "1001",
            "NaN",
            "null",
            "[]",
        ];
        if id_list {
            limits.extend(["0", "101"]);
        }
        for limit in limits {
            let query = if limit.contains('%') {
                limit.to_owned()
            } else {
                enc(limit)
            };
            c.push(
                case(
                    format!("{list}?limit={limit}"),
                    M::GET,
                    format!("{list}?limit={query}"),
                )
                .param("limit"),
            );
        }
        for (query, param) in [
            ("limit=1&limit=2", "limit"),
            ("limit=1&limit=1", "limit"),
            ("after=a&after=b", "after"),
            ("after=&after=", "after"),
            ("after=%00", "after"),
            ("after=a%00b", "after"),
            ("%00=1", "\\0"),
            ("x%00y=1", "x\\0y"),
        ] {
            c.push(case(format!("{list}?{query}"), M::GET, format!("{list}?{query}")).param(param));
        }
    }
    for (list, query, param) in [
        ("/v1/organization/audit_logs", "before=a&before=b", "before"),
        ("/v1/organization/audit_logs", "after=a&before=b", "before"),
        (
            "/v1/organization/audit_logs",
            "tenant_only=2",
            "tenant_only",
        ),
        (
            "/v1/organization/audit_logs",
            "effective_at[gt]=99999999999999999999",
            "effective_at[gt]",
        ),
        (
            "/v1/organization/audit_logs",
            "effective_at[lt]=1.5",
            "effective_at[lt]",
        ),
        (
            "/v1/organization/audit_logs",
            "effective_at=1&effective_at=2",
            "effective_at",
        ),
        (
            "/v1/organization/audit_logs",
            "event_types[]=user.added%00",
            "event_types[]",
        ),
        (
            "/v1/organization/projects",
            "include_archived=true&include_archived=true",
            "include_archived",
        ),
        ("/v1/organization/roles", "order=asc&order=desc", "order"),
        ("/v1/organization/roles", "order=ASC", "order"),
        ("/v1/organization/admin_api_keys", "order=random", "order"),
        ("/v1/organization/groups", "order=%FF", "order"),
        ("/v1/organization/groups", "limit=1001", "limit"),
    ] {
        c.push(case(format!("{list}?{query}"), M::GET, format!("{list}?{query}")).param(param));
    }
    let permissions_twice = format!(
        "{user_path}/permissions?project_id={p}&project_id={p}",
        p = t.project
    );
    c.push(
        case(
            "permissions with project_id twice",
            M::GET,
            permissions_twice,
        )
        .param("project_id"),
    );
}

/// Filters over their documented limit of 1,000 values (kept under the 64 KiB URI limit).
fn oversized_filters(c: &mut Vec<Case>, _p: &Paths) {
    use Method as M;
    for (list, name) in [
        ("/v1/organization/users", "emails"),
        ("/v1/organization/audit_logs", "actor_ids[]"),
        ("/v1/organization/audit_logs", "resource_ids[]"),
        ("/v1/organization/audit_logs", "project_ids"),
    ] {
        let query: Vec<String> = (0..1001).map(|i| format!("{name}={i}")).collect();
        c.push(
            case(
                format!("{list}: 1,001 {name}"),
                M::GET,
                format!("{list}?{}", query.join("&")),
            )
            .param(name.trim_end_matches("[]")),
        );
    }
}

/// Wrong content types, with bodies that are not JSON.
fn wrong_content_types(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects, invites; accept);
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", &b"name=Hostile"[..]),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nHostile\r\n--x--\r\n",
        ),
        ("text/xml", b"<project><name>Hostile</name></project>"),
        ("application/octet-stream", b"\x00\x01\x02\x03"),
        ("application/json; charset=utf-16", b"\xff\xfe{\x00}\x00"),
        ("text/plain", b"Hostile"),
    ] {
        for path in [projects, invites, &accept] {
            c.push(
                case(format!("{path} as {content_type}"), M::POST, path)
                    .header("content-type", content_type.as_bytes())
                    .raw(body),
            );
        }
    }
}

/// Empty bodies where one is required: they read as `{}`.
fn empty_bodies(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects, invites, keys, roles, groups; user_roles, project_users, project_user,
        accounts, project_roles, group_users);
    for (path, param) in [
        (projects, "name"),
        (invites, "email"),
        (keys, "name"),
        (roles, "role_name"),
        (groups, "name"),
        (user_roles.as_str(), "role_id"),
        (project_users.as_str(), "user_id"),
        (project_user.as_str(), "role"),
        (accounts.as_str(), "name"),
        (group_users.as_str(), "user_id"),
        (project_roles.as_str(), "role_name"),
    ] {
        for (name, body) in [("empty", &b""[..]), ("whitespace", b" \r\n\t ")] {
            c.push(
                case(format!("{path}: {name} body"), M::POST, path)
                    .raw(body)
                    .missing(param),
            );
        }
        c.push(case(format!("{path}: no body"), M::POST, path).missing(param));
    }
    let no_permissions = json!({"role_name": "r"});
    c.push(
        case("role without permissions", M::POST, roles)
            .json(&no_permissions)
            .missing("permissions"),
    );
}

/// Methods the routes do not have.
fn unknown_methods(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => t, keys; user_path, project_users, accept);
    let method = |name: &str| Method::from_bytes(name.as_bytes()).unwrap();
    for path in [
        "/v1/organization/users".to_owned(),
        user_path.clone(),
        format!("/v1/organization/projects/{}/archive", t.project),
        format!("/v1/organization/projects/{}", t.project),
        "/v1/organization/audit_logs".to_owned(),
        keys.to_owned(),
        format!("{keys}/{}", t.key),
        format!("{project_users}/{}", t.user),
        format!("/v1/organization/invites/{}", t.invite),
        "/healthz".to_owned(),
    ] {
        for name in ["PUT", "PATCH", "OPTIONS", "TRACE", "FOO", "PURGE", "get"] {
            c.push(case(format!("{name} {path}"), method(name), &path).method_not_allowed());
        }
    }
    for (m, path) in [
        (M::POST, "/v1/organization/users".to_owned()),
        (M::DELETE, "/v1/organization/projects".to_owned()),
        (M::POST, "/v1/organization/audit_logs".to_owned()),
        (
            M::DELETE,
            format!("/v1/organization/projects/{}", t.project),
        ),
        (
            M::GET,
            format!("/v1/organization/projects/{}/archive", t.project),
        ),
        (M::GET, accept.clone()),
        (M::DELETE, "/v1/openapi.json".to_owned()),
    ] {
        c.push(case(format!("{m} {path}"), m, path).method_not_allowed());
    }
}

/// Hostile authorization headers: no write gets through.
fn hostile_authorization(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects; );
    for (name, header) in [
        ("SQL", b"Bearer sk-admin-' OR 1=1 --".to_vec()),
        (
            "a 10 KB key",
            format!("Bearer sk-admin-{}", "a".repeat(10 * 1024)).into_bytes(),
        ),
        ("an obs-text byte", b"Bearer sk-admin-\xff\xfe".to_vec()),
        ("percent-encoded NUL", b"Bearer sk-admin-%00".to_vec()),
        ("only the scheme", b"Bearer".to_vec()),
        ("the scheme and spaces", b"Bearer    ".to_vec()),
        ("a tab", b"Bearer\tsk-admin-aaaa".to_vec()),
        ("two keys", b"Bearer sk-admin-a, Bearer sk-admin-b".to_vec()),
        (
            "a service account key",
            b"Bearer sk-svcacct-aaaaaaaaaaaaaaaa".to_vec(),
        ),
    ] {
        c.push(
            case(format!("authorization with {name}"), M::POST, projects)
                .authorization(Authorization::Raw(header))
                .json(&json!({"name": "Hostile"}))
                .expect(StatusCode::UNAUTHORIZED, "invalid_api_key"),
        );
    }
}

/// A body declared over the limit is refused before anything else, read to its end first
/// so that the client gets the answer (`app::refuse_oversized_body`).
fn oversized_declared_bodies(c: &mut Vec<Case>, p: &Paths) {
    use Method as M;
    paths!(p => projects; );
    for (name, method, path) in [
        ("no authorization", M::POST, projects),
        ("a read", M::GET, "/v1/organization/users"),
        ("an unknown route", M::POST, "/v1/nowhere"),
        ("a public route", M::GET, "/healthz"),
    ] {
        for size in [MAX_BODY + 1, 4 * MAX_BODY] {
            let mut over = case(
                format!("{name} with a body of {size} bytes"),
                method.clone(),
                path,
            )
            .raw(padded(size, "{\"name\": \"x\", \"pad\": \"", "\"}"))
            .expect(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large");
            if name == "no authorization" {
                over = over.authorization(Authorization::None);
            }
            c.push(over);
        }
    }
    c.push(
        case("no authorization with malformed JSON", M::POST, projects)
            .authorization(Authorization::None)
            .raw(&b"{"[..])
            .expect(StatusCode::UNAUTHORIZED, "missing_api_key"),
    );
}

// --- sending and checking ---------------------------------------------------------------------

struct Http {
    client: reqwest::Client,
    base: String,
    owner: String,
}

impl Http {
    /// Send a case; its status and raw body, or what went wrong on the way.
    async fn send(&self, c: &Case) -> Result<(StatusCode, Vec<u8>), String> {
        let mut request = self
            .client
            .request(c.method.clone(), format!("{}{}", self.base, c.path));
        match &c.authorization {
            Authorization::Owner => {
                request = request.header("authorization", format!("Bearer {}", self.owner))
            }
            Authorization::None => {}
            Authorization::Raw(raw) => {
                request = request.header(
                    "authorization",
                    HeaderValue::from_bytes(raw).map_err(|e| e.to_string())?,
                )
            }
        }
        let has_content_type = c.headers.iter().any(|(k, _)| k == "content-type");
        if c.body.is_some() && !has_content_type {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in &c.headers {
            request = request.header(name.clone(), value.clone());
        }
        if let Some(body) = &c.body {
            request = request.body(body.clone());
        }
        let response = tokio::time::timeout(ANSWER_WITHIN, async {
            let response = request.send().await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes.to_vec()))
        })
        .await
        .map_err(|_| format!("no answer within {ANSWER_WITHIN:?} (a hang)"))?;
        response.map_err(|e| format!("transport error: {e}"))
    }
}

/// What is wrong with an answer, if anything: the status and `code` expected, a 4xx, the error
/// envelope with a non-empty message, and the expected `param`.
fn judge(c: &Case, status: StatusCode, body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let shown: String = text.chars().take(300).collect();
    if status.is_server_error() {
        return Some(format!("a server error {status}: {shown}"));
    }
    if !status.is_client_error() {
        return Some(format!("accepted with {status}: {shown}"));
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Some(format!("{status} with a body that is not JSON: {shown:?}"));
    };
    let error = &value["error"];
    let envelope = value.as_object().is_some_and(|o| o.len() == 1)
        && error.as_object().is_some_and(|o| o.len() == 4)
        && error["message"].as_str().is_some_and(|m| !m.is_empty())
        && error["type"].is_string()
        && (error["param"].is_string() || error["param"].is_null())
        && (error["code"].is_string() || error["code"].is_null());
    if !envelope {
        return Some(format!("{status} outside the error envelope: {shown}"));
    }
    if status != c.status || error["code"] != json!(c.code) {
        return Some(format!(
            "expected {} {}, got {status} {}: {shown}",
            c.status, c.code, error["code"]
        ));
    }
    let param_ok = match &c.param {
        Param::Null => error["param"].is_null(),
        Param::Is(p) => error["param"] == json!(p),
    };
    if !param_ok {
        return Some(format!(
            "expected param {:?}, got {}: {shown}",
            c.param, error["param"]
        ));
    }
    None
}

/// Everything the catalogue could have changed, read with the owner key. `last_used_at` is left
/// out: using a key is not a change.
async fn snapshot(s: &TestServer, t: &Targets) -> Vec<(String, Value)> {
    let paths = [
        "/v1/organization/users?limit=100".to_owned(),
        "/v1/organization/projects?limit=100&include_archived=true".to_owned(),
        "/v1/organization/roles".to_owned(),
        format!("/v1/projects/{}/roles", t.project),
        "/v1/organization/invites?limit=100".to_owned(),
        "/v1/organization/admin_api_keys?limit=1000".to_owned(),
        "/v1/organization/groups".to_owned(),
        format!("/v1/organization/groups/{}/users", t.group),
        format!("/v1/organization/groups/{}/roles", t.group),
        format!("/v1/organization/projects/{}/users?limit=100", t.project),
        format!("/v1/organization/projects/{}/groups", t.project),
        format!(
            "/v1/organization/projects/{}/service_accounts?limit=100",
            t.project
        ),
        format!(
            "/v1/organization/projects/{}/api_keys?limit=100&owner_project_access=any",
            t.project
        ),
        format!("/v1/organization/projects/{}/model_permissions", t.project),
        format!(
            "/v1/organization/projects/{}/hosted_tool_permissions",
            t.project
        ),
        format!("/v1/organization/projects/{}/rate_limits", t.project),
        format!("/v1/organization/users/{}/roles", t.user),
        format!("/v1/projects/{}/users/{}/roles", t.project, t.user),
        format!("/v1/organization/users/{}", t.user),
        "/v1/organization/audit_logs?limit=100".to_owned(),
    ];
    let mut out = Vec::new();
    for path in paths {
        let mut list = ok(s.get(&path).await);
        if let Some(items) = list["data"].as_array_mut() {
            for item in items {
                if let Some(o) = item.as_object_mut() {
                    o.remove("last_used_at");
                }
            }
        }
        out.push((path, list));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused_in_the_envelope_and_writes_nothing() {
    let s = TestServer::start().await;
    let targets = setup(&s).await;
    let http = Http {
        client: reqwest::Client::new(),
        base: s.base_url.clone(),
        owner: s.owner_key.clone(),
    };

    let before = snapshot(&s, &targets).await;
    let audit_events = |snapshot: &[(String, Value)]| {
        snapshot
            .iter()
            .find(|(path, _)| path.starts_with("/v1/organization/audit_logs"))
            .map(|(_, list)| list["data"].as_array().unwrap().len())
            .unwrap()
    };
    assert!(
        audit_events(&before) < 100,
        "the audit log fits one page, so that its growth would show"
    );

    let cases = catalogue(&targets);
    let mut failures = Vec::new();
    for c in &cases {
        let outcome = http
            .send(c)
            .await
            .and_then(|(status, body)| judge(c, status, &body).map_or(Ok(()), Err));
        if let Err(problem) = outcome {
            failures.push(format!(
                "{} [{} {}]: {problem}",
                c.name,
                c.method,
                clip(&c.path)
            ));
        }
    }
    // The server is still healthy, and nothing was written.
    ok(s.get("/v1/organization/users").await);
    let after = snapshot(&s, &targets).await;
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        if was != is {
            failures.push(format!("{path} changed:\nbefore {was}\nafter  {is}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile inputs were mishandled:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(
        audit_events(&after),
        audit_events(&before),
        "the audit log did not grow"
    );

    let accepted = accepted_input(&s, &targets).await;
    eprintln!(
        "hostile inputs tried: {} ({} refused without a write, {} accepted as the Admin API does)",
        cases.len() + accepted,
        cases.len(),
        accepted
    );
    s.stop().await;
}

fn clip(s: &str) -> String {
    if s.chars().count() <= 120 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(120).collect::<String>())
    }
}

/// The objects aimed at: a member (in a project, holding a custom role), another member, a
/// project with a custom role, a group, a pending invite, an admin key and a service account.
async fn setup(s: &TestServer) -> Targets {
    let user = s.add_member("target@example.com", "reader").await;
    let other_user = s.add_member("other@example.com", "reader").await;
    let project = s.create_project("Target").await;
    s.add_project_user(&project, &user, "member").await;
    let org_role = s
        .create_org_role("Target role", &["api.organization.users.read"])
        .await;
    ok(s.post(
        &format!("/v1/organization/users/{user}/roles"),
        json!({"role_id": org_role}),
    )
    .await);
    let project_role = s
        .create_project_role(&project, "Target role", &["api.project.read"])
        .await;
    let group = str_of(
        &ok(s
            .post("/v1/organization/groups", json!({"name": "Target group"}))
            .await)["id"],
    );
    ok(s.post(
        &format!("/v1/organization/groups/{group}/users"),
        json!({"user_id": user}),
    )
    .await);
    let invite = str_of(
        &ok(s
            .post(
                "/v1/organization/invites",
                json!({"email": "pending@example.com", "role": "reader", "projects": []}),
            )
            .await)["id"],
    );
    let (key, _) = s.create_key(json!({"name": "Target key"})).await;
    let bot = ok(s
        .post(
            &format!("/v1/organization/projects/{project}/service_accounts"),
            json!({"name": "Target bot"}),
        )
        .await);
    let service_account = str_of(&bot["id"]);
    let project_key = str_of(&bot["api_key"]["id"]);
    Targets {
        user,
        other_user,
        project,
        org_role,
        project_role,
        group,
        invite,
        key,
        service_account,
        project_key,
    }
}

// --- what is legitimately accepted -----------------------------------------------------------

/// Input that looks hostile but is valid: answered as the Admin API answers it. Returns the
/// number of inputs tried.
async fn accepted_input(s: &TestServer, t: &Targets) -> usize {
    let mut tried = 0;

    // Forged and garbage cursors are positions in the ID order, not lookups: the page after
    // them (read-only, so tried on every list).
    let lists = [
        "/v1/organization/users",
        "/v1/organization/projects",
        "/v1/organization/invites",
        "/v1/organization/admin_api_keys",
        "/v1/organization/roles",
        "/v1/organization/groups",
    ];
    let cursors = [
        "' OR 1=1 --".to_owned(),
        "../../etc/passwd".to_owned(),
        "%2e%2e%2f".to_owned(),
        "\u{FFFD}".to_owned(),
        "u".repeat(10 * 1024),
        "user-".to_owned(),
        t.user.clone(),
        "zzzzzzzz".to_owned(),
        "".to_owned(),
    ];
    for list in lists {
        let full = ok(s.get(&format!("{list}?limit=100")).await);
        let all: Vec<Value> = full["data"].as_array().unwrap().clone();
        for cursor in &cursors {
            tried += 1;
            let path = format!("{list}?limit=100&after={}", enc(cursor));
            let page = ok(s.get(&path).await);
            assert_eq!(page["object"], "list", "{path}: {page}");
            let data = page["data"].as_array().unwrap();
            assert!(
                data.iter().all(|x| all.contains(x)),
                "{path}: a page after a forged cursor holds only listed objects: {page}"
            );
            if cursor.is_empty() {
                assert_eq!(data, &all, "{path}: an empty cursor is no cursor");
            }
            if cursor == "zzzzzzzz" {
                assert!(data.is_empty(), "{path}: nothing sorts after it: {page}");
            }
        }
    }
    for query in ["before=' OR 1=1 --", "before=zzzz", "after=zzzz"] {
        tried += 1;
        ok(s.get(&format!(
            "/v1/organization/audit_logs?{}",
            query.replace(' ', "%20").replace('\'', "%27")
        ))
        .await);
    }
    // Invalid UTF-8 in a query value reads as U+FFFD (a cursor, a filter value).
    tried += 1;
    let page = ok(s.get("/v1/organization/users?emails=%FF%FE").await);
    assert_eq!(page["data"], json!([]), "{page}");

    // Look-alike emails. Homoglyphs are valid (internationalized) addresses: a distinct person,
    // never matched to the owner, stored as given. Invisible format characters (zero-width,
    // byte-order mark, text-direction controls) are refused: such an address would look like
    // another in every list.
    let lookalikes = [
        ("Cyrillic о", "\u{43E}wner@example.com", true),
        ("Cyrillic а in the domain", "owner@ex\u{430}mple.com", true),
        ("Greek ο", "\u{3BF}wner@example.com", true),
        ("zero-width joiner", "own\u{200D}er@example.com", false),
        ("zero-width space", "owner\u{200B}@example.com", false),
        ("RTL override", "\u{202E}moc.elpmaxe@renwo", false),
        ("byte order mark", "\u{FEFF}owner@example.com", false),
    ];
    for (name, email, must_accept) in lookalikes {
        tried += 2;
        let found = ok(s
            .get(&format!("/v1/organization/users?emails={}", enc(email)))
            .await);
        assert_eq!(found["data"], json!([]), "{name}: matches nobody: {found}");
        let (status, invite) = s
            .post(
                "/v1/organization/invites",
                json!({"email": email, "role": "reader", "projects": []}),
            )
            .await;
        if !must_accept {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {invite}");
            assert_eq!(invite["error"]["param"], "email", "{name}: {invite}");
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{name}: {invite}");
        assert_eq!(invite["email"], email, "{name}: stored as given");
        assert_ne!(invite["email"], OWNER_EMAIL);
    }
    // The owner is still the only one with the owner's address.
    let owner = ok(s
        .get(&format!(
            "/v1/organization/users?emails={}",
            enc(OWNER_EMAIL)
        ))
        .await);
    assert_eq!(owner["data"].as_array().unwrap().len(), 1, "{owner}");

    // SQL-shaped names are names: stored and returned verbatim, and nothing else changes.
    let users_before = ok(s.get("/v1/organization/users?limit=100").await);
    for name in [
        "'; DROP TABLE users; --",
        "Robert'); DROP TABLE projects;--",
        "' OR 1=1 --",
        "../../etc/passwd",
        "%00%2e%2e%2f",
        "$1; SELECT pg_sleep(10)",
    ] {
        tried += 3;
        let project = ok(s
            .post("/v1/organization/projects", json!({"name": name}))
            .await);
        assert_eq!(project["name"], name, "{project}");
        let group = ok(s
            .post("/v1/organization/groups", json!({"name": name}))
            .await);
        assert_eq!(group["name"], name, "{group}");
        let role = ok(s
            .post(
                "/v1/organization/roles",
                json!({"role_name": name, "permissions": [], "description": name}),
            )
            .await);
        assert_eq!(role["name"], name, "{role}");
    }
    assert_eq!(
        ok(s.get("/v1/organization/users?limit=100").await),
        users_before
    );

    // Exactly at the documented limits.
    tried += 2;
    let name = "n".repeat(255);
    assert_eq!(
        ok(s.post("/v1/organization/projects", json!({"name": name}))
            .await)["name"],
        name
    );
    let email = format!("{}@example.com", "a".repeat(254 - "@example.com".len()));
    assert_eq!(
        ok(s.post(
            "/v1/organization/invites",
            json!({"email": email, "role": "reader", "projects": []})
        )
        .await)["email"],
        email
    );

    // A JSON body labelled with another content type: any content type is read as JSON, as
    // clients often omit it.
    tried += 1;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/organization/groups", s.base_url))
        .bearer_auth(&s.owner_key)
        .header("content-type", "text/plain")
        .body(r#"{"name": "Labelled text/plain"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A repeated member: the last one counts, as in every common JSON parser.
    tried += 1;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/organization/groups", s.base_url))
        .bearer_auth(&s.owner_key)
        .header("content-type", "application/json")
        .body(r#"{"name": "first", "name": "last"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let group: Value = response.json().await.unwrap();
    assert_eq!(group["name"], "last", "{group}");
    tried
}
