// Type-level checks of src/index.d.ts: compiled, never run. The SDK has no devDependencies, so
// TypeScript is fetched for this check only:  npx -p typescript@5 tsc -p sdk-js/types-check
// `@symbiont/sdk-js` resolves to this package through its own `exports` (self-reference).
import {
  NotFoundError,
  SymbiontClient,
  ValidationError,
  type Job,
  type Run,
  type SchedulerHealth,
} from '@symbiont/sdk-js';

declare const process: { env: Record<string, string | undefined> };

// The spec's example, typed.
const client = new SymbiontClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.SYMBI_API_KEY });
const job = await client.schedule.create({
  name: 'daily-backup',
  agentId: 'backup-agent',
  cronExpr: '0 0 2 * * *',
  sessionMode: 'ephemeral_with_summary',
  delivery: ['webhook'],
  webhookUrl: 'https://backup.example.com/notify',
});
const activeJobs: Job[] = await client.schedule.list({ status: 'active' });
const status = await client.schedule.getStatus(job.id);
const nextRun: string | null = status.next_run;
await client.schedule.runNow(job.id, { input: 'Backup database' });
const history: Run[] = await client.schedule.getHistory(job.id, { limit: 10 });
history.forEach((run) => {
  const ms: number | null = run.execution_time_ms;
  console.log(`Run ${run.id}: ${run.status} (${ms}ms)`);
});

// Both names of a field have the same type, at every depth.
const sameNext: string | null = job.nextRun;
const approval: boolean = job.policy.requireApproval && job.policy.require_approval;
const headers: Record<string, string> = job.webhookHeaders;
const health: SchedulerHealth = await client.schedule.health();
const counters: number = health.inFlightJobs + health.metrics.avgExecutionTimeMs;
const upcoming: string[] = (await client.schedule.nextRun(job.id, { count: 3 })).nextRuns;
const events = await client.audit.query({ since: new Date(), type: 'CronJobCreated', jobId: job.id });
const chained: string | undefined = events[0]?.prevHash;
const firstBad: number | null = (await client.audit.verify()).firstBadId;
const withRuns = await client.schedule.getStatus('daily-backup', { history: 3 });
const recent: Run[] | undefined = withRuns.history;

// Inputs: camelCase names, nested objects, string shorthands.
await client.schedule.update(job.id, {
  policy: { requireApproval: true, allowedHours: { start: '09:00', end: '17:00' }, maxRuntime: '5m' },
  heartbeat: { enabled: true, contextMode: 'fully_ephemeral', maxIterations: 3 },
  webhookHeaders: { 'X-Api-Key': '${TOKEN}' },
  at: new Date(),
});
const waited: Run = await client.schedule.runNow(job.id, { wait: true, waitTimeout: 30 });
await client.schedule.runNow(job.id, 'input text');
await client.runs.reject(waited.id, 'not now');
await client.approvals.list({ limit: 5 });

// Errors.
try {
  await client.schedule.get('missing');
} catch (error) {
  if (error instanceof ValidationError) console.log(error.problems[0]?.field, error.status, error.code);
  if (error instanceof NotFoundError) console.log(error.retryable, error.path);
}

// @ts-expect-error: misspelt field
await client.schedule.create({ name: 'x', agentId: 'y', cronExp: '@daily' });
// @ts-expect-error: not a job status
await client.schedule.list({ status: 'bogus' });
// @ts-expect-error: next_run is a string or null
const wrong: number = job.nextRun;

console.log(activeJobs, nextRun, sameNext, approval, headers, counters, upcoming, chained, firstBad, recent, wrong);
