// Runners when things go wrong, on real processes: a runner killed with SIGKILL mid-step loses
// its execution (`error`, "runner lost: NAME", within the lease of its last heartbeat) and
// removes its containers when it starts again; a revoked runner gets 401 and takes nothing;
// work with labels no runner has waits `pending`, saying why, until a runner with them comes;
// runner tokens open nothing but the runner endpoints, and user tokens none of those.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { LABEL_RUN, labelFilter } from '../../engine/backends/docker/labels.ts';
import { HEARTBEAT_MS, LEASE_MS } from '../../server/runners/protocol.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { startFleet } from './helpers/runner-fleet.ts';

/**
 * How late past its lease a lost runner may be noticed here: the lease (8 s) and the sweep (1 s)
 * make the 10 s the server promises, checked with a controlled clock in runners-dispatch.test.ts;
 * on a loaded machine the sweep's timer may fire late, so this bound only catches a lease that
 * never runs out.
 */
const NOTICED_WITHIN_MS = LEASE_MS + 60_000;

function pipeline(labels: string, commands: string[]): string {
  return [
    'version: 1',
    'steps:',
    '  work:',
    `    image: ${BUSYBOX_IMAGE}`,
    `    runs_on: [${labels}]`,
    `    commands: ${JSON.stringify(commands)}`,
    '',
  ].join('\n');
}

describe('a runner killed with SIGKILL mid-step', await dockerTestOptions(), () => {
  const cleanups = cleanUpAfterAll();

  test('its execution ends error "runner lost" and its containers go when it starts again', async () => {
    await ensureBusyboxImage();
    const fleet = await startFleet(cleanups, { backend: 'docker', runners: { doomed: ['pool'] } });
    const marker = `gbcms-lost-${randomBytes(6).toString('hex')}`;
    const project = await fleet.project('lost', pipeline('pool', [`echo ${marker}`, 'sleep 600']));
    const first = fleet.runner('doomed');
    const id = await fleet.start(project);
    await pollUntil('the step to run on the runner', async () => (await fleet.logs(id)).includes(marker));

    first.child.kill('SIGKILL');
    await first.exited;
    const ended = await fleet.ended(id);
    assert.equal(ended.status, 'error');
    assert.equal(ended.reason, 'runner lost: doomed');
    assert.equal(ended.runner, 'doomed');
    assert.deepEqual(
      ended.steps.map((s) => [s.name, s.status, s.reason]),
      [['work', 'error', 'runner lost: doomed']],
    );
    const runners = (await (await fleet.api('/api/runners')).json()) as {
      items: { name: string; last_seen_at: string; connected: boolean }[];
    };
    const lastSeen = Date.parse(runners.items[0]?.last_seen_at ?? '');
    const lostAfter = Date.parse(ended.ended_at ?? '') - lastSeen;
    // Never before the lease could have run out; never long after.
    assert.ok(
      lostAfter >= LEASE_MS - HEARTBEAT_MS && lostAfter <= NOTICED_WITHIN_MS,
      `lost ${lostAfter} ms after its last heartbeat`,
    );

    const containers = () => docker.listContainers({ all: true, filters: labelFilter(LABEL_RUN, id) });
    assert.ok((await containers()).length > 0, 'the kill left the step container behind');
    const second = fleet.runner('doomed');
    await pollUntil(
      'the restarted runner to remove the containers',
      async () => (await containers()).length === 0,
    );
    assert.match(second.output(), new RegExp(`removing what execution ${id} left`));
    // Nothing ran twice: the restarted runner never took the execution again.
    assert.doesNotMatch(second.output(), new RegExp(`running .*\\(${id}\\)`));
    second.child.kill('SIGTERM');
    assert.equal((await second.exited)[0], 0, second.output());
  });
});

