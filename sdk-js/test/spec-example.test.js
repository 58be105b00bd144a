// The spec's JavaScript example ("SDK Examples" -> "JavaScript SDK"), run as written against a
// live daemon. The example is kept verbatim in ../examples/spec-example.mjs; this test copies it
// into a temporary folder INSIDE the package, with only the URL `http://localhost:8080` replaced
// by SYMBI_URL, and runs it with `node`. From inside the package, Node resolves the example's
// `import ... from '@symbiont/sdk-js'` to this package through the `exports` field of its
// package.json (package self-reference), so no install or symlink is needed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

import { NotFoundError, SymbiontClient } from '@symbiont/sdk-js';

const BASE_URL = process.env.SYMBI_URL;
const API_KEY = process.env.SYMBI_API_KEY;
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(PACKAGE_DIR, 'examples', 'spec-example.mjs');
const SPEC_URL = "baseUrl: 'http://localhost:8080'";

const skip = BASE_URL
  ? false
  : 'SYMBI_URL is not set: start a daemon (`symbi up`) with an agent `backup-agent` and set SYMBI_URL (and SYMBI_API_KEY) to run the spec example';

test('the spec example is the verbatim block and talks to localhost:8080', async () => {
  const source = await readFile(EXAMPLE, 'utf8');
  assert.ok(source.startsWith("import { SymbiontClient } from '@symbiont/sdk-js';\n"));
  assert.equal(source.split(SPEC_URL).length, 2, `the example holds ${SPEC_URL} once`);
  for (const call of ['create(', 'list(', 'getStatus(', 'runNow(', 'pause(', 'getHistory(', 'resume(', 'delete(']) {
    assert.ok(source.includes(`client.schedule.${call}`), call);
  }
});

test('the spec JavaScript example runs as written against the live daemon', { skip }, async (t) => {
  const client = new SymbiontClient({ baseUrl: BASE_URL, apiKey: API_KEY });
  const existing = await client.schedule.get('daily-backup').catch((e) => {
    if (e instanceof NotFoundError) return null;
    throw e;
  });
  if (existing) {
    t.skip('the daemon already has a job named daily-backup (the example creates it): use a fresh daemon');
    return;
  }
  const source = (await readFile(EXAMPLE, 'utf8')).replace(SPEC_URL, `baseUrl: ${JSON.stringify(BASE_URL)}`);
  const folder = await mkdtemp(join(PACKAGE_DIR, '.spec-example-'));
  try {
    const script = join(folder, 'spec-example.mjs');
    await writeFile(script, source);
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      cwd: folder,
      env: { ...process.env, SYMBI_API_KEY: API_KEY ?? '' },
      timeout: 30_000,
    });
    const lines = stdout.trim().split('\n');
    assert.match(lines[0], /^Created job: [0-9a-f-]{36}$/);
    assert.match(lines[1], /^Active jobs: [1-9]\d*$/);
    assert.match(lines[2], /^Next run: \d{4}-\d\d-\d\dT02:00:00Z$/);
    const runs = lines.slice(3);
    assert.equal(runs.length, 1, stdout);
    assert.match(runs[0], /^Run [0-9a-f-]{36}: [a-z_]+ \((\d+|null)ms\)$/);

    const jobId = lines[0].slice('Created job: '.length);
    await assert.rejects(client.schedule.get('daily-backup'), NotFoundError);
    const types = (await client.audit.query({ jobId })).map((e) => e.type);
    for (const type of ['CronJobCreated', 'CronJobTriggered', 'CronJobPaused', 'CronJobResumed', 'CronJobDeleted']) {
      assert.ok(types.includes(type), `${type} not in ${types}`);
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
