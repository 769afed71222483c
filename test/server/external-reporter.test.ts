// Reporting from outside gbcms against a real server: the HTTP reporter of `gbcms/report`, and
// the README's curl and Python examples run for real.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createHttpReporter, type ReporterError } from '../../engine/report/http.ts';
import { HANG_MS } from '../helpers/poll.ts';
import { type ExternalServer, startExternalServer, waitFor } from './helpers/external-server.ts';

const run = promisify(execFile);

let s: ExternalServer;
/** The manager's clock: it moves only when a test moves it, and tests sweep for silence themselves. */
let nowMs = Date.now();
before(async () => {
  s = await startExternalServer({
    reportFlushMs: 20,
    minHeartbeatTimeoutS: 1,
    heartbeatSweepMs: 10 * HANG_MS,
    now: () => new Date(nowMs),
  });
});
after(async () => {
  await s.close();
});

function reporterFor(more: Partial<Parameters<typeof createHttpReporter>[0]> = {}) {
  const errors: ReporterError[] = [];
  const reporter = createHttpReporter({
    url: `${s.url}/`,
    token: s.tokens.owner,
    projectId: s.publicProject.id,
    retryDelayMs: 20,
    flushMs: 50,
    onError: (error) => errors.push(error),
    ...more,
  });
  return { reporter, errors };
}

describe('HTTP reporter', () => {
  test('creates the execution, sends batches, and finishes it', async () => {
    const requests: string[] = [];
    const { reporter, errors } = reporterFor({
      fetch: (input, init) => {
        requests.push(`${init?.method} ${String(input).replace(s.url, '')}`);
        return fetch(input, init);
      },
    });
    const execution = await reporter.start({ session: 'sweep', name: 'alpha=0.1', heartbeatTimeout: 60 });
    assert.equal(execution?.status, 'running');
    assert.equal(execution?.external, true);
    assert.equal(reporter.executionId, execution?.id);
    const id = reporter.executionId ?? '';
    for (let i = 0; i < 2500; i++) reporter.metric('loss', 1 / (i + 1), i);
    reporter.progress(5, 10, 'half way');
    reporter.annotation({ level: 'warning', title: 'Slow', file: 'train.py', line: 3 });
    reporter.metric('loss', Number.NaN);
    reporter.metric('bad name', 1);
    assert.equal(reporter.lost, 2, 'invalid reports are counted, not thrown');
    assert.match(errors[0]?.message ?? '', /finite number/);
    await reporter.flush();
    const finished = await reporter.finish('success', 'done');
    assert.equal(finished.status, 'success');
    assert.equal(finished.reason, 'done');
    assert.deepEqual(errors.length, 2);

    const reportPosts = requests.filter((r) => r.endsWith('/reports'));
    assert.ok(reportPosts.length >= 3, `batches of at most 1000: ${reportPosts.length} requests`);
    const stored = await s.store.reports.list({ executionId: id, limit: 10_000 });
    assert.equal(stored.items.length, 2502);
    assert.deepEqual(
      stored.items.slice(0, 3).map((item) => (item.report.type === 'metric' ? item.report.step : -1)),
      [0, 1, 2],
    );
    assert.deepEqual(
      stored.items.slice(-2).map((item) => item.report.type),
      ['progress', 'annotation'],
    );
    const row = await s.store.executions.get(id);
    const session = await s.store.sessions.byName(s.publicProject.id, 'sweep');
    assert.equal(row?.session_id, session?.id);
    assert.equal(row?.name, 'alpha=0.1');
    await assert.rejects(reporter.finish('success'), /finish\(\) was called already/);
  });

  test('retries a batch the server answered 503 to, and one a network error stopped', async () => {
    let failures = 0;
    const { reporter, errors } = reporterFor({
      fetch: async (input, init) => {
        if (String(input).endsWith('/reports') && failures < 2) {
          failures += 1;
          if (failures === 1) return new Response('{"error":"GBCMS_ERR_UNAVAILABLE"}', { status: 503 });
          throw new TypeError('fetch failed');
        }
        return fetch(input, init);
      },
    });
    await reporter.start({ heartbeatTimeout: 60 });
    reporter.metric('x', 1);
    reporter.metric('x', 2);
    await reporter.flush();
    assert.equal(failures, 2);
    assert.deepEqual(errors, []);
    assert.equal(reporter.lost, 0);
    // Accepted (202); the server stores its batch within a few milliseconds.
    await waitFor(async () => (await s.store.reports.lastSeq(reporter.executionId ?? '')) === 2);
    const stored = await s.store.reports.list({ executionId: reporter.executionId ?? '' });
    assert.deepEqual(
      stored.items.map((item) => (item.report.type === 'metric' ? item.report.value : -1)),
      [1, 2],
    );
    await reporter.finish('failure');
  });

  test('gives up after its attempts without throwing, counting what was lost', async () => {
    const { reporter, errors } = reporterFor({
      attempts: 2,
      fetch: async (input, init) =>
        String(input).endsWith('/reports') ? new Response('', { status: 502 }) : fetch(input, init),
    });
    await reporter.start({ heartbeatTimeout: 60 });
    reporter.metric('x', 1);
    await reporter.flush();
    assert.equal(reporter.lost, 1);
    assert.match(errors[0]?.message ?? '', /answered 502/);
    await reporter.finish('success');
  });

  test('heartbeats keep a quiet execution alive; once the server ended it, finish rejects', async () => {
    const { reporter } = reporterFor();
    await reporter.start({ heartbeatTimeout: 2 });
    const id = reporter.executionId ?? '';
    // Three times: 1.5 s of the server's time pass, then the reporter beats on its own (the
    // server stores each heartbeat with its time). Silent for 2 s it would end; in 4.5 s it never is.
    for (let i = 1; i <= 3; i++) {
      nowMs += 1500;
      const at = new Date(nowMs).toISOString();
      await waitFor(async () => (await s.store.executions.get(id))?.last_heartbeat_at === at);
      assert.deepEqual(await s.manager.external.sweep(), [], `alive after heartbeat ${i}`);
    }
    assert.equal((await s.store.executions.get(id))?.status, 'running', 'heartbeats every timeout / 3');
    // Another client ends it: the reporter's next request learns it.
    await s.api('owner', 'POST', `/api/executions/${id}/terminate`);
    reporter.metric('x', 1);
    await reporter.flush();
    assert.equal(reporter.lost, 1);
    await assert.rejects(reporter.finish('success'), (error: ReporterError) => {
      assert.equal(error.status, 409);
      assert.equal(error.code, 'GBCMS_ERR_EXECUTION_ENDED');
      return true;
    });
  });

  test('reports to an execution created elsewhere', async () => {
    const created = await s.api('owner', 'POST', '/api/executions', {
      project_id: s.publicProject.id,
      external: true,
      heartbeat_timeout: 30,
    });
    const { reporter } = reporterFor({ projectId: undefined, executionId: String(created.body.id) });
    const execution = await reporter.start();
    assert.equal(execution?.heartbeat_timeout_s, 30);
    reporter.metric('x', 1);
    await reporter.close();
    assert.equal((await s.store.executions.get(String(created.body.id)))?.status, 'success');
    assert.equal(await s.store.reports.lastSeq(String(created.body.id)), 1);
  });

  test('a refused start is told to onError; reporting does not throw; finish rejects', async () => {
    const { reporter, errors } = reporterFor({ token: 'not-a-token' });
    assert.equal(await reporter.start(), undefined);
    assert.equal(errors[0]?.status, 401);
    reporter.metric('x', 1);
    await reporter.flush();
    await assert.rejects(reporter.finish('success'), /start refused/);
  });
});

