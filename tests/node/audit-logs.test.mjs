// The audit log through the openai npm package: client.admin.organization.auditLogs.list, walked
// with the SDK's auto-pagination and filtered. The log reads newest first, as the real API's does:
// the SDK's walk (following `after`) goes from the newest event to the oldest, never skipping or
// repeating one.

import assert from 'node:assert/strict';

import { addMember, all, assertOnlyKeys, assertUnixTime, ownerUser, sdkTest, startServer, uniqueEmail, uniqueName } from './support.mjs';

const { client } = await startServer();
const auditLogs = client.admin.organization.auditLogs;

/** Read every field of an audit log entry: id, type, time, project, actor and the detail object named by its type. */
function checkEvent(e, owner) {
  assertOnlyKeys(e, ['id', 'type', 'effective_at', 'project', 'actor', e.type], 'audit log entry');
  assert.match(e.id, /^audit_log-/);
  assertUnixTime(e.effective_at, 'effective_at');
  assert.ok(e[e.type] && typeof e[e.type] === 'object', `the ${e.type} detail is there`);
  if ('project' in e) {
    assertOnlyKeys(e.project, ['id', 'name'], 'audit log project');
    assert.match(e.project.id, /^proj_/);
    assert.equal(typeof e.project.name, 'string');
  }
  assertOnlyKeys(e.actor, ['type', 'api_key', 'session'], 'audit log actor');
  assert.equal(e.actor.type, 'api_key');
  assertOnlyKeys(e.actor.api_key, ['id', 'type', 'user', 'service_account'], 'actor api_key');
  assert.match(e.actor.api_key.id, /^key_/);
  assert.equal(e.actor.api_key.type, 'user');
  assert.deepEqual(e.actor.api_key.user, { id: owner.id, email: owner.email });
}

function assertNewestFirst(events) {
  const ids = events.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'no event is listed twice');
  assert.ok(ids.every((id, i) => i === 0 || ids[i - 1] > id), `IDs decrease, newest first: ${ids.join(', ')}`);
  const times = events.map((e) => e.effective_at);
  assert.ok(times.every((t, i) => i === 0 || times[i - 1] >= t), `newest first: ${times.join(', ')}`);
}

sdkTest('what the owner does is in the log, whole, walked page by page', async () => {
  const owner = await ownerUser(client);
  const email = uniqueEmail('audited');
  const member = await addMember(client, { email });
  const project = await client.admin.organization.projects.create({ name: uniqueName('audited') });
  await client.admin.organization.projects.update(project.id, { name: uniqueName('renamed') });
  await client.admin.organization.users.update(member.id, { role: 'owner' });

  const walked = await all(auditLogs.list({ limit: 2 }));
  assertNewestFirst(walked);
  // The newest event is the last change: the member made an owner.
  assert.equal(walked[0].type, 'user.updated');
  assert.equal(walked[0]['user.updated'].id, member.id);
  walked.forEach((e) => checkEvent(e, owner));
  const types = walked.map((e) => e.type);
  for (const t of ['invite.sent', 'invite.accepted', 'user.added', 'project.created', 'project.updated', 'user.updated']) {
    assert.ok(types.includes(t), `${t} is logged (got ${types.join(', ')})`);
  }

  const sent = walked.find((e) => e.type === 'invite.sent');
  assert.equal(sent['invite.sent'].data.email, email);
  const created = walked.find((e) => e.type === 'project.created');
  assert.equal(created['project.created'].id, project.id);
  const updated = walked.find((e) => e.type === 'user.updated');
  assert.equal(updated['user.updated'].id, member.id);
  assert.equal(updated['user.updated'].changes_requested.role, 'owner');

  // One page at a time, the SDK follows the cursor to the same events.
  const first = await auditLogs.list({ limit: 2 });
  assert.equal(first.data.length, 2);
  assert.equal(first.has_more, true);
  assert.equal(first.last_id, first.data[1].id);
  assert.deepEqual(first.data.map((e) => e.id), walked.slice(0, 2).map((e) => e.id));
  const second = await first.getNextPage();
  assert.deepEqual(second.data.map((e) => e.id), walked.slice(2, 4).map((e) => e.id));
});

sdkTest('the log is filtered by event type and by resource', async () => {
  const owner = await ownerUser(client);
  const project = await client.admin.organization.projects.create({ name: uniqueName('filtered') });
  await client.admin.organization.projects.archive(project.id);

  const archived = await all(auditLogs.list({ event_types: ['project.archived'] }));
  assert.deepEqual(archived.map((e) => e.type), ['project.archived']);
  checkEvent(archived[0], owner);
  assert.equal(archived[0]['project.archived'].id, project.id);

  const aboutProject = await all(auditLogs.list({ resource_ids: [project.id], limit: 1 }));
  assertNewestFirst(aboutProject);
  assert.deepEqual(aboutProject.map((e) => e.type), ['project.archived', 'project.created']);

  const byOwner = await all(auditLogs.list({ actor_ids: [owner.id], event_types: ['project.created'] }));
  assert.ok(byOwner.some((e) => e['project.created'].id === project.id));
  assert.deepEqual(await all(auditLogs.list({ actor_emails: ['nobody@example.com'] })), []);
});
