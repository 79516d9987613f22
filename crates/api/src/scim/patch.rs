//! PATCH (RFC 7644 §3.5.2) applied to a canonical document (`document.rs`): `add`, `remove`
//! and `replace`, with and without `path`, value filters in paths (`emails[type eq "work"]`,
//! `members[value eq "user-…"]`) and a sub-attribute after them. The whole result is checked
//! again as a document, so a PATCH can make nothing a PUT could not.
//!
//! What real providers send besides the RFC's forms, accepted on purpose:
//! - Entra ID: op names in any case (`"Replace"`), booleans as `"True"`/`"False"`, value
//!   objects without a path whose keys are paths (`{"name.givenName": "B"}`,
//!   `{"urn:…:enterprise:2.0:User:department": "D"}`), and `add`/`replace` of
//!   `emails[type eq "work"].value` when no work email exists yet (it is created);
//! - Okta: `active` (and other attributes) replaced through a value object without a path,
//!   and `id` inside such an object (ignored).

use orgadmin_core::scim::filter::{AttrPath, CompareOp, Filter, PatchPath};
use orgadmin_core::DomainError;
use serde_json::{Map, Value};

use super::document::{problem, scim_type};
use super::schema::{Attr, Mutability, Schema, Type, EXTERNAL_ID, PATCH_OP};

