// Error mapping, retries and timeouts, through a fake `fetch` (the SDK's only boundary).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  AuthError,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  NotFoundError,
  RequestTimeoutError,
  ServerError,
  SymbiontError,
  SymbiontClient,
  ValidationError,
} from '@symbiont/sdk-js';

/** A fetch that answers with each of `replies` in turn (a function is called, an Error thrown). */
function scriptedFetch(...replies) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const next = replies.length > 1 ? replies.shift() : replies[0];
    const reply = typeof next === 'function' ? await next(init) : next;
    if (reply instanceof Error) throw reply;
    return reply;
  };
  return { fetch, calls };
}

function apiError(status, code, error, details = null, headers = {}) {
  return Response.json({ error, code, details }, { status, headers });
}

function clientWith(fake, options = {}) {
  return new SymbiontClient({ baseUrl: 'http://daemon:8080', apiKey: 'k', fetch: fake.fetch, retryDelayMs: 1, ...options });
}

/** What undici's fetch throws when nothing listens on the port. */
function refused() {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED' });
  return new TypeError('fetch failed', { cause });
}

describe('HTTP error answers become typed errors', () => {
  const cases = [
    [401, 'UNAUTHORIZED', AuthError],
    [403, 'FORBIDDEN', ForbiddenError],
    [404, 'NOT_FOUND', NotFoundError],
    [409, 'CONFLICT', ConflictError],
    [400, 'INVALID', ValidationError],
    [422, 'INVALID', ValidationError],
    [500, 'INTERNAL', ServerError],
    [503, 'UNAVAILABLE', ServerError],
    [405, 'NOT_ALLOWED', SymbiontError],
  ];
  for (const [status, code, Kind] of cases) {
    test(`${status} -> ${Kind.name}`, async () => {
      const fake = scriptedFetch(() => apiError(status, code, `message ${status}`));
      const error = await clientWith(fake, { retries: 0 }).schedule.get('j1').catch((e) => e);
      assert.ok(error instanceof Kind, `${error.name} is not ${Kind.name}`);
      assert.ok(error instanceof SymbiontError);
      assert.equal(error.name, Kind.name);
      assert.equal(error.status, status);
      assert.equal(error.code, code);
      assert.equal(error.message, `message ${status}`);
      assert.equal(error.method, 'GET');
      assert.equal(error.path, '/api/v1/schedule/j1');
    });
  }

  test('ValidationError lists the refused fields in problems', async () => {
    const details = [{ field: 'cron_expr', problem: 'wrong number of fields' }];
    const fake = scriptedFetch(() => apiError(422, 'INVALID', 'invalid job definition', details));
    const error = await clientWith(fake).schedule.create({ name: 'x', agentId: 'a', cronExpr: 'bad' }).catch((e) => e);
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(error.problems, details);
    assert.deepEqual(error.details, details);
    assert.equal(error.retryable, false);
  });

  test('a non-JSON error answer (a proxy page) still gives a useful message', async () => {
    const fake = scriptedFetch(() => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }));
    const error = await clientWith(fake, { retries: 0 }).schedule.health().catch((e) => e);
    assert.ok(error instanceof ServerError);
    assert.equal(error.message, 'HTTP 502 Bad Gateway: <h1>Bad gateway</h1>');
    assert.equal(error.code, 'HTTP_502');
    assert.equal(error.retryable, true);
  });
});

