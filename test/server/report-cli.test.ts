// `gbcms report` as a user runs it (bin/gbcms.js, a process of its own) against a real
// `gbcms serve`, and inside a step, where it prints the protocol and loads nothing of the server.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../server/store/index.ts';
import { pollUntil } from '../helpers/poll.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repo, 'bin', 'gbcms.js');
const recorder = fileURLToPath(new URL('../helpers/record-imports.mjs', import.meta.url));

let data = '';
let url = '';
let token = '';
let projectId = '';
let server: ChildProcess | undefined;

before(async () => {
  data = await mkdtemp(join(tmpdir(), 'gbcms-report-cli-'));
  const store = await openStore(data);
  const user = await store.users.create({ username: 'alice', role: 'developer' });
  token = (await store.tokens.create(user.id, 'cli')).token;
  projectId = (await store.projects.create({ name: 'jobs', repo: '/srv/git/jobs.git', owner_id: user.id }))
    .id;
  await store.close();
  const child = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--port',
      '0',
      '--data',
      data,
      '--backend',
      'local',
      '--rate-limit',
      '100000',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  server = child;
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  url = await pollUntil('gbcms serve to listen', () => {
    if (child.exitCode !== null) throw new Error(`gbcms serve ended:\n${text}`);
    return /listening on (http:\/\/\S+)/.exec(text)?.[1];
  });
});

after(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  await rm(data, { recursive: true, force: true });
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `gbcms report ...` with exactly `env` (plus PATH). */
function report(args: string[], env: NodeJS.ProcessEnv, node: string[] = []): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...node, bin, 'report', ...args],
      { env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return (await response.json()) as T;
}

type Item = { report: Record<string, unknown> };

describe('gbcms report', () => {
  test('start, metric, progress, annotation, heartbeat and finish with a token', async () => {
    const env = { GBCMS_URL: url, GBCMS_TOKEN: token, GBCMS_PROJECT: projectId };
    const started = await report(['start', '--session', 'nightly', '--name', 'shell job'], env);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    const withId = { ...env, GBCMS_EXECUTION: id };
    for (const args of [
      ['metric', 'loss', '0.25', '--step', '3'],
      ['progress', '1', '4', 'first', 'quarter'],
      ['annotation', '--level', 'warning', '--title', 'Slow disk', '--file', 'job.sh', '--line', '7'],
      ['heartbeat'],
    ]) {
      const ran = await report(args, withId);
      assert.deepEqual([ran.code, ran.stderr], [0, ''], args.join(' '));
    }
    const finished = await report(['finish', 'success', '--message', 'all good'], withId);
    assert.deepEqual([finished.code, finished.stdout], [0, 'success\n'], finished.stderr);

    const execution = await api<Record<string, unknown>>('GET', `/api/executions/${id}`);
    assert.equal(execution.status, 'success');
    assert.equal(execution.reason, 'all good');
    assert.equal(execution.name, 'shell job');
    const reports = await api<{ items: Item[] }>('GET', `/api/executions/${id}/reports`);
    assert.deepEqual(
      reports.items.map(({ report: { time: _, ...rest } }) => rest),
      [
        { type: 'metric', name: 'loss', value: 0.25, step: 3 },
        { type: 'progress', done: 1, total: 4, message: 'first quarter' },
        { type: 'annotation', level: 'warning', file: 'job.sh', line: 7, title: 'Slow disk' },
      ],
    );

    const late = await report(['metric', 'loss', '1'], withId);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /^gbcms report metric: .*ended/m);
  });

  test('a session key needs no project', async () => {
    const made = await api<{ id: string; key: { key: string } }>(
      'POST',
      `/api/projects/${projectId}/sessions`,
      {
        name: 'from-shell',
        key: true,
      },
    );
    const env = { GBCMS_URL: url, GBCMS_TOKEN: made.key.key };
    const started = await report(['start', '--name', 'keyed'], env);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    const finished = await report(['finish', 'failure', '--message', 'diverged', '--execution', id], env);
    assert.equal(finished.code, 0, finished.stderr);
    const execution = await api<Record<string, unknown>>('GET', `/api/executions/${id}`);
    assert.deepEqual(
      [execution.session_id, execution.status, execution.reason],
      [made.id, 'failure', 'diverged'],
    );
  });

  test('bad input says what and where; a refused token exits 1', async () => {
    const env = { GBCMS_URL: url, GBCMS_TOKEN: token, GBCMS_EXECUTION: 'x' };
    const notNumber = await report(['metric', 'loss', 'abc'], env);
    assert.equal(notNumber.code, 2);
    assert.match(notNumber.stderr, /^gbcms report metric: VALUE must be a number, not 'abc'\n/);
    const badName = await report(['metric', 'bad name', '1'], env);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /metric name 'bad name' may only hold/);
    const noUrl = await report(['metric', 'loss', '1'], { GBCMS_TOKEN: token });
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /no server: pass --url or set \$GBCMS_URL/);
    const refused = await report(['start'], { GBCMS_URL: url, GBCMS_TOKEN: `gbcmsk_${'A'.repeat(43)}` });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^gbcms report start: start refused: the session key is invalid, revoked or expired\n$/,
    );
  });

  test('inside a step it prints the protocol and loads nothing of the server', async () => {
    const log = join(data, 'imports.txt');
    const env = { GBCMS_STEP: 'train', GBCMS_RECORD_IMPORTS: log };
    const metric = await report(['metric', 'loss', '0.5', '--step', '2'], env, ['--import', recorder]);
    assert.deepEqual(metric, { code: 0, stdout: '::gbcms metric name=loss value=0.5 step=2\n', stderr: '' });
    const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    assert.ok(loaded.some((url) => url.endsWith('/engine/cli/report.ts')));
    const serverDir = new URL('../../server/', import.meta.url).href;
    assert.deepEqual(
      loaded.filter(
        (url) => url.startsWith(serverDir) || /\/node_modules\/(fastify|better-sqlite3|kysely)\//.test(url),
      ),
      [],
    );
    const annotation = await report(['annotation', '--level', 'error', '--message', 'two words'], {
      GBCMS_STEP: 'x',
    });
    assert.equal(annotation.stdout, '::gbcms annotation level=error message=two words\n');
    assert.deepEqual(await report(['start'], { GBCMS_STEP: 'x' }), { code: 0, stdout: '', stderr: '' });
    const failed = await report(['finish', 'failure', '--message', 'boom'], { GBCMS_STEP: 'x' });
    assert.equal(failed.stdout, '::gbcms annotation level=error message=boom\n');
  });
});
