//! The SCIM schemas orgadmin serves (RFC 7643 §4, §7, §8.7), written once as data: `/Schemas`
//! is generated from them, and the documents a client sends, and PATCH paths, are checked
//! against them. Only what is stored and given back is listed: a provider (or `scim2-tester`)
//! that writes every attribute it sees here reads each back as written.

use serde_json::{json, Value};

pub use orgadmin_core::scim::fields::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// Most resources one list answer holds (`count` is capped to it, as RFC 7644 §3.4.2.4
/// allows; ServiceProviderConfig's `filter.maxResults`).
pub const MAX_RESULTS: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    Complex,
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
}

/// One attribute of a schema.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub unique: bool,
    pub canonical: &'static [&'static str],
    pub references: &'static [&'static str],
    pub subs: &'static [Attr],
    pub description: &'static str,
}

impl Attr {
    const fn new(name: &'static str, ty: Type, description: &'static str) -> Self {
        Attr {
            name,
            ty,
            multi: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            unique: false,
            canonical: &[],
            references: &[],
            subs: &[],
            description,
        }
    }
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, Type::String, description)
    }
    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, Type::Boolean, description)
    }
    const fn complex(name: &'static str, subs: &'static [Attr], description: &'static str) -> Self {
        let mut a = Self::new(name, Type::Complex, description);
        a.subs = subs;
        a
    }
    const fn reference(
        name: &'static str,
        references: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        let mut a = Self::new(name, Type::Reference, description);
        a.references = references;
        a.case_exact = true;
        a
    }
    const fn multi(mut self) -> Self {
        self.multi = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    const fn immutable(mut self) -> Self {
        self.mutability = Mutability::Immutable;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical = values;
        self
    }

    /// The sub-attribute named `name`, ignoring case.
    pub fn sub(&self, name: &str) -> Option<&'static Attr> {
        self.subs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn to_json(self) -> Value {
        let ty = match self.ty {
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::Complex => "complex",
            Type::Reference => "reference",
        };
        let mutability = match self.mutability {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
        };
        let mut attr = json!({
            "name": self.name,
            "type": ty,
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": mutability,
            "returned": "default",
            "uniqueness": if self.unique { "server" } else { "none" },
        });
        if !self.canonical.is_empty() {
            attr["canonicalValues"] = json!(self.canonical);
        }
        if !self.references.is_empty() {
            attr["referenceTypes"] = json!(self.references);
        }
        if !self.subs.is_empty() {
            attr["subAttributes"] = self.subs.iter().map(|a| a.to_json()).collect();
        }
        attr
    }
}

/// A schema: its URN, name and attributes.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attrs: &'static [Attr],
}

impl Schema {
    /// The attribute named `name`, ignoring case.
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn to_json(self, base: &str) -> Value {
        json!({
            "schemas": [SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attrs.iter().map(|a| a.to_json()).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base}/Schemas/{}", self.id),
            },
        })
    }
}

const NAME_SUBS: &[Attr] = &[
    Attr::string("formatted", "The full name; the member's name."),
    Attr::string("familyName", "The family name."),
    Attr::string("givenName", "The given name."),
    Attr::string("middleName", "The middle name."),
    Attr::string("honorificPrefix", "The honorific prefix."),
    Attr::string("honorificSuffix", "The honorific suffix."),
];

const EMAIL_SUBS: &[Attr] = &[
    Attr::string(
        "value",
        "An email address; the primary (or the first work) one is the member's email.",
    )
    .required(),
    Attr::string("display", "A human-readable name of the address."),
    Attr::string("type", "The kind of address.").canonical(&["work", "home", "other"]),
    Attr::boolean("primary", "Whether this is the primary address."),
];

const ROLE_SUBS: &[Attr] = &[
    Attr::string("value", "The member's base role in the organization.")
        .canonical(&["owner", "reader"]),
    Attr::string("display", "A human-readable name of the role."),
    Attr::string("type", "The kind of role."),
    Attr::boolean("primary", "Whether this is the primary role."),
];