/// Most operations one PATCH may carry.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// A PatchOp message's operations, checked for shape (not yet against a resource).
pub fn operations(body: &Value) -> Result<Vec<Operation>, DomainError> {
    let Some(object) = body.as_object() else {
        return Err(problem(
            scim_type::INVALID_SYNTAX,
            "The request body must be a JSON object.",
        ));
    };
    let get = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let schemas_ok = get("schemas").and_then(Value::as_array).is_some_and(|s| {
        s.iter()
            .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP)))
    });
    if !schemas_ok {
        return Err(problem(
            scim_type::INVALID_SYNTAX,
            format!("'schemas' must be [\"{PATCH_OP}\"]."),
        ));
    }
    let Some(list) = get("Operations").and_then(Value::as_array) else {
        return Err(problem(
            scim_type::INVALID_SYNTAX,
            "'Operations' must be an array of operations.",
        ));
    };
    if list.is_empty() {
        return Err(problem(
            scim_type::INVALID_SYNTAX,
            "'Operations' must hold at least one operation.",
        ));
    }
    if list.len() > MAX_OPERATIONS {
        return Err(problem(
            scim_type::TOO_MANY,
            format!("A PATCH may carry at most {MAX_OPERATIONS} operations."),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let Some(item) = item.as_object() else {
                return Err(problem(
                    scim_type::INVALID_SYNTAX,
                    format!("Operations[{i}] must be an object."),
                ));
            };
            let field = |name: &str| {
                item.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            };
            let op = match field("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
            {
                Some(op) if op == "add" => Op::Add,
                Some(op) if op == "remove" => Op::Remove,
                Some(op) if op == "replace" => Op::Replace,
                _ => {
                    return Err(problem(
                        scim_type::INVALID_SYNTAX,
                        format!("Operations[{i}].op must be 'add', 'remove' or 'replace'."),
                    ))
                }
            };
            let path = match field("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.trim().is_empty() => None,
                Some(Value::String(p)) => Some(p.clone()),
                Some(_) => {
                    return Err(problem(
                        scim_type::INVALID_PATH,
                        format!("Operations[{i}].path must be a string."),
                    ))
                }
            };
            let value = field("value").cloned();
            if op != Op::Remove && value.is_none() {
                return Err(problem(
                    scim_type::INVALID_VALUE,
                    format!("Operations[{i}] ({op:?}) needs a 'value'.").to_lowercase(),
                ));
            }
            if op == Op::Remove && path.is_none() {
                return Err(problem(
                    scim_type::NO_TARGET,
                    format!("Operations[{i}]: 'remove' needs a 'path'."),
                ));
            }
            Ok(Operation { op, path, value })
        })
        .collect()
}

/// Where a path points.
enum Target {
    /// A whole extension object (the path is its URN).
    Extension(Schema),
    Attribute {
        /// The extension holding it; `None` for the core schema.
        extension: Option<Schema>,
        attr: &'static Attr,
        filter: Option<Filter>,
        sub: Option<&'static Attr>,
    },
}

/// The resource's schemas as PATCH sees them.
#[derive(Debug, Clone, Copy)]
pub struct Schemas {
    pub core: Schema,
    pub extension: Option<Schema>,
}

impl Schemas {
    fn resolve(&self, raw: &str) -> Result<Target, DomainError> {
        if let Some(ext) = self
            .extension
            .filter(|e| raw.trim().eq_ignore_ascii_case(e.id))
        {
            return Ok(Target::Extension(ext));
        }
        let path = PatchPath::parse(raw).map_err(|e| {
            problem(
                scim_type::INVALID_PATH,
                format!("The path '{raw}' does not parse: {e}"),
            )
        })?;
        let (extension, attrs) = match &path.attr.urn {
            None => (None, self.core),
            Some(urn) if urn.eq_ignore_ascii_case(self.core.id) => (None, self.core),
            Some(urn) => match self.extension.filter(|e| urn.eq_ignore_ascii_case(e.id)) {
                Some(ext) => (Some(ext), ext),
                None => {
                    return Err(problem(
                        scim_type::INVALID_PATH,
                        format!("The path '{raw}' names the schema '{urn}', which this resource does not have."),
                    ))
                }
            },
        };
        let name = &path.attr.name;
        if ["id", "meta", "schemas", "groups"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
            && extension.is_none()
        {
            return Err(problem(
                scim_type::MUTABILITY,
                format!("'{name}' is read-only."),
            ));
        }
        let attr = if extension.is_none() && name.eq_ignore_ascii_case(EXTERNAL_ID.name) {
            &EXTERNAL_ID
        } else {
            attrs.attr(name).ok_or_else(|| {
                problem(
                    scim_type::INVALID_PATH,
                    format!(
                        "The path '{raw}' names no attribute of {}: '{name}' is not one.",
                        attrs.name
                    ),
                )
            })?
        };
        if attr.mutability == Mutability::ReadOnly {
            return Err(problem(
                scim_type::MUTABILITY,
                format!("'{}' is read-only.", attr.name),
            ));
        }
        let sub_name = path.attr.sub.as_ref().or(path.sub.as_ref());
        let sub = match sub_name {
            None => None,
            Some(s) => Some(attr.sub(s).ok_or_else(|| {
                problem(
                    scim_type::INVALID_PATH,
                    format!(
                        "The path '{raw}' names no attribute: '{}' has no sub-attribute '{s}'.",
                        attr.name
                    ),
                )
            })?),
        };
        if path.filter.is_some() && !(attr.multi && attr.ty == Type::Complex) {
            return Err(problem(
                scim_type::INVALID_PATH,
                format!(
                    "The path '{raw}' filters '{}', which is not a multi-valued complex attribute.",
                    attr.name
                ),
            ));
        }
        if let Some(filter) = &path.filter {
            check_filter_paths(filter, attr, raw)?;
        }
        Ok(Target::Attribute {
            extension,
            attr,
            filter: path.filter,
            sub,
        })
    }
}

/// A value filter names sub-attributes of the attribute it filters.
fn check_filter_paths(filter: &Filter, attr: &Attr, raw: &str) -> Result<(), DomainError> {
    let check = |p: &AttrPath| {
        if p.urn.is_some() || p.sub.is_some() || attr.sub(&p.name).is_none() {
            Err(problem(
                scim_type::INVALID_PATH,
                format!(
                    "The filter of '{raw}' names '{p}', which is no sub-attribute of '{}'.",
                    attr.name
                ),
            ))
        } else {
            Ok(())
        }
    };
    match filter {
        Filter::Present(p) | Filter::Compare(p, _, _) => check(p),
        Filter::ValuePath(p, _) => check(p),
        Filter::Not(f) => check_filter_paths(f, attr, raw),
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_filter_paths(a, attr, raw)?;
            check_filter_paths(b, attr, raw)
        }
    }
}

/// Apply `ops` to `doc`, in order; the caller checks the result as a document.
pub fn apply(
    doc: &mut Map<String, Value>,
    schemas: Schemas,
    ops: &[Operation],
) -> Result<(), DomainError> {
    for operation in ops {
        match &operation.path {
            Some(path) => apply_at(doc, schemas, operation.op, path, operation.value.as_ref())?,
            None => {
                // No path: the value is an object of attributes (or paths) to add or replace.
                let Some(Value::Object(values)) = &operation.value else {
                    return Err(problem(
                        scim_type::INVALID_VALUE,
                        "An operation without a path needs an object of attributes as its value.",
                    ));
                };
                for (key, value) in values {
                    if ["id", "schemas", "meta"]
                        .iter()
                        .any(|k| key.eq_ignore_ascii_case(k))
                    {
                        // Okta sends the resource's own id with its changes.
                        continue;
                    }
                    apply_at(doc, schemas, operation.op, key, Some(value))?;
                }
            }
        }
    }
    Ok(())
}

fn apply_at(
    doc: &mut Map<String, Value>,
    schemas: Schemas,
    op: Op,
    raw: &str,
    value: Option<&Value>,
) -> Result<(), DomainError> {
    match schemas.resolve(raw)? {
        Target::Extension(ext) => match (op, value) {
            (Op::Remove, _) | (_, Some(Value::Null)) => {
                doc.remove(ext.id);
                Ok(())
            }
            (_, Some(Value::Object(values))) => {
                for (key, v) in values {
                    if ["schemas", "id", "meta"]
                        .iter()
                        .any(|k| key.eq_ignore_ascii_case(k))
                    {
                        continue;
                    }
                    apply_at(doc, schemas, op, &format!("{}:{key}", ext.id), Some(v))?;
                }
                Ok(())
            }
            _ => Err(problem(
                scim_type::INVALID_VALUE,
                format!("The value for '{}' must be an object.", ext.id),
            )),
        },
        Target::Attribute {
            extension,
            attr,
            filter,
            sub,
        } => {
            let container = match extension {
                None => &mut *doc,
                Some(ext) => {
                    let entry = doc
                        .entry(ext.id.to_owned())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !entry.is_object() {
                        *entry = Value::Object(Map::new());
                    }
                    entry.as_object_mut().expect("an object was just put there")
                }
            };
            // A null value replaces with nothing: it removes.
            let (op, value) = match (op, value) {
                (Op::Add | Op::Replace, Some(Value::Null)) => (Op::Remove, None),
                other => other,
            };
            let result = edit(container, attr, filter.as_ref(), sub, op, value, raw);
            if let Some(ext) = extension {
                if doc
                    .get(ext.id)
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty)
                {
                    doc.remove(ext.id);
                }
            }
            result
        }
    }
}

