//! The operator API's shapes (`/_orgadmin/…`): what a test harness or an operator sends and reads
//! to manage a server's organizations. Not part of the Admin API, so these shapes are ours; they
//! reuse the Admin API's objects (user, project, admin key) and list envelope wherever one fits.
//! Bodies refuse fields they do not know, unlike the Admin API's: every field here is optional,
//! so a misspelt one would otherwise be dropped without a word.

use orgadmin_core::clock::Timestamp;
use orgadmin_core::model;
use orgadmin_core::page::Page;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::responses::{AdminKey, IdList, Project, User};

/// `organization`: one tenant of the server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Organization {
    /// Always `organization`.
    pub object: String,
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
}

impl From<&model::Organization> for Organization {
    fn from(org: &model::Organization) -> Self {
        Self {
            object: "organization".into(),
            id: org.id.to_string(),
            name: org.name.clone(),
            created_at: org.created_at,
        }
    }
}

/// `GET /_orgadmin/organizations`.
pub type OrganizationList = IdList<Organization>;

impl From<Page<model::Organization>> for OrganizationList {
    fn from(page: Page<model::Organization>) -> Self {
        IdList::new(
            page.items.iter().map(Organization::from).collect(),
            page.has_more,
            |org| &org.id,
        )
    }
}

/// `POST /_orgadmin/organizations`: every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationCreateRequest {
    /// The organization's name; `Default Organization` when omitted.
    pub name: Option<String>,
    /// The owner's email; `owner@example.com` when omitted.
    pub owner_email: Option<String>,
    /// The owner's name; `Owner` when omitted.
    pub owner_name: Option<String>,
    /// The first admin key's secret (`sk-admin-` and at least 32 letters, digits, `-` or `_`),
    /// so a test can hard-code it; a random one when omitted.
    pub admin_key: Option<String>,
}

/// What creating an organization made, the admin key with its `value` (shown only in the answer
/// to create). Reset answers the same document, the organization as it is again, without the
/// key's `value` (the caller has it; the server keeps only its hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedOrganization {
    pub organization: Organization,
    pub owner: User,
    pub default_project: Project,
    pub admin_key: AdminKey,
}
