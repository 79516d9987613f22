//! SCIM 2.0 under `/scim/v2`: discovery, users and groups over the organization's members and
//! groups, every bad input answered with SCIM's error and its `scimType` (and nothing changed),
//! the Entra ID and Okta PATCH forms, `If-Match`, `active: false` then `true`, races with the
//! Admin API on the same person, the last owner, and provisioning by invite.

use orgadmin_core::scim::Provisioning;
use orgadmin_testkit::{ok, str_of, TestServer};
use reqwest::header::{HeaderMap, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM answer: status, headers and body (`Null` for none).
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    #[track_caller]
    fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.body
    }

    /// A SCIM error with this status and `scimType` (none: `None`), in `application/scim+json`.
    #[track_caller]
    fn expect_error(self, status: StatusCode, scim_type: Option<&str>) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.headers[CONTENT_TYPE], "application/scim+json",
            "{}",
            self.body
        );
        assert_eq!(self.body["schemas"], json!([ERROR]), "{}", self.body);
        assert_eq!(self.body["status"], json!(status.as_u16().to_string()));
        assert_eq!(
            self.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "{}",
            self.body
        );
        let detail = str_of(&self.body["detail"]);
        assert!(!detail.is_empty());
        detail
    }
}

struct Scim<'a> {
    s: &'a TestServer,
    key: String,
    client: reqwest::Client,
}

impl<'a> Scim<'a> {
    fn new(s: &'a TestServer) -> Self {
        Self::with_key(s, &s.owner_key)
    }

