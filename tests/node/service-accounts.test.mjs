// A project's service accounts through the openai npm package:
// client.admin.organization.projects.serviceAccounts.

import assert from 'node:assert/strict';

import { all, assertOnlyKeys, assertUnixTime, expectError, sdkTest, startServer, uniqueName } from './support.mjs';

const server = await startServer();
const { client } = server;
const accounts = client.admin.organization.projects.serviceAccounts;

/** Read every field of a service account. */
function checkAccount(a, { id, name, role }) {
  assertOnlyKeys(a, ['object', 'id', 'name', 'role', 'created_at'], 'service account');
  assert.equal(a.object, 'organization.project.service_account');
  if (id !== undefined) assert.equal(a.id, id);
  assert.match(a.id, /^svc_acct_/);
  assert.equal(a.name, name);
  assert.equal(a.role, role);
  assertUnixTime(a.created_at, 'created_at');
}

sdkTest('a service account is created with its key shown once, then retrieved, listed, renamed and deleted', async () => {
  const project = await client.admin.organization.projects.create({ name: uniqueName('bots') });
  const created = await accounts.create(project.id, { name: 'Production App' });
  const { api_key: key, ...account } = created;
  checkAccount(account, { name: 'Production App', role: 'member' });
  assertOnlyKeys(key, ['object', 'value', 'name', 'created_at', 'id', 'expires_at'], 'service account key');
  assert.equal(key.object, 'organization.project.service_account.api_key');
  assert.match(key.value, /^sk-svcacct-/);
  assert.equal(key.name, 'Secret Key');
  assertUnixTime(key.created_at, 'created_at');
  assert.match(key.id, /^key_/);
  assert.equal(key.expires_at ?? null, null);

  // A service account's key is a project key, not an admin key.
  const asBot = server.makeClient(key.value);
  await expectError(() => asBot.admin.organization.projects.serviceAccounts.list(project.id), { status: 401, code: 'invalid_api_key', param: null });

  const got = await accounts.retrieve(account.id, { project_id: project.id });
  assert.deepEqual(got, account);
  const second = await accounts.create(project.id, { name: 'Nightly' });
  const listed = await all(accounts.list(project.id, { limit: 1 }));
  assert.deepEqual(listed.map((a) => a.id), [account.id, second.id]);
  assert.deepEqual(listed[0], account);

  const renamed = await accounts.update(account.id, { project_id: project.id, name: 'Renamed', role: 'owner' });
  checkAccount(renamed, { id: account.id, name: 'Renamed', role: 'owner' });
  assert.equal(renamed.created_at, account.created_at);

  const deleted = await accounts.delete(account.id, { project_id: project.id });
  assertOnlyKeys(deleted, ['object', 'id', 'deleted'], 'service account deleted');
  assert.deepEqual(deleted, { object: 'organization.project.service_account.deleted', id: account.id, deleted: true });
  await expectError(() => accounts.retrieve(account.id, { project_id: project.id }), { status: 404, code: 'not_found' });
  assert.deepEqual((await all(accounts.list(project.id))).map((a) => a.id), [second.id]);
});
