// Projects and their users through the openai npm package:
// client.admin.organization.projects (create, retrieve, update, list, archive) and projects.users.

import assert from 'node:assert/strict';

import {
  DEFAULT_PROJECT_NAME, PROJ_OWNER, addMember, all, assertOnlyKeys, assertUnixTime, defaultProjectId, expectError,
  scopedRoleId, sdkTest, startServer, uniqueName,
} from './support.mjs';

const { client } = await startServer();
const projects = client.admin.organization.projects;

/** Read every field of a project. */
function checkProject(p, { id, name, archived }) {
  assertOnlyKeys(p, ['id', 'object', 'name', 'created_at', 'archived_at', 'status', 'external_key_id', 'residency'], 'project');
  assert.equal(p.object, 'organization.project');
  if (id !== undefined) assert.equal(p.id, id);
  assert.match(p.id, /^proj_/);
  assert.equal(p.name, name);
  assertUnixTime(p.created_at, 'created_at');
  if (archived) {
    assert.equal(p.status, 'archived');
    assertUnixTime(p.archived_at, 'archived_at');
  } else {
    assert.equal(p.status, 'active');
    assert.equal(p.archived_at, null);
  }
  assert.equal(p.external_key_id ?? null, null);
}

sdkTest('a project is created, retrieved, renamed, listed and archived', async () => {
  const name = uniqueName('search');
  const created = await projects.create({ name });
  checkProject(created, { name, archived: false });
  assert.deepEqual(await projects.retrieve(created.id), created);

  const renamed = uniqueName('renamed');
  const updated = await projects.update(created.id, { name: renamed });
  checkProject(updated, { id: created.id, name: renamed, archived: false });
  assert.equal(updated.created_at, created.created_at);

  const listed = await all(projects.list({ limit: 1 }));
  const ids = listed.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(listed.find((p) => p.id === created.id), updated);
  checkProject(listed.find((p) => p.name === DEFAULT_PROJECT_NAME), { name: DEFAULT_PROJECT_NAME, archived: false });

  const archived = await projects.archive(created.id);
  checkProject(archived, { id: created.id, name: renamed, archived: true });
  assert.ok(!(await all(projects.list())).some((p) => p.id === created.id), 'archived projects are left out by default');
  const withArchived = await all(projects.list({ include_archived: true, limit: 2 }));
  assert.deepEqual(withArchived.find((p) => p.id === created.id), archived);
});

/** Read every field of a project user. */
function checkProjectUser(u, { id, name, email, role }) {
  assertOnlyKeys(u, ['object', 'id', 'name', 'email', 'role', 'added_at'], 'project user');
  assert.equal(u.object, 'organization.project.user');
  assert.equal(u.id, id);
  assert.equal(u.name, name);
  assert.equal(u.email, email);
  assert.equal(u.role, role);
  assertUnixTime(u.added_at, 'added_at');
}

sdkTest('a member is added to a project, retrieved, listed, given another role and removed', async () => {
  const project = await projects.create({ name: uniqueName('team') });
  const member = await addMember(client, { name: 'Cleo' });
  const other = await addMember(client, { name: 'Dan' });
  const users = projects.users;

  const added = await users.create(project.id, { user_id: member.id, role: 'member' });
  checkProjectUser(added, { id: member.id, name: 'Cleo', email: member.email, role: 'member' });
  await users.create(project.id, { user_id: other.id, role: 'owner' });
  assert.deepEqual(await users.retrieve(member.id, { project_id: project.id }), added);

  const listed = await all(users.list(project.id, { limit: 1 }));
  assert.deepEqual(listed.map((u) => u.id).toSorted(), [member.id, other.id].toSorted());
  assert.deepEqual(listed.find((u) => u.id === member.id), added);

  const promoted = await users.update(member.id, { project_id: project.id, role: 'owner' });
  checkProjectUser(promoted, { id: member.id, name: 'Cleo', email: member.email, role: 'owner' });
  const roles = await all(users.roles.list(member.id, { project_id: project.id }));
  assert.deepEqual(roles.map((r) => r.id), [scopedRoleId(PROJ_OWNER, project.id)]);

  const removed = await users.delete(member.id, { project_id: project.id });
  assertOnlyKeys(removed, ['object', 'id', 'deleted'], 'project user deleted');
  assert.deepEqual(removed, { object: 'organization.project.user.deleted', id: member.id, deleted: true });
  await expectError(() => users.retrieve(member.id, { project_id: project.id }), { status: 404, code: 'not_found' });
  assert.deepEqual((await all(users.list(project.id))).map((u) => u.id), [other.id]);
});

sdkTest('the default project is there from the start', async () => {
  const id = await defaultProjectId(client);
  checkProject(await projects.retrieve(id), { id, name: DEFAULT_PROJECT_NAME, archived: false });
});