describe('README examples', () => {
  async function snippet(language: string): Promise<string> {
    // The examples as the README shows them, from its section on external executions.
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const text = readme.slice(readme.indexOf('### From outside gbcms'));
    const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(text);
    assert.ok(match?.[1], `a ${language} block`);
    return match[1];
  }
  const env = () => ({
    ...process.env,
    GBCMS_URL: s.url,
    GBCMS_TOKEN: s.tokens.owner,
    GBCMS_PROJECT: s.privateProject.id,
  });

  async function newest(): Promise<string> {
    const page = await s.store.executions.listByProject(s.privateProject.id, { limit: 1 });
    return page.items[0]?.id ?? '';
  }

  test('the Python example creates an execution in a session, reports 10 epochs and finishes', async () => {
    const code = await snippet('python');
    assert.ok(code.split('\n').length <= 25, 'about 20 lines');
    await run('python3', ['-c', code], { env: env(), timeout: HANG_MS });
    const id = await newest();
    const row = await s.store.executions.get(id);
    assert.equal(row?.status, 'success');
    assert.equal(row?.reason, 'converged');
    assert.equal(row?.name, 'ridge alpha=0.1');
    const session = await s.store.sessions.byName(s.privateProject.id, 'regression');
    assert.equal(row?.session_id, session?.id);
    await waitFor(async () => (await s.store.reports.lastSeq(id)) === 20);
    const losses = await s.store.reports.list({ executionId: id, name: 'loss' });
    assert.deepEqual(
      losses.items.map((item) =>
        item.report.type === 'metric' ? [item.report.step, item.report.value] : [],
      ),
      Array.from({ length: 10 }, (_, i) => [i + 1, 1 / (i + 1)]),
    );
  });

  test('the curl example does the same', async () => {
    const script = await snippet('sh');
    await run('bash', ['-euo', 'pipefail', '-c', script], { env: env(), timeout: HANG_MS });
    const id = await newest();
    const row = await s.store.executions.get(id);
    assert.equal(row?.status, 'success');
    assert.equal(row?.heartbeat_timeout_s, 600);
    const stored = await s.store.reports.list({ executionId: id });
    assert.deepEqual(
      stored.items.map((item) => item.report.type),
      ['metric', 'progress'],
    );
  });
});
