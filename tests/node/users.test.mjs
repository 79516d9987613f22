// Organization users and their role assignments through the openai npm package:
// client.admin.organization.users (retrieve, list, update, delete) and users.roles.

import assert from 'node:assert/strict';

import {
  ORG_OWNER, ORG_READER, OWNER_EMAIL, addMember, all, assertOnlyKeys, assertUnixTime, defaultProjectId, expectError,
  ownerUser,
  sdkTest, startServer, uniqueEmail, uniqueName,
} from './support.mjs';

const { client } = await startServer();
const users = client.admin.organization.users;

// Every field of the official `organization.user`, all of which the server sends for a person.
const USER_FIELDS = [
  'object', 'id', 'name', 'email', 'role', 'added_at', 'is_default', 'created', 'user', 'is_service_account',
  'is_scale_tier_authorized_purchaser', 'is_scim_managed', 'api_key_last_used_at', 'technical_level',
  'developer_persona', 'projects',
];
const PERSON_FIELDS = ['object', 'id', 'email', 'name', 'picture', 'enabled', 'banned', 'banned_at'];

/** Read every field of an organization user (a person). */
export function checkUser(u, { id, email, name, role, isDefault = false, projects }) {
  assertOnlyKeys(u, USER_FIELDS, 'organization.user');
  assert.deepEqual(Object.keys(u).sort(), [...USER_FIELDS].sort(), 'every field is sent');
  assert.equal(u.object, 'organization.user');
  if (id !== undefined) assert.equal(u.id, id);
  assert.match(u.id, /^user-/);
  assert.equal(u.email, email);
  if (name !== undefined) assert.equal(u.name, name);
  assert.equal(u.role, role);
  assertUnixTime(u.added_at, 'added_at');
  assert.equal(u.is_service_account, false);
  assert.equal(u.technical_level, null);
  assert.equal(u.developer_persona, null);
  assertUnixTime(u.created, 'created');
  assert.ok(u.created <= u.added_at, 'created is when they first joined any organization');
  if (u.api_key_last_used_at !== null) assertUnixTime(u.api_key_last_used_at, 'api_key_last_used_at');
  assert.equal(u.is_scim_managed, false);
  assert.equal(u.is_scale_tier_authorized_purchaser, false);
  assert.equal(u.is_default, isDefault);
  assertOnlyKeys(u.user, PERSON_FIELDS, 'organization.user.user');
  assert.deepEqual(u.user, {
    object: 'user', id: u.id, email, name: u.name, picture: null, enabled: true, banned: false, banned_at: null,
  });
  assert.equal(u.projects.object, 'list');
  assertOnlyKeys(u.projects, ['object', 'data'], 'organization.user.projects');
  for (const p of u.projects.data) {
    assertOnlyKeys(p, ['id', 'name', 'role'], 'organization.user.projects.data[]');
    assert.match(p.id, /^proj_/);
    assert.equal(typeof p.name, 'string');
    assert.ok(['owner', 'member', 'viewer'].includes(p.role), p.role);
  }
  if (projects !== undefined) assert.deepEqual(u.projects.data, projects);
}

/** The same answer but for the time of the latest key use, which a request may move on. */
const withoutLastUse = ({ api_key_last_used_at: _, ...rest }) => rest;

sdkTest('the owner the server started with is listed and retrieved whole', async () => {
  const owner = await ownerUser(client);
  const projectId = await defaultProjectId(client);
  const projects = [{ id: projectId, name: 'Default Project', role: 'owner' }];
  checkUser(owner, { email: OWNER_EMAIL, role: 'owner', isDefault: true, projects });
  // The owner key made these requests: its use is the owner's latest.
  assertUnixTime(owner.api_key_last_used_at, 'api_key_last_used_at');
  assert.ok(owner.api_key_last_used_at >= Date.now() / 1000 - 120);
  const again = await users.retrieve(owner.id);
  checkUser(again, { email: OWNER_EMAIL, role: 'owner', isDefault: true, projects });
  assert.deepEqual(withoutLastUse(again), withoutLastUse(owner));
});

sdkTest('a member shows their projects, and a new one has used no key', async () => {
  const email = uniqueEmail('whole');
  const project = await client.admin.organization.projects.create({ name: uniqueName('Whole') });
  const member = await addMember(client, { email, projects: [{ id: project.id, role: 'member' }] });
  const inProject = [{ id: project.id, name: project.name, role: 'member' }];
  for (const u of [
    member,
    await users.retrieve(member.id),
    (await users.list({ emails: [email] })).data[0],
    (await all(users.list({ limit: 100 }))).find((x) => x.id === member.id),
  ]) {
    checkUser(u, { id: member.id, email, role: 'reader', projects: inProject });
    assert.equal(u.api_key_last_used_at, null, 'owns no key');
    assert.equal(u.created, u.added_at, 'new to the server');
  }
  const other = await client.admin.organization.projects.create({ name: uniqueName('Other') });
  await client.admin.organization.projects.users.create(other.id, { user_id: member.id, role: 'viewer' });
  const both = [...inProject, { id: other.id, name: other.name, role: 'viewer' }].sort((a, b) => (a.id < b.id ? -1 : 1));
  checkUser(await users.retrieve(member.id), { id: member.id, email, role: 'reader', projects: both });
  const modified = await users.update(member.id, { role: 'owner' });
  checkUser(modified, { id: member.id, email, role: 'owner', projects: both });
  assert.equal(modified.created, member.created);
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
