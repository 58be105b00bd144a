/**
 * Types of `@symbiont/sdk-js`, the JavaScript client of the symbiont scheduler's HTTP API.
 *
 * Results are the API's JSON (snake_case fields, times as RFC 3339 strings) plus a camelCase
 * alias of every snake_case field, at every depth: `job.next_run` and `job.nextRun` are the same
 * property. Inputs take the camelCase names (snake_case names are accepted too).
 */

// ---------------------------------------------------------------------------------------------
// Case mapping

/** `next_run` -> `nextRun`, as a type. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** A wire object with camelCase aliases of its snake_case keys, deep (what every method returns). */
export type Aliased<T> = T extends readonly (infer Item)[]
  ? Aliased<Item>[]
  : T extends object
    ? { [K in keyof T]: Aliased<T[K]> } & {
        [K in keyof T as K extends `${string}_${string}` ? CamelCase<K & string> : never]: Aliased<
          T[K]
        >;
      }
    : T;

// ---------------------------------------------------------------------------------------------
// Enumerations (lowercase snake_case strings on the wire)

export type JobStatus = 'active' | 'paused' | 'completed' | 'failed' | 'dead_letter';
export type SessionMode = 'ephemeral_with_summary' | 'shared_persistent' | 'fully_ephemeral';
export type MisfirePolicy = 'run_once' | 'skip' | 'run_all';
export type DeliverOn = 'always' | 'success' | 'failure';
/** A built-in channel, or `custom:NAME`. */
export type DeliveryChannel =
  | 'stdout'
  | 'log_file'
  | 'webhook'
  | 'slack'
  | 'email'
  | `custom:${string}`
  | (string & {});
export type RunStatus =
  | 'queued'
  | 'pending_approval'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'denied'
  | 'skipped'
  | 'interrupted'
  | 'cancelled';
export type RunTrigger = 'schedule' | 'manual' | 'catchup' | 'retry' | 'recovery';

// ---------------------------------------------------------------------------------------------
// Inputs

/** A daily window in which runs may start; wraps midnight when `end` is not after `start`. */
export interface AllowedHoursInput {
  start: string;
  end: string;
  timezone?: string;
}

/** Conditions checked before each run. */
export interface PolicyInput {
  requireApproval?: boolean;
  approvers?: string[];
  /** A duration (`"5m"`, `"1h30m"`) or seconds. */
  maxRuntime?: string | number | null;
  requireCapabilities?: string[];
  allowedHours?: AllowedHoursInput | null;
  allowedEnvironments?: string[];
  requireAgentPin?: boolean;
}

/** The assess -> act -> sleep loop inside each run. */
export interface HeartbeatInput {
  enabled?: boolean;
  contextMode?: SessionMode;
  maxIterations?: number;
}

/** Fields of a job definition (the spec's names in camelCase). */
export interface JobFields {
  /** Unique name; jobs can be addressed by it wherever an id is taken. */
  name?: string;
  agentId?: string;
  /** 5, 6 (seconds first) or 7 (+ year) fields, or a macro such as `@daily`. */
  cronExpr?: string | null;
  /** One-shot time (instead of `cronExpr`). */
  at?: string | Date | null;
  /** IANA zone of the cron expression (default `UTC`). */
  timezone?: string;
  sessionMode?: SessionMode;
  delivery?: DeliveryChannel[];
  webhookUrl?: string | null;
  /** Header names are sent as written (never case-mapped); values may be `${ENV}` references. */
  webhookHeaders?: Record<string, string>;
  webhookSecret?: string | null;
  slackChannel?: string | null;
  emailRecipients?: string[];
  deliverOn?: DeliverOn;
  policy?: PolicyInput | null;
  heartbeat?: HeartbeatInput | null;
  maxRetries?: number | null;
  /** A duration (`"30s"`) or seconds. */
  retryDelay?: string | number | null;
  maxConcurrent?: number;
  jitterSeconds?: number;
  misfirePolicy?: MisfirePolicy;
  agentPinJwt?: string | null;
  /** Input given to every scheduled run. */
  input?: string | null;
  description?: string | null;
}

/** What `schedule.create` needs: a name, an agent, and `cronExpr` or `at`. */
export interface JobCreate extends JobFields {
  name: string;
  agentId: string;
}

export interface ListJobsFilter {
  status?: JobStatus;
  agentId?: string;
  namePrefix?: string;
  /** 1..1000, default 100. */
  limit?: number;
  offset?: number;
}

export interface HistoryFilter {
  status?: RunStatus;
  /** 1..1000, default 20. */
  limit?: number;
  offset?: number;
}

export interface RunNowOptions {
  input?: string;
  /** Answer with the finished run instead of the queued one. */
  wait?: boolean;
  /** Seconds the daemon waits with `wait` (default 60); then a `ServerError` with status 504. */
  waitTimeout?: number;
}

