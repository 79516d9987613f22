//! The JSON shapes of SCIM 2.0 (RFC 7643, RFC 7644) as orgadmin serves them under `/scim/v2`:
//! the schemas (`schema.rs`), documents a client sends made canonical (`document.rs`), PATCH
//! (`patch.rs`), and here the conversions between the domain's SCIM user and group and their
//! resources, `attributes`/`excludedAttributes`, list answers and the error body.

pub mod document;
pub mod patch;
pub mod schema;

use orgadmin_core::clock::rfc3339;
use orgadmin_core::id::UserId;
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::scim::{ScimGroup, ScimGroupWrite, ScimUser, ScimUserWrite};
use orgadmin_core::{DomainError, Email};
use serde::Serialize;
use serde_json::{json, Map, Value};

use document::{canonical, problem, scim_type};
use schema::{Schema, ENTERPRISE, ENTERPRISE_SCHEMA, ERROR, GROUP, LIST_RESPONSE, USER};

/// SCIM's error body (RFC 7644 §3.12); `status` is a string, as the RFC's examples send it.
#[derive(Debug, Clone, Serialize)]
pub struct ScimError {
    pub schemas: [&'static str; 1],
    pub status: String,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&str>, detail: impl Into<String>) -> Self {
        ScimError {
            schemas: [ERROR],
            status: status.to_string(),
            scim_type: scim_type.map(str::to_owned),
            detail: detail.into(),
        }
    }
}

/// A list answer (RFC 7644 §3.4.2).
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// The user's schemas as PATCH sees them.
pub const USER_SCHEMAS: patch::Schemas = patch::Schemas {
    core: USER,
    extension: Some(ENTERPRISE),
};

pub const GROUP_SCHEMAS: patch::Schemas = patch::Schemas {
    core: GROUP,
    extension: None,
};

/// A user's resource (every attribute; [`project`] narrows it).
pub fn user_resource(user: &ScimUser, base: &str) -> Value {
    let mut out = Map::new();
    let mut schemas = vec![json!(USER.id)];
    if user.attributes.contains_key(ENTERPRISE_SCHEMA) {
        schemas.push(json!(ENTERPRISE_SCHEMA));
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(user.id));
    if let Some(external) = &user.external_id {
        out.insert("externalId".into(), json!(external));
    }
    out.insert("userName".into(), json!(user.user_name));
    for (key, value) in &user.attributes {
        if key != "roles" {
            out.insert(key.clone(), value.clone());
        }
    }
    if !out.contains_key("emails") {
        out.insert(
            "emails".into(),
            json!([{ "value": user.email.as_str(), "type": "work", "primary": true }]),
        );
    }
    out.insert("active".into(), json!(user.active));
    if let Some(roles) = shown_roles(user) {
        out.insert("roles".into(), roles);
    }
    let location = format!("{base}/Users/{}", user.id);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": rfc3339(user.created),
            "lastModified": rfc3339(user.last_modified),
            "location": location,
            "version": user.version,
        }),
    );
    Value::Object(out)
}

/// The roles a user's resource shows: those the provider gave while they say the base role
/// the member has; the base role alone when it changed since (through the Admin API) or is
/// `owner`; none for a reader the provider gave no role.
fn shown_roles(user: &ScimUser) -> Option<Value> {
    let given = user.attributes.get("roles");
    if let Some(given) = given {
        if roles_of(given).ok().flatten() == Some(user.role) {
            return Some(given.clone());
        }
    }
    if given.is_some() || user.role == OrgBaseRole::Owner {
        return Some(json!([{ "value": user.role.as_str(), "primary": true }]));
    }
    None
}

