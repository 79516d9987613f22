// The harness of the Node suite: a real `orgadmin serve` process per test file, driven through the
// official `openai` npm package.
//
// - `startServer()` starts `$ORGADMIN_BIN serve` (default <repo>/target/debug/orgadmin) on a free
//   port with a known admin key, on the backend ORGADMIN_TEST_BACKEND selects: `sqlite` (the
//   default, in memory) or `postgres` (a database of its own, `orgadmin_test_[<run>_]<random>`,
//   created with `psql` on ORGADMIN_TEST_POSTGRES_URL, default
//   postgres://postgres@127.0.0.1:5432/postgres, and dropped when the server stops). node --test
//   runs every file in a process of its own, so each file has a server of its own.
// - Every response a client of the suite receives is checked against the official OpenAPI
//   document (../shared/openapi/openai-admin-identity.yaml, or ORGADMIN_OPENAPI), as the Python
//   suite does: the SDK's TypeScript types are not checked at run time. `sdkTest` fails a test
//   that received a response breaking the contract (SPEC §4: x-request-id, no 5xx).
// - `addMember` invites and accepts (the `POST /organization/invites/{id}/accept` extension,
//   through the client's own `post`): the only way to make a member.

import { spawn, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';

import OpenAI from 'openai';
import YAML from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');

export const OWNER_EMAIL = 'owner@example.com';
export const DEFAULT_PROJECT_NAME = 'Default Project';
export const ORG_OWNER = 'role-api-organization-owner';
export const ORG_READER = 'role-api-organization-reader';
export const PROJ_OWNER = 'role-api-project-owner';
export const PROJ_MEMBER = 'role-api-project-member';
export const PROJ_VIEWER = 'role-api-project-viewer';

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomUUID().slice(0, 12)}@example.com`;
export const uniqueName = (prefix = 'name') => `${prefix} ${randomUUID().slice(0, 12)}`;
export const scopedRoleId = (predefined, projectId) => `${predefined}__api-project__${projectId}`;

// ---------------------------------------------------------------------------------------------
// The official OpenAPI document, and a checker for the subset of OpenAPI 3.1 it uses (types,
// required, enum, anyOf/oneOf/allOf, $ref, nullable, items, properties; unknown properties
// allowed, as the spec never forbids them). The same rules as tests/sdk/_support.py.
// ---------------------------------------------------------------------------------------------

function loadDocument() {
  const path = process.env.ORGADMIN_OPENAPI || join(REPO, '..', 'shared', 'openapi', 'openai-admin-identity.yaml');
  if (!existsSync(path)) {
    throw new Error(`OpenAPI document not found at ${path}: set ORGADMIN_OPENAPI to openai-admin-identity.yaml`);
  }
  return YAML.parse(readFileSync(path, 'utf8'));
}

const DOC = loadDocument();
const ROUTES = Object.entries(DOC.paths ?? {})
  .map(([template, item]) => ({
    template,
    item,
    regex: new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  }))
  // Literal segments beat parameters.
  .sort((a, b) => (a.template.match(/\{/g) ?? []).length - (b.template.match(/\{/g) ?? []).length);

/** A schema of the document's components, for answers of routes the document lacks (the SDK's
 * project key update, the orgadmin extensions), checked with `schemaErrors`. */
export function schemaNamed(name) {
  const schema = DOC.components.schemas[name];
  if (!schema) throw new Error(`no schema ${name} in the OpenAPI document`);
  return schema;
}

function resolveRef(schema) {
  while (schema && schema.$ref) {
    let node = DOC;
    for (const part of schema.$ref.slice(2).split('/')) node = node[part];
    schema = node;
  }
  return schema;
}

function responseSchema(method, path, status) {
  if (status >= 400) return DOC.components.schemas.ErrorResponse;
  if (method === 'post' && /^\/organization\/invites\/[^/]+\/accept$/.test(path)) {
    return DOC.components.schemas.User; // the extension route answers an `organization.user`
  }
  for (const { regex, item } of ROUTES) {
    if (!regex.test(path)) continue;
    const op = item[method];
    if (!op) return null;
    const resp = resolveRef(op.responses?.[String(status)] ?? op.responses?.['200']);
    return resp?.content?.['application/json']?.schema ?? null;
  }
  return null;
}

const isType = (value, type) =>
  ({
    null: value === null,
    string: typeof value === 'string',
    boolean: typeof value === 'boolean',
    integer: Number.isInteger(value),
    number: typeof value === 'number',
    array: Array.isArray(value),
    object: value !== null && typeof value === 'object' && !Array.isArray(value),
  })[type] ?? true;

export function schemaErrors(schema, value, where = '$') {
  schema = resolveRef(schema);
  const out = [];
  if (value === null && (schema.nullable || schema.type === 'null')) return out;
  for (const sub of schema.allOf ?? []) out.push(...schemaErrors(sub, value, where));
  for (const key of ['anyOf', 'oneOf']) {
    if (!schema[key]) continue;
    const branches = schema[key].map((sub) => schemaErrors(sub, value, where));
    if (branches.every((b) => b.length > 0)) {
      const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
      out.push(`${where}: matches no ${key} branch (${best.slice(0, 3).join('; ')})`);
    }
  }
  if (schema.type !== undefined) {
    const types = [...(Array.isArray(schema.type) ? schema.type : [schema.type]), ...(schema.nullable ? ['null'] : [])];
    if (!types.some((t) => isType(value, t))) {
      out.push(`${where}: expected ${types.join('/')}, got ${JSON.stringify(value)?.slice(0, 80)}`);
      return out;
    }
  }
  if (schema.enum && !schema.enum.includes(value) && !(value === null && schema.nullable)) {
    out.push(`${where}: ${JSON.stringify(value)} not one of ${JSON.stringify(schema.enum)}`);
  }
  if (isType(value, 'object')) {
    for (const name of schema.required ?? []) {
      if (!(name in value)) out.push(`${where}: missing required property '${name}'`);
    }
    for (const [name, sub] of Object.entries(schema.properties ?? {})) {
      if (name in value) out.push(...schemaErrors(sub, value[name], `${where}.${name}`));
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => out.push(...schemaErrors(schema.items, item, `${where}[${i}]`)));
  }
  return out;
}

/** Contract violations seen since the current test started. */
const violations = [];

async function checkResponse(method, url, response) {
  const { pathname } = new URL(url);
  const label = `${method} ${url} -> ${response.status}`;
  if (!response.headers.get('x-request-id')) violations.push(`${label}: no x-request-id header`);
  if (!pathname.startsWith('/v1/')) return;
  const text = await response.clone().text();
  if (response.status >= 500) {
    violations.push(`${label}: 5xx (SPEC §4: no input ever produces a 5xx): ${text.slice(0, 300)}`);
  }
  const schema = responseSchema(method.toLowerCase(), pathname.slice('/v1'.length), response.status);
  if (!schema) return;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    violations.push(`${label}: body is not JSON: ${text.slice(0, 200)}`);
    return;
  }
  const errors = schemaErrors(schema, value);
  if (errors.length) {
    violations.push(`${label}: does not validate against the OpenAPI document: ${errors.slice(0, 8).join('; ')}`);
  }
}

async function checkedFetch(input, init) {
  const response = await fetch(input, init);
  const url = typeof input === 'string' ? input : input.url ?? String(input);
  await checkResponse(init?.method ?? 'GET', url, response);
  return response;
}

/** A test that also fails when any response it received broke the contract. */
export function sdkTest(name, fn) {
  test(name, async (t) => {
    violations.length = 0;
    await fn(t);
    const seen = violations.splice(0);
    assert.deepEqual(seen, [], `responses broke the contract:\n  ${seen.join('\n  ')}`);
  });
}

// ---------------------------------------------------------------------------------------------
// The database and the server
// ---------------------------------------------------------------------------------------------

export function backend() {
  const v = (process.env.ORGADMIN_TEST_BACKEND ?? '').toLowerCase();
  if (v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'postgres' || v === 'postgresql') return 'postgres';
  throw new Error(`ORGADMIN_TEST_BACKEND must be 'sqlite' or 'postgres', not '${v}'`);
}

const postgresAdminUrl = () => process.env.ORGADMIN_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

function psql(adminUrl, sql) {
  execFileSync('psql', ['--no-psqlrc', '-X', '-v', 'ON_ERROR_STOP=1', '-Atq', '--dbname', adminUrl, '-c', sql], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** `url` with its database replaced by `name`. */
function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database: `sqlite::memory:`, or a PostgreSQL database of its own that `drop()` removes. */
function createDatabase() {
  if (backend() === 'sqlite') return { url: 'sqlite::memory:', drop() {} };
  const adminUrl = postgresAdminUrl();
  const run = process.env.ORGADMIN_TEST_RUN_ID ?? '';
  if (run && !/^[A-Za-z0-9]{1,24}$/.test(run)) {
    throw new Error(`ORGADMIN_TEST_RUN_ID must be at most 24 letters and digits, not '${run}'`);
  }
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const suffix = Array.from(randomBytes(16), (b) => alphabet[b % alphabet.length]).join('');
  const name = run ? `orgadmin_test_${run.toLowerCase()}_${suffix}` : `orgadmin_test_${suffix}`;
  try {
    psql(adminUrl, `CREATE DATABASE "${name}"`);
  } catch (e) {
    throw new Error(`ORGADMIN_TEST_BACKEND=postgres, but no database could be created on ORGADMIN_TEST_POSTGRES_URL=${adminUrl}: ${e.stderr ?? e}`);
  }
  let dropped = false;
  return {
    url: withDatabase(adminUrl, name),
    drop() {
      if (dropped) return;
      dropped = true;
      psql(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start one `orgadmin serve` with a fresh database, stopped (and its database dropped) when the
 * test file ends. Returns `{ client, adminKey, baseUrl, makeClient, output }`.
 */
export async function startServer() {
  const binary = process.env.ORGADMIN_BIN || join(REPO, 'target', 'debug', 'orgadmin');
  if (!existsSync(binary)) throw new Error(`server binary ${binary} not found: run \`cargo build\` or set ORGADMIN_BIN`);
  const adminKey = 'sk-admin-' + randomBytes(30).toString('base64url').replace(/[-_]/g, 'x').slice(0, 40);
  const port = await freePort();
  const database = createDatabase();
  let log = '';
  const child = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--database', database.url], {
    env: { ...process.env, ORGADMIN_ADMIN_KEY: adminKey, ORGADMIN_OWNER_EMAIL: OWNER_EMAIL, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => child.once('exit', r));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    database.drop();
  };
  after(stop);

  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`orgadmin exited with status ${child.exitCode} before becoming healthy:\n${log}`);
    }
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`orgadmin not healthy after 20s:\n${log}`);
    }
    await sleep(50);
  }

  const makeClient = (key) =>
    new OpenAI({ adminAPIKey: key, apiKey: 'unused', baseURL: baseUrl, maxRetries: 0, fetch: checkedFetch });
  return { client: makeClient(adminKey), adminKey, baseUrl, makeClient, output: () => log };
}

