// `gbcms serve --database postgres://...` for real: one server runs a pipeline end to end on
// PostgreSQL, and two servers sharing one database and one data folder hand out execution
// numbers and report sequence numbers that are unique and gap-free under concurrent requests.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectCommand } from '../../server/cli/project.ts';
import { serveCommand } from '../../server/cli/serve.ts';
import { tokenCommand } from '../../server/cli/token.ts';
import { DATABASE_FILE, openStore } from '../../server/store/index.ts';
import { capture, runCommand } from '../helpers/cli.ts';
import { testDatabases } from '../helpers/databases.ts';
import { pollUntil } from '../helpers/poll.ts';
import { type Served, serveProcess } from './helpers/serve-process.ts';

const EXECUTIONS = 50;
const REPORTED_EXECUTIONS = 6;
const BATCHES_PER_EXECUTION = 12;
const POINTS_PER_BATCH = 25;

interface ExecutionView {
  id: string;
  number: number;
  status: string;
}

const databases = testDatabases('postgres');
let dir: string;
let data: string;
let database: string;
let token: string;
const servers: Served[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gbcms-pg-serve-'));
  data = join(dir, 'data');
  const url = await databases.database(data);
  assert.ok(url);
  database = url;
  // The token command on the same database, through its --database option.
  const created = await runCommand(
    tokenCommand,
    ['create', '--role', 'admin', '--data', data, '--database', database],
    {
      cwd: dir,
    },
  );
  assert.equal(created.code, 0, created.stderr);
  token = created.stdout.trim();
});
after(async () => {
  for (const server of servers) server.child.kill('SIGKILL');
  await Promise.all(servers.map((server) => server.exited));
  await rm(dir, { recursive: true, force: true });
});

/** A server on the shared database, chosen by $GBCMS_DATABASE_URL. */
async function serve(): Promise<Served> {
  const server = await serveProcess(data, 'local', {
    ...process.env,
    GBCMS_DATABASE_URL: database,
    TMPDIR: join(dir, 'tmp'),
  });
  servers.push(server);
  return server;
}

