// Organization roles and project roles through the openai npm package:
// client.admin.organization.roles and client.admin.organization.projects.roles.

import assert from 'node:assert/strict';

import {
  PROJ_MEMBER, PROJ_OWNER, PROJ_VIEWER, all, assertOnlyKeys, expectError, scopedRoleId, sdkTest, startServer,
  uniqueName,
} from './support.mjs';

const { client } = await startServer();
const roles = client.admin.organization.roles;

/** Read every field of a role. */
function checkRole(r, { id, name, permissions, description, resourceType, predefined }) {
  assertOnlyKeys(r, ['object', 'id', 'name', 'description', 'permissions', 'resource_type', 'predefined_role'], 'role');
  assert.equal(r.object, 'role');
  if (id !== undefined) assert.equal(r.id, id);
  assert.equal(r.name, name);
  if (description !== undefined) assert.equal(r.description, description);
  assert.deepEqual(r.permissions.toSorted(), permissions.toSorted());
  assert.equal(r.resource_type, resourceType);
  assert.equal(r.predefined_role, predefined);
}

sdkTest('an organization role is created, retrieved, listed, updated and deleted', async () => {
  const name = uniqueName('auditor');
  const created = await roles.create({ role_name: name, permissions: ['api.organization.audit_logs.read'], description: 'reads the log' });
  checkRole(created, { name, permissions: ['api.organization.audit_logs.read'], description: 'reads the log', resourceType: 'api.organization', predefined: false });
  assert.match(created.id, /^role_/);
  assert.deepEqual(await roles.retrieve(created.id), created);

  // The predefined roles come first; auto-pagination with one role per page reaches the new one.
  const listed = await all(roles.list({ limit: 1 }));
  const ids = listed.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(listed.find((r) => r.id === created.id), created);
  for (const r of listed) assert.equal(r.resource_type, 'api.organization');

  const renamed = uniqueName('renamed');
  const updated = await roles.update(created.id, { role_name: renamed, permissions: ['api.groups.read', 'api.groups.write'] });
  checkRole(updated, { id: created.id, name: renamed, permissions: ['api.groups.read', 'api.groups.write'], description: 'reads the log', resourceType: 'api.organization', predefined: false });

  const deleted = await roles.delete(created.id);
  assertOnlyKeys(deleted, ['object', 'id', 'deleted'], 'role.deleted');
  assert.deepEqual(deleted, { object: 'role.deleted', id: created.id, deleted: true });
  await expectError(() => roles.retrieve(created.id), { status: 404, code: 'not_found' });
});

sdkTest('a project lists its predefined roles scoped to it, and keeps a custom role of its own', async () => {
  const project = await client.admin.organization.projects.create({ name: uniqueName('roles') });
  const projectRoles = client.admin.organization.projects.roles;

  const predefined = await all(projectRoles.list(project.id, { limit: 1 }));
  const ids = predefined.map((r) => r.id);
  for (const base of [PROJ_OWNER, PROJ_MEMBER, PROJ_VIEWER]) assert.ok(ids.includes(scopedRoleId(base, project.id)), `${base} is listed`);
  for (const r of predefined) {
    assert.equal(r.resource_type, 'api.project');
    assert.equal(r.predefined_role, true);
    assert.ok(r.permissions.length > 0);
  }

  const name = uniqueName('deployer');
  const created = await projectRoles.create(project.id, { role_name: name, permissions: ['api.files.read'], description: 'reads files' });
  checkRole(created, { name, permissions: ['api.files.read'], description: 'reads files', resourceType: 'api.project', predefined: false });
  assert.deepEqual(await projectRoles.retrieve(created.id, { project_id: project.id }), created);

  const updated = await projectRoles.update(created.id, { project_id: project.id, permissions: ['api.files.read', 'api.files.write'] });
  checkRole(updated, { id: created.id, name, permissions: ['api.files.read', 'api.files.write'], resourceType: 'api.project', predefined: false });
  const listed = await all(projectRoles.list(project.id));
  assert.deepEqual(listed.find((r) => r.id === created.id), updated);

  const deleted = await projectRoles.delete(created.id, { project_id: project.id });
  assert.deepEqual(deleted, { object: 'role.deleted', id: created.id, deleted: true });
  assert.ok(!(await all(projectRoles.list(project.id))).some((r) => r.id === created.id));
});