/// The base role `roles` names: `owner` or `reader` (in any case), one of them.
fn roles_of(roles: &Value) -> Result<Option<OrgBaseRole>, DomainError> {
    let mut found = None;
    for (i, role) in roles.as_array().into_iter().flatten().enumerate() {
        let Some(value) = role.get("value").and_then(Value::as_str) else {
            continue;
        };
        let role = match value.to_ascii_lowercase().as_str() {
            "owner" => OrgBaseRole::Owner,
            "reader" => OrgBaseRole::Reader,
            _ => {
                return Err(problem(
                    scim_type::INVALID_VALUE,
                    format!("roles[{i}].value must be 'owner' or 'reader', not '{value}'."),
                ))
            }
        };
        if found.is_some_and(|f| f != role) {
            return Err(problem(
                scim_type::INVALID_VALUE,
                "roles may name one base role: 'owner' or 'reader', not both.",
            ));
        }
        found = Some(role);
    }
    Ok(found)
}

/// What a PATCH of a user starts from: the writable part of their resource.
pub fn user_patch_base(user: &ScimUser) -> Map<String, Value> {
    let mut doc = user.attributes.clone();
    doc.insert("userName".into(), json!(user.user_name));
    if let Some(external) = &user.external_id {
        doc.insert("externalId".into(), json!(external));
    }
    doc.insert("active".into(), json!(user.active));
    match shown_roles(user) {
        Some(roles) => doc.insert("roles".into(), roles),
        None => doc.remove("roles"),
    };
    doc
}

/// A user as a POST or PUT body (or a PATCH's result) describes them; `current` is the user
/// before, for what a PUT leaves out (`active`; the base role, unless the provider had set
/// roles and now gives none: then `reader`).
pub fn user_write(
    body: &Value,
    current: Option<&ScimUser>,
    require_schemas: bool,
) -> Result<ScimUserWrite, DomainError> {
    let mut doc = canonical(body, USER, Some(ENTERPRISE), require_schemas)?;
    let user_name = match doc.remove("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        _ => {
            return Err(problem(
                scim_type::INVALID_VALUE,
                "'userName' is required: a non-empty string.",
            ))
        }
    };
    let external_id = match doc.remove("externalId") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let active = match doc.remove("active") {
        Some(Value::Bool(b)) => b,
        _ => current.is_none_or(|c| c.active),
    };
    let email = chosen_email(&doc, &user_name)?;
    let name_of = |sub: &str| {
        doc.get("name")
            .and_then(|n| n.get(sub))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let given_name = name_of("givenName");
    let family_name = name_of("familyName");
    let name = name_of("formatted").or_else(|| {
        let joined = [given_name.as_deref(), family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.trim().is_empty()).then(|| joined.trim().to_owned())
    });
    if let Some(name) = &name {
        orgadmin_core::text::check(name, "name", 256)
            .map_err(|e| problem(scim_type::INVALID_VALUE, e.to_string()))?;
    }
    let display_name = doc
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let given = roles_of(doc.get("roles").unwrap_or(&Value::Null))?;
    let role = match (given, current) {
        (Some(role), _) => role,
        (None, Some(c)) if c.attributes.contains_key("roles") => OrgBaseRole::Reader,
        (None, Some(c)) => c.role,
        (None, None) => OrgBaseRole::Reader,
    };
    if doc.get("roles").is_some() && given.is_none() {
        doc.remove("roles");
    }
    Ok(ScimUserWrite {
        user_name,
        external_id,
        email,
        name,
        display_name,
        given_name,
        family_name,
        role,
        active,
        attributes: doc,
    })
}

/// The member's email: the primary address, else the first work one, else the first; without
/// any, the `userName` if it is an address.
fn chosen_email(doc: &Map<String, Value>, user_name: &str) -> Result<Email, DomainError> {
    let emails: Vec<&Value> = doc
        .get("emails")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let primaries = emails
        .iter()
        .filter(|e| e.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(problem(
            scim_type::INVALID_VALUE,
            "emails: at most one address may be primary.",
        ));
    }
    let chosen = emails
        .iter()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            emails.iter().find(|e| {
                e.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("work"))
            })
        })
        .or_else(|| emails.first())
        .and_then(|e| e.get("value").and_then(Value::as_str));
    let (raw, param) = match chosen {
        Some(raw) => (raw, "emails"),
        None => (user_name, "userName"),
    };
    Email::parse(raw, param).map_err(|e| {
        let why = match e {
            DomainError::Invalid { message, .. } => message,
            other => other.to_string(),
        };
        let detail = if chosen.is_some() {
            format!("emails: {why}")
        } else {
            format!("A user needs an email: give emails[].value, or a userName that is an email address ({why})")
        };
        problem(scim_type::INVALID_VALUE, detail)
    })
}

