// Invites through the openai npm package: client.admin.organization.invites (create, retrieve,
// list, delete), and the accept extension through the client's own `post`.

import assert from 'node:assert/strict';

import {
  acceptInvite, all, assertOnlyKeys, assertUnixTime, defaultProjectId, expectError, sdkTest, startServer,
  uniqueEmail, uniqueName,
} from './support.mjs';

const { client } = await startServer();
const invites = client.admin.organization.invites;

/** Read every field of an invite. */
function checkInvite(i, { id, email, role, status, projects }) {
  assertOnlyKeys(i, ['object', 'id', 'email', 'role', 'status', 'created_at', 'expires_at', 'accepted_at', 'projects'], 'invite');
  assert.equal(i.object, 'organization.invite');
  if (id !== undefined) assert.equal(i.id, id);
  assert.match(i.id, /^invite-/);
  assert.equal(i.email, email);
  assert.equal(i.role, role);
  assert.equal(i.status, status);
  assertUnixTime(i.created_at, 'created_at');
  assert.ok(Number.isInteger(i.expires_at) && i.expires_at > i.created_at, 'an invite expires after it was made');
  if (status === 'accepted') assertUnixTime(i.accepted_at, 'accepted_at');
  else assert.equal(i.accepted_at, null);
  assert.deepEqual(i.projects, projects);
}

sdkTest('an invite names its projects, is retrieved and listed, and is accepted once', async () => {
  const project = await client.admin.organization.projects.create({ name: uniqueName('invited') });
  const email = uniqueEmail('invitee');
  const projects = [{ id: project.id, role: 'owner' }];
  const created = await invites.create({ email, role: 'reader', projects });
  checkInvite(created, { email, role: 'reader', status: 'pending', projects });
  assert.deepEqual(await invites.retrieve(created.id), created);

  const others = [await invites.create({ email: uniqueEmail(), role: 'owner' }), await invites.create({ email: uniqueEmail(), role: 'reader' })];
  const listed = await all(invites.list({ limit: 1 }));
  const ids = listed.map((i) => i.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const i of [created, ...others]) assert.ok(ids.includes(i.id));
  assert.deepEqual(listed.find((i) => i.id === created.id), created);
  // An invite that names no project gives the default project, as a member.
  const defaultId = await defaultProjectId(client);
  checkInvite(others[0], { email: others[0].email, role: 'owner', status: 'pending', projects: [{ id: defaultId, role: 'member' }] });

  const user = await acceptInvite(client, created.id, 'Invitee');
  assert.equal(user.object, 'organization.user');
  assert.equal(user.email, email);
  assert.equal(user.role, 'reader');
  checkInvite(await invites.retrieve(created.id), { id: created.id, email, role: 'reader', status: 'accepted', projects });
  const member = await client.admin.organization.projects.users.retrieve(user.id, { project_id: project.id });
  assert.equal(member.role, 'owner');
});

sdkTest('a pending invite is deleted and then gone', async () => {
  const invite = await invites.create({ email: uniqueEmail('withdrawn'), role: 'reader' });
  const deleted = await invites.delete(invite.id);
  assertOnlyKeys(deleted, ['object', 'id', 'deleted'], 'invite deleted');
  assert.deepEqual(deleted, { object: 'organization.invite.deleted', id: invite.id, deleted: true });
  await expectError(() => invites.retrieve(invite.id), { status: 404, code: 'not_found' });
  assert.ok(!(await all(invites.list())).some((i) => i.id === invite.id));
});
