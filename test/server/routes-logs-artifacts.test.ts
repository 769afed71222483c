import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;
let executionId: string;
let privateExecutionId: string;

before(async () => {
  server = await startTestServer();
  const start = async (projectId: string) =>
    (
      await server.request('owner', {
        method: 'POST',
        url: '/api/executions',
        payload: { project_id: projectId },
      })
    ).json().id as string;
  executionId = await start(server.publicProject.id);
  privateExecutionId = await start(server.privateProject.id);
  const fake = server.executions;
  await fake.begin(executionId);
  await fake.step(executionId, 'build', 'running');
  await fake.log(executionId, 'build', 'compiling');
  await fake.log(executionId, 'build', '\u001b[32mok\u001b[0m', 'stdout');
  await fake.log(executionId, 'build', 'retrying', 'system');
  await fake.step(executionId, 'build', 'success');
  await fake.step(executionId, 'test', 'running');
  await fake.log(executionId, 'test', 'progress: ', 'stdout', true);
  await fake.log(executionId, 'test', '100%');
  await fake.log(executionId, 'test', 'warning', 'stderr');
  await fake.step(executionId, 'test', 'success');
  await fake.step(executionId, 'deploy', 'skipped');
  await fake.artifact(executionId, 'build', 'build/dist/app.js', 'console.log(1)\n');
  await fake.artifact(executionId, 'build', 'build/report ü.txt', 'report');
  await fake.finish(executionId, 'success');
  await fake.begin(privateExecutionId);
  await fake.step(privateExecutionId, 'secret', 'running');
  await fake.log(privateExecutionId, 'secret', 'classified');
  await fake.artifact(privateExecutionId, 'secret', 'secret/plans.txt', 'plans');
});
after(() => server.close());