/// A group's resource.
pub fn group_resource(group: &ScimGroup, base: &str, with_members: bool) -> Value {
    let mut out = json!({
        "schemas": [GROUP.id],
        "id": group.id,
        "displayName": group.display_name,
    });
    if let Some(external) = &group.external_id {
        out["externalId"] = json!(external);
    }
    if with_members && !group.members.is_empty() {
        out["members"] = group
            .members
            .iter()
            .map(|m| {
                json!({
                    "value": m.id,
                    "$ref": format!("{base}/Users/{}", m.id),
                    "type": "User",
                })
            })
            .collect();
    }
    out["meta"] = json!({
        "resourceType": "Group",
        "created": rfc3339(group.created),
        "lastModified": rfc3339(group.last_modified),
        "location": format!("{base}/Groups/{}", group.id),
        "version": group.version,
    });
    out
}

/// What a PATCH of a group starts from.
pub fn group_patch_base(group: &ScimGroup, base: &str) -> Map<String, Value> {
    let mut resource = group_resource(group, base, true);
    let object = resource.as_object_mut().expect("a resource is an object");
    for key in ["schemas", "id", "meta"] {
        object.remove(key);
    }
    object.clone()
}

/// A group as a body (or a PATCH's result) describes it.
pub fn group_write(body: &Value, require_schemas: bool) -> Result<ScimGroupWrite, DomainError> {
    let doc = canonical(body, GROUP, None, require_schemas)?;
    let display_name = match doc.get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            return Err(problem(
                scim_type::INVALID_VALUE,
                "'displayName' is required: a non-empty string.",
            ))
        }
    };
    orgadmin_core::text::check(&display_name, "displayName", 256)
        .map_err(|e| problem(scim_type::INVALID_VALUE, e.to_string()))?;
    let external_id = doc
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut members: Vec<UserId> = Vec::new();
    for (i, member) in doc
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(kind) = member.get("type").and_then(Value::as_str) {
            if !kind.eq_ignore_ascii_case("User") {
                return Err(problem(
                    scim_type::INVALID_VALUE,
                    format!("members[{i}].type must be 'User': groups do not hold groups."),
                ));
            }
        }
        let Some(value) = member.get("value").and_then(Value::as_str) else {
            return Err(problem(
                scim_type::INVALID_VALUE,
                format!("members[{i}].value is required: a user's id."),
            ));
        };
        let id = UserId::from_raw(value);
        if !members.contains(&id) {
            members.push(id);
        }
    }
    Ok(ScimGroupWrite {
        display_name,
        external_id,
        members,
    })
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) applied to a resource of `schema`:
/// `id` and `schemas` always stay; names may carry the schema URN; an extension's URN alone
/// names all of it. Names the resource lacks are ignored.
pub fn project(
    resource: Value,
    schema: Schema,
    attributes: &[String],
    excluded: &[String],
) -> Value {
    let Value::Object(mut object) = resource else {
        return resource;
    };
    let split = |name: &str| -> (Option<String>, String, Option<String>) {
        // (extension URN, attribute, sub-attribute)
        let mut name = name.trim().to_owned();
        if let Some(rest) = strip_prefix_ignoring_case(&name, &format!("{}:", schema.id)) {
            name = rest;
        }
        if let Some(rest) = strip_prefix_ignoring_case(&name, &format!("{ENTERPRISE_SCHEMA}:")) {
            let (attr, sub) = split_sub(&rest);
            return (Some(ENTERPRISE_SCHEMA.to_owned()), attr, sub);
        }
        if name.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
            return (Some(ENTERPRISE_SCHEMA.to_owned()), String::new(), None);
        }
        let (attr, sub) = split_sub(&name);
        (None, attr, sub)
    };
    let key_of = |map: &Map<String, Value>, name: &str| {
        map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
    };
    if !attributes.is_empty() {
        let mut kept = Map::new();
        for key in ["schemas", "id"] {
            if let Some(v) = object.get(key) {
                kept.insert(key.to_owned(), v.clone());
            }
        }
        for name in attributes {
            let (ext, attr, sub) = split(name);
            let (source, target): (Option<&Map<String, Value>>, Option<String>) = match &ext {
                Some(urn) => (
                    object.get(urn).and_then(Value::as_object),
                    Some(urn.clone()),
                ),
                None => (Some(&object), None),
            };
            let Some(source) = source else { continue };
            let picked = if attr.is_empty() {
                Some(Value::Object(source.clone()))
            } else {
                key_of(source, &attr).and_then(|k| {
                    let v = source.get(&k)?;
                    Some(match &sub {
                        None => json!({ k.clone(): v }),
                        Some(sub) => json!({ k.clone(): pick_sub(v, sub)? }),
                    })
                })
            };
            let Some(Value::Object(picked)) = picked else {
                continue;
            };
            let into = match &target {
                Some(urn) => kept
                    .entry(urn.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .expect("an object was just put there"),
                None => &mut kept,
            };
            for (k, v) in picked {
                merge_value(into, k, v);
            }
        }
        object = kept;
    }
    for name in excluded {
        let (ext, attr, sub) = split(name);
        if ext.is_none()
            && (attr.eq_ignore_ascii_case("id") || attr.eq_ignore_ascii_case("schemas"))
        {
            continue;
        }
        let container = match &ext {
            Some(urn) if attr.is_empty() => {
                object.remove(urn);
                continue;
            }
            Some(urn) => match object.get_mut(urn).and_then(Value::as_object_mut) {
                Some(c) => c,
                None => continue,
            },
            None => &mut object,
        };
        let Some(key) = key_of(container, &attr) else {
            continue;
        };
        match &sub {
            None => {
                container.remove(&key);
            }
            Some(sub) => remove_sub(container.get_mut(&key), sub),
        }
    }
    Value::Object(object)
}

