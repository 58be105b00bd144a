// The SDK against a live daemon: set SYMBI_URL (and SYMBI_API_KEY when the daemon has keys).
// The daemon must know an agent named `backup-agent` that answers at once, e.g.
//   agent backup-agent { handler: "symbiont.testing.agents:echo" }
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';

import {
  AuthError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  SymbiontClient,
  ValidationError,
} from '@symbiont/sdk-js';

const BASE_URL = process.env.SYMBI_URL;
const API_KEY = process.env.SYMBI_API_KEY;
const skip = BASE_URL
  ? false
  : 'SYMBI_URL is not set: start a daemon (`symbi up`) and set SYMBI_URL (and SYMBI_API_KEY) to run the live tests';
const AGENT = 'backup-agent';
/** Job names of this run, so parallel test files and reruns never collide. */
const PREFIX = `sdkjs-${process.pid}-${Date.now().toString(36)}`;

const client = new SymbiontClient({ baseUrl: BASE_URL, apiKey: API_KEY });
const created = new Set();

/** Create a job named `<PREFIX>-<suffix>` and remember it for clean-up. */
async function createJob(suffix, fields = {}) {
  const job = await client.schedule.create({ name: `${PREFIX}-${suffix}`, agentId: AGENT, cronExpr: '0 0 2 * * *', ...fields });
  created.add(job.id);
  return job;
}