fn case_exact_of(attr: &Attr) -> impl Fn(&AttrPath) -> bool + '_ {
    move |p: &AttrPath| attr.sub(&p.name).is_some_and(|s| s.case_exact)
}

fn edit(
    container: &mut Map<String, Value>,
    attr: &'static Attr,
    filter: Option<&Filter>,
    sub: Option<&'static Attr>,
    op: Op,
    value: Option<&Value>,
    raw: &str,
) -> Result<(), DomainError> {
    let key = attr.name;
    // Canonical names: an existing entry under another case is taken over.
    if let Some(existing) = container
        .keys()
        .find(|k| k.eq_ignore_ascii_case(key) && *k != key)
        .cloned()
    {
        if let Some(v) = container.remove(&existing) {
            container.insert(key.to_owned(), v);
        }
    }
    if let Some(filter) = filter {
        return edit_filtered(container, attr, filter, sub, op, value, raw);
    }
    match (sub, op) {
        (None, Op::Remove) if attr.required && value.is_none() => Err(problem(
            scim_type::MUTABILITY,
            format!(
                "'{}' is required and cannot be removed; replace it instead.",
                attr.name
            ),
        )),
        (None, Op::Remove) => {
            match (value, container.get_mut(key)) {
                // Remove the given values of a multi-valued attribute (`members`, with a list
                // of `{"value": …}`), matched on `value` where they have one.
                (Some(given), Some(Value::Array(items))) if attr.multi => {
                    let given: Vec<&Value> = match given {
                        Value::Array(list) => list.iter().collect(),
                        single => vec![single],
                    };
                    items.retain(|item| !given.iter().any(|g| same_value(item, g)));
                    if items.is_empty() {
                        container.remove(key);
                    }
                }
                _ => {
                    container.remove(key);
                }
            }
            Ok(())
        }
        (None, Op::Add) if attr.multi => {
            let value = value.expect("add has a value");
            let items = container
                .entry(key.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !items.is_array() {
                *items = Value::Array(vec![items.take()]);
            }
            let items = items.as_array_mut().expect("an array was just put there");
            let new: Vec<Value> = match value {
                Value::Array(list) => list.clone(),
                single => vec![single.clone()],
            };
            for v in new {
                if !items.iter().any(|item| same_value(item, &v)) {
                    items.push(v);
                }
            }
            Ok(())
        }
        (None, Op::Add | Op::Replace) if attr.ty == Type::Complex && !attr.multi => {
            // A complex attribute: the sub-attributes given replace theirs, the others stay.
            let value = value.expect("add and replace have a value");
            let Value::Object(values) = value else {
                return Err(problem(
                    scim_type::INVALID_VALUE,
                    format!("The value for '{raw}' must be an object."),
                ));
            };
            let entry = container
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let object = entry.as_object_mut().expect("an object was just put there");
            for (k, v) in values {
                let name = attr.sub(k).map_or(k.as_str(), |s| s.name);
                object.insert(name.to_owned(), v.clone());
            }
            Ok(())
        }
        (None, Op::Add | Op::Replace) => {
            container.insert(key.to_owned(), value.expect("a value").clone());
            Ok(())
        }
        (Some(sub), op) => {
            if attr.ty != Type::Complex {
                return Err(problem(
                    scim_type::INVALID_PATH,
                    format!("'{}' has no sub-attributes.", attr.name),
                ));
            }
            if attr.multi {
                // Every value's sub-attribute (one value made when there is none).
                let items = container
                    .entry(key.to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = items else {
                    return Err(problem(
                        scim_type::INVALID_VALUE,
                        format!("'{key}' must be an array."),
                    ));
                };
                if list.is_empty() && op != Op::Remove {
                    list.push(Value::Object(Map::new()));
                }
                for item in list.iter_mut() {
                    set_sub(item, sub, op, value);
                }
                list.retain(|item| item.as_object().is_none_or(|o| !o.is_empty()));
                if list.is_empty() {
                    container.remove(key);
                }
            } else {
                let entry = container
                    .entry(key.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                set_sub(entry, sub, op, value);
                if entry.as_object().is_some_and(Map::is_empty) {
                    container.remove(key);
                }
            }
            Ok(())
        }
    }
}

fn set_sub(item: &mut Value, sub: &Attr, op: Op, value: Option<&Value>) {
    if !item.is_object() {
        *item = Value::Object(Map::new());
    }
    let object = item.as_object_mut().expect("an object was just put there");
    if let Some(existing) = object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(sub.name) && *k != sub.name)
        .cloned()
    {
        object.remove(&existing);
    }
    match (op, value) {
        (Op::Remove, _) | (_, None) => {
            object.remove(sub.name);
        }
        (_, Some(v)) => {
            object.insert(sub.name.to_owned(), v.clone());
        }
    }
}

/// Whether two values of a multi-valued attribute are the same one: by `value` when both have
/// one, else whole.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn edit_filtered(
    container: &mut Map<String, Value>,
    attr: &'static Attr,
    filter: &Filter,
    sub: Option<&'static Attr>,
    op: Op,
    value: Option<&Value>,
    raw: &str,
) -> Result<(), DomainError> {
    let key = attr.name;
    let exact = case_exact_of(attr);
    let items = container
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !items.is_array() {
        *items = Value::Array(vec![items.take()]);
    }
    let list = items.as_array_mut().expect("an array was just put there");
    let matching: Vec<usize> = list
        .iter()
        .enumerate()
        .filter(|(_, item)| filter.matches(item, &exact))
        .map(|(i, _)| i)
        .collect();
    match op {
        Op::Remove => {
            let mut i = 0;
            list.retain_mut(|item| {
                let hit = matching.contains(&i);
                i += 1;
                if !hit {
                    return true;
                }
                match sub {
                    // Only the sub-attribute goes.
                    Some(sub) => {
                        set_sub(item, sub, Op::Remove, None);
                        item.as_object().is_some_and(|o| !o.is_empty())
                    }
                    None => false,
                }
            });
        }
        Op::Add | Op::Replace => {
            let value = value.expect("add and replace have a value");
            if matching.is_empty() {
                // Entra ID adds `emails[type eq "work"].value` this way: the value the filter
                // describes is made.
                let Some(mut made) = described_by(filter) else {
                    return Err(problem(
                        scim_type::NO_TARGET,
                        format!("No value of '{}' matches the filter of '{raw}'.", attr.name),
                    ));
                };
                match sub {
                    Some(sub) => set_sub(&mut made, sub, op, Some(value)),
                    None => merge(&mut made, attr, value, raw)?,
                }
                list.push(made);
            }
            for i in matching {
                let item = &mut list[i];
                match (sub, op) {
                    (Some(sub), _) => set_sub(item, sub, op, Some(value)),
                    (None, Op::Replace) => *item = value.clone(),
                    (None, _) => merge(item, attr, value, raw)?,
                }
            }
        }
    }
    if list.is_empty() {
        container.remove(key);
    }
    Ok(())
}

fn merge(item: &mut Value, attr: &Attr, value: &Value, raw: &str) -> Result<(), DomainError> {
    let Value::Object(values) = value else {
        return Err(problem(
            scim_type::INVALID_VALUE,
            format!("The value for '{raw}' must be an object."),
        ));
    };
    if !item.is_object() {
        *item = Value::Object(Map::new());
    }
    let object = item.as_object_mut().expect("an object was just put there");
    for (k, v) in values {
        let name = attr.sub(k).map_or(k.as_str(), |s| s.name);
        object.insert(name.to_owned(), v.clone());
    }
    Ok(())
}

/// The value a filter of `eq` comparisons joined by `and` describes (`type eq "work"` is
/// `{"type": "work"}`); `None` for any other filter.
fn described_by(filter: &Filter) -> Option<Value> {
    fn collect(filter: &Filter, into: &mut Map<String, Value>) -> bool {
        match filter {
            Filter::Compare(path, CompareOp::Eq, v) if path.sub.is_none() && path.urn.is_none() => {
                into.insert(path.name.clone(), v.clone());
                true
            }
            Filter::And(a, b) => collect(a, into) && collect(b, into),
            _ => false,
        }
    }
    let mut made = Map::new();
    collect(filter, &mut made).then_some(Value::Object(made))
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ENTERPRISE, GROUP, USER};
    use super::*;
    use serde_json::json;

    const USERS: Schemas = Schemas {
        core: USER,
        extension: Some(ENTERPRISE),
    };

    fn patch(doc: Value, schemas: Schemas, ops: Value) -> Result<Value, DomainError> {
        let mut doc = doc.as_object().unwrap().clone();
        let ops = operations(&json!({"schemas": [PATCH_OP], "Operations": ops}))?;
        apply(&mut doc, schemas, &ops)?;
        Ok(Value::Object(doc))
    }

    fn scim_type_of(e: DomainError) -> String {
        match e {
            DomainError::Invalid { param, .. } => param.unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn add_remove_and_replace_with_and_without_paths() {
        let doc = json!({"userName": "b", "emails": [{"value": "b@x.org", "type": "work"}]});
        let out = patch(
            doc,
            USERS,
            json!([
                {"op": "add", "path": "emails", "value": [{"value": "b@home.org", "type": "home"}]},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@work.org"},
                {"op": "add", "path": "name.givenName", "value": "Barbara"},
                {"op": "replace", "value": {"displayName": "Babs", "nickName": "B"}},
                {"op": "remove", "path": "nickName"},
                {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Tour"},
                {"op": "remove", "path": "emails[type eq \"home\"]"},
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "userName": "b",
                "emails": [{"value": "b@work.org", "type": "work"}],
                "name": {"givenName": "Barbara"},
                "displayName": "Babs",
                ENTERPRISE.id: {"department": "Tour"},
            })
        );
    }

    #[test]
    fn entra_id_and_okta_forms_are_applied() {
        // Entra ID: "Replace", "False", paths as keys of a value object, a work email made.
        let out = patch(
            json!({"userName": "b", "active": true}),
            USERS,
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "value": {"name.familyName": "Jensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": {"value": "user-2"}}},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "b@example.com"},
            ]),
        )
        .unwrap();
        assert_eq!(out["active"], json!("False"));
        assert_eq!(out["name"], json!({"familyName": "Jensen"}));
        assert_eq!(out[ENTERPRISE.id]["manager"], json!({"value": "user-2"}));
        assert_eq!(
            out["emails"],
            json!([{"type": "work", "value": "b@example.com"}])
        );
        // Okta: active through a value object, with the resource's id beside it.
        let out = patch(
            json!({"userName": "b", "active": true}),
            USERS,
            json!([{"op": "replace", "value": {"id": "user-1", "active": false}}]),
        )
        .unwrap();
        assert_eq!(out["active"], json!(false));
    }

    #[test]
    fn group_members_are_added_and_removed_by_filter_and_by_value() {
        let groups = Schemas {
            core: GROUP,
            extension: None,
        };
        let out = patch(
            json!({"displayName": "g", "members": [{"value": "user-1"}, {"value": "user-2"}]}),
            groups,
            json!([
                {"op": "add", "path": "members", "value": [{"value": "user-3"}, {"value": "user-1"}]},
                {"op": "remove", "path": "members[value eq \"user-1\"]"},
                {"op": "remove", "path": "members", "value": [{"value": "user-2"}]},
            ]),
        )
        .unwrap();
        assert_eq!(out["members"], json!([{"value": "user-3"}]));
    }

    #[test]
    fn bad_operations_are_refused_with_their_scim_type() {
        let doc = json!({"userName": "b"});
        let cases = [
            (
                json!([{"op": "move", "path": "userName", "value": "x"}]),
                scim_type::INVALID_SYNTAX,
            ),
            (
                json!([{"op": "add", "path": "nope", "value": "x"}]),
                scim_type::INVALID_PATH,
            ),
            (
                json!([{"op": "add", "path": "name.nope", "value": "x"}]),
                scim_type::INVALID_PATH,
            ),
            (
                json!([{"op": "add", "path": "emails[type eq", "value": "x"}]),
                scim_type::INVALID_PATH,
            ),
            (
                json!([{"op": "add", "path": "emails[nope eq \"x\"]", "value": "x"}]),
                scim_type::INVALID_PATH,
            ),
            (
                json!([{"op": "add", "path": "urn:x:y:z", "value": "x"}]),
                scim_type::INVALID_PATH,
            ),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                scim_type::MUTABILITY,
            ),
            (json!([{"op": "remove"}]), scim_type::NO_TARGET),
            (
                json!([{"op": "remove", "path": "userName"}]),
                scim_type::MUTABILITY,
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq \"work\" or primary eq true].value", "value": "x"}]),
                scim_type::NO_TARGET,
            ),
            (
                json!([{"op": "add", "value": "x"}]),
                scim_type::INVALID_VALUE,
            ),
            (json!([]), scim_type::INVALID_SYNTAX),
        ];
        for (ops, expected) in cases {
            let e = patch(doc.clone(), USERS, ops.clone()).expect_err(&ops.to_string());
            assert_eq!(scim_type_of(e), expected, "{ops}");
        }
        let e = operations(&json!({"Operations": [{"op": "add", "value": {}}]})).unwrap_err();
        assert_eq!(scim_type_of(e), scim_type::INVALID_SYNTAX);
    }
}
