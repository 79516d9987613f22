//! A SCIM document as a client sends it, checked against the schemas (`schema.rs`) and made
//! canonical: attribute names in the schema's case, booleans as booleans (Entra ID sends
//! `"True"`), single values of multi-valued attributes in arrays, `null` and empty values
//! dropped, attributes the schemas do not list ignored. Refusals name the place and carry their
//! `scimType` ([`problem`]).

use orgadmin_core::DomainError;
use serde_json::{Map, Value};

use super::schema::{Attr, Mutability, Schema, Type, EXTERNAL_ID};

/// The `scimType`s of RFC 7644 §3.12 that a refusal of bad input carries.
pub mod scim_type {
    pub const INVALID_FILTER: &str = "invalidFilter";
    pub const INVALID_SYNTAX: &str = "invalidSyntax";
    pub const INVALID_PATH: &str = "invalidPath";
    pub const NO_TARGET: &str = "noTarget";
    pub const INVALID_VALUE: &str = "invalidValue";
    pub const MUTABILITY: &str = "mutability";
    pub const TOO_MANY: &str = "tooMany";

    /// Every `scimType` a [`super::problem`] may carry.
    pub const ALL: [&str; 7] = [
        INVALID_FILTER,
        INVALID_SYNTAX,
        INVALID_PATH,
        NO_TARGET,
        INVALID_VALUE,
        MUTABILITY,
        TOO_MANY,
    ];
}

/// A refusal of bad input with its `scimType`, carried as the error's `param` (the server's
/// SCIM error mapping reads it back; any other `param` is `invalidValue`).
pub fn problem(scim_type: &str, detail: impl Into<String>) -> DomainError {
    DomainError::invalid(scim_type, detail)
}

/// The canonical form of a resource document of `schema` (with `extension`, if the resource
/// type has one). `id`, `meta` and `schemas` are left out (`schemas` checked when present).
pub fn canonical(
    body: &Value,
    schema: Schema,
    extension: Option<Schema>,
    require_schemas: bool,
) -> Result<Map<String, Value>, DomainError> {
    let Some(object) = body.as_object() else {
        return Err(problem(
            scim_type::INVALID_SYNTAX,
            "The request body must be a JSON object.",
        ));
    };
    check_schemas(object, schema, extension, require_schemas)?;
    let mut out = Map::new();
    for (key, value) in object {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k))
        {
            continue;
        }
        if let Some(ext) = extension.filter(|e| key.eq_ignore_ascii_case(e.id)) {
            if let Some(inner) = canonical_extension(value, ext)? {
                out.insert(ext.id.to_owned(), inner);
            }
            continue;
        }
        if key.len() > 4 && key[..4].eq_ignore_ascii_case("urn:") {
            if key.eq_ignore_ascii_case(schema.id) {
                // Core attributes nested under their own URN, as a few clients send them.
                let nested = canonical(value, schema, None, false)?;
                out.extend(nested);
                continue;
            }
            return Err(problem(
                scim_type::INVALID_SYNTAX,
                format!("'{key}' is not a schema of this resource."),
            ));
        }
        if key.eq_ignore_ascii_case(EXTERNAL_ID.name) {
            if let Some(v) = canonical_value(&EXTERNAL_ID, value, EXTERNAL_ID.name)? {
                out.insert(EXTERNAL_ID.name.to_owned(), v);
            }
            continue;
        }
        let Some(attr) = schema.attr(key) else {
            // Not stored, so not kept: RFC 7644 lets a service provider ignore it.
            continue;
        };
        if attr.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(v) = canonical_value(attr, value, attr.name)? {
            out.insert(attr.name.to_owned(), v);
        }
    }
    Ok(out)
}

fn check_schemas(
    object: &Map<String, Value>,
    schema: Schema,
    extension: Option<Schema>,
    required: bool,
) -> Result<(), DomainError> {
    let Some(schemas) = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v)
    else {
        if required {
            return Err(problem(
                scim_type::INVALID_SYNTAX,
                format!("'schemas' is required: [\"{}\"].", schema.id),
            ));
        }
        return Ok(());
    };
    let Some(list) = schemas.as_array() else {
        return Err(problem(
            scim_type::INVALID_SYNTAX,
            "'schemas' must be an array of schema URNs.",
        ));
    };
    let mut has_core = false;
    for item in list {
        let Some(urn) = item.as_str() else {
            return Err(problem(
                scim_type::INVALID_SYNTAX,
                "'schemas' must be an array of schema URNs.",
            ));
        };
        if urn.eq_ignore_ascii_case(schema.id) {
            has_core = true;
        } else if !extension.is_some_and(|e| urn.eq_ignore_ascii_case(e.id)) {
            return Err(problem(
                scim_type::INVALID_SYNTAX,
                format!(
                    "'{urn}' is not a schema of this resource (schemas: {}).",
                    known(schema, extension)
                ),
            ));
        }
    }
    if !has_core {
        return Err(problem(
            scim_type::INVALID_SYNTAX,
            format!("'schemas' must include \"{}\".", schema.id),
        ));
    }
    Ok(())
}

