// Organization users and their role assignments through the openai npm package:
// client.admin.organization.users (retrieve, list, update, delete) and users.roles.

import assert from 'node:assert/strict';

import {
  ORG_OWNER, ORG_READER, OWNER_EMAIL, addMember, all, assertOnlyKeys, assertUnixTime, expectError, ownerUser,
  sdkTest, startServer, uniqueEmail, uniqueName,
} from './support.mjs';

const { client } = await startServer();
const users = client.admin.organization.users;

// Every field of the official `organization.user`; the server may not send the optional ones yet.
const USER_FIELDS = [
  'object', 'id', 'name', 'email', 'role', 'added_at', 'is_default', 'created', 'user', 'is_service_account',
  'is_scale_tier_authorized_purchaser', 'is_scim_managed', 'api_key_last_used_at', 'technical_level',
  'developer_persona', 'projects',
];

/** Read every field of an organization user. */
export function checkUser(u, { id, email, name, role }) {
  assertOnlyKeys(u, USER_FIELDS, 'organization.user');
  assert.equal(u.object, 'organization.user');
  if (id !== undefined) assert.equal(u.id, id);
  assert.match(u.id, /^user-/);
  assert.equal(u.email, email);
  if (name !== undefined) assert.equal(u.name, name);
  assert.equal(u.role, role);
  assertUnixTime(u.added_at, 'added_at');
  assert.equal(u.is_service_account ?? false, false);
  assert.equal(u.technical_level ?? null, null);
  assert.equal(u.developer_persona ?? null, null);
  if ('created' in u) assertUnixTime(u.created, 'created');
  if ('api_key_last_used_at' in u && u.api_key_last_used_at !== null) assertUnixTime(u.api_key_last_used_at, 'api_key_last_used_at');
  if ('is_scim_managed' in u) assert.equal(u.is_scim_managed, false);
  if ('is_scale_tier_authorized_purchaser' in u) assert.equal(u.is_scale_tier_authorized_purchaser ?? false, false);
  if ('is_default' in u) assert.equal(typeof u.is_default, 'boolean');
  if ('user' in u) {
    assert.equal(u.user.object, 'user');
    assert.equal(u.user.id, u.id);
    assert.equal(u.user.email, email);
  }
  if ('projects' in u && u.projects !== null) {
    assert.equal(u.projects.object, 'list');
    for (const p of u.projects.data) assert.match(p.id, /^proj_/);
  }
}

sdkTest('the owner the server started with is listed and retrieved whole', async () => {
  const owner = await ownerUser(client);
  checkUser(owner, { email: OWNER_EMAIL, role: 'owner' });
  const again = await users.retrieve(owner.id);
  assert.deepEqual(again, owner);
});

sdkTest('a member made from an invite is retrieved, listed by email, and paged through', async () => {
  const email = uniqueEmail('member');
  const name = uniqueName('Member');
  const member = await addMember(client, { email, name });
  checkUser(member, { email, name, role: 'reader' });
  checkUser(await users.retrieve(member.id), { id: member.id, email, name, role: 'reader' });

  const byEmail = await users.list({ emails: [email] });
  assert.deepEqual(byEmail.data.map((u) => u.id), [member.id]);
  assert.equal(byEmail.has_more, false);

  // Auto-pagination one item per page walks every member once, in a stable order.
  const extra = [await addMember(client), await addMember(client)];
  const walked = await all(users.list({ limit: 1 }));
  const ids = walked.map((u) => u.id);
  assert.equal(new Set(ids).size, ids.length, 'no member is listed twice');
  for (const u of [member, ...extra]) assert.ok(ids.includes(u.id), `${u.id} is listed`);
  const firstPage = await users.list({ limit: 1 });
  assert.equal(firstPage.data.length, 1);
  assert.equal(firstPage.has_more, true);
  assert.equal(firstPage.last_id, firstPage.data[0].id);
  assert.ok(firstPage.hasNextPage());
  const second = await firstPage.getNextPage();
  assert.equal(second.data[0].id, ids[1]);
});

