//! The attributes a SCIM filter may name: those the store keeps in columns, so every filter is
//! one SQL statement (attribute equality on `userName`, `externalId` and `emails` served by an
//! index). A filter naming anything else is refused before the store sees it.

use serde_json::Value;

use super::filter::{AttrPath, CompareOp, Filter};
use crate::clock::parse_rfc3339;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// What a filterable attribute holds, which decides the literals it compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Compared ignoring case (`caseExact: false`).
    Text,
    /// Compared exactly (`id`, `externalId`, member IDs).
    ExactText,
    Boolean,
    /// `meta.created`, `meta.lastModified`: RFC 3339 times, stored as Unix seconds.
    Time,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Id,
    UserName,
    ExternalId,
    Email,
    DisplayName,
    NameFormatted,
    GivenName,
    FamilyName,
    Active,
    Created,
    LastModified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupField {
    Id,
    DisplayName,
    ExternalId,
    Member,
    Created,
    LastModified,
}

/// A field of a resource a filter can name.
pub trait Field: Sized + Copy {
    /// The schema whose URN may prefix the path.
    const SCHEMA: &'static str;
    /// The attribute `path` names (in the resource's own schema), if it is filterable.
    fn named(path: &AttrPath) -> Option<Self>;
    fn kind(self) -> Kind;
    /// The filterable attributes, for the refusal's message.
    const NAMES: &'static str;
}

impl Field for UserField {
    const SCHEMA: &'static str = USER_SCHEMA;
    const NAMES: &'static str = "id, userName, externalId, emails (value), displayName, name.formatted, name.givenName, name.familyName, active, meta.created, meta.lastModified";

    fn named(path: &AttrPath) -> Option<Self> {
        let is = |name, sub| path.is(name, sub);
        Some(if is("id", None) {
            UserField::Id
        } else if is("userName", None) {
            UserField::UserName
        } else if is("externalId", None) {
            UserField::ExternalId
        } else if is("emails", None) || is("emails", Some("value")) {
            UserField::Email
        } else if is("displayName", None) {
            UserField::DisplayName
        } else if is("name", Some("formatted")) {
            UserField::NameFormatted
        } else if is("name", Some("givenName")) {
            UserField::GivenName
        } else if is("name", Some("familyName")) {
            UserField::FamilyName
        } else if is("active", None) {
            UserField::Active
        } else if is("meta", Some("created")) {
            UserField::Created
        } else if is("meta", Some("lastModified")) {
            UserField::LastModified
        } else {
            return None;
        })
    }

    fn kind(self) -> Kind {
        match self {
            UserField::Id | UserField::ExternalId => Kind::ExactText,
            UserField::Active => Kind::Boolean,
            UserField::Created | UserField::LastModified => Kind::Time,
            _ => Kind::Text,
        }
    }
}

impl Field for GroupField {
    const SCHEMA: &'static str = GROUP_SCHEMA;
    const NAMES: &'static str =
        "id, displayName, externalId, members (value), meta.created, meta.lastModified";

    fn named(path: &AttrPath) -> Option<Self> {
        let is = |name, sub| path.is(name, sub);
        Some(if is("id", None) {
            GroupField::Id
        } else if is("displayName", None) {
            GroupField::DisplayName
        } else if is("externalId", None) {
            GroupField::ExternalId
        } else if is("members", None) || is("members", Some("value")) {
            GroupField::Member
        } else if is("meta", Some("created")) {
            GroupField::Created
        } else if is("meta", Some("lastModified")) {
            GroupField::LastModified
        } else {
            return None;
        })
    }

    fn kind(self) -> Kind {
        match self {
            GroupField::Id | GroupField::ExternalId | GroupField::Member => Kind::ExactText,
            GroupField::Created | GroupField::LastModified => Kind::Time,
            GroupField::DisplayName => Kind::Text,
        }
    }
}

/// A filter in the terms the store maps to SQL: every path resolved to a field, every literal
/// of the field's kind (times as Unix seconds).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldFilter<F> {
    Present(F),
    Compare(F, CompareOp, Literal),
    Not(Box<FieldFilter<F>>),
    And(Box<FieldFilter<F>>, Box<FieldFilter<F>>),
    Or(Box<FieldFilter<F>>, Box<FieldFilter<F>>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Bool(bool),
    Time(i64),
    /// `eq null` / `ne null`: absence.
    Null,
}

/// Resolve a parsed filter against `F`'s fields; the refusal is a sentence for `invalidFilter`.
pub fn resolve<F: Field>(filter: &Filter) -> Result<FieldFilter<F>, String> {
    resolve_in(filter, None)
}

