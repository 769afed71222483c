// Approval gates of executions runners run, on real processes (`gbcms serve`, `gbcms runner`;
// the local backend): the runner asks the server, which opens the gate as for a run of its own.
// The execution waits `blocked` with the gate on its page and API; approved there, the step
// runs on the runner; declined, neither it nor its dependent runs, and it says who; a gate
// that times out on the runner is closed on the server too, so nobody decides it afterwards.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUSYBOX_IMAGE } from '../helpers/build-images.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type Fleet, startFleet } from './helpers/runner-fleet.ts';

const MESSAGE = 'Ship it to production?';

function gatedPipeline(timeout?: string): string {
  return [
    'version: 1',
    'environments:',
    '  box:',
    `    image: ${BUSYBOX_IMAGE}`,
    '    runs_on: [pool]',
    'steps:',
    '  build:',
    '    environment: box',
    '    commands: ["echo built"]',
    '  deploy:',
    '    environment: box',
    '    depends_on: [build]',
    '    commands: ["echo deployed"]',
    '    approval:',
    `      message: ${MESSAGE}`,
    ...(timeout === undefined ? [] : [`      timeout: ${timeout}`]),
    '  notify:',
    '    environment: box',
    '    depends_on: [deploy]',
    '    commands: ["echo notified"]',
    // Keeps the run going after a gate that times out: what the server does then is seen.
    ...(timeout === undefined
      ? []
      : [
          '  linger:',
          '    environment: box',
          '    depends_on: []',
          '    commands: ["sleep 8", "echo lingered"]',
        ]),
    '',
  ].join('\n');
}

interface StepView {
  name: string;
  status: string;
  reason: string | null;
  approval: { message: string; decision: string | null; by: string | null } | null;
}

async function stepsOf(fleet: Fleet, id: string): Promise<{ status: string; steps: StepView[] }> {
  const response = await fleet.api(`/api/executions/${id}`);
  return (await response.json()) as { status: string; steps: StepView[] };
}

/** The deploy step once it waits at its gate, the execution then `status` (running: a step runs). */
function waitingAtGate(fleet: Fleet, id: string, status = 'blocked') {
  return pollUntil(`execution ${id} to wait at the gate`, async () => {
    const execution = await stepsOf(fleet, id);
    const deploy = execution.steps.find((step) => step.name === 'deploy');
    return execution.status === status && deploy?.status === 'blocked' && deploy;
  });
}

describe('approval gates of runners', () => {
  const cleanups = cleanUpAfterAll();
  let fleet: Fleet;
  let project: string;

  test('the gate opens on the server; approved there, the step runs on the runner', async () => {
    fleet = await startFleet(cleanups, { backend: 'local', runners: { r1: ['pool'] } });
    fleet.runner('r1', { capacity: 2 });
    project = await fleet.project('gated', gatedPipeline());
    const id = await fleet.start(project);
    const deploy = await waitingAtGate(fleet, id);
    assert.deepEqual(
      [deploy.reason, deploy.approval?.message, deploy.approval?.decision],
      [MESSAGE, MESSAGE, null],
    );
    assert.equal((await fleet.execution(id)).runner, 'r1');
    // Only the gated step is decided: the execution's own approve is refused.
    assert.equal((await fleet.api(`/api/executions/${id}/approve`, { method: 'POST' })).status, 409);
    const approved = await fleet.api(`/api/executions/${id}/steps/deploy/approve`, { method: 'POST' });
    assert.equal(approved.status, 200, await approved.clone().text());

    const done = await fleet.ended(id);
    assert.deepEqual(
      done.steps.map((step) => [step.name, step.status]),
      [
        ['build', 'success'],
        ['deploy', 'success'],
        ['notify', 'success'],
      ],
    );
    assert.equal(done.status, 'success');
    const logs = await fleet.logs(id);
    assert.match(logs, /^\[deploy\] deployed$/m);
    const after = await stepsOf(fleet, id);
    const record = after.steps.find((step) => step.name === 'deploy')?.approval;
    assert.deepEqual([record?.decision, record?.by], ['approved', 'admin']);
  });

  test('declined on the server: neither the step nor its dependent runs, and it says who', async () => {
    const id = await fleet.start(project);
    await waitingAtGate(fleet, id);
    const declined = await fleet.api(`/api/executions/${id}/steps/deploy/decline`, {
      body: { reason: 'not today' },
    });
    assert.equal(declined.status, 200, await declined.clone().text());
    const done = await fleet.ended(id);
    const byName = new Map(done.steps.map((step) => [step.name, step]));
    assert.deepEqual(
      [byName.get('deploy')?.status, byName.get('deploy')?.reason],
      ['skipped', 'declined by admin: not today'],
    );
    assert.equal(byName.get('notify')?.status, 'skipped');
    assert.doesNotMatch(await fleet.logs(id), /deployed/);
  });

  test('a gate that times out on the runner is closed on the server: nobody decides it after', async () => {
    const timed = await fleet.project('gated-briefly', gatedPipeline('2s'));
    const id = await fleet.start(timed);
    await waitingAtGate(fleet, id, 'running');
    const skipped = await pollUntil('the gate to time out', async () => {
      const execution = await stepsOf(fleet, id);
      const deploy = execution.steps.find((step) => step.name === 'deploy');
      return deploy?.status === 'skipped' && { execution, deploy };
    });
    assert.equal(skipped.deploy.reason, 'approval timed out after 2.0s');
    // The run goes on (linger), and the gate is no longer open on the server.
    assert.equal(skipped.execution.status, 'running');
    const late = await fleet.api(`/api/executions/${id}/steps/deploy/approve`, { method: 'POST' });
    assert.equal(late.status, 409, await late.clone().text());
    const done = await fleet.ended(id);
    assert.deepEqual(Object.fromEntries(done.steps.map((step) => [step.name, step.status])), {
      build: 'success',
      deploy: 'skipped',
      notify: 'skipped',
      linger: 'success',
    });
  });
});
