// POST /hooks/gitea/:project_id and /hooks/gitlab/:project_id: the secret is checked first
// (401), bodies past the limit get 413, a delivery id is honoured once, pushes and pull/merge
// requests start executions with the forge noted for statuses.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

const fixtureText = (path: string) =>
  readFileSync(new URL(`../fixtures/webhooks/${path}`, import.meta.url), 'utf8');

let server: TestServer;
before(async () => {
  server = await startTestServer({ bodyLimit: 64 * 1024 });
});
after(() => server.close());

function gitea(event: string, body: string, headers: Record<string, string | undefined> = {}) {
  const secret = server.publicProject.webhook_secret;
  const all: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'x-gitea-event': event,
    'x-gitea-delivery': randomUUID(),
    'x-gitea-signature': createHmac('sha256', secret).update(body).digest('hex'),
    ...headers,
  };
  return server.app.inject({
    method: 'POST',
    url: `/hooks/gitea/${server.publicProject.id}`,
    headers: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    payload: body,
  });
}

function gitlab(event: string, body: string, headers: Record<string, string | undefined> = {}) {
  const all: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'x-gitlab-event': event,
    'x-gitlab-event-uuid': randomUUID(),
    'x-gitlab-token': server.publicProject.webhook_secret,
    ...headers,
  };
  return server.app.inject({
    method: 'POST',
    url: `/hooks/gitlab/${server.publicProject.id}`,
    headers: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    payload: body,
  });
}

describe('POST /hooks/gitea/:project_id', () => {
  const push = fixtureText('gitea/push.json');

  test('a signed push starts an execution that reports to the Gitea repository', async () => {
    const response = await gitea('push', push);
    assert.equal(response.statusCode, 202, response.body);
    const started = server.executions.started.at(-1);
    assert.equal(started?.trigger.branch, 'develop');
    assert.equal(started?.trigger.commit, 'bffeb74224043ba2feb48d137756c8a9331c449a');
    assert.deepEqual(started?.forge, { forge: 'gitea', repo: 'gitea/webhooks' });
  });

  test("Forgejo's own headers work too", async () => {
    const secret = server.publicProject.webhook_secret;
    const response = await gitea('push', push, {
      'x-gitea-event': undefined,
      'x-gitea-delivery': undefined,
      'x-gitea-signature': undefined,
      'x-forgejo-event': 'push',
      'x-forgejo-delivery': randomUUID(),
      'x-forgejo-signature': createHmac('sha256', secret).update(push).digest('hex'),
    });
    assert.equal(response.statusCode, 202, response.body);
  });

  test('a bad or missing signature is 401 and starts nothing', async () => {
    const count = server.executions.started.length;
    assert.equal((await gitea('push', push, { 'x-gitea-signature': 'ab'.repeat(32) })).statusCode, 401);
    assert.equal((await gitea('push', push, { 'x-gitea-signature': undefined })).statusCode, 401);
    assert.equal(server.executions.started.length, count);
  });

  test('a delivery sent twice starts one execution; a fork pull request builds from the fork', async () => {
    const delivery = randomUUID();
    assert.equal((await gitea('push', push, { 'x-gitea-delivery': delivery })).statusCode, 202);
    const again = await gitea('push', push, { 'x-gitea-delivery': delivery });
    assert.deepEqual(again.json(), { duplicate: true });

    const pr = JSON.parse(fixtureText('gitea/pull_request.json'));
    pr.pull_request.head.repo = {
      full_name: 'someone/webhooks',
      clone_url: 'https://git.example.com/someone/webhooks.git',
    };
    const response = await gitea('pull_request', JSON.stringify(pr));
    assert.equal(response.statusCode, 202, response.body);
    const started = server.executions.started.at(-1);
    assert.equal(started?.trigger.fork, true);
    assert.deepEqual(started?.source, {
      kind: 'git',
      repo: 'https://git.example.com/someone/webhooks.git',
      commit: pr.pull_request.head.sha,
      ref: 'refs/heads/faster',
    });
  });

  test('a body past the limit is 413', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    assert.equal((await gitea('push', big)).statusCode, 413);
  });
});

describe('POST /hooks/gitlab/:project_id', () => {
  const push = fixtureText('gitlab/push.json');

  test('a push with the right token starts an execution that reports to the GitLab project', async () => {
    const response = await gitlab('Push Hook', push);
    assert.equal(response.statusCode, 202, response.body);
    const started = server.executions.started.at(-1);
    assert.equal(started?.trigger.branch, 'master');
    assert.deepEqual(started?.forge, { forge: 'gitlab', repo: '15' });
  });

  test('a wrong or missing token is 401', async () => {
    assert.equal((await gitlab('Push Hook', push, { 'x-gitlab-token': 'nope' })).statusCode, 401);
    assert.equal((await gitlab('Push Hook', push, { 'x-gitlab-token': undefined })).statusCode, 401);
  });

  test('an event UUID sent twice starts one execution; without one each delivery counts', async () => {
    const uuid = randomUUID();
    assert.equal((await gitlab('Push Hook', push, { 'x-gitlab-event-uuid': uuid })).statusCode, 202);
    assert.deepEqual((await gitlab('Push Hook', push, { 'x-gitlab-event-uuid': uuid })).json(), {
      duplicate: true,
    });
    assert.equal((await gitlab('Push Hook', push, { 'x-gitlab-event-uuid': undefined })).statusCode, 202);
  });

  test('a fork merge request is marked; other events are ignored with a reason; 413 past the limit', async () => {
    const mr = await gitlab('Merge Request Hook', fixtureText('gitlab/merge_request.json'));
    assert.equal(mr.statusCode, 202, mr.body);
    assert.equal(server.executions.started.at(-1)?.trigger.fork, true);
    const issue = await gitlab('Issue Hook', '{"object_kind":"issue"}');
    assert.equal(issue.statusCode, 200);
    assert.equal(issue.json().ignored, true);
    const big = JSON.stringify({ padding: 'x'.repeat(70 * 1024) });
    assert.equal((await gitlab('Push Hook', big)).statusCode, 413);
  });
});
