/**
 * Errors of the symbiont SDK.
 *
 * ```
 * SymbiontError                 every error the SDK throws
 * ├── AuthError                 401: missing or wrong API key
 * ├── ForbiddenError            403: the key may not do this
 * ├── NotFoundError             404: no such job or run
 * ├── ConflictError             409: duplicate name, run not waiting for approval, ...
 * ├── ValidationError           400/413/422: bad input; `problems` lists each field
 * ├── ServerError               5xx: the daemon failed or is unavailable
 * └── ConnectionError           no HTTP answer at all (refused, reset, DNS)
 *     └── RequestTimeoutError   no answer within `timeoutMs`
 * ```
 *
 * Every error carries the HTTP `status` (when there was an answer), the API's error `code`
 * (`NOT_FOUND`, `INVALID`, ...), its `details`, the `method` and `path` of the request, and
 * whether a retry may help (`retryable`, `retryAfter` in seconds).
 *
 * @module
 */

/** The root of every error the SDK throws. */
export class SymbiontError extends Error {
  /**
   * @param {string} message what went wrong, as the daemon said it
   * @param {object} [info]
   * @param {number} [info.status] HTTP status, when the daemon answered
   * @param {string} [info.code] the API's error code (`NOT_FOUND`, `INVALID`, ...)
   * @param {unknown} [info.details] the API's `details` field
   * @param {string} [info.method] HTTP method of the request
   * @param {string} [info.path] path of the request (with its query string)
   * @param {boolean} [info.retryable] whether sending the request again may succeed
   * @param {number} [info.retryAfter] seconds the daemon asked to wait (Retry-After)
   * @param {unknown} [info.cause] the underlying error
   */
  constructor(message, info = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = new.target.name;
    this.status = info.status;
    this.code = info.code ?? 'ERROR';
    this.details = info.details ?? null;
    this.method = info.method;
    this.path = info.path;
    this.retryable = info.retryable ?? false;
    this.retryAfter = info.retryAfter;
  }
}

/** 401: the API key is missing or wrong (set `apiKey` or `SYMBI_API_KEY`). */
export class AuthError extends SymbiontError {}

/** 403: the request is authenticated but not allowed. */
export class ForbiddenError extends SymbiontError {}

/** 404: no job (by id or name) or run with that id. */
export class NotFoundError extends SymbiontError {}

/** 409: the request conflicts with the current state (e.g. a duplicate job name). */
export class ConflictError extends SymbiontError {}

/** 400, 413 or 422: the input was refused; `problems` says which field and why. */
export class ValidationError extends SymbiontError {
  /** @param {string} message @param {object} [info] see {@link SymbiontError} */
  constructor(message, info = {}) {
    super(message, info);
    /** @type {{field: string, problem: string}[]} one entry per refused field */
    this.problems = Array.isArray(info.details) ? info.details : [];
  }
}

/** 5xx: the daemon failed, is overloaded, or (504 from `runNow` with `wait`) a run is still going. */
export class ServerError extends SymbiontError {}

/** The daemon could not be reached: connection refused or reset, DNS failure, TLS error. */
export class ConnectionError extends SymbiontError {}

/** The daemon did not answer within the client's `timeoutMs`. */
export class RequestTimeoutError extends ConnectionError {}

const BY_STATUS = new Map([
  [400, ValidationError],
  [401, AuthError],
  [403, ForbiddenError],
  [404, NotFoundError],
  [409, ConflictError],
  [413, ValidationError],
  [422, ValidationError],
]);

/** HTTP statuses after which an idempotent request is sent again. */
export const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/**
 * Build the typed error for an HTTP error answer.
 *
 * @param {number} status HTTP status (>= 400)
 * @param {unknown} body the parsed JSON body, or the raw text when it was not JSON
 * @param {{method: string, path: string, retryAfter?: number, statusText?: string}} request
 * @returns {SymbiontError}
 */
export function errorFromResponse(status, body, request) {
  const isApiBody = body !== null && typeof body === 'object' && 'error' in body;
  /** @type {{error?: unknown, code?: unknown, details?: unknown}} */
  const api = isApiBody ? body : {};
  const text = typeof body === 'string' ? body.trim().slice(0, 500) : '';
  const message = isApiBody
    ? String(api.error)
    : `HTTP ${status}${request.statusText ? ` ${request.statusText}` : ''}${text ? `: ${text}` : ''}`;
  const Kind = BY_STATUS.get(status) ?? (status >= 500 ? ServerError : SymbiontError);
  return new Kind(message, {
    status,
    code: api.code ? String(api.code) : `HTTP_${status}`,
    details: api.details ?? null,
    method: request.method,
    path: request.path,
    retryable: RETRYABLE_STATUSES.has(status),
    retryAfter: request.retryAfter,
  });
}