/** Poll a run until `done(run)`; fail after `deadlineMs`. */
async function waitForRun(runId, done, deadlineMs = 15_000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const run = await client.runs.get(runId);
    if (done(run)) return run;
    if (Date.now() > end) assert.fail(`run ${runId} still ${run.status} after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

after(async () => {
  if (skip) return;
  for (const id of created) await client.schedule.delete(id).catch(() => {});
});

describe('live daemon', { skip }, () => {
  test('a job lives through the spec lifecycle with camelCase fields and aliased results', async () => {
    const job = await createJob('lifecycle', {
      timezone: 'Europe/Paris',
      sessionMode: 'fully_ephemeral',
      webhookHeaders: { 'X-Api-Key': '${BACKUP_TOKEN}' },
      policy: { maxRuntime: '5m', allowedEnvironments: [] },
      heartbeat: { enabled: false, maxIterations: 4 },
      maxConcurrent: 2,
      jitterSeconds: 0,
      misfirePolicy: 'skip',
      description: 'made by the JS SDK tests',
    });
    assert.match(job.id, /^[0-9a-f-]{36}$/);
    assert.equal(job.agent_id, AGENT);
    assert.equal(job.agentId, AGENT);
    assert.equal(job.session_mode, 'fully_ephemeral');
    assert.equal(job.misfirePolicy, 'skip');
    assert.equal(job.maxConcurrent, 2);
    assert.equal(job.heartbeat.maxIterations, 4);
    assert.equal(job.policy.maxRuntimeS, 300);
    assert.deepEqual(Object.keys(job.webhookHeaders), ['X-Api-Key']);
    assert.equal(job.source, 'api');
    assert.ok(job.nextRun);

    const byName = await client.schedule.get(job.name);
    assert.equal(byName.id, job.id);
    const listed = await client.schedule.list({ agentId: AGENT, status: 'active', namePrefix: `${PREFIX}-lifecycle` });
    assert.deepEqual(listed.map((j) => j.id), [job.id]);

    const updated = await client.schedule.update(job.id, { cronExpr: '0 30 4 * * *' });
    assert.equal(updated.cronExpr, '0 30 4 * * *');
    const upcoming = await client.schedule.nextRun(job.id, { count: 3 });
    assert.equal(upcoming.nextRuns.length, 3);
    assert.equal(upcoming.next_run, upcoming.next_runs[0]);
    assert.equal(upcoming.jobId, job.id);

    assert.equal((await client.schedule.pause(job.id)).status, 'paused');
    assert.equal((await client.schedule.getStatus(job.id)).status, 'paused');
    assert.equal((await client.schedule.nextRun(job.id)).nextRun, null);
    assert.equal((await client.schedule.resume(job.id)).status, 'active');

    const run = await client.schedule.runNow(job.id, { input: 'Backup database', wait: true });
    assert.equal(run.status, 'succeeded');
    assert.equal(run.jobId, job.id);
    assert.equal(run.trigger, 'manual');
    assert.match(run.output, /Backup database/);
    assert.equal(typeof run.execution_time_ms, 'number');
    assert.equal(run.executionTimeMs, run.execution_time_ms);

    const fetched = await client.runs.get(run.id);
    assert.equal(fetched.finishedAt, run.finished_at);
    const history = await client.schedule.getHistory(job.id, { limit: 10, status: 'succeeded' });
    assert.deepEqual(history.map((r) => r.id), [run.id]);
    const status = await client.schedule.getStatus(job.name, { history: 5 });
    assert.equal(status.runCount, 1);
    assert.deepEqual(status.history.map((r) => r.id), [run.id]);

    const deleted = await client.schedule.delete(job.id);
    assert.equal(deleted.id, job.id);
    created.delete(job.id);
    await assert.rejects(client.schedule.get(job.id), NotFoundError);
  });

  test('a run that needs approval waits, is listed, and runs once approved; a rejected one is cancelled', async () => {
    const job = await createJob('approval', { policy: { requireApproval: true } });
    const queued = await client.schedule.runNow(job.id, 'needs a yes');
    const waiting = await waitForRun(queued.id, (r) => r.status === 'pending_approval');
    assert.equal(waiting.details.policy.decision, 'require_approval');
    const pending = await client.approvals.list();
    assert.ok(pending.some((r) => r.id === queued.id));
    await client.runs.approve(queued.id);
    const done = await waitForRun(queued.id, (r) => r.finishedAt !== null);
    assert.equal(done.status, 'succeeded');
    await assert.rejects(client.runs.approve(queued.id), ConflictError);

    const second = await client.schedule.runNow(job.id);
    await waitForRun(second.id, (r) => r.status === 'pending_approval');
    const rejected = await client.runs.reject(second.id, { reason: 'not during the freeze' });
    assert.equal(rejected.status, 'cancelled');
  });

  test('the audit log records the SDK calls and its hash chain verifies', async () => {
    const job = await createJob('audit');
    await client.schedule.pause(job.id);
    const events = await client.audit.query({ jobId: job.id, since: new Date(Date.now() - 3_600_000) });
    assert.deepEqual(events.map((e) => e.type), ['CronJobCreated', 'CronJobPaused']);
    assert.equal(events[0].jobId, job.id);
    assert.equal(events[1].prevHash, events[0].hash);
    const onlyPaused = await client.audit.query({ jobId: job.id, type: 'CronJobPaused' });
    assert.equal(onlyPaused.length, 1);
    const verified = await client.audit.verify();
    assert.equal(verified.ok, true);
    assert.equal(verified.firstBadId, null);
  });

  test('scheduler health has the spec shape', async () => {
    await createJob('health');
    const health = await client.schedule.health();
    assert.ok(['healthy', 'degraded'].includes(health.status), health.status);
    assert.ok(health.activeJobs >= 1);
    assert.equal(health.active_jobs, health.activeJobs);
    assert.equal(typeof health.inFlightJobs, 'number');
    assert.equal(typeof health.metrics.runsTotal, 'number');
  });

  test('API errors arrive as typed errors with the daemon message', async () => {
    const missing = await client.schedule.get(`${PREFIX}-missing`).catch((e) => e);
    assert.ok(missing instanceof NotFoundError);
    assert.equal(missing.code, 'NOT_FOUND');
    assert.match(missing.message, /no job with id or name/);

    const job = await createJob('errors');
    const duplicate = await createJob('errors').catch((e) => e);
    assert.ok(duplicate instanceof ConflictError);
    assert.match(duplicate.message, /already exists/);
    await assert.rejects(client.schedule.reset(job.id), ConflictError);

    const badCron = await createJob('bad-cron', { cronExpr: '61 * * * *' }).catch((e) => e);
    assert.ok(badCron instanceof ValidationError);
    assert.equal(badCron.status, 422);
    assert.deepEqual(badCron.problems.map((p) => p.field), ['cron_expr']);

    const unknown = await client.schedule.update(job.id, { cronExpresion: '@daily' }).catch((e) => e);
    assert.ok(unknown instanceof ValidationError);
    assert.match(unknown.message, /cron_expresion/);
  });

  test('a wrong API key is an AuthError', { skip: API_KEY ? false : 'SYMBI_API_KEY is not set: the daemon has no keys' }, async () => {
    const stranger = new SymbiontClient({ baseUrl: BASE_URL, apiKey: `${API_KEY}-wrong` });
    const error = await stranger.schedule.list().catch((e) => e);
    assert.ok(error instanceof AuthError);
    assert.equal(error.status, 401);
  });

  test('a daemon that is not there is a ConnectionError after the retries', async () => {
    const port = await new Promise((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address();
        server.close(() => resolve(free));
      });
    });
    const nowhere = new SymbiontClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 1, retryDelayMs: 1 });
    const error = await nowhere.schedule.health().catch((e) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.match(error.message, /cannot reach/);
  });
});
