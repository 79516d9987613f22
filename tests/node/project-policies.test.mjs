// What a project may use through the openai npm package:
// client.admin.organization.projects.modelPermissions (retrieve, update, delete),
// …projects.hostedToolPermissions (retrieve, update) and …projects.rateLimits (listRateLimits,
// updateRateLimit). Model permissions and rate limits are round-tripped, every field of the
// answers read, and the audit events read back.

import assert from 'node:assert/strict';

import { all, assertOnlyKeys, expectError, sdkTest, startServer, uniqueName } from './support.mjs';

const server = await startServer();
const { client } = server;
const projects = client.admin.organization.projects;
const TOOLS = ['file_search', 'web_search', 'image_generation', 'mcp', 'code_interpreter'];
const LIMITS = [
  'max_requests_per_1_minute',
  'max_tokens_per_1_minute',
  'max_images_per_1_minute',
  'max_audio_megabytes_per_1_minute',
  'max_requests_per_1_day',
  'batch_1_day_max_input_tokens',
];

const newProject = async () => (await projects.create({ name: uniqueName('policies') })).id;

async function details(kind, resource) {
  const events = await all(client.admin.organization.auditLogs.list({ event_types: [kind], resource_ids: [resource] }));
  return events.map((e) => e[kind]);
}

function readTools(tools) {
  assertOnlyKeys(tools, TOOLS, 'hosted tool permissions');
  return Object.fromEntries(TOOLS.map((t) => [t, tools[t].enabled]));
}

function readRateLimit(limit) {
  assertOnlyKeys(limit, ['object', 'id', 'model', ...LIMITS], 'a rate limit');
  assert.equal(limit.object, 'project.rate_limit');
  assert.equal(limit.id, `rl-${limit.model}`);
  assert.ok(Number.isInteger(limit.max_requests_per_1_minute) && limit.max_requests_per_1_minute > 0);
  assert.ok(Number.isInteger(limit.max_tokens_per_1_minute) && limit.max_tokens_per_1_minute > 0);
  return limit;
}

sdkTest('model permissions round-trip, replace and delete back to nothing denied', async () => {
  const project = await newProject();
  const fresh = await projects.modelPermissions.retrieve(project);
  assertOnlyKeys(fresh, ['object', 'mode', 'model_ids'], 'model permissions');
  assert.deepEqual(fresh, { object: 'project.model_permissions', mode: 'deny_list', model_ids: [] });

  const set = await projects.modelPermissions.update(project, { mode: 'allow_list', model_ids: ['o3', 'gpt-4.1', 'o3'] });
  assert.deepEqual([set.mode, set.model_ids], ['allow_list', ['o3', 'gpt-4.1']]);
  assert.deepEqual(await projects.modelPermissions.retrieve(project), set);

  const deleted = await projects.modelPermissions.delete(project);
  assertOnlyKeys(deleted, ['object', 'deleted'], 'deleted model permissions');
  assert.deepEqual(deleted, { object: 'project.model_permissions.deleted', deleted: true });
  assert.deepEqual((await projects.modelPermissions.retrieve(project)).model_ids, []);

  assert.deepEqual(await details('project.updated', project), [
    { id: project, changes_requested: { model_permissions: null } },
    { id: project, changes_requested: { model_permissions: { mode: 'allow_list', model_ids: ['o3', 'gpt-4.1'] } } },
  ]);
  await expectError(() => projects.modelPermissions.update(project, { mode: 'allow_list', model_ids: ['gpt-9'] }), {
    status: 400,
    code: 'invalid_value',
    param: 'model_ids',
  });
});

sdkTest('hosted tools change only the tools named', async () => {
  const project = await newProject();
  assert.deepEqual(readTools(await projects.hostedToolPermissions.retrieve(project)), Object.fromEntries(TOOLS.map((t) => [t, true])));
  const changed = await projects.hostedToolPermissions.update(project, { code_interpreter: { enabled: false } });
  const expected = Object.fromEntries(TOOLS.map((t) => [t, t !== 'code_interpreter']));
  assert.deepEqual(readTools(changed), expected);
  assert.deepEqual(readTools(await projects.hostedToolPermissions.retrieve(project)), expected);
  assert.deepEqual(await details('project.updated', project), [
    { id: project, changes_requested: { hosted_tool_permissions: { code_interpreter: { enabled: false } } } },
  ]);
  await expectError(() => projects.hostedToolPermissions.update(project, { browser: { enabled: true } }), {
    status: 400,
    code: 'invalid_value',
    param: 'browser',
  });
});

sdkTest('rate limits are listed per catalogue model and updated within the organization limits', async () => {
  const project = await newProject();
  const listed = (await all(projects.rateLimits.listRateLimits(project))).map(readRateLimit);
  assert.ok(listed.length > 5);
  const small = await all(projects.rateLimits.listRateLimits(project, { limit: 4 }));
  assert.deepEqual(small.map((r) => r.id), listed.map((r) => r.id), 'the auto-pagination walks the same list');
  const image = listed.find((r) => r.model === 'gpt-image-1');
  assert.ok(image.max_images_per_1_minute > 0);
  const gpt4o = listed.find((r) => r.model === 'gpt-4o');
  assert.equal(gpt4o.max_images_per_1_minute, undefined);

  const updated = readRateLimit(
    await projects.rateLimits.updateRateLimit('rl-gpt-4o', { project_id: project, max_requests_per_1_minute: 500 }),
  );
  assert.deepEqual(
    [updated.id, updated.max_requests_per_1_minute, updated.max_tokens_per_1_minute],
    ['rl-gpt-4o', 500, gpt4o.max_tokens_per_1_minute],
  );
  const again = (await all(projects.rateLimits.listRateLimits(project))).find((r) => r.id === 'rl-gpt-4o');
  assert.deepEqual(again, updated);
  assert.deepEqual(await details('rate_limit.updated', 'rl-gpt-4o'), [
    { id: 'rl-gpt-4o', changes_requested: { max_requests_per_1_minute: 500 } },
  ]);
  await expectError(
    () =>
      projects.rateLimits.updateRateLimit('rl-gpt-4o', {
        project_id: project,
        max_requests_per_1_minute: gpt4o.max_requests_per_1_minute + 1,
      }),
    { status: 400, code: 'invalid_value', param: 'max_requests_per_1_minute' },
  );
  await expectError(
    () => projects.rateLimits.updateRateLimit('rl-nothing', { project_id: project, max_requests_per_1_minute: 1 }),
    { status: 404, code: 'not_found', param: 'rate_limit_id' },
  );
});

sdkTest('an archived project keeps its policies readable and refuses changes', async () => {
  const project = await newProject();
  await projects.archive(project);
  assert.deepEqual((await projects.modelPermissions.retrieve(project)).model_ids, []);
  await expectError(() => projects.modelPermissions.update(project, { mode: 'deny_list', model_ids: [] }), {
    status: 409,
    code: 'project_archived',
    param: 'project_id',
  });
  await expectError(
    () => projects.rateLimits.updateRateLimit('rl-o3', { project_id: project, max_requests_per_1_minute: 1 }),
    { status: 409, code: 'project_archived', param: 'project_id' },
  );
});