pub const USER_ATTRS: &[Attr] = &[
    Attr::string(
        "userName",
        "Unique identifier for the user, as the identity provider knows them; their email when no email is given.",
    )
    .required()
    .unique(),
    Attr::complex("name", NAME_SUBS, "The user's name."),
    Attr::string("displayName", "The name shown for the user."),
    Attr::string("nickName", "A casual name of the user."),
    Attr::string("title", "The user's title."),
    Attr::string("userType", "The relationship between the organization and the user."),
    Attr::string("preferredLanguage", "The user's preferred language."),
    Attr::string("locale", "The user's locale."),
    Attr::string("timezone", "The user's time zone."),
    // Required because a person is always either a member or not; a POST without it means
    // `true`, and a PUT without it leaves it as it is.
    Attr::boolean(
        "active",
        "Membership: false removes the member from the organization, true adds them back.",
    )
    .required(),
    Attr::complex("emails", EMAIL_SUBS, "Email addresses of the user.")
        .multi()
        .required(),
    Attr::complex(
        "roles",
        ROLE_SUBS,
        "The base role in the organization: owner or reader.",
    )
    .multi(),
];

const MANAGER_SUBS: &[Attr] = &[
    Attr::string("value", "The id of the user's manager."),
    Attr::reference("$ref", &["User"], "The URI of the manager's resource."),
];

pub const ENTERPRISE_ATTRS: &[Attr] = &[
    Attr::string("employeeNumber", "The employee number."),
    Attr::string("costCenter", "The cost center."),
    Attr::string("organization", "The organization."),
    Attr::string("division", "The division."),
    Attr::string("department", "The department."),
    Attr::complex("manager", MANAGER_SUBS, "The user's manager."),
];

const MEMBER_SUBS: &[Attr] = &[
    Attr::string("value", "The id of a member of the organization.")
        .exact()
        .immutable(),
    Attr::reference("$ref", &["User"], "The URI of the member's resource.").immutable(),
    Attr::string("type", "The kind of member: User (groups do not nest).")
        .canonical(&["User"])
        .immutable(),
];

pub const GROUP_ATTRS: &[Attr] = &[
    Attr::string(
        "displayName",
        "The group's name, unique in the organization.",
    )
    .required()
    .unique(),
    Attr::complex("members", MEMBER_SUBS, "The group's members.").multi(),
];

pub const USER: Schema = Schema {
    id: USER_SCHEMA,
    name: "User",
    description: "A member of the organization.",
    attrs: USER_ATTRS,
};

pub const ENTERPRISE: Schema = Schema {
    id: ENTERPRISE_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise attributes of a user, stored as given.",
    attrs: ENTERPRISE_ATTRS,
};

pub const GROUP: Schema = Schema {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "A group of the organization's members.",
    attrs: GROUP_ATTRS,
};

/// The attribute common to every resource that a client writes (RFC 7643 §3.1).
pub const EXTERNAL_ID: Attr = Attr::string(
    "externalId",
    "The identifier the provisioning client gives the resource.",
)
.exact();

pub fn schemas(base: &str) -> Vec<Value> {
    [USER, ENTERPRISE, GROUP]
        .iter()
        .map(|s| s.to_json(base))
        .collect()
}

/// `/Schemas/{id}`, ignoring case.
pub fn schema_by_id(id: &str) -> Option<Schema> {
    [USER, ENTERPRISE, GROUP]
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(id))
}

pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "The organization's members.",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{ "schema": ENTERPRISE_SCHEMA, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
        }),
        json!({
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "The organization's groups.",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
        }),
    ]
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://github.com/orgadmin/orgadmin#provisioning-with-scim",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Admin API key",
            "description": "An admin API key (sk-admin-…) whose owner may write users (and groups, for /Groups), sent as a bearer token.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_attribute_is_described_with_the_rfc_characteristics() {
        for schema in schemas("http://h/scim/v2") {
            for attr in schema["attributes"].as_array().unwrap() {
                for key in [
                    "name",
                    "type",
                    "multiValued",
                    "required",
                    "caseExact",
                    "mutability",
                    "returned",
                    "uniqueness",
                ] {
                    assert!(attr.get(key).is_some(), "{key} of {attr}");
                }
            }
        }
        assert!(schema_by_id("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER").is_some());
        assert_eq!(USER.attr("USERNAME").unwrap().name, "userName");
    }
}
