//! Fixtures: an organization described as a document (YAML or JSON), for tests that want to
//! start from a known state with IDs and secrets they can hard-code. `docs/fixtures.md` is the
//! format's reference, with an example that uses every field.
//!
//! A [`Fixture`] is what the document says. [`Fixture::compile`] checks it against the rules of
//! the Admin API (valid and unique emails, IDs of the right kind, roles of the right scope,
//! permissions from the catalogue, members before memberships, chosen secrets of the right shape)
//! and answers either a [`Seed`], every object with its ID and every reference resolved, or the
//! list of every problem found, each with its place in the document. The store writes a seed in
//! the transaction that creates the organization, after what creation itself makes (the owner,
//! the default project and the first admin key), and keeps it, so that a reset writes it again.
//!
//! What only the database can tell (a person's user ID in the server's other organizations, a
//! secret another organization's key already has) the store checks before writing, and reports
//! in the same form ([`FixtureProblem`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::error::DomainError;
use crate::id::{AdminKeyId, GroupId, InviteId, ProjectId, RoleId, ServiceAccountId, UserId};
use crate::model::KeyLifetime;
use crate::permission::PermissionSet;
use crate::role::{
    check_permissions_fit, OrgBaseRole, PredefinedRole, ProjectBaseRole, ResourceType, RoleName,
};
use crate::secret::{
    self, is_acceptable_supplied, ADMIN_KEY_PREFIX, MIN_SUPPLIED_LEN, PROJECT_KEY_PREFIX,
    SERVICE_ACCOUNT_KEY_PREFIX,
};
use crate::text;

/// The organization's name when neither the fixture nor the request names one.
pub const DEFAULT_ORGANIZATION_NAME: &str = "Default Organization";
/// The first owner when neither the fixture nor the request names one.
pub const DEFAULT_OWNER_EMAIL: &str = "owner@example.com";
/// The first owner's name when neither the fixture nor the request names one.
pub const DEFAULT_OWNER_NAME: &str = "Owner";
/// The default project's name when the fixture does not describe it.
pub const DEFAULT_PROJECT_NAME: &str = "Default Project";
/// The longest fixed ID a fixture may give (after its prefix).
const MAX_FIXED_ID_BODY: usize = 64;

// ---------------------------------------------------------------------------------------------
// The document