export interface AuditFilter {
  /** An event type, e.g. `CronJobCreated`. */
  type?: string;
  since?: Date | string;
  until?: Date | string;
  jobId?: string;
  /** Only events with a larger id (for tailing). */
  afterId?: number;
  /** 1..10000, default 100. */
  limit?: number;
}

// ---------------------------------------------------------------------------------------------
// Results: the wire shapes, then the aliased types the methods return

export interface PolicyWire {
  require_approval: boolean;
  approvers: string[];
  max_runtime_s: number | null;
  require_capabilities: string[];
  allowed_hours: { start: string; end: string; timezone: string } | null;
  allowed_environments: string[];
  require_agent_pin: boolean;
}

export interface HeartbeatWire {
  enabled: boolean;
  context_mode: SessionMode;
  max_iterations: number;
}

export interface JobWire {
  id: string;
  name: string;
  agent_id: string;
  cron_expr: string | null;
  at: string | null;
  timezone: string;
  schedule_description: string | null;
  status: JobStatus;
  status_reason: string | null;
  session_mode: SessionMode;
  delivery: DeliveryChannel[];
  webhook_url: string | null;
  /** Values come back redacted (`***`). */
  webhook_headers: Record<string, string>;
  webhook_secret: string | null;
  slack_channel: string | null;
  email_recipients: string[];
  deliver_on: DeliverOn;
  policy: PolicyWire;
  heartbeat: HeartbeatWire;
  max_retries: number | null;
  retry_delay_seconds: number | null;
  max_concurrent: number;
  jitter_seconds: number;
  misfire_policy: MisfirePolicy;
  agent_pin_jwt: string | null;
  input: string | null;
  description: string | null;
  next_run: string | null;
  last_run: string | null;
  run_count: number;
  /** Consecutive failed runs. */
  failure_count: number;
  /** `api` or `dsl:<file>`. */
  source: string;
  created_at: string;
  updated_at: string;
}

export interface DeliveryWire {
  channel: string;
  status: string;
  error: string | null;
  attempts: number;
}

export interface RunWire {
  id: string;
  job_id: string;
  job_name: string;
  trigger: RunTrigger;
  scheduled_for: string;
  status: RunStatus;
  attempt: number;
  input: string | null;
  output: string | null;
  summary: string | null;
  error_message: string | null;
  iterations: number;
  started_at: string | null;
  finished_at: string | null;
  execution_time_ms: number | null;
  deliveries: DeliveryWire[];
  node_id: string | null;
  /** Policy decision, approval state, session facts. */
  details: Record<string, unknown>;
}

export interface NextRunWire {
  job_id: string;
  next_run: string | null;
  next_runs: string[];
  description: string | null;
}

export interface SchedulerHealthWire {
  /** `healthy`, `degraded` (recent store errors) or `stopping`. */
  status: string;
  active_jobs: number;
  paused_jobs: number;
  in_flight_jobs: number;
  metrics: {
    runs_total: number;
    runs_succeeded: number;
    runs_failed: number;
    avg_execution_time_ms: number;
  };
  node_id: string | null;
  dead_letter_jobs: number;
  last_tick: string | null;
  store_errors: number;
  last_store_error: string | null;
}