async function api<T>(server: Served, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

describe('gbcms serve on PostgreSQL', () => {
  let first: Served;
  let second: Served;

  before(async () => {
    await mkdir(join(dir, 'tmp'));
    first = await serve();
  });

  test('runs a pipeline end to end; the data folder keeps its logs, the database the rest', async () => {
    const repo = join(dir, 'repo');
    await mkdir(repo);
    await writeFile(
      join(repo, '.gbcms.yml'),
      [
        'version: 1',
        'name: on-postgres',
        'steps:',
        '  hello:',
        '    image: busybox',
        '    commands: ["echo hello-from-postgres"]',
        '',
      ].join('\n'),
    );
    const project = await api<{ id: string }>(first, 'POST', '/api/projects', {
      name: 'on-postgres',
      repo,
      visibility: 'public',
    });
    const started = await api<ExecutionView>(first, 'POST', '/api/executions', { project_id: project.id });
    const ended = await pollUntil('the execution to finish', async () => {
      const view = await api<ExecutionView & { steps: { name: string; status: string }[] }>(
        first,
        'GET',
        `/api/executions/${started.id}`,
      );
      return !['blocked', 'pending', 'running'].includes(view.status) && view;
    });
    assert.equal(ended.status, 'success');
    assert.deepEqual(
      ended.steps.map((step) => [step.name, step.status]),
      [['hello', 'success']],
    );
    const logs = await fetch(`${first.url}/api/executions/${started.id}/logs?step=hello`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok((await logs.text()).includes('hello-from-postgres'));

    const page = await fetch(`${first.url}/executions/${started.id}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /on-postgres/);
    assert.match(html, /hello/);

    const files = await readdir(data);
    assert.ok(files.includes('executions'), files.join(' '));
    assert.ok(!files.includes(DATABASE_FILE), 'no SQLite file next to a PostgreSQL store');

    // A data command reads the same database the server writes.
    const listed = await runCommand(projectCommand, ['list', '--data', data], {
      cwd: dir,
      env: { GBCMS_DATABASE_URL: database },
    });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /on-postgres/);
  });

  test('two servers on one database: execution and report numbers unique and gap-free', async () => {
    second = await serve();
    const both = [first, second];
    const project = await api<{ id: string }>(first, 'POST', '/api/projects', {
      name: 'two-servers',
      repo: join(dir, 'repo'),
    });

    const created = await Promise.all(
      Array.from({ length: EXECUTIONS }, (_, i) =>
        api<ExecutionView>(both[i % 2] as Served, 'POST', '/api/executions', {
          project_id: project.id,
          external: true,
          name: `job-${i}`,
          heartbeat_timeout: 86_400,
        }),
      ),
    );
    assert.deepEqual(
      created.map((execution) => execution.number).sort((a, b) => a - b),
      Array.from({ length: EXECUTIONS }, (_, i) => i + 1),
    );

    // Report batches for a few executions, each execution's batches split over both servers
    // and sent all at once: both servers' sinks number the same execution's reports.
    const reported = created.slice(0, REPORTED_EXECUTIONS);
    await Promise.all(
      reported.flatMap((execution) =>
        Array.from({ length: BATCHES_PER_EXECUTION }, (_, batch) =>
          api(
            both[batch % 2] as Served,
            'POST',
            `/api/executions/${execution.id}/reports`,
            Array.from({ length: POINTS_PER_BATCH }, (_, i) => ({
              type: 'metric',
              name: `loss-${batch}`,
              value: i / 7,
              step: i,
            })),
          ),
        ),
      ),
    );

    const expected = BATCHES_PER_EXECUTION * POINTS_PER_BATCH;
    const store = await openStore(data, { database });
    try {
      for (const execution of reported) {
        // The servers store what they accepted within their flush interval.
        await pollUntil(
          `the reports of ${execution.id} to be stored`,
          async () => (await store.reports.lastSeq(execution.id)) >= expected,
        );
        const page = await store.reports.list({ executionId: execution.id, limit: expected + 10 });
        assert.deepEqual(
          page.items.map((item) => item.seq),
          Array.from({ length: expected }, (_, i) => i + 1),
        );
        // Every point arrived once, whichever server took it.
        const points = page.items.map((item) =>
          item.report.type === 'metric' ? `${item.report.name}/${item.report.step}/${item.report.value}` : '',
        );
        assert.equal(new Set(points).size, expected);
      }
    } finally {
      await store.close();
    }
  });

  test('a database it cannot use is named in a message, not a crash; only postgres:// URLs are taken', async () => {
    // Nothing listens on port 1: the connection is refused.
    const unreachable = 'postgres://gbcms:secret-password@127.0.0.1:1/gbcms';
    const stderr = capture();
    const code = await serveCommand(['--port', '0', '--data', join(dir, 'elsewhere'), '--backend', 'local'], {
      stdout: capture(),
      stderr,
      cwd: dir,
      env: { GBCMS_DATABASE_URL: unreachable },
    });
    assert.equal(code, 1);
    assert.match(
      stderr.text(),
      /^gbcms serve: postgres:\/\/gbcms:\*\*\*@127\.0\.0\.1:1\/gbcms: .*ECONNREFUSED/m,
    );
    assert.ok(!stderr.text().includes('secret-password'), 'the password stays out of messages');

    const usage = capture();
    assert.equal(
      await serveCommand(['--database', join(dir, 'db.sqlite')], {
        stdout: capture(),
        stderr: usage,
        cwd: dir,
        env: {},
      }),
      2,
    );
    assert.match(usage.text(), /--database must be a postgres:\/\/ URL/);
    const listed = await runCommand(projectCommand, ['list', '--database', 'mysql://x'], { cwd: dir });
    assert.equal(listed.code, 2);
    assert.match(listed.stderr, /--database must be a postgres:\/\/ URL/);
  });
});