// ---------------------------------------------------------------------------------------------
// Domain helpers
// ---------------------------------------------------------------------------------------------

/** The `POST /organization/invites/{invite_id}/accept` extension, through the client's own `post`. */
export function acceptInvite(client, inviteId, name = 'Display Name') {
  return client.post(`/organization/invites/${inviteId}/accept`, {
    body: name === null ? {} : { name },
    __security: { adminAPIKeyAuth: true },
  });
}

/** Invite `email` and accept the invite: the only way to make an organization member. */
export async function addMember(client, { email = uniqueEmail(), name, role = 'reader', projects = [] } = {}) {
  const invite = await client.admin.organization.invites.create({ email, role, projects });
  return acceptInvite(client, invite.id, name ?? `User ${email.split('@')[0]}`);
}

/** Every item of a list, through the SDK's auto-pagination. */
export async function all(pagePromise) {
  const out = [];
  for await (const item of pagePromise) out.push(item);
  return out;
}

export async function defaultProjectId(client) {
  for await (const p of client.admin.organization.projects.list({ limit: 100, include_archived: true })) {
    if (p.name === DEFAULT_PROJECT_NAME) return p.id;
  }
  throw new Error("no project named 'Default Project'");
}

export async function ownerUser(client) {
  const page = await client.admin.organization.users.list({ emails: [OWNER_EMAIL] });
  assert.equal(page.data.length, 1);
  return page.data[0];
}

/** A Unix time in seconds, not in the future, and after 2020. */
export function assertUnixTime(value, what) {
  assert.ok(Number.isInteger(value), `${what}: ${value} is not an integer`);
  assert.ok(value > 1_577_836_800 && value <= Date.now() / 1000 + 5, `${what}: ${value} is not a plausible Unix time`);
}

/** Fail if `obj` has a key not in `known`: every field the server sends is read by the suite. */
export function assertOnlyKeys(obj, known, what) {
  const extra = Object.keys(obj).filter((k) => !known.includes(k));
  assert.deepEqual(extra, [], `${what} has fields the suite does not read: ${extra.join(', ')}`);
}

/** Run an SDK call that must fail with `status` and `code`; checks the error envelope. */
export async function expectError(call, { status, code, param }) {
  let err;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof OpenAI.APIError, `expected an API error, got ${err}`);
  assert.equal(err.status, status, `${err.message}`);
  assert.equal(err.code, code, `${err.message}`);
  assert.equal(err.type, 'invalid_request_error');
  if (param !== undefined) assert.equal(err.param, param);
  assert.ok(err.requestID, 'the error carries the request ID');
  return err;
}