fn known(schema: Schema, extension: Option<Schema>) -> String {
    match extension {
        Some(e) => format!("{}, {}", schema.id, e.id),
        None => schema.id.to_owned(),
    }
}

fn canonical_extension(value: &Value, ext: Schema) -> Result<Option<Value>, DomainError> {
    if value.is_null() {
        return Ok(None);
    }
    let Some(object) = value.as_object() else {
        return Err(problem(
            scim_type::INVALID_VALUE,
            format!("'{}' must be an object.", ext.id),
        ));
    };
    let mut out = Map::new();
    for (key, v) in object {
        let Some(attr) = ext.attr(key) else { continue };
        let at = format!("{}:{}", ext.id, attr.name);
        if let Some(v) = canonical_value(attr, v, &at)? {
            out.insert(attr.name.to_owned(), v);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// One attribute's value in canonical form; `None` for a value that stands for "unassigned".
pub fn canonical_value(attr: &Attr, value: &Value, at: &str) -> Result<Option<Value>, DomainError> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.multi {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            if let Some(v) = canonical_single(attr, item, &format!("{at}[{i}]"))? {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    canonical_single(attr, value, at)
}

fn canonical_single(attr: &Attr, value: &Value, at: &str) -> Result<Option<Value>, DomainError> {
    match attr.ty {
        Type::String | Type::Reference => match value {
            Value::Null => Ok(None),
            Value::String(s) => {
                orgadmin_core::text::check(s, at, 2048)
                    .map_err(|e| problem(scim_type::INVALID_VALUE, e.to_string()))?;
                Ok(Some(Value::String(s.clone())))
            }
            other => Err(wrong_type(at, "a string", other)),
        },
        Type::Boolean => match value {
            Value::Bool(_) => Ok(Some(value.clone())),
            // Entra ID sends booleans as "True" and "False".
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(Value::Bool(true))),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(Value::Bool(false))),
            other => Err(wrong_type(at, "a boolean", other)),
        },
        Type::Complex => {
            let Some(object) = value.as_object() else {
                return Err(wrong_type(at, "an object", value));
            };
            let mut out = Map::new();
            for (key, v) in object {
                let Some(sub) = attr.sub(key) else { continue };
                if sub.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(v) = canonical_value(sub, v, &format!("{at}.{}", sub.name))? {
                    out.insert(sub.name.to_owned(), v);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
    }
}

fn wrong_type(at: &str, expected: &str, got: &Value) -> DomainError {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    problem(
        scim_type::INVALID_VALUE,
        format!("'{at}' must be {expected}, not {kind}."),
    )
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ENTERPRISE, USER};
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_made_canonical() {
        let doc = canonical(
            &json!({
                "schemas": [USER.id, ENTERPRISE.id],
                "USERNAME": "bjensen",
                "Active": "False",
                "emails": {"value": "b@example.com", "Primary": "true"},
                "name": {"givenName": "Barbara", "unknown": 1},
                "id": "ignored",
                "nonsense": 3,
                ENTERPRISE.id: {"department": "Tour"},
            }),
            USER,
            Some(ENTERPRISE),
            true,
        )
        .unwrap();
        assert_eq!(
            Value::Object(doc),
            json!({
                "userName": "bjensen",
                "active": false,
                "emails": [{"value": "b@example.com", "primary": true}],
                "name": {"givenName": "Barbara"},
                ENTERPRISE.id: {"department": "Tour"},
            })
        );
    }

    #[test]
    fn wrong_types_and_unknown_schemas_are_refused_with_their_scim_type() {
        let scim_type_of = |body: Value| match canonical(&body, USER, Some(ENTERPRISE), true) {
            Err(DomainError::Invalid { param, .. }) => param.unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(scim_type_of(json!([])), scim_type::INVALID_SYNTAX);
        assert_eq!(
            scim_type_of(json!({"userName": "x"})),
            scim_type::INVALID_SYNTAX
        );
        assert_eq!(
            scim_type_of(json!({"schemas": ["urn:x:y"], "userName": "x"})),
            scim_type::INVALID_SYNTAX
        );
        assert_eq!(
            scim_type_of(json!({"schemas": [USER.id], "userName": 7})),
            scim_type::INVALID_VALUE
        );
        assert_eq!(
            scim_type_of(json!({"schemas": [USER.id], "active": "yes"})),
            scim_type::INVALID_VALUE
        );
        assert_eq!(
            scim_type_of(json!({"schemas": [USER.id], "emails": [{"value": false}]})),
            scim_type::INVALID_VALUE
        );
        assert_eq!(
            scim_type_of(json!({"schemas": [USER.id], "urn:other:ext": {}})),
            scim_type::INVALID_SYNTAX
        );
    }
}
