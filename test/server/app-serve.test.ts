// `gbcms serve` for real: the store, the real execution manager on the local backend, the
// HTTP server on a free port; an execution of a registered directory runs end to end and
// the server stops cleanly on request.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSettings, retention, serveCommand } from '../../server/cli/serve.ts';
import { openStore } from '../../server/store/index.ts';
import { capture } from '../helpers/cli.ts';
import { parseSse } from './helpers/sse.ts';

const PIPELINE = `version: 1
name: served
steps:
  build:
    image: busybox:stable
    commands:
      - echo "building on the server"
      - mkdir -p out && echo artifact > out/a.txt
    artifacts: [out/a.txt]
  test:
    image: busybox:stable
    depends_on: [build]
    commands:
      - printf '\\033[32mgreen\\033[0m\\n'
`;

describe('gbcms serve', () => {
  let dir: string;
  let token: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gbcms-serve-'));
    const store = await openStore(join(dir, 'data'));
    const admin = await store.users.create({ username: 'admin', role: 'admin' });
    token = (await store.tokens.create(admin.id, 'test')).token;
    await store.close();
    await mkdir(join(dir, 'repo'));
    await writeFile(join(dir, 'repo', '.gbcms.yml'), PIPELINE);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('runs an execution end to end on the local backend, then stops on request', async (t) => {
    const stdout = capture();
    const stderr = capture();
    const stop = new AbortController();
    // A failed assertion must not leave the server listening: the file would never end.
    t.after(() => stop.abort());
    let url = '';
    let exited: Promise<number> | undefined;
    await new Promise<void>((resolve) => {
      exited = serveCommand(
        [
          '--port',
          '0',
          '--data',
          join(dir, 'data'),
          '--backend',
          'local',
          '--retention',
          '7d',
          '--grace',
          '2s',
        ],
        { stdout, stderr, env: {}, cwd: dir },
        {
          signal: stop.signal,
          onListening: (address) => {
            url = address;
            resolve();
          },
        },
      );
    });
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string; version: string };
    assert.equal(health.status, 'ok');
    assert.match(health.version, /^\d+\.\d+\.\d+/);
    const project = await (
      await fetch(`${url}/api/projects`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: 'served', repo: join(dir, 'repo'), visibility: 'public' }),
      })
    ).json();
    assert.equal(project.name, 'served');
    const started = await fetch(`${url}/api/executions`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ project_id: project.id }),
    });
    assert.equal(started.status, 201);
    const execution = await started.json();

    // The event stream follows it to the end.
    const events = parseSse(await (await fetch(`${url}/api/executions/${execution.id}/events`)).text());
    const end = JSON.parse(events.at(-1)?.data ?? '{}');
    assert.equal(events.at(-1)?.event, 'end');
    assert.equal(end.execution.status, 'success', JSON.stringify(end));
    assert.ok(
      events.some((e) => e.event === 'log' && JSON.parse(e.data).line.text === 'building on the server'),
    );

    const detail = await (await fetch(`${url}/api/executions/${execution.id}`)).json();
    assert.equal(detail.status, 'success');
    assert.deepEqual(
      detail.steps.map((s: { name: string; status: string }) => [s.name, s.status]),
      [
        ['build', 'success'],
        ['test', 'success'],
      ],
    );
    const logs = await (await fetch(`${url}${detail.logs}`)).text();
    assert.match(logs, /^\[build\] building on the server$/m);
    assert.ok(logs.split('\n').includes('[test] \u001b[32mgreen\u001b[0m'), logs);
    assert.equal(detail.artifacts.length, 1);
    const download = await fetch(`${url}${detail.artifacts[0].url}`);
    assert.equal(await download.text(), 'artifact\n');

    const page = await (await fetch(`${url}/executions/${execution.id}`)).text();
    assert.match(page, /<span id="status" class="status status-success">success<\/span>/);
    // The run page reads a step's lines through the ranged log API, colours as HTML.
    const range = await (await fetch(`${url}/api/executions/${execution.id}/steps/test/log`)).json();
    assert.ok(
      range.lines.some((line: { html: string }) => line.html === '<span style="color:#3fb950">green</span>'),
      JSON.stringify(range.lines),
    );

    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^gbcms_executions\{status="success"\} 1$/m);
    assert.match(metrics, /^gbcms_step_duration_seconds_count\{status="success"\} 2$/m);

    stop.abort();
    assert.equal(await exited, 0);
    assert.match(stderr.text(), /listening on http:\/\/127\.0\.0\.1:\d+/);
    // Access log lines, JSON, with request ids, and no token in them: by default for what
    // changed something (the project, the execution), not for the reads in between.
    const lines = stdout
      .text()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const access = lines.filter((line) => line.msg === 'request');
    assert.ok(access.some((line) => line.reqId && line.method === 'POST' && line.url === '/api/projects'));
    assert.ok(access.some((line) => line.method === 'POST' && line.url === '/api/executions'));
    assert.deepEqual(
      access.filter((line) => line.method === 'GET'),
      [],
    );
    assert.doesNotMatch(stdout.text(), new RegExp(token));
    await assert.rejects(fetch(`${url}/healthz`));
  });

  test('usage errors exit 2; --help exits 0', async () => {
    const io = () => ({ stdout: capture(), stderr: capture(), env: {}, cwd: dir });
    for (const argv of [
      ['--port', 'x'],
      ['--backend', 'kubernetes'],
      ['--retention', 'soon'],
      ['--nope'],
      ['extra'],
    ]) {
      const streams = io();
      assert.equal(await serveCommand(argv, streams), 2, argv.join(' '));
      assert.match(streams.stderr.text(), /^gbcms serve: /);
    }
    const help = io();
    assert.equal(await serveCommand(['--help'], help), 0);
    assert.match(help.stdout.text(), /--retention D/);
  });

  test('settings: retention and defaults', () => {
    assert.equal(retention('14d'), 14 * 24 * 3600 * 1000);
    assert.equal(retention('1d12h'), 36 * 3600 * 1000);
    assert.equal(retention('90m'), 90 * 60 * 1000);
    assert.equal(retention('0'), 0);
    const defaults = readSettings({});
    assert.equal(defaults.host, '127.0.0.1');
    assert.equal(defaults.port, 8080);
    assert.equal(defaults.backend, 'auto');
    assert.equal(defaults.rateLimit, 600);
    assert.equal(defaults.retentionMs, 14 * 24 * 3600 * 1000);
    assert.equal(defaults.cacheBudgetBytes, 5 * 1024 ** 3);
    assert.equal(defaults.accessLog, 'writes');
    assert.equal(readSettings({ 'access-log': 'all' }).accessLog, 'all');
    assert.throws(
      () => readSettings({ 'access-log': 'some' }),
      /--access-log must be one of all, writes, errors, off/,
    );
    assert.equal(readSettings({ 'cache-budget': '500MiB' }).cacheBudgetBytes, 500 * 1024 ** 2);
    assert.throws(() => readSettings({ 'cache-budget': 'lots' }), /--cache-budget must be a size like 5GiB/);
    assert.equal(defaults.runnerLeaseMs, 8_000);
    assert.equal(readSettings({ 'runner-lease': '2m' }).runnerLeaseMs, 120_000);
    for (const bad of ['5s', '2h', 'long']) {
      assert.throws(
        () => readSettings({ 'runner-lease': bad }),
        /--runner-lease must be a duration from 7.5s to 1h/,
      );
    }
  });
});
