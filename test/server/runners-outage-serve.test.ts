// A runner cut off from its server mid-step, on real processes and Docker: the step goes on,
// its output waits on the runner's disk (the spill file under --data), and when the server is
// reachable again within the lease grace every line reaches the server, once and in order. The
// server gives a lease far longer than the outage (--runner-lease), and the outage outlasts the
// default lease, so the runner is seen to keep the grace the server gave it.
// Past its --buffer the runner stops the execution instead, and the server says so.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABEL_RUN, labelFilter } from '../../engine/backends/docker/labels.ts';
import { HEARTBEAT_MS, LEASE_MS } from '../../server/runners/protocol.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { cuttableProxy } from './helpers/cuttable-proxy.ts';
import { startFleet } from './helpers/runner-fleet.ts';

const LINES = 150_000;
const PADDING = 'x'.repeat(80);
const BURST_PIPELINE = [
  'version: 1',
  'steps:',
  '  work:',
  `    image: ${BUSYBOX_IMAGE}`,
  '    commands:',
  '      - echo ready',
  // Time for the test to cut the network before the burst starts.
  '      - sleep 1',
  `      - seq 0 ${LINES - 1} | sed 's/$/ ${PADDING}/'`,
  '      - echo all-printed',
  '',
].join('\n');

/** The burst's line numbers as the server's log has them. */
function numberedLines(logs: string): number[] {
  return [...logs.matchAll(new RegExp(`^\\[work\\] (\\d+) ${PADDING}$`, 'gm'))].map((m) => Number(m[1]));
}

describe('a runner that loses its server for a while', await dockerTestOptions(), () => {
  const cleanups = cleanUpAfterAll();

  test('keeps its step going, spills the output to disk and delivers all of it in order', async () => {
    await ensureBusyboxImage();
    const fleet = await startFleet(cleanups, {
      backend: 'docker',
      runners: { island: [] },
      serveArgs: ['--dispatch', 'runners', '--runner-lease', '10m'],
    });
    const proxy = await cuttableProxy(fleet.server.url);
    cleanups.onCleanup(() => proxy.close());
    const runner = fleet.runner('island', { server: proxy.url });
    const project = await fleet.project('outage', BURST_PIPELINE);
    const id = await fleet.start(project);
    await pollUntil('the step to start on the runner', async () => (await fleet.logs(id)).includes('ready'));

    proxy.cut();
    const cutAt = Date.now();
    const spill = join(fleet.dir, 'runner-data', 'island', 'work', id, 'undelivered-events.jsonl');
    await pollUntil(
      'the runner to spill undelivered output to disk',
      async () => {
        const size = (await stat(spill).catch(() => ({ size: 0 }))).size;
        return size > 1024 * 1024;
      },
      20,
    );
    // Longer than the default lease: a runner that gave up after it would stop the step.
    const pastDefaultLease = LEASE_MS + 2 * HEARTBEAT_MS - (Date.now() - cutAt);
    if (pastDefaultLease > 0) await sleep(pastDefaultLease);
    proxy.join();

    const ended = await fleet.ended(id);
    assert.equal(ended.status, 'success', `${ended.reason}\n${runner.output()}`);
    assert.equal(ended.runner, 'island');
    const logs = await fleet.logs(id);
    const numbered = numberedLines(logs);
    assert.equal(numbered.length, LINES, 'every line arrived, none twice');
    assert.ok(
      numbered.every((n, i) => n === i),
      'the lines arrived in order',
    );
    assert.match(logs, /\[work\] all-printed\n/);
    assert.doesNotMatch(runner.output(), /gave up|stopping/);
    runner.child.kill('SIGTERM');
    assert.equal((await runner.exited)[0], 0, runner.output());
  });

  test('past its --buffer it stops the execution, which the server ends "runner lost"', async () => {
    await ensureBusyboxImage();
    const fleet = await startFleet(cleanups, {
      backend: 'docker',
      runners: { small: [] },
      serveArgs: ['--dispatch', 'runners'],
    });
    const proxy = await cuttableProxy(fleet.server.url);
    cleanups.onCleanup(() => proxy.close());
    const runner = fleet.runner('small', { server: proxy.url, args: ['--buffer', '1MiB'] });
    const project = await fleet.project('overflow', BURST_PIPELINE);
    const id = await fleet.start(project);
    await pollUntil('the step to start on the runner', async () => (await fleet.logs(id)).includes('ready'));

    proxy.cut();
    await pollUntil('the runner to stop the execution', () =>
      /more undelivered output than --buffer allows: stopping it/.test(runner.output()),
    );
    proxy.join();

    const ended = await fleet.ended(id);
    assert.equal(ended.status, 'error');
    assert.equal(ended.reason, 'runner lost: small');
    // What reached the server before the cut is there, in order; nothing after it is claimed.
    const numbered = numberedLines(await fleet.logs(id));
    assert.ok(numbered.length < LINES, `${numbered.length} lines`);
    assert.ok(
      numbered.every((n, i) => n === i),
      'the delivered lines are in order',
    );
    await pollUntil(
      'the runner to remove the step container',
      async () =>
        (await docker.listContainers({ all: true, filters: labelFilter(LABEL_RUN, id) })).length === 0,
    );
    runner.child.kill('SIGTERM');
    assert.equal((await runner.exited)[0], 0, runner.output());
  });
});
