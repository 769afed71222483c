// Approval gates on a real `gbcms serve` with the Docker backend: the execution waits `blocked`
// at the gate with no container for the gated step; only those the gate names may decide (403
// for others, 409 once decided); declined over the API, the step is skipped and its dependent
// too. A server killed while a gate waits ends that execution truthfully on its next start.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { LABEL_RUN, LABEL_STEP } from '../../engine/backends/docker/labels.ts';
import { GATE_ABANDONED } from '../../server/executions/recovery.ts';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { docker, dockerTestOptions } from '../helpers/docker.ts';
import { gitSkip } from '../helpers/git.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { api, dockerResources, ended, type Served, serveProcess } from './helpers/fork-pull-requests.ts';
import { GATE_MESSAGE, type GatedProject, gatedProject } from './helpers/gated-project.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const options = gitSkip.skip ? gitSkip : await dockerTestOptions();

interface StepView {
  name: string;
  status: string;
  reason: string | null;
  approval: {
    message: string;
    approvers: string[];
    decision: string | null;
    by: string | null;
    at: string | null;
  } | null;
}

describe('approval gates on the server, with Docker', options, () => {
  let setup: GatedProject;
  let server: Served;

  async function serve(): Promise<Served> {
    const served = await serveProcess(setup.data, 'docker');
    onCleanup(async () => {
      served.child.kill('SIGKILL');
      await served.exited;
    });
    return served;
  }

  async function startExecution(): Promise<string> {
    const started = await api(server, setup, 'owner', 'POST', '/api/executions', {
      project_id: setup.project.id,
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    return String(started.body.id);
  }

  /** The execution once it waits at the deploy gate, with its steps. */
  function waitingAtGate(id: string): Promise<{ status: string; steps: StepView[] }> {
    return pollUntil(`execution ${id} to wait at the gate`, async () => {
      const { body } = await api(server, setup, 'owner', 'GET', `/api/executions/${id}`);
      const steps = body.steps as StepView[];
      const deploy = steps.find((step) => step.name === 'deploy');
      return (
        body.status === 'blocked' &&
        deploy?.approval?.message === GATE_MESSAGE && { status: String(body.status), steps }
      );
    });
  }

  before(async () => {
    await ensureBusyboxImage();
    setup = await gatedProject(await tempDir('gbcms-gates-docker-'));
    server = await serve();
  });

  test('declined over the API: the step and its dependent are skipped, who and when recorded', async () => {
    const id = await startExecution();
    const waiting = await waitingAtGate(id);
    const byName = new Map(waiting.steps.map((step) => [step.name, step]));
    assert.equal(byName.get('build')?.status, 'success');
    assert.deepEqual(byName.get('deploy'), {
      ...byName.get('deploy'),
      status: 'blocked',
      reason: GATE_MESSAGE,
      approval: { message: GATE_MESSAGE, approvers: ['owner', 'admin'], decision: null, by: null, at: null },
    });
    assert.equal(byName.get('notify')?.status, 'pending');
    // The gated step has no container while it waits.
    const deployContainers = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_RUN}=${id}`, `${LABEL_STEP}=deploy`] },
    });
    assert.deepEqual(deployContainers, []);

    const path = `/api/executions/${id}/steps/deploy`;
    assert.equal((await api(server, setup, 'anonymous', 'POST', `${path}/decline`)).status, 401);
    // A member may start executions, but the gate names only owner and the admin role.
    const member = await api(server, setup, 'member', 'POST', `${path}/approve`);
    assert.equal(member.status, 403);
    assert.equal(member.body.message, 'only owner, admin may decide this gate');
    assert.equal((await api(server, setup, 'stranger', 'POST', `${path}/decline`)).status, 403);
    assert.equal(
      (await api(server, setup, 'owner', 'POST', `/api/executions/${id}/steps/build/approve`)).status,
      409,
    );
    // The execution as a whole is not what waits: its own approve is refused.
    assert.equal((await api(server, setup, 'owner', 'POST', `/api/executions/${id}/approve`)).status, 409);

    const declined = await api(server, setup, 'owner', 'POST', `${path}/decline`, { reason: 'not today' });
    assert.equal(declined.status, 200, JSON.stringify(declined.body));
    const approval = declined.body.approval as StepView['approval'];
    assert.equal(approval?.decision, 'declined');
    assert.equal(approval?.by, 'owner');
    assert.ok(approval?.at && !Number.isNaN(Date.parse(approval.at)));
    assert.equal((await api(server, setup, 'admin', 'POST', `${path}/approve`)).status, 409);

    const done = await ended(server, setup, id);
    const steps = done.steps as StepView[];
    assert.deepEqual(
      steps.map((step) => [step.name, step.status, step.reason]),
      [
        ['build', 'success', null],
        ['deploy', 'skipped', 'declined by owner: not today'],
        ['notify', 'skipped', "depends on skipped step 'deploy'"],
      ],
    );
    assert.equal(done.status, 'success');
    const log = await fetch(`${server.url}/api/executions/${id}/logs`, {
      headers: { authorization: `Bearer ${setup.tokens.owner}` },
    }).then((response) => response.text());
    assert.doesNotMatch(log, new RegExp(setup.deployedText));
    assert.deepEqual(await dockerResources(id), []);
  });

  test('a server killed while a gate waits: on its next start the execution ends error, the gated step skipped', async () => {
    const id = await startExecution();
    await waitingAtGate(id);
    server.child.kill('SIGKILL');
    await server.exited;
    server = await serve();
    const done = await ended(server, setup, id);
    assert.equal(done.status, 'error');
    assert.equal(done.reason, 'engine restarted');
    const deploy = (done.steps as StepView[]).find((step) => step.name === 'deploy');
    assert.equal(deploy?.status, 'skipped');
    assert.equal(deploy?.reason, GATE_ABANDONED);
    assert.equal(
      (await api(server, setup, 'owner', 'POST', `/api/executions/${id}/steps/deploy/approve`)).status,
      409,
    );
    assert.deepEqual(await dockerResources(id), []);
  });
});
