// Admin API keys through the openai npm package: client.admin.organization.adminAPIKeys.

import assert from 'node:assert/strict';

import OpenAI from 'openai';

import { all, assertOnlyKeys, assertUnixTime, expectError, ownerUser, sdkTest, startServer, uniqueName } from './support.mjs';

const server = await startServer();
const { client } = server;
const keys = client.admin.organization.adminAPIKeys;

/** Read every field of an admin API key (the secret `value` only where `withValue`). */
function checkKey(k, { id, name, owner, withValue = false }) {
  assertOnlyKeys(k, ['object', 'id', 'name', 'redacted_value', 'created_at', 'expires_at', 'last_used_at', 'owner', ...(withValue ? ['value'] : [])], 'admin API key');
  assert.equal(k.object, 'organization.admin_api_key');
  if (id !== undefined) assert.equal(k.id, id);
  assert.match(k.id, /^key_/);
  assert.equal(k.name, name);
  assert.match(k.redacted_value, /^sk-admin\.\.\.[A-Za-z0-9]{4}$/);
  assertUnixTime(k.created_at, 'created_at');
  assert.equal(k.expires_at, null);
  if (k.last_used_at !== null) assertUnixTime(k.last_used_at, 'last_used_at');
  assertOnlyKeys(k.owner, ['type', 'object', 'id', 'name', 'created_at', 'role'], 'key owner');
  assert.equal(k.owner.type, 'user');
  assert.equal(k.owner.object, 'organization.user');
  assert.equal(k.owner.id, owner.id);
  assert.equal(k.owner.name, owner.name);
  assert.equal(k.owner.role, 'owner');
  assertUnixTime(k.owner.created_at, 'owner.created_at');
  if (withValue) {
    assert.match(k.value, /^sk-admin-/);
    assert.ok(k.redacted_value.endsWith(k.value.slice(-4)));
  }
}

sdkTest('the key the server started with is listed and was used', async () => {
  const owner = await ownerUser(client);
  const listed = await all(keys.list());
  const initial = listed.find((k) => k.redacted_value.endsWith(server.adminKey.slice(-4)));
  assert.ok(initial, 'the starting key is listed');
  checkKey(initial, { name: initial.name, owner });
  assertUnixTime(initial.last_used_at, 'last_used_at');
});

sdkTest('a key is created with its secret shown once, works, is retrieved, listed and deleted', async () => {
  const owner = await ownerUser(client);
  const name = uniqueName('ci');
  const created = await keys.create({ name });
  checkKey(created, { name, owner, withValue: true });
  assert.equal(created.last_used_at, null);

  const withKey = server.makeClient(created.value);
  assert.equal((await withKey.admin.organization.users.retrieve(owner.id)).id, owner.id);

  const { value, ...stored } = created;
  const got = await keys.retrieve(created.id);
  checkKey(got, { id: created.id, name, owner });
  assert.deepEqual({ ...got, last_used_at: null }, stored);
  assertUnixTime(got.last_used_at, 'last_used_at (the key was just used)');

  const more = [await keys.create({ name: uniqueName('a') }), await keys.create({ name: uniqueName('b') })];
  const listed = await all(keys.list({ limit: 1 }));
  const ids = listed.map((k) => k.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const k of [created, ...more]) assert.ok(ids.includes(k.id));
  for (const k of listed) assert.ok(!('value' in k), 'a listed key shows no secret');

  const deleted = await keys.delete(created.id);
  assertOnlyKeys(deleted, ['object', 'id', 'deleted'], 'admin key deleted');
  assert.deepEqual(deleted, { object: 'organization.admin_api_key.deleted', id: created.id, deleted: true });
  await expectError(() => keys.retrieve(created.id), { status: 404, code: 'not_found' });
  await expectError(() => withKey.admin.organization.users.retrieve(owner.id), { status: 401, code: 'invalid_api_key' });
  assert.ok(value.length > 40);
});

sdkTest('a key lacking a permission is refused as the real API refuses it: 401, code null, the scope named', async () => {
  const owner = await ownerUser(client);
  // `scopes` is this server's extension: a key that may only read users.
  const scoped = await keys.create({ name: uniqueName('read only'), scopes: ['api.organization.users.read'] });
  const reader = server.makeClient(scoped.value);
  assert.equal((await reader.admin.organization.users.retrieve(owner.id)).id, owner.id);
  let err;
  try {
    await reader.admin.organization.users.update(owner.id, { role: 'reader' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof OpenAI.AuthenticationError, `expected an AuthenticationError, got ${err}`);
  assert.equal(err.status, 401);
  assert.equal(err.code, null);
  assert.equal(err.param, null);
  assert.equal(err.type, 'invalid_request_error');
  assert.ok(
    err.error.message.startsWith(
      'You have insufficient permissions for this operation. Missing scopes: api.organization.users.write. Check that you have the correct role',
    ),
    err.error.message,
  );
  assert.ok(err.requestID, 'the error carries the request ID');
  assert.equal((await client.admin.organization.users.retrieve(owner.id)).role, 'owner');
  await keys.delete(scoped.id);
});