describe('runner credentials and labels', () => {
  const cleanups = cleanUpAfterAll();

  test('revoked runners take nothing; labelled work waits for a runner that has them', async () => {
    const fleet = await startFleet(cleanups, { backend: 'local', runners: { cpu: ['small'] } });
    const cpu = fleet.runner('cpu');
    const project = await fleet.project('gpu', pipeline('gpu', ['echo on the gpu']));
    const id = await fleet.start(project);
    const waiting = await pollUntil('the execution to say why it waits', async () => {
      const view = await fleet.execution(id);
      return view.reason !== null && view;
    });
    assert.equal(waiting.status, 'pending');
    assert.equal(waiting.reason, 'waiting for a runner with labels gpu');
    const page = await (await fleet.api(`/executions/${id}`)).text();
    assert.match(page, /waiting for a runner with labels gpu/);

    // Registered through the API, then revoked: the token opens nothing.
    const registered = await fleet.api('/api/runners', { body: { name: 'revoked', labels: ['gpu'] } });
    assert.equal(registered.status, 201);
    const { token } = (await registered.json()) as { token: string };
    assert.equal((await fleet.api('/api/runners/revoked', { method: 'DELETE' })).status, 204);
    const claim = await fleet.api('/api/runner/claim', {
      token,
      body: { capacity: 1, version: 'test', backend: 'local', wait_s: 0 },
    });
    assert.equal(claim.status, 401);
    fleet.runnerTokens.revoked = token;
    const revoked = fleet.runner('revoked', { labels: ['gpu'] });
    assert.equal((await revoked.exited)[0], 1, revoked.output());
    assert.match(revoked.output(), /401/);
    assert.equal((await fleet.execution(id)).status, 'pending');

    // A runner with the label comes: the work runs there.
    const gpu = fleet.runner('cpu', { labels: ['gpu'], data: `${fleet.dir}/runner-data/cpu-gpu` });
    const ended = await fleet.ended(id);
    assert.equal(ended.status, 'success', ended.reason ?? '');
    assert.equal(ended.runner, 'cpu');
    assert.equal(ended.reason, null);
    assert.match(await fleet.logs(id), /\[work\] on the gpu\n/);
    assert.match(await (await fleet.api(`/executions/${id}`)).text(), /<dd id="runner">cpu<\/dd>/);
    const runnersPage = await (await fleet.api('/runners')).text();
    assert.match(runnersPage, /<tr data-runner="cpu">[\s\S]*?<td class="runner-state">connected<\/td>/);
    assert.match(runnersPage, /<tr data-runner="revoked">[\s\S]*?<td class="runner-state">revoked<\/td>/);
    assert.equal((await fleet.api('/runners', { token: fleet.developerToken })).status, 403);
    for (const runner of [cpu, gpu]) runner.child.kill('SIGTERM');
    for (const runner of [cpu, gpu]) assert.equal((await runner.exited)[0], 0, runner.output());
  });

  test('runner tokens call only the runner endpoints, user tokens never those', async () => {
    const fleet = await startFleet(cleanups, { backend: 'local', runners: { only: [] } });
    const runnerToken = fleet.runnerTokens.only ?? '';
    for (const path of ['/api/projects', '/api/runners', '/api/executions']) {
      assert.equal((await fleet.api(path, { token: runnerToken })).status, 401, path);
    }
    const claim = { capacity: 1, version: 'test', backend: 'local', wait_s: 0 };
    for (const token of [fleet.adminToken, fleet.developerToken]) {
      assert.equal((await fleet.api('/api/runner/claim', { token, body: claim })).status, 401);
      assert.equal(
        (await fleet.api('/api/runner/heartbeat', { token, body: { executions: [] } })).status,
        401,
      );
    }
    assert.equal((await fleet.api('/api/runners', { token: fleet.developerToken })).status, 403);
    const ok = await fleet.api('/api/runner/claim', { token: runnerToken, body: claim });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { jobs: [] });
    // With nothing to take, a claim waits its wait out (a long poll) rather than answering at
    // once: load can only make it later.
    const started = performance.now();
    const waited = await fleet.api('/api/runner/claim', {
      token: runnerToken,
      body: { ...claim, wait_s: 2 },
    });
    assert.deepEqual(await waited.json(), { jobs: [] });
    assert.ok(
      performance.now() - started >= 1_900,
      `answered after ${Math.round(performance.now() - started)} ms`,
    );
  });
});
