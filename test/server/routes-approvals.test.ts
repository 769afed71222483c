// The routes around fork pull requests on an app instance with a real store: Gitea and GitLab
// deliveries honour the project's setting like GitHub's, approve and decline answer 401, 404,
// 403 and 409 where they should, and the OpenAPI document shows the new routes and values.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { FORKS_DISABLED } from '../../server/projects/fork-policy.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const fixture = (path: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/webhooks/${path}`, import.meta.url), 'utf8'));

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function giteaForkPullRequest() {
  const body = fixture('gitea/pull_request.json');
  body.pull_request.head.repo = {
    full_name: 'someone/webhooks',
    clone_url: 'https://git.example.com/someone/webhooks.git',
  };
  const text = JSON.stringify(body);
  return server.app.inject({
    method: 'POST',
    url: `/hooks/gitea/${server.publicProject.id}`,
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': 'pull_request',
      'x-gitea-delivery': randomUUID(),
      'x-gitea-signature': createHmac('sha256', server.publicProject.webhook_secret)
        .update(text)
        .digest('hex'),
    },
    payload: text,
  });
}

function gitlabForkMergeRequest() {
  return server.app.inject({
    method: 'POST',
    url: `/hooks/gitlab/${server.publicProject.id}`,
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Merge Request Hook',
      'x-gitlab-event-uuid': randomUUID(),
      'x-gitlab-token': server.publicProject.webhook_secret,
    },
    payload: JSON.stringify(fixture('gitlab/merge_request.json')),
  });
}

async function setPolicy(policy: string): Promise<void> {
  const response = await server.request('owner', {
    method: 'PATCH',
    url: `/api/projects/${server.publicProject.id}`,
    payload: { fork_pull_requests: policy },
  });
  assert.equal(response.statusCode, 200, response.body);
}

describe('Gitea and GitLab fork deliveries follow fork_pull_requests', () => {
  for (const [forge, deliver] of [
    ['Gitea', giteaForkPullRequest],
    ['GitLab', gitlabForkMergeRequest],
  ] as const) {
    test(`${forge}: approve holds it blocked, run starts it, never starts nothing`, async () => {
      await setPolicy('approve');
      const held = await deliver();
      assert.equal(held.statusCode, 202, held.body);
      assert.equal(held.json().status, 'blocked');
      assert.equal(server.executions.started.at(-1)?.awaitApproval, true);
      assert.equal((await server.store.executions.get(held.json().execution_id))?.status, 'blocked');

      await setPolicy('run');
      const ran = await deliver();
      assert.equal(ran.statusCode, 202, ran.body);
      assert.equal(ran.json().status, undefined);
      assert.equal(server.executions.started.at(-1)?.awaitApproval, undefined);

      await setPolicy('never');
      const count = server.executions.started.length;
      const refused = await deliver();
      assert.equal(refused.statusCode, 200);
      assert.deepEqual(refused.json(), { ignored: true, reason: FORKS_DISABLED });
      assert.equal(server.executions.started.length, count);
      await setPolicy('approve');
    });
  }
});

describe('POST /api/executions/:id/approve and /decline', () => {
  const blockedIn = async (projectId: string) =>
    server.store.executions.create({
      project_id: projectId,
      trigger: { event: 'pull_request', branch: 'patch-1', fork: true },
      blocked: true,
    });

  test('a private project hides its executions (404) from strangers; anonymous callers get 401', async () => {
    const { id } = await blockedIn(server.privateProject.id);
    for (const action of ['approve', 'decline']) {
      const url = `/api/executions/${id}/${action}`;
      assert.equal((await server.request('anonymous', { method: 'POST', url })).statusCode, 401);
      assert.equal((await server.request('stranger', { method: 'POST', url })).statusCode, 404);
    }
    assert.equal((await server.store.executions.get(id))?.status, 'blocked');
  });

  test('an admin approves; approving or declining what is not blocked is 409', async () => {
    const { id } = await blockedIn(server.privateProject.id);
    const approved = await server.request('admin', { method: 'POST', url: `/api/executions/${id}/approve` });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().approved_by, 'admin');
    assert.equal(approved.json().status, 'pending');
    for (const action of ['approve', 'decline']) {
      const again = await server.request('owner', { method: 'POST', url: `/api/executions/${id}/${action}` });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().error, 'GBCMS_ERR_NOT_BLOCKED');
    }
    const unknown = await server.request('owner', { method: 'POST', url: '/api/executions/nope/approve' });
    assert.equal(unknown.statusCode, 404);
  });

  test("a member's re-run of a fork's pull request is built from the fork again, without waiting", async () => {
    const original = await server.store.executions.create({
      project_id: server.publicProject.id,
      trigger: { event: 'pull_request', branch: 'patch-1', commit: 'a'.repeat(40), fork: true },
      source_repo: 'https://git.example.com/forker/app.git',
    });
    await server.store.executions.setEnded(original.id, 'failure', null);
    const rerun = await server.request('member', {
      method: 'POST',
      url: `/api/executions/${original.id}/rerun`,
    });
    assert.equal(rerun.statusCode, 201, rerun.body);
    assert.equal(rerun.json().status, 'pending');
    const request = server.executions.started.at(-1);
    assert.deepEqual(request?.source, { kind: 'git', repo: 'https://git.example.com/forker/app.git' });
    assert.equal(request?.trigger.fork, true, 'still a fork: no secrets');
    assert.equal(request?.awaitApproval, undefined);
  });

  test('the OpenAPI document lists the routes, the blocked status and the setting', async () => {
    const document = (await server.request('anonymous', { method: 'GET', url: '/api/openapi.json' })).json();
    assert.ok(document.paths['/api/executions/{id}/approve']?.post);
    assert.ok(document.paths['/api/executions/{id}/decline']?.post);
    const { Execution, Project } = document.components.schemas;
    assert.ok(Execution.properties.status.enum.includes('blocked'));
    assert.ok(Execution.properties.approved_by);
    assert.deepEqual(Project.properties.fork_pull_requests.enum, ['approve', 'run', 'never']);
  });
});