export interface AuditEventWire {
  id: number;
  ts: string;
  type: string;
  job_id: string | null;
  run_id: string | null;
  actor: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditVerifyWire {
  ok: boolean;
  events: number;
  first_bad_id: number | null;
  problem: string | null;
}

export type Job = Aliased<JobWire>;
export type Run = Aliased<RunWire>;
export type NextRun = Aliased<NextRunWire>;
export type SchedulerHealth = Aliased<SchedulerHealthWire>;
export type AuditEvent = Aliased<AuditEventWire>;
export type AuditVerify = Aliased<AuditVerifyWire>;
/** `getStatus` result: the job, plus its last runs when `history` was asked for. */
export type JobStatusDetails = Job & { history?: Run[] };

// ---------------------------------------------------------------------------------------------
// Client

export interface SymbiontClientOptions {
  /** Daemon URL; default `SYMBI_URL`, else `http://localhost:8080`. */
  baseUrl?: string;
  /** API key (`Authorization: Bearer`); default `SYMBI_API_KEY`. */
  apiKey?: string;
  /** Deadline of each attempt in ms (default 30000). */
  timeoutMs?: number;
  /**
   * Extra attempts after a network error or a 502/503/504 answer (default 2), for GET, PUT and
   * DELETE; POSTs are retried only when the connection was refused.
   */
  retries?: number;
  /** First backoff delay in ms (default 250), doubled per attempt with jitter, capped at 5 s. */
  retryDelayMs?: number;
  /** fetch implementation (default: the global `fetch`). */
  fetch?: typeof fetch;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
}

/** Scheduled jobs (`/api/v1/schedule`); a job is named by its id or its name. */
export interface ScheduleApi {
  /** Create a scheduled job. */
  create(fields: JobCreate): Promise<Job>;
  /** List jobs, ordered by name. */
  list(filter?: ListJobsFilter): Promise<Job[]>;
  /** One job with its next run. */
  get(idOrName: string): Promise<Job>;
  /** The job's state (`status`, `next_run`, `last_run`, ...); with `history: n`, its last n runs. */
  getStatus(idOrName: string, options?: { history?: number }): Promise<JobStatusDetails>;
  /** Change some fields; the schedule is recomputed when it changes. */
  update(idOrName: string, fields: JobFields): Promise<Job>;
  /** Delete a job and its runs; resolves to the deleted job. */
  delete(idOrName: string): Promise<Job>;
  /** Stop scheduling the job, keeping its state. */
  pause(idOrName: string): Promise<Job>;
  /** Schedule a paused job again. */
  resume(idOrName: string): Promise<Job>;
  /** Bring a dead-lettered job back to active. */
  reset(idOrName: string): Promise<Job>;
  /** Run the job now; a string is the input. Resolves to the queued (or, with `wait`, finished) run. */
  runNow(idOrName: string, options?: RunNowOptions | string): Promise<Run>;
  /** The job's runs, newest occurrence first. */
  getHistory(idOrName: string, filter?: HistoryFilter): Promise<Run[]>;
  /** The next fire time(s). */
  nextRun(idOrName: string, options?: { count?: number }): Promise<NextRun>;
  /** Scheduler health and counters. */
  health(): Promise<SchedulerHealth>;
}

/** Single runs (`/api/v1/runs/{id}`). */
export interface RunsApi {
  get(runId: string): Promise<Run>;
  /** Approve a run waiting in `pending_approval`. */
  approve(runId: string): Promise<Run>;
  /** Reject a run waiting in `pending_approval`; a string is the reason. */
  reject(runId: string, options?: { reason?: string } | string): Promise<Run>;
}

/** Runs waiting for approval (`/api/v1/approvals`). */
export interface ApprovalsApi {
  list(options?: { limit?: number }): Promise<Run[]>;
}

/** The audit log (`/api/v1/audit`). */
export interface AuditApi {
  /** Events, oldest first. */
  query(filter?: AuditFilter): Promise<AuditEvent[]>;
  /** Recompute the hash chain. */
  verify(): Promise<AuditVerify>;
}

/** A client of one symbiont daemon. */
export declare class SymbiontClient {
  constructor(options?: SymbiontClientOptions);
  /** The daemon's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly schedule: ScheduleApi;
  readonly runs: RunsApi;
  readonly approvals: ApprovalsApi;
  readonly audit: AuditApi;
}

/** The SDK's version. */
export declare const VERSION: string;

// ---------------------------------------------------------------------------------------------
// Errors

/** One refused field of a {@link ValidationError}. */
export interface Problem {
  field: string;
  problem: string;
}

/** The root of every error the SDK throws. */
export declare class SymbiontError extends Error {
  constructor(
    message: string,
    info?: {
      status?: number;
      code?: string;
      details?: unknown;
      method?: string;
      path?: string;
      retryable?: boolean;
      retryAfter?: number;
      cause?: unknown;
    },
  );
  /** HTTP status, when the daemon answered. */
  readonly status: number | undefined;
  /** The API's error code (`NOT_FOUND`, `INVALID`, `CONFLICT`, ...), `CONNECTION` or `TIMEOUT`. */
  readonly code: string;
  /** The API's `details` field. */
  readonly details: unknown;
  readonly method: string | undefined;
  /** Request path with its query string. */
  readonly path: string | undefined;
  /** Whether sending the request again may succeed. */
  readonly retryable: boolean;
  /** Seconds the daemon asked to wait (`Retry-After`). */
  readonly retryAfter: number | undefined;
}
/** 401: the API key is missing or wrong. */
export declare class AuthError extends SymbiontError {}
/** 403: authenticated but not allowed. */
export declare class ForbiddenError extends SymbiontError {}
/** 404: no such job or run. */
export declare class NotFoundError extends SymbiontError {}
/** 409: conflicts with the current state (e.g. duplicate job name). */
export declare class ConflictError extends SymbiontError {}
/** 400, 413 or 422: bad input. */
export declare class ValidationError extends SymbiontError {
  /** One entry per refused field. */
  readonly problems: Problem[];
}
/** 5xx from the daemon. */
export declare class ServerError extends SymbiontError {}
/** No HTTP answer: connection refused or reset, DNS or TLS failure. */
export declare class ConnectionError extends SymbiontError {}
/** No answer within `timeoutMs`. */
export declare class RequestTimeoutError extends ConnectionError {}