describe('retries', () => {
  test('an idempotent request is retried after 503 and a network error, then succeeds', async () => {
    const fake = scriptedFetch(
      () => apiError(503, 'UNAVAILABLE', 'store unavailable'),
      () => new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }),
      () => Response.json({ status: 'healthy' }),
    );
    const health = await clientWith(fake, { retries: 2 }).schedule.health();
    assert.equal(health.status, 'healthy');
    assert.equal(fake.calls.length, 3);
  });

  test('the last error is thrown when the retries run out', async () => {
    const fake = scriptedFetch(() => apiError(504, 'ERROR', 'gateway timeout'));
    const error = await clientWith(fake, { retries: 2 }).schedule.list().catch((e) => e);
    assert.ok(error instanceof ServerError);
    assert.equal(error.status, 504);
    assert.equal(fake.calls.length, 3);
  });

  test('a POST is not retried after a 503 or a reset connection (it may have been applied)', async () => {
    const fake = scriptedFetch(() => apiError(503, 'UNAVAILABLE', 'busy'));
    await assert.rejects(clientWith(fake).schedule.runNow('j1'), ServerError);
    assert.equal(fake.calls.length, 1);
    const reset = scriptedFetch(() => new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }));
    await assert.rejects(clientWith(reset).schedule.create({ name: 'x' }), ConnectionError);
    assert.equal(reset.calls.length, 1);
  });

  test('a POST is retried when the connection was refused (it never reached the daemon)', async () => {
    const fake = scriptedFetch(refused, () => Response.json({ id: 'r1', status: 'queued' }, { status: 202 }));
    const run = await clientWith(fake).schedule.runNow('j1', { input: 'x' });
    assert.equal(run.id, 'r1');
    assert.equal(fake.calls.length, 2);
  });

  test('4xx answers are never retried', async () => {
    const fake = scriptedFetch(() => apiError(404, 'NOT_FOUND', 'no job'));
    await assert.rejects(clientWith(fake).schedule.get('j1'), NotFoundError);
    assert.equal(fake.calls.length, 1);
  });

  test('Retry-After is read into retryAfter and honoured', async () => {
    const fake = scriptedFetch(() => apiError(503, 'UNAVAILABLE', 'busy', null, { 'Retry-After': '0' }));
    const error = await clientWith(fake, { retries: 1 }).schedule.get('j1').catch((e) => e);
    assert.equal(error.retryAfter, 0);
    assert.equal(fake.calls.length, 2);
  });

  test('a refused connection with retries exhausted is a ConnectionError naming the daemon', async () => {
    const fake = scriptedFetch(refused);
    const error = await clientWith(fake, { retries: 1 }).schedule.get('j1').catch((e) => e);
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'CONNECTION');
    assert.match(error.message, /GET \/api\/v1\/schedule\/j1: cannot reach http:\/\/daemon:8080 \(.*ECONNREFUSED/);
    assert.equal(error.cause.cause.code, 'ECONNREFUSED');
    assert.equal(fake.calls.length, 2);
  });
});

describe('timeouts', () => {
  /** A fetch that never answers, but rejects like undici when its signal aborts. */
  const hanging = (init) =>
    new Promise((_, reject) => {
      init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    });

  test('no answer within timeoutMs is a RequestTimeoutError (a ConnectionError)', async () => {
    const fake = scriptedFetch(hanging);
    const started = Date.now();
    const error = await clientWith(fake, { timeoutMs: 50, retries: 0 }).schedule.get('j1').catch((e) => e);
    assert.ok(error instanceof RequestTimeoutError);
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.code, 'TIMEOUT');
    assert.match(error.message, /within 50 ms/);
    assert.ok(Date.now() - started < 2000);
  });

  test('a timed-out GET is retried; a timed-out POST is not', async () => {
    const get = scriptedFetch(hanging, () => Response.json([]));
    assert.deepEqual(await clientWith(get, { timeoutMs: 30, retries: 1 }).schedule.list(), []);
    assert.equal(get.calls.length, 2);
    const post = scriptedFetch(hanging);
    await assert.rejects(clientWith(post, { timeoutMs: 30, retries: 1 }).schedule.pause('j1'), RequestTimeoutError);
    assert.equal(post.calls.length, 1);
  });

  test('runNow with wait gets a deadline longer than the daemon wait', async () => {
    let signal;
    const fake = scriptedFetch((init) => {
      signal = init.signal;
      return new Promise((resolve) => setTimeout(() => resolve(Response.json({ id: 'r1', status: 'succeeded' })), 80));
    });
    const run = await clientWith(fake, { timeoutMs: 20 }).schedule.runNow('j1', { wait: true, waitTimeout: 1 });
    assert.equal(run.status, 'succeeded');
    assert.equal(signal.aborted, false);
  });
});

describe('constructor', () => {
  test('bad options are refused at once', () => {
    assert.throws(() => new SymbiontClient({ retries: -1 }), RangeError);
    assert.throws(() => new SymbiontClient({ timeoutMs: 0 }), RangeError);
  });
});