/// A fixture document, as written. Every list may be omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<FixtureOrganization>,
    /// The first owner, who holds the first admin key and owns the default project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<FixtureOwner>,
    /// The first admin key's secret (`sk-admin-…`); a random one when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_key: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<FixtureUser>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<FixtureRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<FixtureGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<FixtureProject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invites: Vec<FixtureInvite>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_keys: Vec<FixtureAdminKey>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureOrganization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureOwner {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureUser {
    /// A fixed user ID (`user-alice`); the person's ID elsewhere on the server, or a new one,
    /// when omitted.
    #[serde(default)]
    pub id: Option<String>,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `owner` or `reader` (the default).
    #[serde(default)]
    pub role: Option<String>,
    /// Custom organization roles, by ID or name.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureRole {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub permissions: Vec<String>,
    /// The project a project role belongs to (ID or name); an organization role when omitted.
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureGroup {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// Members, by user ID or email.
    #[serde(default)]
    pub members: Vec<String>,
    /// Organization roles: predefined role IDs or custom roles by ID or name.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProject {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// This entry describes the organization's default project (at most one may).
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub members: Vec<FixtureProjectMember>,
    #[serde(default)]
    pub groups: Vec<FixtureProjectGroup>,
    #[serde(default)]
    pub service_accounts: Vec<FixtureServiceAccount>,
    #[serde(default)]
    pub api_keys: Vec<FixtureProjectKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProjectMember {
    /// The member, by user ID or email.
    pub user: String,
    /// `owner`, `member` (the default) or `viewer`.
    #[serde(default)]
    pub role: Option<String>,
    /// Custom roles of this project, by ID or name.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProjectGroup {
    /// The group, by ID or name.
    pub group: String,
    /// Its roles in the project (at least one): `owner`, `member`, `viewer`, a predefined role
    /// ID, or a custom role of this project by ID or name.
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureServiceAccount {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// `owner` or `member` (the default).
    #[serde(default)]
    pub role: Option<String>,
    /// Its key's ID (`key_…`); a new one when omitted.
    #[serde(default)]
    pub key_id: Option<String>,
    /// Its key's secret (`sk-svcacct-…`); a random one when omitted.
    #[serde(default)]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProjectKey {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// Its owner, a member of the project, by user ID or email.
    pub user: String,
    /// `sk-proj-…`; a random one when omitted.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureInvite {
    #[serde(default)]
    pub id: Option<String>,
    pub email: String,
    /// `owner` or `reader` (the default).
    #[serde(default)]
    pub role: Option<String>,
    /// The projects the invitee joins on accepting; the default project as `member` when
    /// omitted, none for `[]`.
    #[serde(default)]
    pub projects: Option<Vec<FixtureInviteProject>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureInviteProject {
    /// By ID or name.
    pub project: String,
    /// `owner`, `member` (the default) or `viewer`.
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureAdminKey {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// The member the key acts for, by user ID or email.
    pub owner: String,
    /// `sk-admin-…`; a random one when omitted.
    #[serde(default)]
    pub secret: Option<String>,
    /// Permissions the key is limited to; every permission of its owner when omitted.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Problems

/// One rule a fixture breaks: where in the document (`users[1].email`), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureProblem {
    pub path: String,
    pub message: String,
}

impl FixtureProblem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The refusal of a fixture: 400, `param` the first problem's place, and a message listing
    /// every problem with its place in the document. Where the document sits in a request
    /// (`fixture.`) is the caller's to prefix to `param`.
    pub fn refusal(problems: &[FixtureProblem]) -> DomainError {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message.trim_end_matches('.')))
            .collect();
        let count = match problems.len() {
            1 => "a rule".to_owned(),
            n => format!("{n} rules"),
        };
        DomainError::invalid(
            problems.first().map(|p| p.path.as_str()).unwrap_or(""),
            format!(
                "The fixture breaks {count}, so nothing was created: {}.",
                lines.join("; ")
            ),
        )
    }
}

/// A problem's message from a validation error of this crate (its wording without the field
/// name, which the path replaces).
fn message_of(e: DomainError) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------------------------
// Reading a document

impl Fixture {
    /// A document as text: YAML, or JSON (which YAML reads too). A document that is not one
    /// answers its place and the parser's reason.
    pub fn from_text(text: &str) -> Result<Self, FixtureProblem> {
        let deserializer = serde_norway::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            // The parser's message names the place as it saw it (`users[0]: …`) and ends with
            // the line and column; the place is the path's to give.
            let message = e.into_inner().to_string();
            let message = match message.split_once(": ") {
                Some((place, rest)) if !place.contains(' ') => rest.to_owned(),
                _ => message,
            };
            FixtureProblem::new(if path == "." { String::new() } else { path }, message)
        })
    }

    /// A document already parsed as JSON (the operator API's `fixture` object).
    pub fn from_json(value: serde_json::Value) -> Result<Self, FixtureProblem> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            FixtureProblem::new(
                if path == "." { String::new() } else { path },
                e.into_inner().to_string(),
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// What a fixture compiles to

/// A fixture checked and resolved: what creation makes from it, and the [`Seed`] written after.
#[derive(Debug, Clone)]
pub struct CompiledFixture {
    pub organization_name: String,
    /// The owner's fixed ID, if the fixture gives one.
    pub owner_id: Option<UserId>,
    pub owner_email: Email,
    pub owner_name: Option<String>,
    /// The first admin key's chosen secret, if the fixture gives one.
    pub admin_key: Option<String>,
    pub seed: Seed,
}

impl CompiledFixture {
    /// What creation is asked to make: the organization, its owner and first key (a random
    /// secret when none was chosen), and, when `seeded` (the caller was given a fixture rather
    /// than only the defaults), the seed written after them.
    pub fn into_request(self, seeded: bool) -> crate::store::BootstrapRequest {
        crate::store::BootstrapRequest {
            organization_name: self.organization_name,
            owner_email: self.owner_email,
            owner_name: self.owner_name,
            admin_key_secret: self.admin_key.unwrap_or_else(secret::generate_admin_key),
            fixture: seeded.then_some(crate::store::SeededFixture {
                owner_id: self.owner_id,
                seed: self.seed,
            }),
        }
    }
}

/// Everything a fixture holds beyond what creation makes, each object with its ID, each
/// reference resolved: users by normalized email (their IDs are the store's to settle, as a
/// person keeps one ID across organizations), everything else by ID. Kept with the organization
/// (as JSON) so that a reset writes it again, and holds secrets only as their hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    /// The default project: its ID and name (creation writes it, with the owner as its owner)
    /// and what the fixture puts in it. Never archived.
    pub default_project: SeedProject,
    pub users: Vec<SeedUser>,
    pub roles: Vec<SeedRole>,
    pub groups: Vec<SeedGroup>,
    pub projects: Vec<SeedProject>,
    pub invites: Vec<SeedInvite>,
    pub admin_keys: Vec<SeedAdminKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedUser {
    /// Where the user is in the document (`users[2]`), for the store's own refusals.
    pub path: String,
    /// Fixed by the fixture, or settled by the store (and then kept for reset).
    pub id: Option<UserId>,
    pub email: String,
    pub name: Option<String>,
    /// `owner` or `reader`.
    pub role: String,
    /// Custom organization roles (IDs).
    pub roles: Vec<RoleId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRole {
    pub id: RoleId,
    pub project: Option<ProjectId>,
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedGroup {
    pub id: GroupId,
    pub name: String,
    /// Normalized emails.
    pub members: Vec<String>,
    /// Organization roles: stored role IDs (predefined or custom).
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedProject {
    pub id: ProjectId,
    pub name: String,
    pub archived: bool,
    pub members: Vec<SeedProjectMember>,
    pub groups: Vec<SeedProjectGroup>,
    pub service_accounts: Vec<SeedServiceAccount>,
    pub api_keys: Vec<SeedProjectKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedProjectMember {
    /// Normalized email.
    pub user: String,
    /// `owner`, `member` or `viewer`.
    pub role: String,
    /// Custom roles of the project (IDs).
    pub roles: Vec<RoleId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedProjectGroup {
    pub group: GroupId,
    /// Stored role IDs (predefined or custom) in the project.
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedServiceAccount {
    pub id: ServiceAccountId,
    pub name: String,
    /// `owner` or `member`.
    pub role: String,
    pub key: SeedKey,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedProjectKey {
    /// The owner's normalized email.
    pub user: String,
    pub key: SeedKey,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedAdminKey {
    /// The owner's normalized email.
    pub owner: String,
    pub scopes: Option<Vec<String>>,
    pub key: SeedKey,
}

/// A key of the fixture: its ID, name and secret's stored forms, and the secret itself only
/// while the creation that made it up is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedKey {
    /// Where the key is in the document, for the store's own refusals.
    pub path: String,
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub redacted_value: String,
    pub expires_in_seconds: Option<i64>,
    /// The secret, present only when the server chose it (the fixture gave none), for the
    /// answer to create; never stored.
    #[serde(skip)]
    pub generated_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedInvite {
    pub id: InviteId,
    pub email: String,
    /// `owner` or `reader`.
    pub role: String,
    /// Project ID and role (`owner`, `member` or `viewer`).
    pub projects: Vec<(ProjectId, String)>,
}

impl Seed {
    /// Every key of the seed, in document order of kinds: admin keys, then each project's
    /// service account keys and member keys.
    pub fn keys(&self) -> impl Iterator<Item = &SeedKey> {
        let projects = std::iter::once(&self.default_project)
            .chain(&self.projects)
            .map(|p| (&p.service_accounts, &p.api_keys));
        self.admin_keys
            .iter()
            .map(|k| &k.key)
            .chain(projects.flat_map(|(accounts, keys)| {
                accounts
                    .iter()
                    .map(|a| &a.key)
                    .chain(keys.iter().map(|k| &k.key))
            }))
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling

impl Fixture {
    /// Check the whole document and resolve it, generating every ID it leaves open at `millis`.
    /// Either every rule holds, or every problem is answered.
    pub fn compile(&self, millis: u64) -> Result<CompiledFixture, Vec<FixtureProblem>> {
        Compiler::new(millis).compile(self)
    }
}

/// The state of one compilation: the problems found so far, and what references resolve to.
struct Compiler {
    millis: u64,
    problems: Vec<FixtureProblem>,
    /// Normalized email → the member's path, for the owner and every user.
    members: BTreeMap<String, String>,
    /// Fixed user ID → normalized email.
    user_ids: BTreeMap<String, String>,
    /// Every ID given so far, by kind prefix, for uniqueness.
    ids: BTreeSet<String>,
    /// Every chosen secret's hash, for uniqueness.
    secrets: BTreeSet<String>,
    /// Projects: (ID, name, is default).
    projects: Vec<(ProjectId, String)>,
    /// Custom roles: (ID, project index or None, lower-case name).
    roles: Vec<(RoleId, Option<ProjectId>, String)>,
    /// Groups: (ID, lower-case name).
    groups: Vec<(GroupId, String)>,
}

impl Compiler {
    fn new(millis: u64) -> Self {
        Self {
            millis,
            problems: Vec::new(),
            members: BTreeMap::new(),
            user_ids: BTreeMap::new(),
            ids: BTreeSet::new(),
            secrets: BTreeSet::new(),
            projects: Vec::new(),
            roles: Vec::new(),
            groups: Vec::new(),
        }
    }

    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(FixtureProblem::new(path, message));
    }

    /// A check of this crate at `path`; `None` (and the problem recorded) when it refuses.
    fn checked<T>(&mut self, path: &str, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.problem(path, message_of(e));
                None
            }
        }
    }

    fn compile(mut self, fixture: &Fixture) -> Result<CompiledFixture, Vec<FixtureProblem>> {
        let organization_name = match fixture.organization.as_ref().and_then(|o| o.name.as_ref()) {
            Some(name) => self
                .checked("organization.name", text::name(name, "organization.name"))
                .unwrap_or_default(),
            None => DEFAULT_ORGANIZATION_NAME.to_owned(),
        };
        let admin_key = fixture.admin_key.clone();
        if let Some(key) = &admin_key {
            self.secret("admin_key", key, ADMIN_KEY_PREFIX);
        }
        let owner = fixture.owner.clone().unwrap_or_default();
        let owner_email = self.checked(
            "owner.email",
            Email::parse(
                owner.email.as_deref().unwrap_or(DEFAULT_OWNER_EMAIL),
                "owner.email",
            ),
        );
        let owner_name = match &owner.name {
            Some(name) => self.checked("owner.name", text::name(name, "owner.name")),
            None => Some(DEFAULT_OWNER_NAME.to_owned()),
        };
        let owner_id = owner
            .id
            .as_deref()
            .and_then(|id| self.fixed_id("owner.id", id, UserId::PREFIX))
            .map(UserId::from_raw);
        if let Some(email) = &owner_email {
            self.members
                .insert(email.normalized().to_owned(), "owner".to_owned());
            if let Some(id) = &owner_id {
                self.user_ids
                    .insert(id.to_string(), email.normalized().to_owned());
            }
        }

        // Names that other entries refer to come first: users, projects, roles, groups.
        let mut users = self.users(&fixture.users);
        self.project_names(&fixture.projects);
        let roles = self.roles(&fixture.roles);
        let groups = self.groups(&fixture.groups);
        for (i, user) in fixture.users.iter().enumerate() {
            let path = format!("users[{i}]");
            let resolved: Vec<RoleId> = user
                .roles
                .iter()
                .enumerate()
                .filter_map(|(j, r)| self.custom_role(&format!("{path}.roles[{j}]"), r, None))
                .collect();
            if let Some(seed) = users.iter_mut().find(|u| u.path == path) {
                seed.roles = resolved;
            }
        }
        let mut default_project = None;
        let mut projects = Vec::new();
        for (i, project) in fixture.projects.iter().enumerate() {
            let contents = self.project_contents(i, project);
            if project.default && default_project.is_none() {
                default_project = Some(contents);
            } else {
                projects.push(contents);
            }
        }
        let default_project = default_project.unwrap_or_else(|| SeedProject {
            id: ProjectId::generate(self.millis),
            name: DEFAULT_PROJECT_NAME.to_owned(),
            archived: false,
            members: Vec::new(),
            groups: Vec::new(),
            service_accounts: Vec::new(),
            api_keys: Vec::new(),
        });
        let invites = self.invites(&fixture.invites, &default_project.id);
        let admin_keys = self.admin_keys(&fixture.admin_keys);
        let seed = Seed {
            default_project,
            users,
            roles,
            groups,
            projects,
            invites,
            admin_keys,
        };

        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        Ok(CompiledFixture {
            organization_name,
            owner_id,
            owner_email: owner_email.expect("checked above"),
            owner_name,
            admin_key,
            seed,
        })
    }

    /// A fixed ID at `path`: `prefix`, then 1 to 64 letters, digits, `-` or `_`, unique in the
    /// document. `None` when it is not one.
    fn fixed_id(&mut self, path: &str, raw: &str, prefix: &str) -> Option<String> {
        let body = raw.strip_prefix(prefix);
        let well_formed = body.is_some_and(|b| {
            !b.is_empty()
                && b.len() <= MAX_FIXED_ID_BODY
                && b.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        });
        if !well_formed {
            self.problem(
                path,
                format!(
                    "'{}' is not an ID of this kind: it is '{prefix}' followed by 1 to {MAX_FIXED_ID_BODY} letters, digits, '-' or '_' ('{prefix}example'); omit it for a new one",
                    text::clip(raw)
                ),
            );
            return None;
        }
        if !self.ids.insert(raw.to_owned()) {
            self.problem(
                path,
                format!("'{raw}' is the ID of another entry of the fixture; IDs are unique"),
            );
            return None;
        }
        Some(raw.to_owned())
    }

    /// The fixed ID at `path` if given, else a new one made by `generate`.
    fn id_or_new(
        &mut self,
        path: &str,
        given: Option<&str>,
        prefix: &str,
        generate: impl FnOnce(u64) -> String,
    ) -> String {
        match given {
            Some(raw) => self
                .fixed_id(path, raw, prefix)
                .unwrap_or_else(|| raw.to_owned()),
            None => generate(self.millis),
        }
    }

    /// A chosen secret at `path`: `prefix` and at least 32 safe characters, unique in the
    /// document. Returns its hash.
    fn secret(&mut self, path: &str, secret: &str, prefix: &str) -> Option<String> {
        if !is_acceptable_supplied(prefix, secret) {
            self.problem(
                path,
                format!("A secret here is '{prefix}' followed by at least {MIN_SUPPLIED_LEN} letters, digits, '-' or '_'; omit it for a random one"),
            );
            return None;
        }
        let hash = secret::hash_secret(secret);
        if !self.secrets.insert(hash.clone()) {
            self.problem(
                path,
                "Another key of the fixture has this secret; secrets are unique",
            );
            return None;
        }
        Some(hash)
    }

    /// A key of the document, with its chosen or a random secret.
    fn key(&mut self, entry: KeyEntry<'_>) -> SeedKey {
        let KeyEntry {
            path,
            id_field,
            id,
            name,
            secret,
            prefix,
            expires_in_seconds,
        } = entry;
        // Admin keys and project keys have IDs of one form (`key_…`).
        let id = self.id_or_new(&format!("{path}.{id_field}"), id, AdminKeyId::PREFIX, |m| {
            AdminKeyId::generate(m).into_string()
        });
        let name = self
            .checked(&format!("{path}.name"), text::name(name, "name"))
            .unwrap_or_default();
        if let Err(e) = KeyLifetime::check(expires_in_seconds) {
            self.problem(format!("{path}.expires_in_seconds"), message_of(e));
        }
        let (secret_hash, generated_secret, shown) = match secret {
            Some(chosen) => {
                let hash = self
                    .secret(&format!("{path}.secret"), chosen, prefix)
                    .unwrap_or_default();
                (hash, None, chosen.to_owned())
            }
            None => {
                let made = match prefix {
                    ADMIN_KEY_PREFIX => secret::generate_admin_key(),
                    SERVICE_ACCOUNT_KEY_PREFIX => secret::generate_service_account_key(),
                    _ => secret::generate_project_key(),
                };
                (secret::hash_secret(&made), Some(made.clone()), made)
            }
        };
        let redacted_value = match prefix {
            ADMIN_KEY_PREFIX => secret::redact(&shown),
            SERVICE_ACCOUNT_KEY_PREFIX => secret::redact_service_account_key(&shown),
            _ => secret::redact_project_key(&shown),
        };
        SeedKey {
            path: path.to_owned(),
            id,
            name,
            secret_hash,
            redacted_value,
            expires_in_seconds,
            generated_secret,
        }
    }

    fn users(&mut self, users: &[FixtureUser]) -> Vec<SeedUser> {
        let mut out = Vec::with_capacity(users.len());
        for (i, user) in users.iter().enumerate() {
            let path = format!("users[{i}]");
            let email = self.checked(&format!("{path}.email"), Email::parse(&user.email, "email"));
            let name = user
                .name
                .as_deref()
                .and_then(|n| self.checked(&format!("{path}.name"), text::name(n, "name")));
            let role = match user.role.as_deref() {
                Some(raw) => self
                    .checked(&format!("{path}.role"), OrgBaseRole::parse(raw, "role"))
                    .unwrap_or(OrgBaseRole::Reader),
                None => OrgBaseRole::Reader,
            };
            let id = user
                .id
                .as_deref()
                .and_then(|id| self.fixed_id(&format!("{path}.id"), id, UserId::PREFIX))
                .map(UserId::from_raw);
            let Some(email) = email else { continue };
            let norm = email.normalized().to_owned();
            if let Some(other) = self.members.get(&norm) {
                let other = other.clone();
                self.problem(
                    format!("{path}.email"),
                    format!(
                        "{} is already {}; a person is a member once",
                        email.as_str(),
                        member_words(&other)
                    ),
                );
                continue;
            }
            self.members.insert(norm.clone(), path.clone());
            if let Some(id) = &id {
                self.user_ids.insert(id.to_string(), norm.clone());
            }
            out.push(SeedUser {
                path,
                id,
                email: email.as_str().to_owned(),
                name,
                role: role.as_str().to_owned(),
                roles: Vec::new(),
            });
        }
        out
    }

    /// A member by user ID or email, as its normalized email.
    fn member(&mut self, path: &str, raw: &str) -> Option<String> {
        if let Some(norm) = self.user_ids.get(raw) {
            return Some(norm.clone());
        }
        if let Some(norm) = Email::filter_key(raw).filter(|n| self.members.contains_key(n)) {
            return Some(norm);
        }
        self.problem(
            path,
            format!(
                "'{}' is neither the ID nor the email of the owner or of an entry of users",
                text::clip(raw)
            ),
        );
        None
    }

    /// Every project's ID and name, before anything refers to them.
    fn project_names(&mut self, projects: &[FixtureProject]) {
        let mut default: Option<ProjectId> = None;
        for (i, project) in projects.iter().enumerate() {
            let path = format!("projects[{i}]");
            let id = ProjectId::from_raw(self.id_or_new(
                &format!("{path}.id"),
                project.id.as_deref(),
                ProjectId::PREFIX,
                |m| ProjectId::generate(m).into_string(),
            ));
            let name = self
                .checked(&format!("{path}.name"), text::name(&project.name, "name"))
                .unwrap_or_default();
            if project.default {
                if default.is_some() {
                    self.problem(
                        format!("{path}.default"),
                        "Another entry of projects is already the default project; an organization has one",
                    );
                } else if project.archived {
                    self.problem(
                        format!("{path}.archived"),
                        "The default project cannot be archived",
                    );
                }
                default.get_or_insert(id.clone());
            }
            self.projects.push((id, name));
        }
    }

    /// A project by ID or name.
    fn project(&mut self, path: &str, raw: &str) -> Option<ProjectId> {
        if let Some((id, _)) = self.projects.iter().find(|(id, _)| id.as_str() == raw) {
            return Some(id.clone());
        }
        let named: Vec<&ProjectId> = self
            .projects
            .iter()
            .filter(|(_, name)| name == raw)
            .map(|(id, _)| id)
            .collect();
        match named.as_slice() {
            [one] => Some((*one).clone()),
            [] => {
                self.problem(
                    path,
                    format!(
                        "'{}' is neither the ID nor the name of an entry of projects",
                        text::clip(raw)
                    ),
                );
                None
            }
            _ => {
                self.problem(
                    path,
                    format!(
                        "More than one entry of projects is named '{}'; refer to it by its id",
                        text::clip(raw)
                    ),
                );
                None
            }
        }
    }

    fn roles(&mut self, roles: &[FixtureRole]) -> Vec<SeedRole> {
        let mut out = Vec::with_capacity(roles.len());
        for (i, role) in roles.iter().enumerate() {
            let path = format!("roles[{i}]");
            let project = role
                .project
                .as_deref()
                .map(|p| self.project(&format!("{path}.project"), p));
            if matches!(project, Some(None)) {
                continue;
            }
            let project = project.flatten();
            let resource_type = if project.is_some() {
                ResourceType::Project
            } else {
                ResourceType::Organization
            };
            let name = self.checked(
                &format!("{path}.name"),
                RoleName::parse(&role.name, resource_type),
            );
            let permissions = self
                .checked(
                    &format!("{path}.permissions"),
                    PermissionSet::parse_names(&role.permissions, "permissions"),
                )
                .and_then(|set| {
                    self.checked(
                        &format!("{path}.permissions"),
                        check_permissions_fit(set, resource_type),
                    )
                    .map(|()| set)
                });
            let description = role.description.as_deref().and_then(|d| {
                self.checked(
                    &format!("{path}.description"),
                    text::check(d, "description", 1000),
                )
                .map(|()| d.to_owned())
            });
            let id = RoleId::from_raw(self.id_or_new(
                &format!("{path}.id"),
                role.id.as_deref(),
                RoleId::PREFIX,
                |m| RoleId::generate(m).into_string(),
            ));
            let (Some(name), Some(permissions)) = (name, permissions) else {
                continue;
            };
            let lower = name.as_str().to_lowercase();
            if self
                .roles
                .iter()
                .any(|(_, p, n)| *p == project && *n == lower)
            {
                self.problem(
                    format!("{path}.name"),
                    format!("Another role of the same {} is named '{}'; names are unique in their scope", if project.is_some() { "project" } else { "organization" }, name.as_str()),
                );
                continue;
            }
            self.roles.push((id.clone(), project.clone(), lower));
            out.push(SeedRole {
                id,
                project,
                name: name.as_str().to_owned(),
                description,
                permissions: permissions.names(),
            });
        }
        out
    }

    /// A custom role of `project` (or of the organization) by ID or name.
    fn custom_role(
        &mut self,
        path: &str,
        raw: &str,
        project: Option<&ProjectId>,
    ) -> Option<RoleId> {
        let lower = raw.to_lowercase();
        let found = self
            .roles
            .iter()
            .find(|(id, _, name)| id.as_str() == raw || *name == lower)
            .cloned();
        match found {
            Some((id, scope, _)) if scope.as_ref() == project => Some(id),
            Some((_, Some(other), _)) => {
                self.problem(
                    path,
                    format!(
                        "Role '{}' belongs to project {other}; only roles of {} go here",
                        text::clip(raw),
                        scope_words(project)
                    ),
                );
                None
            }
            Some((_, None, _)) => {
                self.problem(
                    path,
                    format!(
                        "Role '{}' is an organization role; only roles of {} go here",
                        text::clip(raw),
                        scope_words(project)
                    ),
                );
                None
            }
            None => {
                self.problem(
                    path,
                    format!(
                        "'{}' is neither the ID nor the name of an entry of roles",
                        text::clip(raw)
                    ),
                );
                None
            }
        }
    }

    /// A role given to a group in `project` (or in the organization): a predefined role by ID
    /// (or, in a project, `owner`, `member` or `viewer`), or a custom role of that scope. Its
    /// stored ID.
    fn any_role(&mut self, path: &str, raw: &str, project: Option<&ProjectId>) -> Option<String> {
        let wanted = if project.is_some() {
            ResourceType::Project
        } else {
            ResourceType::Organization
        };
        let predefined = PredefinedRole::from_id(raw).or_else(|| {
            project.and(
                ProjectBaseRole::parse(raw, "role")
                    .ok()
                    .map(|r| r.predefined()),
            )
        });
        match predefined {
            Some(role) if role.resource_type() == wanted => Some(role.id().to_owned()),
            Some(role) => {
                self.problem(
                    path,
                    format!("{} is not a role of {}", role.id(), scope_words(project)),
                );
                None
            }
            None => self
                .custom_role(path, raw, project)
                .map(RoleId::into_string),
        }
    }

    fn groups(&mut self, groups: &[FixtureGroup]) -> Vec<SeedGroup> {
        let mut out = Vec::with_capacity(groups.len());
        // The entry of `out` each group of the document became, if it did.
        let mut made: Vec<Option<usize>> = Vec::with_capacity(groups.len());
        for (i, group) in groups.iter().enumerate() {
            made.push(None);
            let path = format!("groups[{i}]");
            let id = GroupId::from_raw(self.id_or_new(
                &format!("{path}.id"),
                group.id.as_deref(),
                GroupId::PREFIX,
                |m| GroupId::generate(m).into_string(),
            ));
            let Some(name) = self.checked(&format!("{path}.name"), text::name(&group.name, "name"))
            else {
                continue;
            };
            let lower = name.to_lowercase();
            if self.groups.iter().any(|(_, n)| *n == lower) {
                self.problem(
                    format!("{path}.name"),
                    format!("Another group is named '{name}'; group names are unique"),
                );
                continue;
            }
            self.groups.push((id.clone(), lower));
            made[i] = Some(out.len());
            out.push(SeedGroup {
                id,
                name,
                members: Vec::new(),
                roles: Vec::new(),
            });
        }
        // Members and roles once every group is known (none refers to another group).
        for (i, group) in groups.iter().enumerate() {
            let path = format!("groups[{i}]");
            let members = self.distinct_members(&format!("{path}.members"), &group.members);
            let roles: Vec<String> = group
                .roles
                .iter()
                .enumerate()
                .filter_map(|(j, r)| self.any_role(&format!("{path}.roles[{j}]"), r, None))
                .collect();
            if let Some(at) = made[i] {
                out[at].members = members;
                out[at].roles = roles;
            }
        }
        out
    }

    /// A group by ID or name.
    fn group(&mut self, path: &str, raw: &str) -> Option<GroupId> {
        let lower = raw.to_lowercase();
        if let Some((id, _)) = self
            .groups
            .iter()
            .find(|(id, name)| id.as_str() == raw || *name == lower)
        {
            return Some(id.clone());
        }
        self.problem(
            path,
            format!(
                "'{}' is neither the ID nor the name of an entry of groups",
                text::clip(raw)
            ),
        );
        None
    }

    /// Members listed at `path`, each once.
    fn distinct_members(&mut self, path: &str, members: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (j, raw) in members.iter().enumerate() {
            let Some(norm) = self.member(&format!("{path}[{j}]"), raw) else {
                continue;
            };
            if out.contains(&norm) {
                self.problem(
                    format!("{path}[{j}]"),
                    format!("'{}' is listed twice", text::clip(raw)),
                );
                continue;
            }
            out.push(norm);
        }
        out
    }

    /// The `i`th project with its members, groups, service accounts and keys.
    fn project_contents(&mut self, i: usize, project: &FixtureProject) -> SeedProject {
        let path = format!("projects[{i}]");
        let (id, name) = self.projects[i].clone();
        let id = &id;
        let owner_email = self
            .members
            .iter()
            .find(|(_, at)| *at == "owner")
            .map(|(norm, _)| norm.clone());
        let mut members: Vec<SeedProjectMember> = Vec::new();
        for (j, member) in project.members.iter().enumerate() {
            let at = format!("{path}.members[{j}]");
            let Some(user) = self.member(&format!("{at}.user"), &member.user) else {
                continue;
            };
            if project.default && Some(&user) == owner_email.as_ref() {
                self.problem(format!("{at}.user"), "The owner is already the default project's owner; leave them out of its members");
                continue;
            }
            if members.iter().any(|m| m.user == user) {
                self.problem(
                    format!("{at}.user"),
                    format!(
                        "'{}' is listed twice in this project's members",
                        text::clip(&member.user)
                    ),
                );
                continue;
            }
            let role = match member.role.as_deref() {
                Some(raw) => self
                    .checked(&format!("{at}.role"), ProjectBaseRole::parse(raw, "role"))
                    .unwrap_or(ProjectBaseRole::Member),
                None => ProjectBaseRole::Member,
            };
            let roles = member
                .roles
                .iter()
                .enumerate()
                .filter_map(|(k, r)| self.custom_role(&format!("{at}.roles[{k}]"), r, Some(id)))
                .collect();
            members.push(SeedProjectMember {
                user,
                role: role.as_str().to_owned(),
                roles,
            });
        }
        let mut groups: Vec<SeedProjectGroup> = Vec::new();
        for (j, group) in project.groups.iter().enumerate() {
            let at = format!("{path}.groups[{j}]");
            let Some(found) = self.group(&format!("{at}.group"), &group.group) else {
                continue;
            };
            if groups.iter().any(|g| g.group == found) {
                self.problem(
                    format!("{at}.group"),
                    format!(
                        "Group '{}' is listed twice in this project",
                        text::clip(&group.group)
                    ),
                );
                continue;
            }
            if group.roles.is_empty() {
                self.problem(format!("{at}.roles"), "A group in a project has at least one role there (owner, member, viewer, or a custom role of the project)");
            }
            let roles = group
                .roles
                .iter()
                .enumerate()
                .filter_map(|(k, r)| self.any_role(&format!("{at}.roles[{k}]"), r, Some(id)))
                .collect();
            groups.push(SeedProjectGroup {
                group: found,
                roles,
            });
        }
        let mut service_accounts = Vec::new();
        for (j, account) in project.service_accounts.iter().enumerate() {
            let at = format!("{path}.service_accounts[{j}]");
            let account_id = ServiceAccountId::from_raw(self.id_or_new(
                &format!("{at}.id"),
                account.id.as_deref(),
                ServiceAccountId::PREFIX,
                |m| ServiceAccountId::generate(m).into_string(),
            ));
            let role = match account.role.as_deref() {
                None | Some("member") => "member",
                Some("owner") => "owner",
                Some(other) => {
                    self.problem(
                        format!("{at}.role"),
                        format!(
                            "'{}' is not a service account's role; use 'owner' or 'member'",
                            text::clip(other)
                        ),
                    );
                    "member"
                }
            };
            let name = self
                .checked(&format!("{at}.name"), text::name(&account.name, "name"))
                .unwrap_or_default();
            let key = self.key(KeyEntry {
                path: &at,
                id_field: "key_id",
                id: account.key_id.as_deref(),
                name: crate::model::SERVICE_ACCOUNT_KEY_NAME,
                secret: account.secret.as_deref(),
                prefix: SERVICE_ACCOUNT_KEY_PREFIX,
                expires_in_seconds: None,
            });
            service_accounts.push(SeedServiceAccount {
                id: account_id,
                name,
                role: role.to_owned(),
                key,
            });
        }
        let mut api_keys = Vec::new();
        for (j, key) in project.api_keys.iter().enumerate() {
            let at = format!("{path}.api_keys[{j}]");
            let user = self.member(&format!("{at}.user"), &key.user);
            if let Some(user) = &user {
                let in_project = members.iter().any(|m| &m.user == user)
                    || (project.default && Some(user) == owner_email.as_ref());
                if !in_project {
                    self.problem(
                        format!("{at}.user"),
                        format!(
                            "'{}' is not a member of this project; a project key's owner is one",
                            text::clip(&key.user)
                        ),
                    );
                }
            }
            let seed_key = self.key(KeyEntry {
                path: &at,
                id_field: "id",
                id: key.id.as_deref(),
                name: &key.name,
                secret: key.secret.as_deref(),
                prefix: PROJECT_KEY_PREFIX,
                expires_in_seconds: key.expires_in_seconds,
            });
            if let Some(user) = user {
                api_keys.push(SeedProjectKey {
                    user,
                    key: seed_key,
                });
            }
        }
        SeedProject {
            id: id.clone(),
            name,
            archived: project.archived,
            members,
            groups,
            service_accounts,
            api_keys,
        }
    }

    fn invites(
        &mut self,
        invites: &[FixtureInvite],
        default_project: &ProjectId,
    ) -> Vec<SeedInvite> {
        let mut out: Vec<SeedInvite> = Vec::with_capacity(invites.len());
        let mut invited: BTreeSet<String> = BTreeSet::new();
        for (i, invite) in invites.iter().enumerate() {
            let path = format!("invites[{i}]");
            let id = InviteId::from_raw(self.id_or_new(
                &format!("{path}.id"),
                invite.id.as_deref(),
                InviteId::PREFIX,
                |m| InviteId::generate(m).into_string(),
            ));
            let role = match invite.role.as_deref() {
                Some(raw) => self
                    .checked(&format!("{path}.role"), OrgBaseRole::parse(raw, "role"))
                    .unwrap_or(OrgBaseRole::Reader),
                None => OrgBaseRole::Reader,
            };
            let projects = match &invite.projects {
                // The default project as member, as the API's create does.
                None => vec![(
                    default_project.clone(),
                    ProjectBaseRole::Member.as_str().to_owned(),
                )],
                Some(listed) => listed
                    .iter()
                    .enumerate()
                    .filter_map(|(j, p)| {
                        let at = format!("{path}.projects[{j}]");
                        let project = self.project(&format!("{at}.project"), &p.project)?;
                        let role = match p.role.as_deref() {
                            Some(raw) => self.checked(
                                &format!("{at}.role"),
                                ProjectBaseRole::parse(raw, "role"),
                            )?,
                            None => ProjectBaseRole::Member,
                        };
                        Some((project, role.as_str().to_owned()))
                    })
                    .collect(),
            };
            let Some(email) = self.checked(
                &format!("{path}.email"),
                Email::parse(&invite.email, "email"),
            ) else {
                continue;
            };
            let norm = email.normalized().to_owned();
            if let Some(member) = self.members.get(&norm) {
                self.problem(
                    format!("{path}.email"),
                    format!(
                        "{} is already {}; invites are for people who are not members",
                        email.as_str(),
                        member_words(member)
                    ),
                );
                continue;
            }
            if !invited.insert(norm) {
                self.problem(
                    format!("{path}.email"),
                    format!(
                        "{} is invited twice; a person has one pending invite",
                        email.as_str()
                    ),
                );
                continue;
            }
            out.push(SeedInvite {
                id,
                email: email.as_str().to_owned(),
                role: role.as_str().to_owned(),
                projects,
            });
        }
        out
    }

    fn admin_keys(&mut self, keys: &[FixtureAdminKey]) -> Vec<SeedAdminKey> {
        let mut out = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let path = format!("admin_keys[{i}]");
            let owner = self.member(&format!("{path}.owner"), &key.owner);
            let scopes = key.scopes.as_ref().and_then(|names| {
                self.checked(
                    &format!("{path}.scopes"),
                    PermissionSet::parse_names(names, "scopes"),
                )
                .map(PermissionSet::names)
            });
            let seed_key = self.key(KeyEntry {
                path: &path,
                id_field: "id",
                id: key.id.as_deref(),
                name: &key.name,
                secret: key.secret.as_deref(),
                prefix: ADMIN_KEY_PREFIX,
                expires_in_seconds: key.expires_in_seconds,
            });
            if let Some(owner) = owner {
                out.push(SeedAdminKey {
                    owner,
                    scopes,
                    key: seed_key,
                });
            }
        }
        out
    }
}

/// A key as the document gives it: where (`path`, the field of its ID), its ID, name and secret
/// if given, its secret's kind (`prefix`) and lifetime.
struct KeyEntry<'a> {
    path: &'a str,
    id_field: &'a str,
    id: Option<&'a str>,
    name: &'a str,
    secret: Option<&'a str>,
    prefix: &'a str,
    expires_in_seconds: Option<i64>,
}

/// A member's place as words: `the owner`, `the member at users[2]`.
fn member_words(path: &str) -> String {
    if path == "owner" {
        "the owner".to_owned()
    } else {
        format!("the member at {path}")
    }
}

fn scope_words(project: Option<&ProjectId>) -> String {
    match project {
        Some(p) => format!("project {p}"),
        None => "the organization".to_owned(),
    }
}

#[cfg(test)]
mod tests;
