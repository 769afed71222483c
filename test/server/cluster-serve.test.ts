// Two `gbcms serve` processes as one service (one PostgreSQL, one Redis, one data folder) and
// three runners, one of them in a network namespace of its own that reaches the servers only
// through the host's veth address, with both servers in its --server list. Twenty executions
// started alternately through A and B all succeed, each run once, spread over the runners, with
// logs identical to a `gbcms run` of the same pipeline, read the same through either server.
// Faults: a runner killed with SIGKILL (its execution ends "runner lost"), a revoked runner
// (401, takes nothing). A gated step on a runner that talks to the other server: its question
// and the approval both reach the server managing the execution. A server killed: cluster-takeover.test.ts; Redis restarted mid-run:
// runners-queue-serve.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { LEASE_MS } from '../../server/runners/protocol.ts';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcmsChild } from '../helpers/cli-child.ts';
import { dockerAnswers } from '../helpers/docker.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type ServerName, startCluster } from './helpers/cluster.ts';
import { pipeline, starts, stepLines } from './helpers/cluster-checks.ts';

/** Only a hang misses it: the lease (8 s) and the sweep make ~10 s on an idle machine. */
const LOST_WITHIN_MS = 60_000;

const NUMBERED = pipeline({
  count: {
    commands: [
      'echo "execution $GBCMS_EXECUTION_NUMBER"',
      "seq 1 200 | sed 's/^/line /' > numbers.txt",
      'cat numbers.txt',
    ],
  },
  check: {
    depends_on: ['count'],
    commands: [
      'wc -l < numbers.txt',
      'awk \'{ s += $2 } END { print "sum", s }\' numbers.txt',
      'tail -n 3 numbers.txt',
    ],
  },
});

/** The single-machine reference: `gbcms run` of the same pipeline, its lines per step. */
async function reference(cleanupsDir: string, text: string): Promise<Record<string, string[]>> {
  const repo = await mkdtemp(join(cleanupsDir, 'reference-'));
  await writeFile(join(repo, '.gbcms.yml'), text);
  const result = await gbcmsChild(['run', '--backend', 'docker'], { cwd: repo });
  assert.equal(result.code, 0, result.output);
  const steps: Record<string, string[]> = {};
  for (const match of result.output.matchAll(/^(\w+) \| (.*)$/gm)) {
    const [, step = '', line = ''] = match;
    steps[step] = [...(steps[step] ?? []), ...stepLines(line)];
  }
  return steps;
}

