// A project's API keys through the openai npm package: client.admin.organization.projects.apiKeys
// (list with owner_project_access, retrieve, delete) and
// client.admin.organization.projects.serviceAccounts.apiKeys.create. The package (6.49.0) has no
// update method, so the update the Python SDK sends (POST …/api_keys/{api_key_id}) goes through
// the client's own `post`, and a member's key is made with the orgadmin extension the same way;
// both answers are checked against the document's ProjectApiKey schema by hand, as the document
// has neither operation.

import assert from 'node:assert/strict';

import { addMember, all, expectError, schemaErrors, schemaNamed, sdkTest, startServer, uniqueName } from './support.mjs';

const server = await startServer();
const { client } = server;
const keys = client.admin.organization.projects.apiKeys;

const newProject = () => client.admin.organization.projects.create({ name: uniqueName('keys') });

function assertProjectKey(value, what) {
  assert.deepEqual(schemaErrors(schemaNamed('ProjectApiKey'), value), [], what);
}

async function memberKey(project, user, name = 'Laptop') {
  const key = await client.post(`/organization/projects/${project}/api_keys`, {
    body: { name, user_id: user },
    __security: { adminAPIKeyAuth: true },
  });
  assertProjectKey(key, 'member key');
  return key;
}

const update = async (project, key, body) => {
  const updated = await client.post(`/organization/projects/${project}/api_keys/${key}`, {
    body,
    __security: { adminAPIKeyAuth: true },
  });
  assertProjectKey(updated, 'updated key');
  return updated;
};

sdkTest("a member's key goes inactive when they leave the project and active when they return", async () => {
  const project = await newProject();
  const user = await addMember(client);
  await client.admin.organization.projects.users.create(project.id, { user_id: user.id, role: 'member' });
  const made = await memberKey(project.id, user.id);
  assert.match(made.value, /^sk-proj-/);

  const key = await keys.retrieve(made.id, { project_id: project.id });
  assert.equal(key.object, 'organization.project.api_key');
  assert.equal(key.value, undefined);
  assert.equal(key.owner_project_access, 'active');
  assert.equal(key.owner.type, 'user');
  assert.deepEqual(
    [key.owner.user.id, key.owner.user.email, key.owner.user.role],
    [user.id, user.email, 'member'],
  );
  assert.deepEqual((await all(keys.list(project.id))).map((k) => k.id), [key.id]);

  await client.admin.organization.projects.users.delete(user.id, { project_id: project.id });
  assert.deepEqual(await all(keys.list(project.id)), []);
  const inactive = await all(keys.list(project.id, { owner_project_access: 'inactive' }));
  assert.deepEqual(inactive.map((k) => [k.id, k.owner_project_access]), [[key.id, 'inactive']]);
  assert.deepEqual((await all(keys.list(project.id, { owner_project_access: 'any' }))).map((k) => k.id), [key.id]);

  await client.admin.organization.projects.users.create(project.id, { user_id: user.id, role: 'viewer' });
  const back = await keys.retrieve(key.id, { project_id: project.id });
  assert.deepEqual([back.owner_project_access, back.owner.user.role], ['active', 'viewer']);

  await expectError(() => keys.list(project.id, { owner_project_access: 'all' }), {
    status: 400,
    code: 'invalid_value',
    param: 'owner_project_access',
  });
});

sdkTest("the update changes a key's scopes and expiry", async () => {
  const project = await newProject();
  const user = await addMember(client);
  await client.admin.organization.projects.users.create(project.id, { user_id: user.id, role: 'owner' });
  const made = await memberKey(project.id, user.id);
  const scoped = await update(project.id, made.id, { scopes: ['api.model.request'] });
  assert.deepEqual(scoped.scopes, ['api.model.request']);
  const both = await update(project.id, made.id, { scopes: [], expires_in_seconds: 3600 });
  assert.ok(both.expires_at >= both.created_at + 3600);
  await expectError(() => update(project.id, made.id, {}), { status: 400, code: 'missing_required_parameter', param: 'scopes' });
  await expectError(() => update(project.id, made.id, { scopes: null }), { status: 400, code: 'invalid_value', param: 'scopes' });
});

sdkTest("a service account's keys are listed as its own and deleted one by one or with it", async () => {
  const project = await newProject();
  const accounts = client.admin.organization.projects.serviceAccounts;
  const account = await accounts.create(project.id, { name: 'Deployer' });
  const second = await accounts.apiKeys.create(account.id, {
    project_id: project.id,
    name: 'Production App',
    scopes: ['api.model.request'],
  });
  assert.equal(second.object, 'organization.project.service_account.api_key');
  assert.match(second.value, /^sk-svcacct-/);
  const listed = await all(keys.list(project.id, { limit: 1 }));
  assert.deepEqual(listed.map((k) => k.id), [account.api_key.id, second.id]);
  for (const k of listed) {
    assert.equal(k.owner.type, 'service_account');
    assert.deepEqual([k.owner.service_account.id, k.owner.service_account.role], [account.id, 'member']);
  }
  const deleted = await keys.delete(account.api_key.id, { project_id: project.id });
  assert.deepEqual(deleted, { object: 'organization.project.api_key.deleted', id: account.api_key.id, deleted: true });
  await expectError(() => keys.retrieve(account.api_key.id, { project_id: project.id }), { status: 404, code: 'not_found' });
  await accounts.delete(account.id, { project_id: project.id });
  assert.deepEqual(await all(keys.list(project.id, { owner_project_access: 'any' })), []);
});

sdkTest('an archived project refuses new keys', async () => {
  const project = await newProject();
  const account = await client.admin.organization.projects.serviceAccounts.create(project.id, { name: 'Old' });
  await client.admin.organization.projects.archive(project.id);
  await expectError(
    () => client.admin.organization.projects.serviceAccounts.apiKeys.create(account.id, { project_id: project.id, name: 'x' }),
    { status: 409, code: 'project_archived', param: 'project_id' },
  );
});