    fn with_key(s: &'a TestServer, key: &str) -> Self {
        Scim {
            s,
            key: key.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), format!("{}/scim/v2{path}", self.s.base_url))
            .bearer_auth(&self.key);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{method} {path}: not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        assert!(
            !status.is_server_error(),
            "{method} {path} answered {status}: {body}"
        );
        if !body.is_null() {
            assert_eq!(
                headers[CONTENT_TYPE], "application/scim+json",
                "{method} {path}"
            );
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut all = vec![("content-type", "application/scim+json")];
        all.extend_from_slice(headers);
        self.raw(method, path, body.map(|b| b.to_string().into_bytes()), &all)
            .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    async fn patch(&self, path: &str, operations: Value) -> Reply {
        self.send(
            Method::PATCH,
            path,
            Some(json!({"schemas": [PATCH_OP], "Operations": operations})),
            &[],
        )
        .await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Provision a user; their resource.
    async fn create_user(&self, user_name: &str, extra: Value) -> Value {
        let mut body = json!({"schemas": [USER], "userName": user_name});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.post("/Users", body).await.expect(StatusCode::CREATED)
    }
}

/// What the organization holds, as the Admin API shows it: members, invites, groups and the
/// audit log's length. A refused SCIM request leaves it as it was.
async fn state_of(s: &TestServer) -> Value {
    let users = ok(s.get("/v1/organization/users?limit=100").await);
    let invites = ok(s.get("/v1/organization/invites?limit=100").await);
    let groups = ok(s.get("/v1/organization/groups?limit=100").await);
    let audit = ok(s.get("/v1/organization/audit_logs?limit=100").await);
    json!({
        "users": users["data"],
        "invites": invites["data"],
        "groups": groups["data"],
        "audit": audit["data"].as_array().unwrap().len(),
    })
}

#[tokio::test]
async fn discovery_describes_what_the_server_does() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    let config = scim
        .get("/ServiceProviderConfig")
        .await
        .expect(StatusCode::OK);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 1000);
    assert_eq!(config["etag"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["sort"]["supported"], false);
    let types = scim.get("/ResourceTypes").await.expect(StatusCode::OK);
    assert_eq!(types["totalResults"], 2);
    let user_type = scim.get("/ResourceTypes/User").await.expect(StatusCode::OK);
    assert_eq!(user_type["schemaExtensions"][0]["schema"], ENTERPRISE);
    let schemas = scim.get("/Schemas").await.expect(StatusCode::OK);
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [USER, ENTERPRISE, GROUP]);
    let user = scim
        .get(&format!("/Schemas/{USER}"))
        .await
        .expect(StatusCode::OK);
    let roles = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "roles")
        .unwrap();
    assert_eq!(
        roles["subAttributes"][0]["canonicalValues"],
        json!(["owner", "reader"])
    );
    scim.get("/Schemas/urn:nope")
        .await
        .expect_error(StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn every_error_inside_scim_is_a_scim_error() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    // No key, a wrong key, a revoked key.
    let anonymous = s.send(Method::GET, "/scim/v2/Users", None, None).await;
    assert_eq!(anonymous.0, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.1["schemas"], json!([ERROR]));
    Scim::with_key(&s, "sk-admin-nope")
        .get("/Users")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, None);
    let (key_id, secret) = s.create_key(json!({"name": "soon revoked"})).await;
    ok(
        s.delete(&format!("/v1/organization/admin_api_keys/{key_id}"))
            .await,
    );
    Scim::with_key(&s, &secret)
        .get("/Users")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, None);
    // Unknown routes, wrong methods, a body that is not SCIM's type, malformed JSON.
    scim.get("/Nope")
        .await
        .expect_error(StatusCode::NOT_FOUND, None);
    scim.get("/Users/user-missing")
        .await
        .expect_error(StatusCode::NOT_FOUND, None);
    scim.send(Method::DELETE, "/ServiceProviderConfig", None, &[])
        .await
        .expect_error(StatusCode::METHOD_NOT_ALLOWED, None);
    scim.send(Method::PUT, "/Users", Some(json!({})), &[])
        .await
        .expect_error(StatusCode::METHOD_NOT_ALLOWED, None);
    scim.raw(
        Method::POST,
        "/Users",
        Some(b"userName=x".to_vec()),
        &[("content-type", "application/x-www-form-urlencoded")],
    )
    .await
    .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    scim.raw(
        Method::POST,
        "/Users",
        Some(b"{\"schemas\": [".to_vec()),
        &[("content-type", "application/scim+json")],
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, Some("invalidSyntax"));
    let big = vec![b' '; 2 * 1024 * 1024];
    scim.raw(
        Method::POST,
        "/Users",
        Some(big),
        &[("content-type", "application/scim+json")],
    )
    .await
    .expect_error(StatusCode::PAYLOAD_TOO_LARGE, None);
    // A key that may not write users: 403, with the Admin API's words for what is missing.
    let (_, reader) = s
        .create_key(json!({"name": "reader", "scopes": ["api.organization.users.read"]}))
        .await;
    let detail = Scim::with_key(&s, &reader)
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "x@example.com"}),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, None);
    assert!(detail.contains("api.organization.users.write"), "{detail}");
    Scim::with_key(&s, &reader)
        .get("/Users")
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn bad_input_gets_its_scim_type_and_changes_nothing() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    let user = scim
        .create_user("bjensen@example.com", json!({"externalId": "b1"}))
        .await;
    let id = str_of(&user["id"]);
    let path = format!("/Users/{id}");
    let before = state_of(&s).await;
    let cases: Vec<(Reply, StatusCode, Option<&str>)> = vec![
        // Unknown schemas, wrong types, no email.
        (
            scim.post("/Users", json!({"schemas": ["urn:x"], "userName": "a@example.com"})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
        ),
        (
            scim.post("/Users", json!({"userName": "a@example.com"})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
        ),
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": 3})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": "a@example.com", "active": "maybe"})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": "a@example.com", "emails": "a@example.com"})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": "not-an-address"})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": "a@example.com", "roles": [{"value": "admin"}]})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        // Uniqueness: the userName (any case), and the email of another SCIM user.
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": "BJENSEN@example.com"})).await,
            StatusCode::CONFLICT,
            Some("uniqueness"),
        ),
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": "other", "emails": [{"value": "bjensen@EXAMPLE.com"}]})).await,
            StatusCode::CONFLICT,
            Some("uniqueness"),
        ),
        // Filters that do not parse or name what cannot be filtered; count out of range.
        (scim.get("/Users?filter=userName%20eq").await, StatusCode::BAD_REQUEST, Some("invalidFilter")),
        (scim.get("/Users?filter=userName%20eq%20%22x%22%20and").await, StatusCode::BAD_REQUEST, Some("invalidFilter")),
        (scim.get("/Users?filter=title%20eq%20%22x%22").await, StatusCode::BAD_REQUEST, Some("invalidFilter")),
        (scim.get("/Users?filter=active%20eq%20%22yes%22").await, StatusCode::BAD_REQUEST, Some("invalidFilter")),
        (scim.get("/Users?count=1001").await, StatusCode::BAD_REQUEST, Some("invalidValue")),
        (scim.get("/Users?count=-1").await, StatusCode::BAD_REQUEST, Some("invalidValue")),
        (scim.get("/Users?count=ten").await, StatusCode::BAD_REQUEST, Some("invalidValue")),
        (
            scim.post("/Users/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "(("})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidFilter"),
        ),
        // PATCH: unknown attributes in a path, a filter that does not parse, no target,
        // read-only and required attributes, wrong types, a malformed message.
        (scim.patch(&path, json!([{"op": "replace", "path": "nickname2", "value": "x"}])).await, StatusCode::BAD_REQUEST, Some("invalidPath")),
        (scim.patch(&path, json!([{"op": "replace", "path": "name.nope", "value": "x"}])).await, StatusCode::BAD_REQUEST, Some("invalidPath")),
        (scim.patch(&path, json!([{"op": "replace", "path": "emails[type eq", "value": "x"}])).await, StatusCode::BAD_REQUEST, Some("invalidPath")),
        (scim.patch(&path, json!([{"op": "replace", "path": "emails[nope eq \"x\"].value", "value": "x"}])).await, StatusCode::BAD_REQUEST, Some("invalidPath")),
        (scim.patch(&path, json!([{"op": "remove"}])).await, StatusCode::BAD_REQUEST, Some("noTarget")),
        (scim.patch(&path, json!([{"op": "replace", "path": "emails[type eq \"home\" or type eq \"other\"].value", "value": "x@example.com"}])).await, StatusCode::BAD_REQUEST, Some("noTarget")),
        (scim.patch(&path, json!([{"op": "replace", "path": "id", "value": "user-x"}])).await, StatusCode::BAD_REQUEST, Some("mutability")),
        (scim.patch(&path, json!([{"op": "remove", "path": "userName"}])).await, StatusCode::BAD_REQUEST, Some("mutability")),
        (scim.patch(&path, json!([{"op": "replace", "path": "active", "value": 7}])).await, StatusCode::BAD_REQUEST, Some("invalidValue")),
        (scim.patch(&path, json!([{"op": "jump", "path": "active", "value": true}])).await, StatusCode::BAD_REQUEST, Some("invalidSyntax")),
        (
            scim.send(Method::PATCH, &path, Some(json!({"Operations": [{"op": "add", "value": {}}]})), &[]).await,
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
        ),
        (scim.put(&path, json!({"schemas": [USER], "userName": ["x"]})).await, StatusCode::BAD_REQUEST, Some("invalidValue")),
        (
            scim.post("/Groups", json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": "user-nobody"}]})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            scim.post("/Groups", json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": id, "type": "Group"}]})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (scim.post("/Groups", json!({"schemas": [GROUP]})).await, StatusCode::BAD_REQUEST, Some("invalidValue")),
        // No stored value holds a NUL character.
        (
            scim.post("/Users", json!({"schemas": [USER], "userName": "nul\u{0}@example.com"})).await,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (scim.get("/Users?filter=userName%20eq%20%22a%00%22").await, StatusCode::BAD_REQUEST, Some("invalidValue")),
        (scim.get("/Users/user-%00").await, StatusCode::NOT_FOUND, None),
    ];
    for (i, (reply, status, scim_type)) in cases.into_iter().enumerate() {
        let body = reply.body.clone();
        assert_eq!(reply.status, status, "case {i}: {body}");
        reply.expect_error(status, scim_type);
    }
    assert_eq!(
        state_of(&s).await,
        before,
        "a refused request changed something"
    );
    let unchanged = scim.get(&path).await.expect(StatusCode::OK);
    assert_eq!(unchanged["meta"]["version"], user["meta"]["version"]);
}

