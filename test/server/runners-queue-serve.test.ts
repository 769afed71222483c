// `gbcms serve --queue redis://...`: runner dispatch through BullMQ on a real Redis, with real
// serve and runner processes. Executions spread over two runners run exactly once; a Redis
// restarted while one runs and others wait loses nothing and runs nothing twice; a Redis that
// does not answer stops the server at start, saying which.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveCommand } from '../../server/cli/serve.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { capture } from '../helpers/cli.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { pollUntil } from '../helpers/poll.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type Fleet, startFleet } from './helpers/runner-fleet.ts';

/** How many times the runners started execution `id` (run-job.ts logs "running ... (id)"). */
function starts(output: string, id: string): number {
  return output.split(`(${id})`).length - 1;
}

async function allEnded(fleet: Fleet, ids: readonly string[]) {
  const ended = [];
  for (const id of ids) ended.push(await fleet.ended(id));
  return ended;
}

const onDocker = await dockerTestOptions();

describe('gbcms serve --queue', () => {
  const cleanups = cleanUpAfterAll();
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.close();
  });

  describe('on Docker', onDocker, () => {
    test('executions spread over two runners through Redis, each run exactly once', async () => {
      await ensureBusyboxImage();
      const fleet = await startFleet(cleanups, {
        backend: 'docker',
        runners: { r1: ['pool'], r2: ['pool'] },
        serveArgs: ['--queue', `${redis.url}/1`, '--max-running', '10'],
      });
      assert.match(fleet.server.output(), new RegExp(`queue ${redis.url}/1\\)`));
      const r1 = fleet.runner('r1', { capacity: 2 });
      const r2 = fleet.runner('r2', { capacity: 2 });
      const project = await fleet.project(
        'spread',
        [
          'version: 1',
          'steps:',
          '  hello:',
          `    image: ${BUSYBOX_IMAGE}`,
          '    runs_on: [pool]',
          '    commands: ["cat greeting.txt"]',
          '',
        ].join('\n'),
      );
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await fleet.start(project));
      for (const execution of await allEnded(fleet, ids)) {
        assert.equal(execution.status, 'success', `${execution.id}: ${execution.reason}`);
        assert.ok(execution.runner === 'r1' || execution.runner === 'r2', String(execution.runner));
        assert.match(await fleet.logs(execution.id), /\[hello\] hello from spread's source\n/);
      }
      const output = r1.output() + r2.output();
      for (const id of ids) assert.equal(starts(output, id), 1, `${id} in:\n${output}`);
      for (const runner of [r1, r2]) runner.child.kill('SIGTERM');
      for (const runner of [r1, r2]) assert.equal((await runner.exited)[0], 0, runner.output());
      fleet.server.child.kill('SIGTERM');
      assert.equal((await fleet.server.exited)[0], 0, fleet.server.output());
    });
  });

  test('Redis restarted while one execution runs and others wait: all run, none twice', async () => {
    const fleet = await startFleet(cleanups, {
      backend: 'local',
      runners: { r1: ['pool'], r2: ['pool'] },
      // Work waiting for a runner holds a slot of the global limit: room for all of it.
      serveArgs: ['--queue', redis.url, '--max-running', '10'],
    });
    const long = await fleet.project(
      'long',
      [
        'version: 1',
        'steps:',
        '  wait:',
        `    image: ${BUSYBOX_IMAGE}`,
        '    runs_on: [pool]',
        // Long enough to be running while Redis restarts (the test waits for "started" first);
        // should it end sooner on some machine, the checks below hold all the same.
        '    commands: ["echo started", "sleep 4", "echo released"]',
        '',
      ].join('\n'),
    );
    // One project each: a project runs one execution at a time (max_concurrent 1), and the
    // others of the same project would wait in the server, not in Redis.
    const quick = (name: string) =>
      fleet.project(
        name,
        [
          'version: 1',
          'steps:',
          '  hello:',
          `    image: ${BUSYBOX_IMAGE}`,
          '    runs_on: [pool]',
          '    commands: ["echo quick"]',
          '',
        ].join('\n'),
      );
    // No runner yet: each waits in Redis, saying so on its page; the long one first in line.
    const queued = (id: string) =>
      pollUntil(`${id} to wait for a runner`, async () => {
        return (await fleet.execution(id)).reason !== null;
      });
    const running = await fleet.start(long);
    await queued(running);
    const waiting: string[] = [];
    for (let i = 0; i < 3; i++) waiting.push(await fleet.start(await quick(`quick-${i}`)));
    for (const id of waiting) await queued(id);
    // One runner, room for one: it takes the oldest, which runs for a while.
    const r1 = fleet.runner('r1', { capacity: 1 });
    await pollUntil('the long step to start', async () => (await fleet.logs(running)).includes('started'));

    await redis.stop();
    await redis.start();

    const r2 = fleet.runner('r2', { capacity: 2 });
    for (const execution of await allEnded(fleet, [running, ...waiting])) {
      assert.equal(execution.status, 'success', `${execution.id}: ${execution.reason}`);
    }
    assert.match(await fleet.logs(running), /\[wait\] released\n/);
    assert.equal((await fleet.execution(running)).runner, 'r1');
    const output = r1.output() + r2.output();
    for (const id of [running, ...waiting]) assert.equal(starts(output, id), 1, `${id} in:\n${output}`);
    for (const runner of [r1, r2]) runner.child.kill('SIGTERM');
    for (const runner of [r1, r2]) assert.equal((await runner.exited)[0], 0, runner.output());
    fleet.server.child.kill('SIGTERM');
    assert.equal((await fleet.server.exited)[0], 0, fleet.server.output());
  });
});

describe('gbcms serve --queue, when it cannot be used', () => {
  const cleanups = cleanUpAfterAll();

  test('a Redis that does not answer is named, and the server does not start', async () => {
    const dir = await cleanups.tempDir('gbcms-queue-');
    const stderr = capture();
    // Nothing listens on port 1: the connection is refused.
    const code = await serveCommand(['--port', '0', '--data', join(dir, 'data'), '--backend', 'local'], {
      stdout: capture(),
      stderr,
      cwd: dir,
      env: { GBCMS_QUEUE_URL: 'redis://:secret-password@127.0.0.1:1/2' },
    });
    assert.equal(code, 1);
    assert.match(stderr.text(), /^gbcms serve: queue redis:\/\/:\*\*\*@127\.0\.0\.1:1\/2: .*ECONNREFUSED/m);
    assert.ok(!stderr.text().includes('secret-password'), 'the password stays out of messages');
  });

  test('only redis:// URLs are taken', async () => {
    const dir = await cleanups.tempDir('gbcms-queue-');
    const io = (env: NodeJS.ProcessEnv) => ({ stdout: capture(), stderr: capture(), cwd: dir, env });
    const option = io({});
    assert.equal(await serveCommand(['--queue', 'postgres://x'], option), 2);
    assert.match(option.stderr.text(), /--queue must be a redis:\/\/ URL/);
    const variable = io({ GBCMS_QUEUE_URL: 'amqp://x' });
    assert.equal(await serveCommand(['--data', join(dir, 'data'), '--backend', 'local'], variable), 2);
    assert.match(variable.stderr.text(), /GBCMS_QUEUE_URL must be a redis:\/\/ URL/);
    const help = io({});
    assert.equal(await serveCommand(['--help'], help), 0);
    assert.match(help.stdout.text(), /--queue URL/);
  });
});
