/**
 * The HTTP transport: one `request()` that adds auth, encodes the body and query, applies the
 * timeout, retries what is safe to retry, and turns error answers into typed errors.
 *
 * @module
 */

import { toWire, withAliases } from './case.js';
import {
  ConnectionError,
  RequestTimeoutError,
  SymbiontError,
  errorFromResponse,
} from './errors.js';

/** Methods that may be sent twice without changing the outcome. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
/** Network error codes that prove the request never reached the daemon (safe for any method). */
const NOT_SENT = new Set(['ECONNREFUSED']);
const MAX_BACKOFF_MS = 5_000;
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * @typedef {object} TransportOptions
 * @property {string} baseUrl daemon URL, e.g. `http://localhost:8080`
 * @property {string} [apiKey] sent as `Authorization: Bearer <apiKey>`
 * @property {number} timeoutMs per-attempt deadline
 * @property {number} retries extra attempts for retryable failures
 * @property {number} retryDelayMs first backoff delay; doubles per attempt (with jitter)
 * @property {typeof fetch} fetch the fetch implementation
 * @property {Record<string, string>} headers extra headers for every request
 */

/**
 * @typedef {object} RequestOptions
 * @property {Record<string, unknown>} [query] query parameters (camelCase keys allowed)
 * @property {unknown} [body] JSON body (camelCase keys are sent as snake_case)
 * @property {number} [timeoutMs] override of the client's deadline for this request
 */

/** Sends API requests for one client; shared by its `schedule`, `runs`, `approvals` and `audit`. */
export class Transport {
  /** @param {TransportOptions} options */
  constructor(options) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.retries = options.retries;
    this.retryDelayMs = options.retryDelayMs;
    this.fetch = options.fetch;
    this.headers = options.headers;
  }

  /**
   * Send one API request; return the parsed answer with camelCase aliases.
   *
   * @param {string} method HTTP method
   * @param {string} path path under the base URL, starting with `/api/v1`
   * @param {RequestOptions} [options]
   * @returns {Promise<any>}
   */
  async request(method, path, options = {}) {
    const target = path + encodeQuery(options.query);
    const idempotent = IDEMPOTENT.has(method);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#once(method, target, options);
      } catch (error) {
        const again = attempt < this.retries && isRetryable(error, idempotent);
        if (!again) throw error;
        await sleep(this.#delayMs(attempt, error.retryAfter));
      }
    }
  }

  /**
   * One attempt, with its own deadline.
   *
   * @param {string} method
   * @param {string} path path with its query string
   * @param {RequestOptions} options
   * @returns {Promise<any>}
   */
  async #once(method, path, { body, timeoutMs = this.timeoutMs }) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json', ...this.headers };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(toWire(body));
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    init.signal = controller.signal;
    const request = { method, path };
    try {
      const send = this.fetch;
      const response = await send(this.baseUrl + path, init);
      const text = await response.text();
      const parsed = parseBody(text);
      if (!response.ok) {
        throw errorFromResponse(response.status, parsed, {
          ...request,
          statusText: response.statusText,
          retryAfter: retryAfterSeconds(response.headers),
        });
      }
      return withAliases(parsed);
    } catch (error) {
      if (error instanceof SymbiontError) throw error;
      if (controller.signal.aborted) {
        throw new RequestTimeoutError(
          `${method} ${path}: no answer from ${this.baseUrl} within ${timeoutMs} ms`,
          { ...request, code: 'TIMEOUT', retryable: true, cause: error },
        );
      }
      const reason = networkReason(error);
      throw new ConnectionError(`${method} ${path}: cannot reach ${this.baseUrl} (${reason})`, {
        ...request,
        code: 'CONNECTION',
        retryable: true,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Exponential backoff with jitter, or the daemon's Retry-After when it gave one. */
  #delayMs(attempt, retryAfter) {
    if (typeof retryAfter === 'number') return Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS);
    const ceiling = Math.min(this.retryDelayMs * 2 ** attempt, MAX_BACKOFF_MS);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

/**
 * Whether a failed attempt may be sent again: a network failure or 502/503/504 for an
 * idempotent method, or a refused connection (the request never left) for any method.
 */
function isRetryable(error, idempotent) {
  if (!error?.retryable) return false;
  if (idempotent) return true;
  return error instanceof ConnectionError && NOT_SENT.has(networkCode(error.cause));
}

function networkCode(error) {
  return error?.cause?.code ?? error?.code;
}

function networkReason(error) {
  const code = networkCode(error);
  const message = error?.cause?.message ?? error?.message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** `?a=1&b_c=2` from a query object: camelCase keys to snake_case, Dates to ISO, nulls dropped. */
function encodeQuery(query) {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(toWire(query))) {
    if (value === undefined || value === null) continue;
    params.append(key, value instanceof Date ? value.toISOString() : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function parseBody(text) {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function retryAfterSeconds(headers) {
  const value = headers?.get?.('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
