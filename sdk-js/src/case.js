/**
 * camelCase <-> snake_case mapping between the SDK's JavaScript names and the API's JSON names.
 *
 * Requests: every key of a plain object (deep, through arrays) becomes snake_case, so
 * `{ agentId, policy: { requireApproval } }` is sent as `{ agent_id, policy: { require_approval } }`.
 * Keys already in snake_case pass unchanged. The keys of user maps (`webhookHeaders`) are never
 * renamed: they are HTTP header names.
 *
 * Responses: objects keep the API's snake_case keys exactly as returned (enumerable, so
 * `JSON.stringify` and `console.log` show the wire form), and every snake_case key also gets a
 * non-enumerable camelCase accessor that reads and writes the same value: `job.next_run` and
 * `job.nextRun` are one property under two names.
 *
 * @module
 */

/** Keys whose value is a user map: its own keys are data, not field names. */
const OPAQUE_KEYS = new Set(['webhook_headers', 'webhookHeaders']);

/**
 * `agentId` -> `agent_id`, `webhookURL` -> `webhook_url`; snake_case and lowercase pass unchanged.
 *
 * @param {string} key
 * @returns {string}
 */
export function toSnakeCase(key) {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * `next_run` -> `nextRun`, `avg_execution_time_ms` -> `avgExecutionTimeMs`.
 *
 * @param {string} key
 * @returns {string}
 */
export function toCamelCase(key) {
  return key.replace(/_([a-z0-9])/g, (_, letter) => letter.toUpperCase());
}

/**
 * Whether *value* is a plain `{...}` object (not a Date, Map, class instance or array).
 *
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of *value* with every plain-object key in snake_case (deep), for a request body or query.
 * `undefined` entries are dropped; Dates and other values are left for `JSON.stringify`.
 *
 * @param {unknown} value
 * @returns {unknown}
 */
export function toWire(value) {
  if (Array.isArray(value)) return value.map(toWire);
  if (!isPlainObject(value)) return value;
  const out = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    out[toSnakeCase(key)] = OPAQUE_KEYS.has(key) ? item : toWire(item);
  }
  return out;
}

/**
 * Add camelCase aliases to a parsed JSON answer, in place (deep), and return it.
 *
 * @template T
 * @param {T} value
 * @returns {T}
 */
export function withAliases(value) {
  if (Array.isArray(value)) {
    value.forEach(withAliases);
    return value;
  }
  if (!isPlainObject(value)) return value;
  for (const key of Object.keys(value)) {
    if (!OPAQUE_KEYS.has(key)) withAliases(value[key]);
    const alias = toCamelCase(key);
    if (alias === key || Object.prototype.hasOwnProperty.call(value, alias)) continue;
    Object.defineProperty(value, alias, {
      get() {
        return this[key];
      },
      set(next) {
        this[key] = next;
      },
      enumerable: false,
      configurable: true,
    });
  }
  return value;
}
