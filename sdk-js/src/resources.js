/**
 * The API's nouns: `schedule` (jobs), `runs`, `approvals` and `audit`. Each method is one HTTP
 * request (except `getStatus` with `history`); names and arguments follow the spec's JavaScript
 * example, in camelCase.
 *
 * @module
 */

const SCHEDULE = '/api/v1/schedule';

/**
 * The path segment for a job id/name or run id; refuses an empty one, which would name a
 * different route.
 *
 * @param {string} id
 * @param {string} what what the id names, for the message
 * @returns {string}
 */
function segment(id, what) {
  if (typeof id !== 'string' || id === '') {
    throw new TypeError(`${what} must be a non-empty string, got ${JSON.stringify(id)}`);
  }
  return encodeURIComponent(id);
}

/** Scheduled jobs: `/api/v1/schedule`. Jobs are named by id or by name everywhere. */
export class ScheduleApi {
  #http;

  /** @param {import('./http.js').Transport} transport */
  constructor(transport) {
    this.#http = transport;
  }

  #job(idOrName) {
    return `${SCHEDULE}/${segment(idOrName, 'job id or name')}`;
  }

  /**
   * Create a scheduled job.
   *
   * @param {object} fields `name`, `agentId`, `cronExpr` or `at`, and any optional field
   * @returns {Promise<object>} the new job
   * @throws {ValidationError} bad cron expression, unknown field, ...
   * @throws {ConflictError} a job with that name exists
   */
  async create(fields) {
    return this.#http.request('POST', SCHEDULE, { body: fields });
  }

  /**
   * List jobs, ordered by name.
   *
   * @param {{status?: string, agentId?: string, namePrefix?: string, limit?: number, offset?: number}} [filter]
   * @returns {Promise<object[]>}
   */
  async list(filter = {}) {
    return this.#http.request('GET', SCHEDULE, { query: filter });
  }

  /**
   * One job, by id or name, with its next run.
   *
   * @param {string} idOrName
   * @returns {Promise<object>}
   * @throws {NotFoundError}
   */
  async get(idOrName) {
    return this.#http.request('GET', this.#job(idOrName));
  }

  /**
   * A job's state: the job (status, `next_run`, `last_run`, `run_count`, `failure_count`,
   * `status_reason`); with `history: n`, also its last *n* runs as `history`.
   *
   * @param {string} idOrName
   * @param {{history?: number}} [options]
   * @returns {Promise<object>}
   */
  async getStatus(idOrName, options = {}) {
    const job = await this.get(idOrName);
    if (options.history) job.history = await this.getHistory(job.id, { limit: options.history });
    return job;
  }

  /**
   * Change some fields of a job; the schedule is recomputed when it changes.
   *
   * @param {string} idOrName
   * @param {object} fields only the fields to change
   * @returns {Promise<object>} the updated job
   */
  async update(idOrName, fields) {
    return this.#http.request('PUT', this.#job(idOrName), { body: fields });
  }

  /**
   * Delete a job and its runs.
   *
   * @param {string} idOrName
   * @returns {Promise<object>} the deleted job
   */
  async delete(idOrName) {
    return this.#http.request('DELETE', this.#job(idOrName));
  }

  /**
   * Stop scheduling a job, keeping its state.
   *
   * @param {string} idOrName
   * @returns {Promise<object>} the job, `status: 'paused'`
   */
  async pause(idOrName) {
    return this.#http.request('POST', `${this.#job(idOrName)}/pause`);
  }

  /**
   * Schedule a paused job again.
   *
   * @param {string} idOrName
   * @returns {Promise<object>} the job, `status: 'active'`
   */
  async resume(idOrName) {
    return this.#http.request('POST', `${this.#job(idOrName)}/resume`);
  }

  /**
   * Bring a dead-lettered job back to active (clears its failure count).
   *
   * @param {string} idOrName
   * @returns {Promise<object>} the job
   */
  async reset(idOrName) {
    return this.#http.request('POST', `${this.#job(idOrName)}/reset`);
  }

  /**
   * Run a job now, outside its schedule. Without `wait` the answer is the queued run; with
   * `wait: true` it is the finished run (a `ServerError` with status 504 when it is still going
   * after `waitTimeout` seconds, default 60). A string argument is the input.
   *
   * @param {string} idOrName
   * @param {{input?: string, wait?: boolean, waitTimeout?: number} | string} [options]
   * @returns {Promise<object>} the run
   */
  async runNow(idOrName, options = {}) {
    const { input, wait, waitTimeout } = typeof options === 'string' ? { input: options } : options;
    const query = wait ? { wait: true, waitTimeout } : undefined;
    const request = { query, body: input === undefined ? undefined : { input } };
    if (wait) {
      const serverWaitMs = (waitTimeout ?? 60) * 1000;
      request.timeoutMs = Math.max(this.#http.timeoutMs, serverWaitMs + 5_000);
    }
    return this.#http.request('POST', `${this.#job(idOrName)}/run`, request);
  }

  /**
   * A job's runs, newest occurrence first.
   *
   * @param {string} idOrName
   * @param {{limit?: number, status?: string, offset?: number}} [filter]
   * @returns {Promise<object[]>}
   */
  async getHistory(idOrName, filter = {}) {
    return this.#http.request('GET', `${this.#job(idOrName)}/history`, { query: filter });
  }

  /**
   * The job's next fire time(s): `next_run`, and `next_runs` (`count` of them, default 1).
   *
   * @param {string} idOrName
   * @param {{count?: number}} [options]
   * @returns {Promise<object>}
   */
  async nextRun(idOrName, options = {}) {
    return this.#http.request('GET', `${this.#job(idOrName)}/next_run`, { query: options });
  }

  /**
   * Scheduler health: status, job counts, in-flight runs and run counters.
   *
   * @returns {Promise<object>}
   */
  async health() {
    return this.#http.request('GET', '/api/v1/health/scheduler');
  }
}

