// Groups, their members and their roles through the openai npm package:
// client.admin.organization.groups (and .users, .roles), and a project's groups.

import assert from 'node:assert/strict';

import {
  PROJ_MEMBER, addMember, all, assertOnlyKeys, assertUnixTime, expectError, scopedRoleId, sdkTest, startServer,
  uniqueName,
} from './support.mjs';

const { client } = await startServer();
const groups = client.admin.organization.groups;

/** Read every field of a group as created, retrieved and listed. */
function checkGroup(g, { id, name }) {
  assertOnlyKeys(g, ['object', 'id', 'name', 'created_at', 'is_scim_managed', 'group_type'], 'group');
  assert.equal(g.object, 'group');
  if (id !== undefined) assert.equal(g.id, id);
  assert.match(g.id, /^group_/);
  assert.equal(g.name, name);
  assertUnixTime(g.created_at, 'created_at');
  assert.equal(g.is_scim_managed, false);
  assert.equal(g.group_type, 'group');
}

sdkTest('a group is created, retrieved, renamed, listed and deleted', async () => {
  const name = uniqueName('engineers');
  const created = await groups.create({ name });
  checkGroup(created, { name });
  assert.deepEqual(await groups.retrieve(created.id), created);

  const renamed = uniqueName('platform');
  const updated = await groups.update(created.id, { name: renamed });
  assertOnlyKeys(updated, ['object', 'id', 'name', 'created_at', 'is_scim_managed', 'group_type'], 'updated group');
  assert.equal(updated.id, created.id);
  assert.equal(updated.name, renamed);
  assert.equal(updated.created_at, created.created_at);
  assert.equal(updated.is_scim_managed, false);

  const others = [await groups.create({ name: uniqueName('g') }), await groups.create({ name: uniqueName('g') })];
  const listed = await all(groups.list({ limit: 1 }));
  const ids = listed.map((g) => g.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const g of [created, ...others]) assert.ok(ids.includes(g.id));
  checkGroup(listed.find((g) => g.id === created.id), { id: created.id, name: renamed });

  const deleted = await groups.delete(created.id);
  assertOnlyKeys(deleted, ['object', 'id', 'deleted'], 'group.deleted');
  assert.deepEqual(deleted, { object: 'group.deleted', id: created.id, deleted: true });
  await expectError(() => groups.retrieve(created.id), { status: 404, code: 'not_found' });
});

sdkTest('members are added to a group, listed and removed', async () => {
  const group = await groups.create({ name: uniqueName('team') });
  const a = await addMember(client, { name: 'Ada' });
  const b = await addMember(client, { name: 'Bea' });
  for (const m of [a, b]) {
    const added = await groups.users.create(group.id, { user_id: m.id });
    assertOnlyKeys(added, ['object', 'user_id', 'group_id'], 'group.user');
    assert.deepEqual(added, { object: 'group.user', user_id: m.id, group_id: group.id });
  }
  const listed = await all(groups.users.list(group.id, { limit: 1 }));
  for (const u of listed) assertOnlyKeys(u, ['id', 'name', 'email'], 'group member');
  assert.deepEqual(
    listed.map((u) => [u.id, u.name, u.email]).toSorted(),
    [[a.id, 'Ada', a.email], [b.id, 'Bea', b.email]].toSorted(),
  );

  const removed = await groups.users.delete(a.id, { group_id: group.id });
  assertOnlyKeys(removed, ['object', 'deleted'], 'group.user.deleted');
  assert.deepEqual(removed, { object: 'group.user.deleted', deleted: true });
  assert.deepEqual((await all(groups.users.list(group.id))).map((u) => u.id), [b.id]);
});

sdkTest('a role is assigned to a group and unassigned', async () => {
  const group = await groups.create({ name: uniqueName('readers') });
  const role = await client.admin.organization.roles.create({ role_name: uniqueName('r'), permissions: ['api.groups.read'] });
  const assigned = await groups.roles.create(group.id, { role_id: role.id });
  assertOnlyKeys(assigned, ['object', 'group', 'role'], 'group.role');
  assert.equal(assigned.object, 'group.role');
  assertOnlyKeys(assigned.group, ['object', 'id', 'name', 'created_at', 'scim_managed'], 'group.role group');
  assert.deepEqual(assigned.group, { object: 'group', id: group.id, name: group.name, created_at: group.created_at, scim_managed: false });
  assert.deepEqual(assigned.role, role);

  const listed = await all(groups.roles.list(group.id));
  assert.deepEqual(listed.map((r) => r.id), [role.id]);
  const [r] = listed;
  assert.equal(r.name, role.name);
  assert.deepEqual(r.permissions, ['api.groups.read']);
  assert.equal(r.predefined_role, false);
  assert.deepEqual(r.assignment_sources.map((s) => [s.principal_id, s.principal_type]), [[group.id, 'group']]);

  const removed = await groups.roles.delete(role.id, { group_id: group.id });
  assert.deepEqual(removed, { object: 'group.role.deleted', deleted: true });
  assert.deepEqual(await all(groups.roles.list(group.id)), []);
});

sdkTest('a group is given a project role, listed among the project groups, and removed', async () => {
  const group = await groups.create({ name: uniqueName('proj') });
  const project = await client.admin.organization.projects.create({ name: uniqueName('with groups') });
  const projectGroups = client.admin.organization.projects.groups;
  const added = await projectGroups.create(project.id, { group_id: group.id, role: PROJ_MEMBER });
  assertOnlyKeys(added, ['object', 'project_id', 'group_id', 'group_name', 'group_type', 'created_at'], 'project.group');
  assert.equal(added.object, 'project.group');
  assert.equal(added.project_id, project.id);
  assert.equal(added.group_id, group.id);
  assert.equal(added.group_name, group.name);
  assert.equal(added.group_type, 'group');
  assertUnixTime(added.created_at, 'created_at');
  assert.deepEqual(await all(projectGroups.list(project.id)), [added]);

  const roles = await all(projectGroups.roles.list(group.id, { project_id: project.id }));
  assert.deepEqual(roles.map((r) => r.id), [scopedRoleId(PROJ_MEMBER, project.id)]);

  const removed = await projectGroups.delete(group.id, { project_id: project.id });
  assert.deepEqual(removed, { object: 'project.group.deleted', deleted: true });
  assert.deepEqual(await all(projectGroups.list(project.id)), []);
});
