// Case mapping, paths and result shape, through a fake `fetch` (the SDK's only boundary).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';

import { SymbiontClient, VERSION } from '@symbiont/sdk-js';

/** A fetch that records each request and answers with `reply(request)` (default: `{}`). */
function fakeFetch(reply = () => ({})) {
  const calls = [];
  const fetch = async (url, init) => {
    const request = {
      url: new URL(url),
      method: init.method,
      headers: init.headers,
      body: init.body === undefined ? undefined : JSON.parse(init.body),
    };
    calls.push(request);
    return Response.json(reply(request), { status: 200 });
  };
  return { fetch, calls };
}

function clientWith(fake, options = {}) {
  return new SymbiontClient({ baseUrl: 'http://daemon:8080', apiKey: 'k', fetch: fake.fetch, ...options });
}

const JOB = {
  id: 'j1',
  name: 'daily-backup',
  agent_id: 'backup-agent',
  next_run: '2026-01-02T02:00:00Z',
  webhook_headers: { X_Trace_Id: '***' },
  policy: { require_approval: true, allowed_hours: { start: '09:00', end: '17:00', timezone: 'UTC' } },
  heartbeat: { enabled: false, context_mode: 'ephemeral_with_summary', max_iterations: 10 },
};

describe('requests: camelCase in, snake_case on the wire', () => {
  test('create maps every field, deep, and keeps webhookHeaders keys as written', async () => {
    const fake = fakeFetch(() => JOB);
    await clientWith(fake).schedule.create({
      name: 'daily-backup',
      agentId: 'backup-agent',
      cronExpr: '0 0 2 * * *',
      sessionMode: 'ephemeral_with_summary',
      delivery: ['webhook'],
      webhookUrl: 'https://backup.example.com/notify',
      webhookHeaders: { 'X-Api-Key': '${TOKEN}', someHeader: 'v' },
      policy: { requireApproval: true, allowedHours: { start: '09:00', end: '17:00' } },
      heartbeat: { enabled: true, contextMode: 'fully_ephemeral', maxIterations: 3 },
      agentPinJwt: 'jwt',
      description: undefined,
    });
    const [call] = fake.calls;
    assert.equal(call.method, 'POST');
    assert.equal(call.url.pathname, '/api/v1/schedule');
    assert.deepEqual(call.body, {
      name: 'daily-backup',
      agent_id: 'backup-agent',
      cron_expr: '0 0 2 * * *',
      session_mode: 'ephemeral_with_summary',
      delivery: ['webhook'],
      webhook_url: 'https://backup.example.com/notify',
      webhook_headers: { 'X-Api-Key': '${TOKEN}', someHeader: 'v' },
      policy: { require_approval: true, allowed_hours: { start: '09:00', end: '17:00' } },
      heartbeat: { enabled: true, context_mode: 'fully_ephemeral', max_iterations: 3 },
      agent_pin_jwt: 'jwt',
    });
    assert.equal(call.headers['Content-Type'], 'application/json');
  });

  test('snake_case keys pass unchanged, acronyms become one word, Dates become RFC 3339', async () => {
    const fake = fakeFetch(() => JOB);
    const at = new Date('2030-05-01T10:00:00Z');
    await clientWith(fake).schedule.update('j1', { cron_expr: '@daily', webhookURL: 'u', at });
    assert.deepEqual(fake.calls[0].body, {
      cron_expr: '@daily',
      webhook_url: 'u',
      at: '2030-05-01T10:00:00.000Z',
    });
    assert.equal(fake.calls[0].method, 'PUT');
  });

  test('query filters are mapped to snake_case and empty ones are left out', async () => {
    const fake = fakeFetch(() => []);
    const client = clientWith(fake);
    await client.schedule.list({ status: 'active', agentId: 'backup-agent', namePrefix: undefined, limit: 5 });
    await client.audit.query({ jobId: 'j1', afterId: 3, since: new Date('2026-01-01T00:00:00Z'), type: null });
    assert.deepEqual(Object.fromEntries(fake.calls[0].url.searchParams), {
      status: 'active',
      agent_id: 'backup-agent',
      limit: '5',
    });
    assert.deepEqual(Object.fromEntries(fake.calls[1].url.searchParams), {
      job_id: 'j1',
      after_id: '3',
      since: '2026-01-01T00:00:00.000Z',
    });
  });

  test('every method hits its route, with ids and names path-encoded', async () => {
    const fake = fakeFetch(() => JOB);
    const { schedule, runs, approvals, audit } = clientWith(fake);
    await schedule.get('my job');
    await schedule.delete('j1');
    await schedule.pause('j1');
    await schedule.resume('j1');
    await schedule.reset('j1');
    await schedule.runNow('j1', { input: 'Backup database' });
    await schedule.runNow('j1', 'text input');
    await schedule.runNow('j1', { wait: true, waitTimeout: 5 });
    await schedule.getHistory('j1', { limit: 10, status: 'failed' });
    await schedule.nextRun('j1', { count: 3 });
    await schedule.health();
    await runs.get('r1');
    await runs.approve('r1');
    await runs.reject('r1', { reason: 'not now' });
    await approvals.list({ limit: 7 });
    await audit.verify();
    const seen = fake.calls.map((c) => `${c.method} ${c.url.pathname}${c.url.search}`);
    assert.deepEqual(seen, [
      'GET /api/v1/schedule/my%20job',
      'DELETE /api/v1/schedule/j1',
      'POST /api/v1/schedule/j1/pause',
      'POST /api/v1/schedule/j1/resume',
      'POST /api/v1/schedule/j1/reset',
      'POST /api/v1/schedule/j1/run',
      'POST /api/v1/schedule/j1/run',
      'POST /api/v1/schedule/j1/run?wait=true&wait_timeout=5',
      'GET /api/v1/schedule/j1/history?limit=10&status=failed',
      'GET /api/v1/schedule/j1/next_run?count=3',
      'GET /api/v1/health/scheduler',
      'GET /api/v1/runs/r1',
      'POST /api/v1/runs/r1/approve',
      'POST /api/v1/runs/r1/reject',
      'GET /api/v1/approvals?limit=7',
      'GET /api/v1/audit/verify',
    ]);
    const bodies = fake.calls.map((c) => c.body);
    assert.deepEqual(bodies[5], { input: 'Backup database' });
    assert.deepEqual(bodies[6], { input: 'text input' });
    assert.equal(bodies[7], undefined);
    assert.deepEqual(bodies[13], { reason: 'not now' });
  });

  test('the API key goes in a Bearer header, and the base URL may end in / or /api/v1', async () => {
    const fake = fakeFetch(() => ({}));
    await clientWith(fake, { baseUrl: 'http://daemon:8080/api/v1/' }).schedule.health();
    await clientWith(fake, { apiKey: undefined }).schedule.health();
    assert.equal(fake.calls[0].url.href, 'http://daemon:8080/api/v1/health/scheduler');
    assert.equal(fake.calls[0].headers.Authorization, 'Bearer k');
    assert.match(fake.calls[0].headers['User-Agent'], /^symbiont-sdk-js\//);
  });

  test('an empty job id is refused before any request (it would name the list route)', async () => {
    const fake = fakeFetch();
    const client = clientWith(fake);
    await assert.rejects(client.schedule.get(''), TypeError);
    await assert.rejects(client.runs.get(undefined), /run id must be a non-empty string/);
    assert.equal(fake.calls.length, 0);
  });
});

describe('results: snake_case as returned, plus camelCase aliases', () => {
  test('both names read the same value, at every depth', async () => {
    const job = await clientWith(fakeFetch(() => structuredClone(JOB))).schedule.get('j1');
    assert.equal(job.next_run, '2026-01-02T02:00:00Z');
    assert.equal(job.nextRun, job.next_run);
    assert.equal(job.agentId, 'backup-agent');
    assert.equal(job.policy.requireApproval, true);
    assert.equal(job.policy.allowedHours.start, '09:00');
    assert.equal(job.heartbeat.maxIterations, 10);
    assert.equal(job.webhookHeaders, job.webhook_headers);
  });

  test('aliases are non-enumerable: JSON and Object.keys show the wire form only', async () => {
    const job = await clientWith(fakeFetch(() => structuredClone(JOB))).schedule.get('j1');
    assert.deepEqual(JSON.parse(JSON.stringify(job)), JOB);
    assert.deepEqual(Object.keys(job), Object.keys(JOB));
    assert.deepEqual(Object.keys(job.webhook_headers), ['X_Trace_Id']);
    assert.equal(job.webhook_headers.xTraceId, undefined);
  });

  test('an alias is writable and writes the snake_case field', async () => {
    const job = await clientWith(fakeFetch(() => structuredClone(JOB))).schedule.get('j1');
    job.nextRun = null;
    assert.equal(job.next_run, null);
  });

  test('lists are arrays of aliased objects (the spec reads run.execution_time_ms)', async () => {
    const runs = [{ id: 'r1', status: 'succeeded', execution_time_ms: 12, deliveries: [{ channel: 'webhook', status: 'failed', error: 'x' }] }];
    const history = await clientWith(fakeFetch(() => runs)).schedule.getHistory('j1', { limit: 10 });
    assert.ok(Array.isArray(history));
    assert.equal(history[0].execution_time_ms, 12);
    assert.equal(history[0].executionTimeMs, 12);
    assert.equal(history[0].deliveries[0].channel, 'webhook');
  });

  test('getStatus is the job, with its last runs under history when asked', async () => {
    const fake = fakeFetch((r) => (r.url.pathname.endsWith('/history') ? [{ id: 'r1' }] : structuredClone(JOB)));
    const client = clientWith(fake);
    const plain = await client.schedule.getStatus('daily-backup');
    assert.equal(plain.next_run, JOB.next_run);
    assert.equal(plain.history, undefined);
    const withRuns = await client.schedule.getStatus('daily-backup', { history: 5 });
    assert.deepEqual(withRuns.history.map((r) => r.id), ['r1']);
    assert.equal(fake.calls.at(-1).url.search, '?limit=5');
    assert.equal(fake.calls.at(-1).url.pathname, '/api/v1/schedule/j1/history');
  });
});

test('VERSION matches package.json', async () => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
  assert.equal(pkg.name, '@symbiont/sdk-js');
  assert.deepEqual(pkg.dependencies ?? {}, {});
});