sdkTest('a role change is answered with the updated user and a removed member is gone', async () => {
  const email = uniqueEmail('promoted');
  const member = await addMember(client, { email });
  const promoted = await users.update(member.id, { role: 'owner' });
  checkUser(promoted, { id: member.id, email, role: 'owner' });
  checkUser(await users.retrieve(member.id), { id: member.id, email, role: 'owner' });

  const deleted = await users.delete(member.id);
  assertOnlyKeys(deleted, ['object', 'id', 'deleted'], 'organization.user.deleted');
  assert.deepEqual(deleted, { object: 'organization.user.deleted', id: member.id, deleted: true });
  await expectError(() => users.retrieve(member.id), { status: 404, code: 'not_found' });
});

/** Read every field of a role as listed among a principal's roles. */
function checkAssignedRole(r) {
  assertOnlyKeys(
    r,
    ['id', 'name', 'permissions', 'resource_type', 'predefined_role', 'description', 'created_at', 'updated_at',
      'created_by', 'created_by_user_obj', 'metadata', 'assignment_sources', 'object'],
    'assigned role',
  );
  assert.equal(typeof r.name, 'string');
  assert.ok(Array.isArray(r.permissions) && r.permissions.every((p) => typeof p === 'string'));
  assert.equal(r.resource_type, 'api.organization');
  assert.equal(typeof r.predefined_role, 'boolean');
  for (const t of ['created_at', 'updated_at']) if (r[t] !== null) assertUnixTime(r[t], t);
  for (const s of r.assignment_sources ?? []) assert.ok(['user', 'group'].includes(s.principal_type));
}

sdkTest('a custom role is assigned to a member, listed among their roles, and unassigned', async () => {
  const member = await addMember(client);
  const role = await client.admin.organization.roles.create({
    role_name: uniqueName('auditor'),
    permissions: ['api.organization.projects.read', 'api.groups.read'],
    description: 'assigned from node',
  });

  const before = await all(users.roles.list(member.id));
  assert.deepEqual(before.map((r) => r.id), [ORG_READER]);
  before.forEach(checkAssignedRole);
  assert.equal(before[0].predefined_role, true);
  assert.deepEqual(before[0].assignment_sources.map((s) => [s.principal_id, s.principal_type]), [[member.id, 'user']]);

  const assigned = await users.roles.create(member.id, { role_id: role.id });
  assertOnlyKeys(assigned, ['object', 'user', 'role'], 'user.role');
  assert.equal(assigned.object, 'user.role');
  assert.equal(assigned.user.id, member.id);
  assert.equal(assigned.user.object, 'organization.user');
  assert.deepEqual(assigned.role, role);

  const listed = await all(users.roles.list(member.id, { limit: 1 }));
  assert.deepEqual(listed.map((r) => r.id), [ORG_READER, role.id]);
  listed.forEach(checkAssignedRole);
  const custom = listed[1];
  assert.equal(custom.name, role.name);
  assert.equal(custom.description, 'assigned from node');
  assert.deepEqual(custom.permissions.toSorted(), ['api.groups.read', 'api.organization.projects.read']);
  assert.equal(custom.predefined_role, false);

  const removed = await users.roles.delete(role.id, { user_id: member.id });
  assertOnlyKeys(removed, ['object', 'deleted'], 'role assignment deleted');
  assert.equal(removed.object, 'user.role.deleted');
  assert.equal(removed.deleted, true);
  assert.deepEqual((await all(users.roles.list(member.id))).map((r) => r.id), [ORG_READER]);
});

sdkTest('the owner holds the predefined owner role', async () => {
  const owner = await ownerUser(client);
  const roles = await all(users.roles.list(owner.id));
  assert.deepEqual(roles.map((r) => r.id), [ORG_OWNER]);
  assert.equal(roles[0].name, 'owner');
});
