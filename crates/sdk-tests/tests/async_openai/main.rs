//! orgadmin driven by the Rust client async-openai 0.43 (`client.admin()…`, feature
//! `administration`): the seed operations, roles and groups, project API keys and the audit log,
//! against a real server on a fresh database of the backend `ORGADMIN_TEST_BACKEND` selects
//! (`orgadmin_testkit`). One test binary, one module per resource.
//!
//! Every call goes through the client's own admin methods. Where the client's types are stricter
//! than the official spec (`../shared/openapi/openai-admin-identity.yaml`), the call uses the
//! method's `*_byot` twin with a type of this suite that reads the spec's shape, and a comment
//! there says how the client is stricter; orgadmin's wire format stays the spec's. The one
//! operation the client has no method for, the member-key extension, is a plain HTTP call.
//! Each test reads the state it changed back through a second call.

mod support;

mod admin_api_keys;
mod audit_logs;
mod invites;
mod project_api_keys;
mod project_users;
mod projects;
mod roles_and_groups;
mod service_accounts;
mod users;
