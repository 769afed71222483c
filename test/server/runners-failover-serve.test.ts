// `gbcms runner --server A,B`: a runner that loses the server it talks to moves on to the next
// one, on real processes (one `gbcms serve`, two cuttable proxies in front of it standing for two
// servers of one installation, a real `gbcms runner`; the local backend, no Docker needed).
// Cut A for good mid-step: the runner says it now uses B, the execution ends `success` and every
// line the step printed is in the server's log once, in order (batches carry their position, so
// one whose answer was lost with A is taken once from B). A first URL that refuses connections
// from the start: the runner takes its work through the second.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { BUSYBOX_IMAGE } from '../helpers/build-images.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { cuttableProxy } from './helpers/cuttable-proxy.ts';
import { startFleet } from './helpers/runner-fleet.ts';

const CHUNKS = 40;
const PER_CHUNK = 100;
const LINES = CHUNKS * PER_CHUNK;
/** Numbered lines, a chunk every quarter second: about ten seconds of output. */
const NUMBERED_PIPELINE = [
  'version: 1',
  'steps:',
  '  work:',
  `    image: ${BUSYBOX_IMAGE}`,
  `    commands: ${JSON.stringify([
    'echo ready',
    `for n in $(seq 0 ${CHUNKS - 1}); do seq $((n * ${PER_CHUNK})) $((n * ${PER_CHUNK} + ${PER_CHUNK - 1})) | sed 's/^/line-/'; sleep 0.25; done`,
    'echo all-printed',
  ])}`,
  '',
].join('\n');

const QUICK_PIPELINE = [
  'version: 1',
  'steps:',
  '  hello:',
  `    image: ${BUSYBOX_IMAGE}`,
  '    commands: ["cat greeting.txt"]',
  '',
].join('\n');

/** The step's line numbers as the server's log has them. */
function numberedLines(logs: string): number[] {
  return [...logs.matchAll(/^\[work\] line-(\d+)$/gm)].map((m) => Number(m[1]));
}

/** A port nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('a runner given several servers', () => {
  const cleanups = cleanUpAfterAll();

  test('moves on to the next when the one it uses is cut for good mid-step, losing no line', async () => {
    const fleet = await startFleet(cleanups, {
      backend: 'local',
      runners: { nomad: [] },
      serveArgs: ['--dispatch', 'runners'],
    });
    const a = await cuttableProxy(fleet.server.url);
    const b = await cuttableProxy(fleet.server.url);
    cleanups.onCleanup(() => a.close());
    cleanups.onCleanup(() => b.close());
    const runner = fleet.runner('nomad', { server: `${a.url},${b.url}` });
    const project = await fleet.project('failover', NUMBERED_PIPELINE);
    const id = await fleet.start(project);
    await pollUntil('the step to print its first lines', async () =>
      (await fleet.logs(id)).includes('line-200'),
    );
    assert.match(runner.output(), new RegExp(`connecting to ${a.url}, then ${b.url} should it not answer`));
    assert.doesNotMatch(runner.output(), /did not answer/, 'A was in use until the cut');

    a.cut();

    const ended = await fleet.ended(id);
    assert.equal(ended.status, 'success', `${ended.reason}\n${runner.output()}`);
    assert.equal(ended.runner, 'nomad');
    const logs = await fleet.logs(id);
    const numbered = numberedLines(logs);
    assert.equal(numbered.length, LINES, 'every line arrived, none twice');
    assert.ok(
      numbered.every((n, i) => n === i),
      'the lines arrived in order',
    );
    assert.match(logs, /\[work\] all-printed\n/);
    const switches = runner.output().match(/^gbcms runner: server .*$/gm) ?? [];
    assert.equal(switches.length, 1, runner.output());
    assert.match(
      switches[0] ?? '',
      new RegExp(`^gbcms runner: server ${a.url} did not answer \\(.+\\); now using ${b.url}$`),
    );
    assert.doesNotMatch(runner.output(), /gave up|stopping/);
    runner.child.kill('SIGTERM');
    assert.equal((await runner.exited)[0], 0, runner.output());
  });

  test('takes its work through the second when the first refuses connections from the start', async () => {
    const fleet = await startFleet(cleanups, {
      backend: 'local',
      runners: { patient: [] },
      serveArgs: ['--dispatch', 'runners'],
    });
    const refused = `http://127.0.0.1:${await closedPort()}`;
    const runner = fleet.runner('patient', { server: `${refused},${fleet.server.url}` });
    const project = await fleet.project('refused-first', QUICK_PIPELINE);
    const id = await fleet.start(project);

    const ended = await fleet.ended(id);
    assert.equal(ended.status, 'success', `${ended.reason}\n${runner.output()}`);
    assert.equal(ended.runner, 'patient');
    assert.match(await fleet.logs(id), /\[hello\] hello from refused-first's source\n/);
    assert.match(
      runner.output(),
      new RegExp(
        `^gbcms runner: server ${refused} did not answer \\(connection refused\\); now using ${fleet.server.url}$`,
        'm',
      ),
    );
    // Once on the second, it stays there: the first is not tried again while the second answers.
    assert.equal(runner.output().match(/did not answer/g)?.length, 1, runner.output());
    runner.child.kill('SIGTERM');
    assert.equal((await runner.exited)[0], 0, runner.output());
  });
});