/** Single runs: `/api/v1/runs/{runId}`. */
export class RunsApi {
  #http;

  /** @param {import('./http.js').Transport} transport */
  constructor(transport) {
    this.#http = transport;
  }

  #run(runId) {
    return `/api/v1/runs/${segment(runId, 'run id')}`;
  }

  /**
   * One run with its result, deliveries and policy decision.
   *
   * @param {string} runId
   * @returns {Promise<object>}
   */
  async get(runId) {
    return this.#http.request('GET', this.#run(runId));
  }

  /**
   * Approve a run waiting in `pending_approval`; it is queued and starts shortly.
   *
   * @param {string} runId
   * @returns {Promise<object>} the run
   */
  async approve(runId) {
    return this.#http.request('POST', `${this.#run(runId)}/approve`);
  }

  /**
   * Reject a run waiting in `pending_approval`; it ends `cancelled` with the reason.
   *
   * @param {string} runId
   * @param {{reason?: string} | string} [options] a string is the reason
   * @returns {Promise<object>} the run
   */
  async reject(runId, options = {}) {
    const { reason } = typeof options === 'string' ? { reason: options } : options;
    const body = reason === undefined ? undefined : { reason };
    return this.#http.request('POST', `${this.#run(runId)}/reject`, { body });
  }
}

/** Runs waiting for a person: `/api/v1/approvals`. */
export class ApprovalsApi {
  #http;

  /** @param {import('./http.js').Transport} transport */
  constructor(transport) {
    this.#http = transport;
  }

  /**
   * Runs in `pending_approval`, newest first.
   *
   * @param {{limit?: number}} [options]
   * @returns {Promise<object[]>}
   */
  async list(options = {}) {
    return this.#http.request('GET', '/api/v1/approvals', { query: options });
  }
}

/** The append-only, hash-chained audit log: `/api/v1/audit`. */
export class AuditApi {
  #http;

  /** @param {import('./http.js').Transport} transport */
  constructor(transport) {
    this.#http = transport;
  }

  /**
   * Audit events, oldest first. `since` and `until` take a Date or an RFC 3339 string.
   *
   * @param {{type?: string, since?: Date | string, until?: Date | string, jobId?: string, afterId?: number, limit?: number}} [filter]
   * @returns {Promise<object[]>}
   */
  async query(filter = {}) {
    return this.#http.request('GET', '/api/v1/audit', { query: filter });
  }

  /**
   * Recompute the hash chain: `ok`, `events`, and the first edited or missing event.
   *
   * @returns {Promise<object>}
   */
  async verify() {
    return this.#http.request('GET', '/api/v1/audit/verify');
  }
}