fn resolve_in<F: Field>(
    filter: &Filter,
    parent: Option<&AttrPath>,
) -> Result<FieldFilter<F>, String> {
    let field = |path: &AttrPath| -> Result<F, String> {
        let path = match parent {
            // Inside `emails[…]`, `value` is `emails.value`.
            Some(parent) => {
                if path.sub.is_some() || path.urn.is_some() {
                    return Err(format!("'{parent}[{path}]' names no attribute"));
                }
                AttrPath {
                    urn: parent.urn.clone(),
                    name: parent.name.clone(),
                    sub: Some(path.name.clone()),
                }
            }
            None => path.clone(),
        };
        if let Some(urn) = &path.urn {
            if !urn.eq_ignore_ascii_case(F::SCHEMA) {
                return Err(format!(
                    "'{path}' cannot be filtered on; the attributes that can are {}",
                    F::NAMES
                ));
            }
        }
        F::named(&path).ok_or_else(|| {
            format!(
                "'{path}' cannot be filtered on; the attributes that can are {}",
                F::NAMES
            )
        })
    };
    Ok(match filter {
        Filter::Present(path) => FieldFilter::Present(field(path)?),
        Filter::Compare(path, op, value) => {
            let f = field(path)?;
            let literal =
                literal(f.kind(), *op, value).map_err(|why| format!("'{path}': {why}"))?;
            FieldFilter::Compare(f, *op, literal)
        }
        Filter::ValuePath(path, inner) => {
            if parent.is_some() {
                return Err("a value filter cannot hold another".into());
            }
            return resolve_in(inner, Some(path));
        }
        Filter::Not(inner) => FieldFilter::Not(Box::new(resolve_in(inner, parent)?)),
        Filter::And(a, b) => FieldFilter::And(
            Box::new(resolve_in(a, parent)?),
            Box::new(resolve_in(b, parent)?),
        ),
        Filter::Or(a, b) => FieldFilter::Or(
            Box::new(resolve_in(a, parent)?),
            Box::new(resolve_in(b, parent)?),
        ),
    })
}

fn literal(kind: Kind, op: CompareOp, value: &Value) -> Result<Literal, String> {
    if value.is_null() {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(Literal::Null),
            _ => Err("null compares with 'eq' and 'ne' only".into()),
        };
    }
    match kind {
        Kind::Text | Kind::ExactText => match value {
            Value::String(s) => Ok(Literal::Text(s.clone())),
            _ => Err("compares with a string".into()),
        },
        Kind::Boolean => match (value, op) {
            (Value::Bool(b), CompareOp::Eq | CompareOp::Ne) => Ok(Literal::Bool(*b)),
            _ => Err("compares with true or false, with 'eq' or 'ne'".into()),
        },
        Kind::Time => match value {
            Value::String(s) if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
                parse_rfc3339(s)
                    .map(Literal::Time)
                    .ok_or_else(|| format!("'{s}' is not an RFC 3339 time"))
            }
            _ => Err(
                "compares with an RFC 3339 time in quotes, with eq, ne, gt, ge, lt or le".into(),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Result<FieldFilter<UserField>, String> {
        resolve(&Filter::parse(text).unwrap())
    }

    #[test]
    fn filterable_attributes_resolve_to_fields_with_typed_literals() {
        assert_eq!(
            user(r#"userName eq "Bjensen""#).unwrap(),
            FieldFilter::Compare(
                UserField::UserName,
                CompareOp::Eq,
                Literal::Text("Bjensen".into())
            )
        );
        assert_eq!(
            user(r#"emails[value eq "a@b.c"]"#).unwrap(),
            FieldFilter::Compare(
                UserField::Email,
                CompareOp::Eq,
                Literal::Text("a@b.c".into())
            )
        );
        assert_eq!(
            user(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName pr"#).unwrap(),
            FieldFilter::Present(UserField::UserName)
        );
        assert_eq!(
            user(r#"meta.created ge "1970-01-01T00:01:00Z""#).unwrap(),
            FieldFilter::Compare(UserField::Created, CompareOp::Ge, Literal::Time(60))
        );
        assert!(matches!(
            user("active eq false").unwrap(),
            FieldFilter::Compare(UserField::Active, _, Literal::Bool(false))
        ));
    }

    #[test]
    fn other_attributes_and_mistyped_literals_are_refused() {
        for bad in [
            r#"title eq "x""#,
            r#"emails[type eq "work"]"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#,
            r#"userName eq true"#,
            r#"active eq "yes""#,
            "active gt 1",
            r#"meta.created gt "yesterday""#,
        ] {
            assert!(user(bad).is_err(), "{bad}");
        }
        let group: Result<FieldFilter<GroupField>, String> =
            resolve(&Filter::parse(r#"members[value eq "user-1"]"#).unwrap());
        assert!(group.is_ok());
    }
}
