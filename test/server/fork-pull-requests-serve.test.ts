// Pull requests from forks on a real `gbcms serve` (Docker backend), with real git: a signed
// GitHub delivery of a fork's pull request waits `blocked`, creating nothing on the Docker
// engine, through a kill -9 and restart of the server, until a project member approves it;
// then it runs from the fork. Declined, it ends killed. `never` starts nothing, `run` runs at
// once, and a pull request from a branch of the same repository never waits.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { FORKS_DISABLED } from '../../server/projects/fork-policy.ts';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { gitSkip } from '../helpers/git.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import {
  api,
  deliver,
  dockerEventsFor,
  dockerResources,
  ended,
  makeProject,
  makeRepos,
  pullRequestBody,
  type Repos,
  type Served,
  type Setup,
  serveProcess,
} from './helpers/fork-pull-requests.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const options = gitSkip.skip ? gitSkip : await dockerTestOptions();

describe('pull requests from forks on gbcms serve --backend docker', options, () => {
  let repos: Repos;
  let setup: Setup;
  let server: Served;

  const startServer = async () => {
    server = await serveProcess(setup.data, 'docker');
    const running = server;
    onCleanup(async () => {
      if (running.child.exitCode === null && running.child.signalCode === null) {
        running.child.kill('SIGKILL');
        await running.exited;
      }
    });
  };
  const as = (who: Parameters<typeof api>[2], method: string, path: string, body?: unknown) =>
    api(server, setup, who, method, path, body);
  const setPolicy = async (policy: string) => {
    const changed = await as('owner', 'PATCH', `/api/projects/${setup.project.id}`, {
      fork_pull_requests: policy,
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.fork_pull_requests, policy);
  };
  const logsOf = async (id: string) =>
    (await fetch(`${server.url}/api/executions/${id}/logs`, {
      headers: { authorization: `Bearer ${setup.tokens.owner}` },
    }).then((r) => r.text())) as string;

  before(async () => {
    await ensureBusyboxImage();
    const dir = await tempDir('gbcms-forks-');
    repos = await makeRepos(dir);
    onCleanup(async () => {
      repos.daemon.kill();
    });
    setup = await makeProject(join(dir, 'data'), repos.base);
    await startServer();
  });

  test('approve (the default): blocked, nothing on Docker, across a restart, until a member approves', async () => {
    const project = await as('owner', 'GET', `/api/projects/${setup.project.id}`);
    assert.equal(project.body.fork_pull_requests, 'approve', 'the default');

    const deliveredAt = Date.now();
    const response = await deliver(server, setup.project, pullRequestBody(repos, 'fork'));
    assert.equal(response.status, 202);
    const answer = (await response.json()) as { execution_id: string; status?: string };
    assert.equal(answer.status, 'blocked');
    const id = answer.execution_id;

    const blocked = await as('anonymous', 'GET', `/api/executions/${id}`);
    assert.equal(blocked.body.status, 'blocked');
    assert.equal(blocked.body.fork, true);
    assert.equal(blocked.body.source_repo, repos.forkUrl);
    assert.equal(blocked.body.approved_by, null);
    assert.equal(blocked.body.started_at, null);
    assert.deepEqual(blocked.body.steps, []);
    assert.deepEqual(await dockerResources(id), []);

    // A blocked pull request says nothing about a branch: the badge does not show it.
    const badge = await fetch(`${server.url}/badges/${setup.project.id}.svg`).then((r) => r.text());
    assert.doesNotMatch(badge, /blocked/);

    // Who may not run the project's executions may not approve one either.
    assert.equal((await as('anonymous', 'POST', `/api/executions/${id}/approve`)).status, 401);
    const refused = await as('stranger', 'POST', `/api/executions/${id}/approve`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'GBCMS_ERR_FORBIDDEN');
    assert.equal((await as('stranger', 'POST', `/api/executions/${id}/decline`)).status, 403);

    // A crash and a new process: still blocked, still nothing started.
    server.child.kill('SIGKILL');
    await server.exited;
    await startServer();
    const recovered = await as('owner', 'GET', `/api/executions/${id}`);
    assert.equal(recovered.body.status, 'blocked');
    assert.equal(recovered.body.reason, null);
    assert.deepEqual(await dockerResources(id), []);
    // Counted as blocked, not as waiting for a slot.
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /^gbcms_executions\{status="blocked"\} 1$/m);
    assert.match(metrics, /^gbcms_queue_depth 0$/m);

    const approvingAt = Date.now();
    assert.deepEqual(await dockerEventsFor(id, deliveredAt, approvingAt), [], 'no container before approval');
    const approved = await as('member', 'POST', `/api/executions/${id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.approved_by, 'member');
    assert.equal(typeof approved.body.approved_at, 'string');
    assert.notEqual(approved.body.status, 'blocked');
    const again = await as('owner', 'POST', `/api/executions/${id}/approve`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'GBCMS_ERR_NOT_BLOCKED');

    const done = await ended(server, setup, id);
    assert.equal(done.status, 'success', JSON.stringify(done));
    assert.equal(done.approved_by, 'member');
    assert.equal(done.commit_sha, repos.forkCommit);
    // Built from the fork, not from a branch of that name in the base repository.
    assert.match(await logsOf(id), new RegExp(repos.forkText));
    assert.deepEqual(await dockerResources(id), []);
  });

  test('declined: it ends killed, saying who declined it, and nothing of it ran', async () => {
    const deliveredAt = Date.now();
    const response = await deliver(server, setup.project, pullRequestBody(repos, 'fork'));
    const { execution_id: id } = (await response.json()) as { execution_id: string };
    assert.equal((await as('owner', 'GET', `/api/executions/${id}`)).body.status, 'blocked');

    const declined = await as('member', 'POST', `/api/executions/${id}/decline`);
    assert.equal(declined.status, 200, JSON.stringify(declined.body));
    assert.equal(declined.body.status, 'killed');
    assert.equal(declined.body.reason, 'declined by member');
    assert.equal(declined.body.started_at, null);
    assert.equal((await as('member', 'POST', `/api/executions/${id}/approve`)).status, 409);

    const after = await as('owner', 'GET', `/api/executions/${id}`);
    assert.equal(after.body.status, 'killed');
    assert.deepEqual(after.body.steps, []);
    assert.deepEqual(await dockerEventsFor(id, deliveredAt, Date.now()), []);
  });

  test('never: the delivery is answered with the reason and no execution is created', async () => {
    // Settings are the owner's and admins', not a member's.
    const byMember = await as('member', 'PATCH', `/api/projects/${setup.project.id}`, {
      fork_pull_requests: 'run',
    });
    assert.equal(byMember.status, 403);
    const bad = await as('owner', 'PATCH', `/api/projects/${setup.project.id}`, {
      fork_pull_requests: 'maybe',
    });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.message), /fork_pull_requests/);

    await setPolicy('never');
    const before = await as('owner', 'GET', `/api/projects/${setup.project.id}/executions`);
    const response = await deliver(server, setup.project, pullRequestBody(repos, 'fork'));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ignored: true, reason: FORKS_DISABLED });
    const afterwards = await as('owner', 'GET', `/api/projects/${setup.project.id}/executions`);
    assert.deepEqual(afterwards.body.items, before.body.items);
  });

  test('run: a fork pull request runs at once, from the fork, without approval', async () => {
    await setPolicy('run');
    const deliveredAt = Date.now();
    const response = await deliver(server, setup.project, pullRequestBody(repos, 'fork'));
    assert.equal(response.status, 202);
    const answer = (await response.json()) as { execution_id: string; status?: string };
    assert.equal(answer.status, undefined);
    const done = await ended(server, setup, answer.execution_id);
    assert.equal(done.status, 'success', JSON.stringify(done));
    assert.equal(done.fork, true);
    assert.equal(done.approved_by, null);
    assert.match(await logsOf(answer.execution_id), new RegExp(repos.forkText));
    // The engine's events show a run's containers: their absence above is not for want of looking.
    const events = await dockerEventsFor(answer.execution_id, deliveredAt, Date.now());
    assert.ok(events.includes('container create'), events.join(', '));
  });

  test('a pull request from a branch of the same repository runs at once, whatever the setting', async () => {
    await setPolicy('approve');
    const response = await deliver(server, setup.project, pullRequestBody(repos, 'same repository'));
    assert.equal(response.status, 202);
    const answer = (await response.json()) as { execution_id: string; status?: string };
    assert.equal(answer.status, undefined);
    const done = await ended(server, setup, answer.execution_id);
    assert.equal(done.status, 'success', JSON.stringify(done));
    assert.equal(done.fork, false);
    assert.equal(done.approved_by, null);
    assert.match(await logsOf(answer.execution_id), new RegExp(repos.sameText));
  });
});
