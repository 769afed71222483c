// Server A of two cooperating servers (one PostgreSQL, one Redis, one data folder) is killed with
// SIGKILL while three runners run its executions mid-step, one runner inside a network namespace
// of its own. B takes them up: every execution ends `success`, each run once, with every log line
// once, and an event stream broken by A's death is reopened on B with Last-Event-ID and goes on
// to the end with no event twice. The servers keep the default runner lease (8 s), shorter than
// the 10 s it takes to notice a dead server: the live one keeps the dead one's leases alive.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerAnswers } from '../helpers/docker.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { startCluster } from './helpers/cluster.ts';
import { follow, logTexts, pipeline, starts, stepLines } from './helpers/cluster-checks.ts';

const TICKS = Array.from({ length: 16 }, (_, i) => `tick ${i + 1}`);

const SLOW = pipeline({
  tick: { commands: ['for i in $(seq 1 16); do echo "tick $i"; sleep 1; done'] },
  after: { depends_on: ['tick'], commands: ['echo after'] },
});

/** Only a hang reaches it: an event stream that never ends would otherwise hold the suite. */
const HANG_MS = 10 * 60_000;

describe('a server of two killed while runners work', () => {
  const cleanups = cleanUpAfterAll();
  let redis: RedisServer;
  let netns: Netns;

  before(async () => {
    assert.ok(
      await dockerAnswers(),
      'no Docker engine answers on /var/run/docker.sock: these tests need one',
    );
    await ensureBusyboxImage();
    redis = await startRedis();
    cleanups.onCleanup(() => redis.close());
    netns = await createNetns();
    cleanups.onCleanup(() => netns.close());
  });

  test('server A killed with SIGKILL mid-step: B takes its executions up, nothing lost', {
    timeout: HANG_MS,
  }, async (t) => {
    const cluster = await startCluster(cleanups, { queue: `${redis.url}/1`, runners: ['r1', 'r2', 'r3'] });
    t.after(() => cluster.stop());
    const runners = [
      // r1 would otherwise have no server left once A is gone.
      await cluster.runner('r1', { servers: ['A', 'B'] }),
      await cluster.runner('r2', { servers: ['B'] }),
      await cluster.runner('r3', {
        servers: ['A', 'B'],
        host: netns.hostAddress,
        through: netns.exec([]).flat(),
      }),
    ];
    const project = await cluster.project('slow', SLOW);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await cluster.start('A', project));

    // A live stream on A, followed in the background.
    let lastId: string | undefined;
    const onA = follow(await cluster.api('A', `/api/executions/${ids[0]}/events`), (event) => {
      if (event.id !== undefined) lastId = event.id;
    });
    for (const id of ids) {
      await cluster.wait(`${id} to be mid-step`, async () => /tick 1\n/.test(await cluster.logs('A', id)));
    }
    const a = cluster.servers.A.served;
    a.child.kill('SIGKILL');
    await a.exited;
    const first = await onA;
    assert.ok(!first.events.some((event) => event.event === 'end'), 'the stream on A ended before A did');
    assert.ok(lastId !== undefined, 'the stream on A sent events before A was killed');

    const onB = await follow(
      await cluster.api('B', `/api/executions/${ids[0]}/events`, { headers: { 'last-event-id': lastId } }),
    );
    assert.equal(onB.broke, undefined, `the stream on B broke: ${onB.broke}`);
    assert.equal(onB.events.at(-1)?.event, 'end', 'the stream on B goes on to the end');
    const numbers = [...first.events, ...onB.events].flatMap((e) =>
      e.id === undefined ? [] : [Number(e.id)],
    );
    assert.deepEqual(
      numbers,
      [...new Set(numbers)].sort((x, y) => x - y),
      'no event twice, in order',
    );
    const ticks = logTexts([...first.events, ...onB.events]).filter((line) => line.startsWith('tick'));
    assert.deepEqual(ticks, TICKS, 'the two streams together: every line once');

    const told = () =>
      [cluster.servers.B.served, ...runners]
        .map((process, i) => `--- ${i === 0 ? 'server B' : `r${i}`}:\n${process.output().slice(-4000)}`)
        .join('\n');
    for (const id of ids) {
      const ended = await cluster.ended('B', id);
      assert.equal(ended.status, 'success', `${id}: ${ended.reason}\n${told()}`);
      const tickLines = stepLines(await cluster.logs('B', id, 'tick'));
      assert.deepEqual(
        tickLines.filter((line) => !line.startsWith('+ ')),
        TICKS,
        `${id}: every line once`,
      );
      assert.deepEqual(stepLines(await cluster.logs('B', id, 'after')), ['+ echo after', 'after']);
      assert.equal(starts(runners, id), 1, `${id} started once by the runners`);
    }
  });
});