#[tokio::test]
async fn a_provisioned_user_is_a_scim_managed_member_and_lists_filter_and_page() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    let user = scim
        .create_user(
            "Bjensen",
            json!({
                "schemas": [USER, ENTERPRISE],
                "externalId": "00u1",
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "emails": [{"value": "home@example.org", "type": "home"}, {"value": "bjensen@example.com", "type": "work"}],
                "roles": [{"value": "owner", "display": "Owner"}],
                ENTERPRISE: {"department": "Tour", "manager": {"value": "user-boss"}},
            }),
        )
        .await;
    let id = str_of(&user["id"]);
    assert!(id.starts_with("user-"));
    assert_eq!(user["active"], true);
    assert_eq!(
        user["roles"],
        json!([{"value": "owner", "display": "Owner"}])
    );
    assert_eq!(user[ENTERPRISE]["department"], "Tour");
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(user["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Users/{id}")));
    // The Admin API's member: the work email, the name, the role, SCIM-managed.
    let member = ok(s.get(&format!("/v1/organization/users/{id}")).await);
    assert_eq!(member["email"], "bjensen@example.com");
    assert_eq!(member["name"], "Barbara Jensen");
    assert_eq!(member["role"], "owner");
    assert_eq!(member["is_scim_managed"], true);
    let owner = ok(s
        .get(&format!("/v1/organization/users/{}", s.owner_id()))
        .await);
    assert_eq!(owner["is_scim_managed"], false);
    let added = s.audit("event_types[]=user.added").await;
    assert!(
        added.iter().any(|e| e["user.added"]["id"] == id.as_str()),
        "{added:?}"
    );
    for n in 0..4 {
        scim.create_user(
            &format!("user{n}@example.com"),
            json!({"externalId": format!("ext-{n}")}),
        )
        .await;
    }
    let scim = &scim;
    let list = |q: &str| {
        let q = q.to_owned();
        async move {
            scim.get(&format!("/Users?{q}"))
                .await
                .expect(StatusCode::OK)
        }
    };
    let found = list("filter=userName%20eq%20%22bJENSEN%22").await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    let found = list("filter=externalId%20eq%20%2200u1%22").await;
    assert_eq!(found["totalResults"], 1);
    // externalId is case-exact.
    assert_eq!(
        list("filter=externalId%20eq%20%2200U1%22").await["totalResults"],
        0
    );
    let found = list("filter=emails.value%20eq%20%22BJENSEN%40example.com%22").await;
    assert_eq!(found["totalResults"], 1);
    let found =
        list("filter=userName%20sw%20%22user%22%20and%20not%20(externalId%20eq%20%22ext-1%22)")
            .await;
    assert_eq!(found["totalResults"], 3);
    let found = list("filter=externalId%20ew%20%22-2%22%20or%20userName%20co%20%22jens%22").await;
    assert_eq!(found["totalResults"], 2);
    let found = list(
        "filter=active%20eq%20true%20and%20meta.created%20gt%20%222000-01-01T00%3A00%3A00Z%22",
    )
    .await;
    assert_eq!(found["totalResults"], 5);
    assert_eq!(list("filter=externalId%20pr").await["totalResults"], 5);
    assert_eq!(
        list("filter=not%20(name.givenName%20pr)").await["totalResults"],
        4
    );
    // Paging: startIndex counts from 1, count 0 gives the total alone.
    let page = list("startIndex=2&count=2").await;
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(list("count=0").await["Resources"], json!([]));
    let all = list("count=10").await;
    let ids: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    // attributes and excludedAttributes.
    let narrow =
        list("attributes=userName,name.givenName&filter=userName%20eq%20%22bjensen%22").await;
    let only = &narrow["Resources"][0];
    let mut keys: Vec<&String> = only.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);
    assert_eq!(only["name"], json!({"givenName": "Barbara"}));
    let one = scim
        .get(&format!(
            "/Users/{id}?excludedAttributes=emails,{ENTERPRISE}"
        ))
        .await
        .expect(StatusCode::OK);
    assert!(one.get("emails").is_none() && one.get(ENTERPRISE).is_none());
    // The same search by POST.
    let searched = scim
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"Bjensen\"", "attributes": ["userName"]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(searched["totalResults"], 1);
    assert!(searched["Resources"][0].get("emails").is_none());
}