fn strip_prefix_ignoring_case(s: &str, prefix: &str) -> Option<String> {
    (s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix))
    .then(|| s[prefix.len()..].to_owned())
}

fn split_sub(name: &str) -> (String, Option<String>) {
    match name.split_once('.') {
        Some((a, s)) => (a.to_owned(), Some(s.to_owned())),
        None => (name.to_owned(), None),
    }
}

fn pick_sub(value: &Value, sub: &str) -> Option<Value> {
    match value {
        Value::Object(o) => o
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(sub))
            .map(|(k, v)| json!({ k.clone(): v })),
        Value::Array(items) => {
            let picked: Vec<Value> = items.iter().filter_map(|i| pick_sub(i, sub)).collect();
            (!picked.is_empty()).then_some(Value::Array(picked))
        }
        _ => None,
    }
}

fn remove_sub(value: Option<&mut Value>, sub: &str) {
    match value {
        Some(Value::Object(o)) => {
            if let Some(k) = o.keys().find(|k| k.eq_ignore_ascii_case(sub)).cloned() {
                o.remove(&k);
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                remove_sub(Some(item), sub);
            }
        }
        _ => {}
    }
}

/// Put `v` under `k`, merging objects (two sub-attributes of one attribute asked for).
fn merge_value(into: &mut Map<String, Value>, k: String, v: Value) {
    match (into.get_mut(&k), v) {
        (Some(Value::Object(existing)), Value::Object(new)) => existing.extend(new),
        (_, v) => {
            into.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgadmin_core::id::UserId;

    fn user(attributes: Value, role: OrgBaseRole) -> ScimUser {
        ScimUser {
            id: UserId::from_raw("user-1"),
            user_name: "bjensen".into(),
            external_id: Some("x1".into()),
            email: Email::from_stored("b@example.com".into()),
            name: None,
            role,
            active: true,
            member: true,
            pending_invite: None,
            attributes: attributes.as_object().unwrap().clone(),
            created: 0,
            last_modified: 60,
            version: "W/\"1-a\"".into(),
        }
    }

    #[test]
    fn the_email_is_the_primary_then_work_then_first_address_then_the_user_name() {
        let write = |body: Value| user_write(&body, None, false);
        let w = write(json!({"userName": "u", "emails": [{"value": "a@x.org"}, {"value": "b@x.org", "type": "work"}]})).unwrap();
        assert_eq!(w.email.as_str(), "b@x.org");
        let w = write(json!({"userName": "u", "emails": [{"value": "a@x.org"}, {"value": "c@x.org", "primary": true}]})).unwrap();
        assert_eq!(w.email.as_str(), "c@x.org");
        let w = write(json!({"userName": "u@x.org"})).unwrap();
        assert_eq!(w.email.as_str(), "u@x.org");
        assert!(write(json!({"userName": "u"})).is_err());
        assert!(write(json!({"userName": "u", "emails": [{"value": "a@x.org", "primary": true}, {"value": "b@x.org", "primary": "True"}]})).is_err());
        let w = write(json!({"userName": "u@x.org", "name": {"givenName": "Ann", "familyName": "Lee"}, "roles": [{"value": "Owner"}]})).unwrap();
        assert_eq!(w.name.as_deref(), Some("Ann Lee"));
        assert_eq!(w.role, OrgBaseRole::Owner);
        assert!(write(json!({"userName": "u@x.org", "roles": [{"value": "admin"}]})).is_err());
        assert!(write(
            json!({"userName": "u@x.org", "roles": [{"value": "owner"}, {"value": "reader"}]})
        )
        .is_err());
    }

    #[test]
    fn roles_show_what_the_provider_gave_while_it_is_true() {
        let given = json!({"roles": [{"value": "owner", "display": "Owner"}]});
        let r = user_resource(&user(given.clone(), OrgBaseRole::Owner), "http://h/scim/v2");
        assert_eq!(r["roles"], json!([{"value": "owner", "display": "Owner"}]));
        // Demoted through the Admin API since.
        let r = user_resource(&user(given, OrgBaseRole::Reader), "http://h/scim/v2");
        assert_eq!(r["roles"], json!([{"value": "reader", "primary": true}]));
        let r = user_resource(&user(json!({}), OrgBaseRole::Reader), "http://h/scim/v2");
        assert!(r.get("roles").is_none());
        assert_eq!(r["meta"]["lastModified"], "1970-01-01T00:01:00Z");
        assert_eq!(r["meta"]["location"], "http://h/scim/v2/Users/user-1");
    }

    #[test]
    fn attributes_and_excluded_attributes_narrow_a_resource() {
        let r = user_resource(
            &user(
                json!({"name": {"givenName": "B", "familyName": "J"}, ENTERPRISE_SCHEMA: {"department": "D", "division": "E"}}),
                OrgBaseRole::Reader,
            ),
            "http://h",
        );
        let p = project(
            r.clone(),
            USER,
            &[
                "userName".into(),
                "name.givenName".into(),
                format!("{ENTERPRISE_SCHEMA}:department"),
            ],
            &[],
        );
        assert_eq!(
            p,
            json!({"schemas": r["schemas"], "id": "user-1", "userName": "bjensen", "name": {"givenName": "B"}, ENTERPRISE_SCHEMA: {"department": "D"}})
        );
        let p = project(
            r,
            USER,
            &[],
            &[
                "emails".into(),
                "id".into(),
                "name.familyName".into(),
                ENTERPRISE_SCHEMA.into(),
            ],
        );
        assert!(p.get("emails").is_none() && p.get(ENTERPRISE_SCHEMA).is_none());
        assert_eq!(p["id"], "user-1");
        assert_eq!(p["name"], json!({"givenName": "B"}));
    }
}
