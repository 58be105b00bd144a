/**
 * `@symbiont/sdk-js`: the JavaScript client of the symbiont scheduler's HTTP API.
 *
 * ```js
 * import { SymbiontClient } from '@symbiont/sdk-js';
 *
 * const client = new SymbiontClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.SYMBI_API_KEY });
 * const job = await client.schedule.create({ name: 'nightly', agentId: 'backup-agent', cronExpr: '0 0 2 * * *' });
 * console.log(job.id, job.next_run, job.nextRun);
 * ```
 *
 * ESM only, no runtime dependencies; uses the global `fetch` (Node >= 18, browsers, Deno, Bun).
 *
 * @module
 */

import { Transport } from './http.js';
import { ApprovalsApi, AuditApi, RunsApi, ScheduleApi } from './resources.js';

export {
  AuthError,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  NotFoundError,
  RequestTimeoutError,
  ServerError,
  SymbiontError,
  ValidationError,
} from './errors.js';

/** The SDK's version (also sent in the `User-Agent` header where the platform allows it). */
export const VERSION = '0.1.0';

const DEFAULT_URL = 'http://localhost:8080';

/** An environment variable, when the platform has `process.env` (Node, Bun, Deno compat). */
function env(name) {
  return globalThis.process?.env?.[name] || undefined;
}

/**
 * A client of one symbiont daemon.
 *
 * Methods return plain objects (arrays for lists) with the API's snake_case fields plus
 * camelCase aliases (`job.next_run === job.nextRun`), and throw a {@link SymbiontError}
 * subclass on failure.
 */
export class SymbiontClient {
  /**
   * @param {object} [options]
   * @param {string} [options.baseUrl] daemon URL; default `SYMBI_URL`, else `http://localhost:8080`
   * @param {string} [options.apiKey] API key; default `SYMBI_API_KEY` (none: no auth header)
   * @param {number} [options.timeoutMs=30000] deadline of each attempt, in milliseconds
   * @param {number} [options.retries=2] extra attempts after a network error or a 502/503/504
   *   answer, for idempotent requests (GET, PUT, DELETE) — and for any request whose
   *   connection was refused, since it was never received
   * @param {number} [options.retryDelayMs=250] first backoff delay; doubles each attempt, with
   *   jitter, capped at 5 s; a `Retry-After` answer header takes precedence
   * @param {typeof fetch} [options.fetch] fetch implementation (default: the global `fetch`)
   * @param {Record<string, string>} [options.headers] extra headers for every request
   */
  constructor(options = {}) {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('no global fetch (Node >= 18 has one); pass { fetch } to SymbiontClient');
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const retries = options.retries ?? 2;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    if (!Number.isInteger(retries) || retries < 0) {
      throw new RangeError(`retries must be an integer >= 0, got ${retries}`);
    }
    const transport = new Transport({
      baseUrl: options.baseUrl ?? env('SYMBI_URL') ?? DEFAULT_URL,
      apiKey: options.apiKey ?? env('SYMBI_API_KEY'),
      timeoutMs,
      retries,
      retryDelayMs: options.retryDelayMs ?? 250,
      fetch: options.fetch ?? ((url, init) => globalThis.fetch(url, init)),
      headers: { 'User-Agent': `symbiont-sdk-js/${VERSION}`, ...options.headers },
    });
    /** The daemon's base URL, without a trailing slash. */
    this.baseUrl = transport.baseUrl;
    /** Scheduled jobs: create, list, get, getStatus, update, delete, pause, resume, reset, runNow, getHistory, nextRun, health. */
    this.schedule = new ScheduleApi(transport);
    /** Single runs: get, approve, reject. */
    this.runs = new RunsApi(transport);
    /** Runs waiting for approval: list. */
    this.approvals = new ApprovalsApi(transport);
    /** The audit log: query, verify. */
    this.audit = new AuditApi(transport);
  }
}