describe('GET /api/executions/:id/logs', () => {
  test('every step in order with [step] prefixes, partial lines joined, engine lines marked', async () => {
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/logs`,
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    assert.equal(
      response.body,
      [
        '[build] compiling',
        '[build] \u001b[32mok\u001b[0m',
        '[build] [gbcms] retrying',
        '[test] progress: 100%',
        '[test] warning',
        '',
      ].join('\n'),
    );
  });

  test('?step= gives that step without prefixes; an unknown step is 404', async () => {
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/logs?step=test`,
    });
    assert.equal(response.body, 'progress: 100%\nwarning\n');
    const skipped = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/logs?step=deploy`,
    });
    assert.equal(skipped.statusCode, 200);
    assert.equal(skipped.body, '');
    const unknown = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/logs?step=nope`,
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'GBCMS_ERR_STEP_NOT_FOUND');
  });

  test('?timestamps=true prefixes times', async () => {
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/logs?step=build&timestamps=true`,
    });
    for (const line of response.body.trimEnd().split('\n')) assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z /);
  });

  test('private logs are 404 to strangers, readable by members', async () => {
    const url = `/api/executions/${privateExecutionId}/logs`;
    assert.equal((await server.request('anonymous', { method: 'GET', url })).statusCode, 404);
    assert.equal((await server.request('stranger', { method: 'GET', url })).statusCode, 404);
    const member = await server.request('member', { method: 'GET', url });
    assert.equal(member.body, '[secret] classified\n');
  });
});

describe('GET /api/executions/:id/steps/:name/log', () => {
  const range = (who: 'anonymous' | 'member' | 'stranger', id: string, step: string, query = '') =>
    server.request(who, { method: 'GET', url: `/api/executions/${id}/steps/${step}/log${query}` });

  test('lines by number with their HTML; the last ones without from; the total and nothing past it', async () => {
    const all = await range('anonymous', executionId, 'build', '?from=1&limit=10');
    assert.equal(all.statusCode, 200);
    const body = all.json();
    assert.equal(body.total, 3);
    assert.deepEqual(
      body.lines.map((l: { seq: number; stream: string; html: string }) => [l.seq, l.stream, l.html]),
      [
        [1, 'stdout', 'compiling'],
        [2, 'stdout', '<span style="color:#3fb950">ok</span>'],
        [3, 'system', 'retrying'],
      ],
    );
    const tail = (await range('anonymous', executionId, 'build', '?limit=2')).json();
    assert.deepEqual(
      tail.lines.map((l: { seq: number }) => l.seq),
      [2, 3],
    );
    const middle = (await range('anonymous', executionId, 'build', '?from=2&limit=1')).json();
    assert.deepEqual(
      middle.lines.map((l: { seq: number }) => l.seq),
      [2],
    );
    const past = (await range('anonymous', executionId, 'build', '?from=9')).json();
    assert.deepEqual([past.total, past.lines], [3, []]);
    const partial = (await range('anonymous', executionId, 'test', '?from=1&limit=1')).json();
    assert.equal(partial.lines[0].partial, true);
  });

  test('a skipped step has no lines; an unknown step is 404; limits are checked', async () => {
    const skipped = (await range('anonymous', executionId, 'deploy')).json();
    assert.deepEqual([skipped.total, skipped.lines], [0, []]);
    assert.equal((await range('anonymous', executionId, 'nope')).statusCode, 404);
    assert.equal((await range('anonymous', executionId, 'build', '?limit=5001')).statusCode, 400);
    assert.equal((await range('anonymous', executionId, 'build', '?from=0')).statusCode, 400);
  });

  test('a big log read for the first time: its last lines, then any line, with their numbers and commands', async () => {
    const { id } = (
      await server.request('owner', {
        method: 'POST',
        url: '/api/executions',
        payload: { project_id: server.publicProject.id },
      })
    ).json() as { id: string };
    await server.executions.begin(id);
    await server.executions.step(id, 'big', 'running');
    // Written straight to the file, as the engine stores plain output: 10 lines a record.
    const execution = await server.store.executions.get(id);
    const time = new Date().toISOString();
    const records: string[] = [];
    for (let seq = 1; seq <= 100_000; seq += 10) {
      const text = Array.from({ length: 10 }, (_, i) =>
        seq + i === 50 ? '+ make all' : seq + i === 99_995 ? '+ make check' : `line ${seq + i}`,
      );
      records.push(JSON.stringify({ seq, time, stream: 'stdout', text: text.join('\n') }));
    }
    const dir = join(server.store.dataDir, execution?.logs_dir ?? '', 'logs');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'big.log'), `${records.join('\n')}\n`);
    await server.executions.step(id, 'big', 'failure');

    const tail = (await range('anonymous', id, 'big', '?limit=10')).json();
    assert.equal(tail.total, 100_000);
    assert.deepEqual(tail.lines.map((l: { seq: number; html: string }) => [l.seq, l.html]).slice(0, 2), [
      [99_991, 'line 99991'],
      [99_992, 'line 99992'],
    ]);
    // Only the commands among these lines so far, and the answer says so.
    assert.deepEqual([tail.commands, tail.commands_partial], [[99_995], true]);
    const middle = (await range('anonymous', id, 'big', '?from=61234&limit=2')).json();
    assert.deepEqual(
      middle.lines.map((l: { seq: number; html: string }) => [l.seq, l.html]),
      [
        [61_234, 'line 61234'],
        [61_235, 'line 61235'],
      ],
    );
    assert.deepEqual(
      [middle.total, middle.commands, middle.commands_partial],
      [100_000, [50, 99_995], undefined],
    );
  });

  test('private logs are 404 to strangers, readable by members', async () => {
    assert.equal((await range('stranger', privateExecutionId, 'secret')).statusCode, 404);
    assert.equal((await range('anonymous', privateExecutionId, 'secret')).statusCode, 404);
    const member = await range('member', privateExecutionId, 'secret');
    assert.equal(member.statusCode, 200);
    assert.equal(member.json().lines[0].html, 'classified');
  });
});

describe('artifacts', () => {
  test('the list has paths, sizes, hashes and download URLs', async () => {
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/artifacts`,
    });
    assert.equal(response.statusCode, 200);
    const items = response.json().items as { path: string; size: number; sha256: string; url: string }[];
    assert.deepEqual(
      items.map((a) => a.path),
      ['build/dist/app.js', 'build/report ü.txt'],
    );
    assert.equal(items[0]?.size, 15);
    assert.match(items[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(items[1]?.url, `/api/executions/${executionId}/artifacts/build/report%20%C3%BC.txt`);
  });

  test('downloads as an attachment', async () => {
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/artifacts/build/dist/app.js`,
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, 'console.log(1)\n');
    assert.equal(response.headers['content-type'], 'application/octet-stream');
    assert.equal(
      response.headers['content-disposition'],
      `attachment; filename="app.js"; filename*=UTF-8''app.js`,
    );
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    const unicode = await server.request('anonymous', {
      method: 'GET',
      url: `/api/executions/${executionId}/artifacts/build/report%20%C3%BC.txt`,
    });
    assert.equal(unicode.body, 'report');
    assert.equal(
      unicode.headers['content-disposition'],
      `attachment; filename="report _.txt"; filename*=UTF-8''report%20%C3%BC.txt`,
    );
  });

  test('traversal attempts are refused and read nothing', async () => {
    // A file next to the execution folder that a traversal would reach.
    const execution = await server.store.executions.get(executionId);
    await writeFile(join(server.dir, 'outside.txt'), 'top secret');
    const base = `/api/executions/${executionId}/artifacts/`;
    const attempts = [
      '..%2f..%2f..%2foutside.txt',
      '..%2F..%2F..%2Foutside.txt',
      'build/..%2f..%2f..%2f..%2foutside.txt',
      '%2e%2e/%2e%2e/%2e%2e/outside.txt',
      '..%5c..%5coutside.txt',
      '%2fetc%2fpasswd',
      'build%2f.%2fdist%2fapp.js',
      'build//dist/app.js',
      'build/dist/app.js%00.txt',
    ];
    for (const attempt of attempts) {
      const response = await server.request('admin', { method: 'GET', url: base + attempt });
      assert.ok([400, 404].includes(response.statusCode), `${attempt}: ${response.statusCode}`);
      assert.doesNotMatch(response.body, /top secret|root:/);
      assert.match(response.json().error, /^GBCMS_ERR_(INVALID_PATH|ARTIFACT_NOT_FOUND|NOT_FOUND)$/);
    }
    assert.ok(execution);
  });

  test('a recorded path whose file became a link out is not served', async () => {
    const execution = await server.store.executions.get(executionId);
    assert.ok(execution);
    const dir = join(server.dir, execution.logs_dir, 'artifacts', 'build', 'linked');
    await mkdir(dir, { recursive: true });
    await writeFile(join(server.dir, 'secret.txt'), 'top secret');
    await symlink(join(server.dir, 'secret.txt'), join(dir, 'out.txt'));
    await server.store.artifacts.add(executionId, [
      { step: 'build', path: 'build/linked/out.txt', size: 10, sha256: '0'.repeat(64) },
    ]);
    const response = await server.request('admin', {
      method: 'GET',
      url: `/api/executions/${executionId}/artifacts/build/linked/out.txt`,
    });
    assert.equal(response.statusCode, 404);
    assert.doesNotMatch(response.body, /top secret/);
  });

  test('unrecorded files are 404; private artifacts are 404 to strangers', async () => {
    const unrecorded = await server.request('admin', {
      method: 'GET',
      url: `/api/executions/${executionId}/artifacts/build/dist/other.js`,
    });
    assert.equal(unrecorded.statusCode, 404);
    const url = `/api/executions/${privateExecutionId}/artifacts/secret/plans.txt`;
    assert.equal((await server.request('stranger', { method: 'GET', url })).statusCode, 404);
    assert.equal(
      (
        await server.request('anonymous', {
          method: 'GET',
          url: `/api/executions/${privateExecutionId}/artifacts`,
        })
      ).statusCode,
      404,
    );
    const member = await server.request('member', { method: 'GET', url });
    assert.equal(member.body, 'plans');
  });
});