#[tokio::test]
async fn put_replaces_and_patch_applies_the_entra_and_okta_forms() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    let user = scim
        .create_user(
            "ann@example.com",
            json!({"name": {"givenName": "Ann"}, "emails": [{"value": "ann@example.com", "type": "work", "primary": true}]}),
        )
        .await;
    let id = str_of(&user["id"]);
    let path = format!("/Users/{id}");
    // Entra ID: op names in any case, "True"/"False", paths inside a value object, a work
    // email added through a filter that nothing matched yet, the enterprise extension by path.
    let entra = scim
        .patch(
            &path,
            json!([
                {"op": "Replace", "path": "displayName", "value": "Ann L."},
                {"op": "Add", "value": {"name.familyName": "Lee", "title": "Engineer"}},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.lee@example.com"},
                {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "R&D"},
                {"op": "replace", "path": "active", "value": "True"},
            ]),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(entra["displayName"], "Ann L.");
    assert_eq!(
        entra["name"],
        json!({"givenName": "Ann", "familyName": "Lee"})
    );
    assert_eq!(entra["emails"][0]["value"], "ann.lee@example.com");
    assert_eq!(entra[ENTERPRISE]["department"], "R&D");
    assert_eq!(entra["active"], true);
    let member = ok(s.get(&format!("/v1/organization/users/{id}")).await);
    assert_eq!(member["email"], "ann.lee@example.com");
    assert_eq!(member["name"], "Ann Lee");
    // Okta: active replaced through a value object (with the id beside it).
    let okta = scim
        .patch(
            &path,
            json!([{"op": "replace", "value": {"id": id, "active": false}}]),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(okta["active"], false);
    assert_eq!(
        s.get(&format!("/v1/organization/users/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let okta = scim
        .patch(&path, json!([{"op": "replace", "value": {"active": true}}]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(okta["active"], true);
    // PUT replaces the whole resource (what it leaves out goes; active stays).
    let replaced = scim
        .put(&path, json!({"schemas": [USER], "userName": "ann@example.com", "emails": [{"value": "ann@example.com"}], "roles": [{"value": "owner"}]}))
        .await
        .expect(StatusCode::OK);
    assert!(replaced.get("displayName").is_none() && replaced.get(ENTERPRISE).is_none());
    assert_eq!(replaced["active"], true);
    let member = ok(s.get(&format!("/v1/organization/users/{id}")).await);
    assert_eq!(member["role"], "owner");
    assert_eq!(member["email"], "ann@example.com");
    // Taking the roles away makes the member a reader again.
    let readerd = scim
        .patch(&path, json!([{"op": "remove", "path": "roles"}]))
        .await
        .expect(StatusCode::OK);
    assert!(readerd.get("roles").is_none());
    let member = ok(s.get(&format!("/v1/organization/users/{id}")).await);
    assert_eq!(member["role"], "reader");
    let updated = s.audit("event_types[]=user.updated").await;
    assert!(updated.len() >= 3, "{updated:?}");
}

#[tokio::test]
async fn if_match_is_honoured_and_every_change_makes_a_new_version() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    let user = scim.create_user("v@example.com", json!({})).await;
    let id = str_of(&user["id"]);
    let path = format!("/Users/{id}");
    let first = str_of(&user["meta"]["version"]);
    let got = scim.get(&path).await;
    assert_eq!(got.headers[ETAG], first.as_str());
    let not_modified = scim
        .send(
            Method::GET,
            &path,
            None,
            &[(IF_NONE_MATCH.as_str(), &first)],
        )
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    let ops = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "V"}]});
    let changed = scim
        .send(
            Method::PATCH,
            &path,
            Some(ops.clone()),
            &[(IF_MATCH.as_str(), &first)],
        )
        .await
        .expect(StatusCode::OK);
    let second = str_of(&changed["meta"]["version"]);
    assert_ne!(second, first);
    // The old version no longer matches: 412, nothing changed.
    let before = state_of(&s).await;
    let stale = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "W"}]});
    scim.send(
        Method::PATCH,
        &path,
        Some(stale.clone()),
        &[(IF_MATCH.as_str(), &first)],
    )
    .await
    .expect_error(StatusCode::PRECONDITION_FAILED, None);
    scim.send(
        Method::PUT,
        &path,
        Some(json!({"schemas": [USER], "userName": "v@example.com"})),
        &[(IF_MATCH.as_str(), &first)],
    )
    .await
    .expect_error(StatusCode::PRECONDITION_FAILED, None);
    scim.send(Method::DELETE, &path, None, &[(IF_MATCH.as_str(), &first)])
        .await
        .expect_error(StatusCode::PRECONDITION_FAILED, None);
    assert_eq!(state_of(&s).await, before);
    assert_eq!(scim.get(&path).await.body["displayName"], "V");
    // A change through the Admin API makes a new version too.
    ok(s.post(
        &format!("/v1/organization/users/{id}"),
        json!({"role": "owner"}),
    )
    .await);
    let after_api = scim.get(&path).await.body;
    assert_ne!(str_of(&after_api["meta"]["version"]), second);
    assert_eq!(
        after_api["roles"],
        json!([{"value": "owner", "primary": true}])
    );
    scim.send(
        Method::PATCH,
        &path,
        Some(stale),
        &[(IF_MATCH.as_str(), &second)],
    )
    .await
    .expect_error(StatusCode::PRECONDITION_FAILED, None);
    // `*` and the current version are accepted.
    scim.send(Method::PATCH, &path, Some(ops), &[(IF_MATCH.as_str(), "*")])
        .await
        .expect(StatusCode::OK);
    let current = str_of(&scim.get(&path).await.body["meta"]["version"]);
    scim.send(
        Method::DELETE,
        &path,
        None,
        &[(IF_MATCH.as_str(), &current)],
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    scim.get(&path)
        .await
        .expect_error(StatusCode::NOT_FOUND, None);
    assert_eq!(
        s.get(&format!("/v1/organization/users/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn active_false_removes_the_member_and_true_brings_them_back_under_the_same_id() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    let user = scim
        .create_user("carl@example.com", json!({"roles": [{"value": "owner"}]}))
        .await;
    let id = str_of(&user["id"]);
    let path = format!("/Users/{id}");
    let group = scim
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Ops", "members": [{"value": id}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let group_id = str_of(&group["id"]);
    let carl_key = s.key_for(&id).await;
    let off = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(off["active"], false);
    // Removed as the Admin API's delete removes: the member, their keys, their groups.
    assert_eq!(
        s.get(&format!("/v1/organization/users/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get_as(&carl_key, "/v1/organization/users").await.0,
        StatusCode::UNAUTHORIZED
    );
    let deleted = s.audit("event_types[]=user.deleted").await;
    assert!(
        deleted
            .iter()
            .any(|e| e["user.deleted"]["id"] == id.as_str()),
        "{deleted:?}"
    );
    let group_users = ok(s
        .get(&format!("/v1/organization/groups/{group_id}/users"))
        .await);
    assert_eq!(group_users["data"], json!([]));
    // The SCIM resources remember them.
    let listed = scim
        .get("/Users?filter=active%20eq%20false")
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed["totalResults"], 1);
    let g = scim
        .get(&format!("/Groups/{group_id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(g["members"][0]["value"], id.as_str());
    let on = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "active", "value": true}]),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(on["active"], true);
    let member = ok(s.get(&format!("/v1/organization/users/{id}")).await);
    assert_eq!(member["role"], "owner");
    assert_eq!(member["is_scim_managed"], true);
    let group_users = ok(s
        .get(&format!("/v1/organization/groups/{group_id}/users"))
        .await);
    assert_eq!(group_users["data"][0]["id"], id.as_str());
    // Their old key stays revoked.
    assert_eq!(
        s.get_as(&carl_key, "/v1/organization/users").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_last_owner_cannot_be_deactivated_demoted_or_deleted_by_scim() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    // The owner the organization was created with, taken over by the provider.
    let owner = scim.create_user("owner@example.com", json!({})).await;
    let id = str_of(&owner["id"]);
    assert_eq!(id, s.owner_id());
    assert_eq!(owner["roles"], json!([{"value": "owner", "primary": true}]));
    let path = format!("/Users/{id}");
    let before = state_of(&s).await;
    let detail = scim
        .patch(
            &path,
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await
        .expect_error(StatusCode::CONFLICT, Some("mutability"));
    assert!(detail.contains("last owner"), "{detail}");
    scim.patch(
        &path,
        json!([{"op": "replace", "path": "roles", "value": [{"value": "reader"}]}]),
    )
    .await
    .expect_error(StatusCode::CONFLICT, Some("mutability"));
    scim.put(
        &path,
        json!({"schemas": [USER], "userName": "owner@example.com", "active": false}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, Some("mutability"));
    scim.delete(&path)
        .await
        .expect_error(StatusCode::CONFLICT, Some("mutability"));
    assert_eq!(state_of(&s).await, before);
    assert_eq!(scim.get(&path).await.body["active"], true);
}

#[tokio::test]
async fn scim_changes_racing_admin_api_changes_on_the_same_person_never_disagree() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    for round in 0..12 {
        let user = scim
            .create_user(
                &format!("race{round}@example.com"),
                json!({"roles": [{"value": "owner"}]}),
            )
            .await;
        let id = str_of(&user["id"]);
        let path = format!("/Users/{id}");
        let api_path = format!("/v1/organization/users/{id}");
        // SCIM deactivates or demotes while the Admin API deletes or promotes the same person.
        let scim_change = async {
            if round % 2 == 0 {
                scim.patch(
                    &path,
                    json!([{"op": "replace", "value": {"active": false}}]),
                )
                .await
            } else {
                scim.patch(
                    &path,
                    json!([{"op": "replace", "path": "roles", "value": [{"value": "reader"}]}]),
                )
                .await
            }
        };
        let api_change = async {
            if round % 3 == 0 {
                s.delete(&api_path).await
            } else {
                s.post(
                    &api_path,
                    json!({"role": if round % 2 == 0 { "reader" } else { "owner" }}),
                )
                .await
            }
        };
        let (scim_reply, api_reply) = tokio::join!(scim_change, api_change);
        assert!(
            scim_reply.status.is_success() || scim_reply.status == StatusCode::NOT_FOUND,
            "{round}: {}",
            scim_reply.body
        );
        assert!(
            api_reply.0.is_success() || api_reply.0 == StatusCode::NOT_FOUND,
            "{round}: {}",
            api_reply.1
        );
        // Whatever the order, both views are one state.
        let seen = scim.get(&path).await.expect(StatusCode::OK);
        let member = s.get(&api_path).await;
        assert_eq!(
            seen["active"] == true,
            member.0 == StatusCode::OK,
            "{round}: {seen} / {}",
            member.1
        );
        if member.0 == StatusCode::OK {
            let role = seen["roles"][0]["value"].as_str().unwrap_or("reader");
            assert_eq!(role, member.1["role"], "{round}: {seen} / {}", member.1);
        }
    }
}

#[tokio::test]
async fn the_last_owner_rule_holds_between_a_scim_deactivation_and_an_api_removal() {
    for round in 0..5 {
        let s = TestServer::start().await;
        let scim = Scim::new(&s);
        // The acting key's owner keeps users.write through a custom role while two SCIM
        // users are the only owners.
        let role = s
            .create_org_role(
                "Directory",
                &[
                    "api.organization.users.read",
                    "api.organization.users.write",
                ],
            )
            .await;
        ok(s.post(
            &format!("/v1/organization/users/{}/roles", s.owner_id()),
            json!({"role_id": role}),
        )
        .await);
        let a = str_of(
            &scim
                .create_user("a@example.com", json!({"roles": [{"value": "owner"}]}))
                .await["id"],
        );
        let b = str_of(
            &scim
                .create_user("b@example.com", json!({"roles": [{"value": "owner"}]}))
                .await["id"],
        );
        ok(s.post(
            &format!("/v1/organization/users/{}", s.owner_id()),
            json!({"role": "reader"}),
        )
        .await);
        let (scim_path, api_path) = (format!("/Users/{a}"), format!("/v1/organization/users/{b}"));
        let (by_scim, by_api) = tokio::join!(
            scim.patch(
                &scim_path,
                json!([{"op": "replace", "path": "active", "value": false}])
            ),
            s.delete(&api_path),
        );
        let owners = ok(s.get("/v1/organization/users?limit=100").await);
        let count = owners["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "owner")
            .count();
        assert_eq!(count, 1, "{round}: {} / {}", by_scim.body, by_api.1);
        assert_ne!(
            by_scim.status.is_success(),
            by_api.0.is_success(),
            "{round}: exactly one goes through"
        );
        if by_scim.status.is_success() {
            assert_eq!(by_api.0, StatusCode::CONFLICT);
            assert_eq!(by_api.1["error"]["code"], "last_owner");
        } else {
            by_scim.expect_error(StatusCode::CONFLICT, Some("mutability"));
        }
    }
}

#[tokio::test]
async fn groups_are_the_organizations_groups_and_patch_their_members() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    let a = str_of(&scim.create_user("a@example.com", json!({})).await["id"]);
    let b = str_of(&scim.create_user("b@example.com", json!({})).await["id"]);
    let group = scim
        .post("/Groups", json!({"schemas": [GROUP], "displayName": "Engineering", "externalId": "g-1", "members": [{"value": a}]}))
        .await
        .expect(StatusCode::CREATED);
    let id = str_of(&group["id"]);
    assert!(id.starts_with("group_"));
    let api = ok(s.get(&format!("/v1/organization/groups/{id}")).await);
    assert_eq!(api["name"], "Engineering");
    assert_eq!(api["is_scim_managed"], true);
    let path = format!("/Groups/{id}");
    // Okta: members added and removed by value; Entra ID: removed through a filter path.
    scim.patch(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
    )
    .await
    .expect(StatusCode::OK);
    let users = ok(s.get(&format!("/v1/organization/groups/{id}/users")).await);
    assert_eq!(users["data"].as_array().unwrap().len(), 2);
    let patched = scim
        .patch(
            &path,
            json!([
                {"op": "Remove", "path": format!("members[value eq \"{a}\"]")},
                {"op": "Replace", "path": "displayName", "value": "Platform"},
            ]),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(patched["displayName"], "Platform");
    assert_eq!(
        patched["members"],
        json!([{"value": b, "$ref": format!("{}/scim/v2/Users/{b}", s.base_url), "type": "User"}])
    );
    scim.patch(
        &path,
        json!([{"op": "remove", "path": "members", "value": [{"value": b}]}]),
    )
    .await
    .expect(StatusCode::OK);
    let users = ok(s.get(&format!("/v1/organization/groups/{id}/users")).await);
    assert_eq!(users["data"], json!([]));
    let events = s.audit("event_types[]=group.updated").await;
    assert!(events.len() >= 4, "{events:?}");
    // A group made by the Admin API is a SCIM group too; filters and excludedAttributes.
    let made = ok(s
        .post("/v1/organization/groups", json!({"name": "Made by API"}))
        .await);
    assert_eq!(made["is_scim_managed"], false);
    let found = scim
        .get("/Groups?filter=displayName%20eq%20%22made%20by%20api%22&excludedAttributes=members")
        .await
        .expect(StatusCode::OK);
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], made["id"]);
    ok(s.post(
        &format!("/v1/organization/groups/{}/users", str_of(&made["id"])),
        json!({"user_id": a}),
    )
    .await);
    let with_a = scim
        .get(&format!(
            "/Groups?filter=members%5Bvalue%20eq%20%22{a}%22%5D"
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(with_a["totalResults"], 1);
    let by_external = scim
        .get("/Groups?filter=externalId%20eq%20%22g-1%22")
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_external["Resources"][0]["id"], id.as_str());
    // Names stay unique, as on the Admin API.
    scim.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "PLATFORM"}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, Some("uniqueness"));
    scim.delete(&path).await.expect(StatusCode::NO_CONTENT);
    assert_eq!(
        s.get(&format!("/v1/organization/groups/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    // Changing members needs api.groups.write and api.organization.users.write.
    let (_, groups_only) = s
        .create_key(json!({"name": "groups", "scopes": ["api.groups.read", "api.groups.write"]}))
        .await;
    Scim::with_key(&s, &groups_only)
        .post("/Groups", json!({"schemas": [GROUP], "displayName": "x"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, None);
}

#[tokio::test]
async fn provisioning_by_invite_makes_a_pending_invite_until_it_is_accepted() {
    let s = TestServer::start_with(|config| config.scim_provisioning = Provisioning::Invite).await;
    let scim = Scim::new(&s);
    let user = scim
        .create_user("dana@example.com", json!({"name": {"formatted": "Dana"}}))
        .await;
    let id = str_of(&user["id"]);
    assert_eq!(user["active"], true);
    assert_eq!(
        s.get(&format!("/v1/organization/users/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let invites = ok(s.get("/v1/organization/invites").await);
    let invite = invites["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "dana@example.com")
        .expect("an invite was sent")
        .clone();
    assert_eq!(invite["status"], "pending");
    let accepted = ok(s
        .post(
            &format!("/v1/organization/invites/{}/accept", str_of(&invite["id"])),
            json!({}),
        )
        .await);
    assert_eq!(
        accepted["id"],
        id.as_str(),
        "the member joins under the SCIM user's id"
    );
    assert_eq!(accepted["is_scim_managed"], true);
    let seen = scim
        .get(&format!("/Users/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(seen["active"], true);
    // Deactivating a pending person withdraws their invite.
    let eve = str_of(&scim.create_user("eve@example.com", json!({})).await["id"]);
    scim.patch(
        &format!("/Users/{eve}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await
    .expect(StatusCode::OK);
    let invites = ok(s.get("/v1/organization/invites").await);
    assert!(!invites["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["email"] == "eve@example.com"));
    // Without api.organization.invites.write a key cannot provision by invite.
    let (_, users_only) = s
        .create_key(json!({"name": "users", "scopes": ["api.organization.users.read", "api.organization.users.write"]}))
        .await;
    Scim::with_key(&s, &users_only)
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "fay@example.com"}),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, None);
}

#[tokio::test]
async fn a_search_at_the_root_finds_users_and_groups() {
    let s = TestServer::start().await;
    let scim = Scim::new(&s);
    scim.create_user("root@example.com", json!({"externalId": "same"}))
        .await;
    scim.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "G", "externalId": "same"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let found = scim
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "externalId eq \"same\""}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(found["totalResults"], 2);
    let kinds: Vec<&str> = found["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["User", "Group"]);
}