describe('gbcms serve as two cooperating servers', () => {
  const cleanups = cleanUpAfterAll();
  let redis: RedisServer;
  let netns: Netns;
  let scratch: string;
  let queues = 0;
  const queue = () => `${redis.url}/${++queues}`;

  before(async () => {
    assert.ok(
      await dockerAnswers(),
      'no Docker engine answers on /var/run/docker.sock: these tests need one',
    );
    await ensureBusyboxImage();
    scratch = await cleanups.tempDir('gbcms-cluster-scratch-');
    redis = await startRedis();
    cleanups.onCleanup(() => redis.close());
    netns = await createNetns();
    cleanups.onCleanup(() => netns.close());
  });

  /** r3 in the namespace, its list of servers at the host's veth address. */
  const inNamespace = () => ({ host: netns.hostAddress, through: netns.exec([]).flat() });

  test('twenty executions through A and B: each run once, spread, logs as on one machine', async (t) => {
    const cluster = await startCluster(cleanups, { queue: queue(), runners: ['r1', 'r2', 'r3'] });
    t.after(() => cluster.stop());
    const runners = [
      await cluster.runner('r1', { servers: ['A'] }),
      await cluster.runner('r2', { servers: ['B'] }),
      await cluster.runner('r3', { servers: ['A', 'B'], ...inNamespace() }),
    ];
    const expected = await reference(scratch, NUMBERED);
    assert.deepEqual(Object.keys(expected), ['count', 'check']);
    const project = await cluster.project('numbered', NUMBERED);
    const started: [string, ServerName][] = [];
    for (let i = 0; i < 20; i++) {
      const server: ServerName = i % 2 === 0 ? 'A' : 'B';
      started.push([await cluster.start(server, project), server]);
    }

    // All at once, under one bound: the logs of those that ended are checked before the rest.
    const outcomes = await Promise.allSettled(started.map(([id, server]) => cluster.ended(server, id)));
    const ended = started.filter((_, i) => outcomes[i]?.status === 'fulfilled');
    const took = runners.map((runner) => started.filter(([id]) => starts([runner], id) > 0).length);
    t.diagnostic(`executions taken by r1, r2, r3: ${took.join(', ')}`);
    t.diagnostic(`${ended.length} of ${started.length} executions ended`);
    for (const [id, server] of ended) {
      const other: ServerName = server === 'A' ? 'B' : 'A';
      const view = (await cluster.execution(server, id)) as { number?: number };
      for (const step of ['count', 'check']) {
        const text = await cluster.logs(server, id, step);
        assert.deepEqual(stepLines(text), expected[step], `${id} step ${step} through ${server}`);
        assert.equal(await cluster.logs(other, id, step), text, `${id} step ${step} through ${other}`);
      }
      assert.match(await cluster.logs(server, id, 'count'), new RegExp(`^execution ${view.number}$`, 'm'));
      assert.equal(await cluster.logs(other, id), await cluster.logs(server, id));
      const otherView = await cluster.execution(other, id);
      assert.equal(otherView.status, 'success', `${id} read through ${other}`);
      const page = await cluster.api(other, `/executions/${id}`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /success/);
    }
    const stuck = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    assert.equal(
      ended.length,
      started.length,
      `${stuck.length} of ${started.length} never ended: ${stuck[0]}`,
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled')
        assert.equal(outcome.value.status, 'success', `${outcome.value.id}: ${outcome.value.reason}`);
    }
    for (const [id] of started) assert.equal(starts(runners, id), 1, `${id} started once by the runners`);
    // Three runners with room for two each, claiming from one queue: each gets some of twenty.
    assert.ok(
      took.every((n) => n > 0),
      `every runner took work: ${took}\n${runners.map((r) => r.output()).join('\n')}`,
    );
  });

  test('a runner killed with SIGKILL mid-step: its execution ends "runner lost"', async (t) => {
    const cluster = await startCluster(cleanups, { queue: queue(), runners: ['doomed'] });
    t.after(() => cluster.stop());
    const doomed = await cluster.runner('doomed', { servers: ['A'], capacity: 1 });
    const project = await cluster.project(
      'lost',
      pipeline({ work: { commands: ['echo working', 'sleep 600'] } }),
    );
    // Started through B, run by a runner that talks to A.
    const id = await cluster.start('B', project);
    await cluster.wait('the step to run', async () => /working\n/.test(await cluster.logs('B', id)));

    doomed.child.kill('SIGKILL');
    const killedAt = performance.now();
    await doomed.exited;
    const ended = await cluster.ended('B', id);
    const after = performance.now() - killedAt;
    t.diagnostic(`ended ${Math.round(after)} ms after the kill (lease ${LEASE_MS} ms)`);
    assert.equal(ended.status, 'error');
    assert.match(ended.reason ?? '', /runner lost/);
    assert.ok(after <= LOST_WITHIN_MS, `ended ${Math.round(after)} ms after the kill`);
    assert.equal((await cluster.execution('A', id)).status, 'error', 'A says the same');
  });

  test('a gate on a runner of the other server: asked and approved through A, decided on B', async (t) => {
    const cluster = await startCluster(cleanups, { queue: queue(), runners: ['gated'] });
    t.after(() => cluster.stop());
    const runner = await cluster.runner('gated', { servers: ['A'], capacity: 1 });
    const project = await cluster.project(
      'gated',
      pipeline({
        build: { commands: ['echo built'] },
        deploy: { commands: ['echo deployed'], depends_on: ['build'], approval: 'Ship it?' },
      }),
    );
    // B manages it; the runner asks A, which passes the question on.
    const id = await cluster.start('B', project);
    await cluster.wait('the gate to open', async () => {
      const view = (await (await cluster.api('A', `/api/executions/${id}`)).json()) as {
        status: string;
        steps: { name: string; status: string; approval: { message: string } | null }[];
      };
      const deploy = view.steps.find((step) => step.name === 'deploy');
      return (
        view.status === 'blocked' && deploy?.status === 'blocked' && deploy.approval?.message === 'Ship it?'
      );
    });
    const approved = await cluster.api('A', `/api/executions/${id}/steps/deploy/approve`, { method: 'POST' });
    assert.equal(approved.status, 200, await approved.text());
    const ended = await cluster.ended('A', id);
    assert.equal(ended.status, 'success', `${ended.reason} ${JSON.stringify(ended.steps)}`);
    assert.equal(ended.runner, 'gated');
    assert.deepEqual(stepLines(await cluster.logs('A', id, 'deploy')), ['+ echo deployed', 'deployed']);
    assert.equal(starts([runner], id), 1);
  });

  test('a revoked runner gets 401 and takes nothing', async (t) => {
    const cluster = await startCluster(cleanups, { queue: queue(), runners: [] });
    t.after(() => cluster.stop());
    const project = await cluster.project('waiting', pipeline({ work: { commands: ['echo never'] } }));
    const id = await cluster.start('A', project);
    await cluster.wait('the execution to wait for a runner', async () => {
      const view = await cluster.execution('A', id);
      return view.status === 'pending' && view.reason !== null;
    });

    const registered = await cluster.api('A', '/api/runners', { body: { name: 'revoked' } });
    assert.equal(registered.status, 201);
    const { token } = (await registered.json()) as { token: string };
    // Revoked through B: A refuses it too, once what it knows of the token is renewed.
    assert.equal((await cluster.api('B', '/api/runners/revoked', { method: 'DELETE' })).status, 204);
    const claim = (server: ServerName) =>
      cluster.api(server, '/api/runner/claim', {
        token,
        body: { capacity: 1, version: 'test', backend: 'docker', wait_s: 0 },
      });
    assert.equal((await claim('B')).status, 401);
    await cluster.wait('A to refuse the revoked token', async () => (await claim('A')).status === 401);

    cluster.runnerTokens.revoked = token;
    const revoked = await cluster.runner('revoked', { servers: ['A', 'B'] });
    await cluster.wait('the revoked runner to stop', () => revoked.child.exitCode !== null);
    assert.equal(revoked.child.exitCode, 1, revoked.output());
    assert.match(revoked.output(), /401/);
    assert.equal(starts([revoked], id), 0);
    for (const server of ['A', 'B'] as const) {
      assert.equal((await cluster.execution(server, id)).status, 'pending', `seen from ${server}`);
    }
  });
});
