import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { gitDeliveryFor, notifyPush } from '../../server/git/hook-notify.ts';
import { GBCMS_SIGNATURE_HEADER, signBody } from '../../server/webhooks/signature.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

interface Example {
  name: string;
  examples: Record<string, unknown>[];
}
const require = createRequire(import.meta.url);
const EXAMPLES = require('@octokit/webhooks-examples/api.github.com/index.json') as Example[];

function example(name: string, pick: (payload: Record<string, unknown>) => boolean): Record<string, unknown> {
  const found = EXAMPLES.find((e) => e.name === name)?.examples.find(pick);
  assert.ok(found, `no ${name} example`);
  return structuredClone(found);
}

const branchPush = example('push', (p) => p.ref === 'refs/heads/master' && p.deleted === false);
const tagPush = example('push', (p) => p.ref === 'refs/tags/simple-tag' && p.deleted === false);
const tagDelete = example('push', (p) => p.deleted === true);
const ping = example('ping', () => true);
const prSynchronize = example('pull_request', (p) => p.action === 'synchronize');
const prLabeled = example('pull_request', (p) => p.action === 'labeled');

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

interface Delivery {
  event: string;
  body: string | Buffer;
  secret?: string;
  signature?: string | null;
  delivery?: string;
  contentType?: string;
  projectId?: string;
  headers?: Record<string, string>;
}

function deliver(d: Delivery) {
  const secret = d.secret ?? server.publicProject.webhook_secret;
  const headers: Record<string, string> = {
    'content-type': d.contentType ?? 'application/json',
    'x-github-event': d.event,
    'x-github-delivery': d.delivery ?? randomUUID(),
    'user-agent': 'GitHub-Hookshot/test',
    ...d.headers,
  };
  const signature = d.signature === undefined ? signBody(secret, d.body) : d.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return server.app.inject({
    method: 'POST',
    url: `/hooks/github/${d.projectId ?? server.publicProject.id}`,
    headers,
    payload: d.body,
  });
}

describe('POST /hooks/github/:project_id', () => {
  test('a signed push starts an execution on the pushed branch and commit', async () => {
    const count = server.executions.started.length;
    const response = await deliver({ event: 'push', body: JSON.stringify(branchPush) });
    assert.equal(response.statusCode, 202);
    const body = response.json();
    assert.equal(typeof body.execution_id, 'string');
    assert.equal(typeof body.number, 'number');
    assert.equal(server.executions.started.length, count + 1);
    const request = server.executions.started.at(-1);
    assert.equal(request?.project.id, server.publicProject.id);
    assert.equal(request?.trigger.event, 'push');
    assert.equal(request?.trigger.branch, 'master');
    assert.equal(request?.trigger.commit, branchPush.after);
    assert.equal(request?.message, 'Initial commit');
    assert.deepEqual(request?.source, { kind: 'project' });
    const execution = await server.store.executions.get(body.execution_id);
    assert.equal(execution?.commit_sha, branchPush.after);
  });

  test('a tag push starts a tag execution; a deletion starts nothing', async () => {
    const tag = await deliver({ event: 'push', body: JSON.stringify(tagPush) });
    assert.equal(tag.statusCode, 202);
    assert.deepEqual(
      {
        event: server.executions.started.at(-1)?.trigger.event,
        tag: server.executions.started.at(-1)?.trigger.tag,
      },
      { event: 'tag', tag: 'simple-tag' },
    );
    const count = server.executions.started.length;
    const deleted = await deliver({ event: 'push', body: JSON.stringify(tagDelete) });
    assert.equal(deleted.statusCode, 200);
    assert.equal(deleted.json().ignored, true);
    assert.match(deleted.json().reason, /deleted/);
    assert.equal(server.executions.started.length, count);
  });

  test('ping answers pong and starts nothing', async () => {
    const count = server.executions.started.length;
    const response = await deliver({ event: 'ping', body: JSON.stringify(ping) });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { pong: true });
    assert.equal(server.executions.started.length, count);
  });

  test('pull requests: same-repository heads build from the project, forks from their clone URL', async () => {
    const same = await deliver({ event: 'pull_request', body: JSON.stringify(prSynchronize) });
    assert.equal(same.statusCode, 202);
    const request = server.executions.started.at(-1);
    assert.equal(request?.trigger.event, 'pull_request');
    assert.equal(request?.trigger.branch, 'changes');
    assert.equal(request?.trigger.fork, false);
    assert.deepEqual(request?.source, { kind: 'project' });

    const fork = structuredClone(prSynchronize) as {
      pull_request: { head: { repo: { clone_url: string } } };
    };
    fork.pull_request.head.repo.clone_url = 'https://github.com/forker/Hello-World.git';
    assert.equal((await deliver({ event: 'pull_request', body: JSON.stringify(fork) })).statusCode, 202);
    assert.deepEqual(server.executions.started.at(-1)?.source, {
      kind: 'git',
      repo: 'https://github.com/forker/Hello-World.git',
      commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      ref: 'refs/heads/changes',
    });

    // The head's repository name, not its clone URL, says whether it is a fork.
    const named = structuredClone(prSynchronize) as {
      pull_request: { head: { repo: { full_name: string; clone_url: string } } };
    };
    named.pull_request.head.repo.full_name = 'forker/Hello-World';
    named.pull_request.head.repo.clone_url = 'https://github.com/forker/Hello-World.git';
    assert.equal((await deliver({ event: 'pull_request', body: JSON.stringify(named) })).statusCode, 202);
    assert.equal(server.executions.started.at(-1)?.trigger.fork, true);

    const hostile = structuredClone(fork);
    hostile.pull_request.head.repo.clone_url = 'ext::sh -c id';
    assert.equal((await deliver({ event: 'pull_request', body: JSON.stringify(hostile) })).statusCode, 202);
    assert.deepEqual(
      server.executions.started.at(-1)?.source,
      { kind: 'project' },
      'refused URL: base project',
    );

    const count = server.executions.started.length;
    const labeled = await deliver({ event: 'pull_request', body: JSON.stringify(prLabeled) });
    assert.equal(labeled.statusCode, 200);
    assert.equal(labeled.json().ignored, true);
    assert.equal(server.executions.started.length, count);
  });

  test('unsigned, forged and wrong-secret deliveries are 401 and start nothing', async () => {
    const body = JSON.stringify(branchPush);
    const count = server.executions.started.length;
    const attempts: Delivery[] = [
      { event: 'push', body, signature: null },
      { event: 'push', body, secret: 'not-the-secret' },
      { event: 'push', body, secret: server.privateProject.webhook_secret },
      { event: 'push', body, signature: signBody(server.publicProject.webhook_secret, `${body} `) },
      { event: 'push', body, signature: `sha1=${'0'.repeat(40)}` },
      { event: 'push', body, signature: `sha256=${'0'.repeat(64)}` },
      { event: 'push', body, signature: signBody(server.publicProject.webhook_secret, body).toUpperCase() },
    ];
    for (const [i, attempt] of attempts.entries()) {
      const delivery = randomUUID();
      const response = await deliver({ ...attempt, delivery });
      assert.equal(response.statusCode, 401, `attempt ${i}`);
      assert.equal(response.json().error, 'GBCMS_ERR_BAD_SIGNATURE');
      assert.equal(await server.store.deliveries.get(delivery), undefined, 'delivery not claimed');
    }
    // A body changed after signing (one byte) is refused too.
    const signature = signBody(server.publicProject.webhook_secret, body);
    const tampered = body.replace('master', 'mastes');
    assert.equal((await deliver({ event: 'push', body: tampered, signature })).statusCode, 401);
    assert.equal(server.executions.started.length, count);
  });

  test('a body over the limit is 413 and starts nothing', async () => {
    const count = server.executions.started.length;
    const big = JSON.stringify({ ...branchPush, padding: 'x'.repeat(1024 * 1024) });
    const response = await deliver({ event: 'push', body: big });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error, 'GBCMS_ERR_BODY_TOO_LARGE');
    assert.equal(server.executions.started.length, count);

    const small = await startTestServer({ bodyLimit: 2048 });
    try {
      const body = JSON.stringify(branchPush);
      assert.ok(body.length > 2048);
      const refused = await small.app.inject({
        method: 'POST',
        url: `/hooks/github/${small.publicProject.id}`,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': signBody(small.publicProject.webhook_secret, body),
        },
        payload: body,
      });
      assert.equal(refused.statusCode, 413);
      assert.equal(small.executions.started.length, 0);
    } finally {
      await small.close();
    }
  });

  test('a repeated delivery id starts nothing the second time', async () => {
    const delivery = randomUUID();
    const body = JSON.stringify(branchPush);
    const count = server.executions.started.length;
    const first = await deliver({ event: 'push', body, delivery });
    assert.equal(first.statusCode, 202);
    const second = await deliver({ event: 'push', body, delivery });
    assert.equal(second.statusCode, 200);
    assert.deepEqual(second.json(), { duplicate: true });
    assert.equal(server.executions.started.length, count + 1);
    const recorded = await server.store.deliveries.get(delivery);
    assert.equal(recorded?.execution_id, first.json().execution_id);
    // Concurrent repeats: exactly one starts.
    const racing = randomUUID();
    const answers = await Promise.all(
      [1, 2, 3].map(() => deliver({ event: 'push', body, delivery: racing })),
    );
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 200, 202]);
    assert.equal(server.executions.started.length, count + 2);
  });

  test('form-encoded payloads, other content types, private projects; stray tokens are ignored', async () => {
    const json = JSON.stringify(branchPush);
    const form = `payload=${encodeURIComponent(json)}`;
    const formResponse = await deliver({
      event: 'push',
      body: form,
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(formResponse.statusCode, 202);
    const plain = await deliver({ event: 'push', body: json, contentType: 'text/plain' });
    assert.equal(plain.statusCode, 202);
    const privateHook = await deliver({
      event: 'push',
      body: json,
      projectId: server.privateProject.id,
      secret: server.privateProject.webhook_secret,
      headers: { authorization: 'Bearer nonsense' },
    });
    assert.equal(privateHook.statusCode, 202);
    assert.equal(server.executions.started.at(-1)?.project.id, server.privateProject.id);
  });

  test('missing event or delivery headers are 400; bad JSON is 400; unknown project 404', async () => {
    const json = JSON.stringify(branchPush);
    const noEvent = await deliver({ event: '', body: json });
    assert.equal(noEvent.statusCode, 400);
    assert.equal(noEvent.json().error, 'GBCMS_ERR_BAD_WEBHOOK');
    const noDelivery = await deliver({ event: 'push', body: json, delivery: '' });
    assert.equal(noDelivery.statusCode, 400);
    const badJson = await deliver({ event: 'push', body: '{"ref": ' });
    assert.equal(badJson.statusCode, 400);
    assert.equal(badJson.json().error, 'GBCMS_ERR_INVALID_JSON');
    const unknown = await deliver({ event: 'push', body: json, projectId: 'nope' });
    assert.equal(unknown.statusCode, 404);
  });
});

describe('POST /hooks/git/:project_id', () => {
  const after = 'b'.repeat(40);
  const before = 'a'.repeat(40);

  function notify(body: object, options: { secret?: string; header?: string; projectId?: string } = {}) {
    const text = JSON.stringify(body);
    return server.app.inject({
      method: 'POST',
      url: `/hooks/git/${options.projectId ?? server.privateProject.id}`,
      headers: {
        'content-type': 'application/json',
        [options.header ?? 'x-gbcms-signature-256']: signBody(
          options.secret ?? server.privateProject.webhook_secret,
          text,
        ),
      },
      payload: text,
    });
  }

  test('a signed branch push starts an execution and answers its number', async () => {
    const response = await notify({
      ref: 'refs/heads/main',
      before,
      after,
      repository: '/srv/git/x.git',
      pusher: 'alice',
    });
    assert.equal(response.statusCode, 202);
    const body = response.json();
    const execution = await server.store.executions.get(body.execution_id);
    assert.equal(execution?.number, body.number);
    const request = server.executions.started.at(-1);
    assert.deepEqual(request?.trigger, { event: 'push', branch: 'main', commit: after });
    assert.deepEqual(request?.source, { kind: 'project' });
  });

  test('tags start tag executions; deletions start nothing', async () => {
    assert.equal((await notify({ ref: 'refs/tags/v1', before, after })).statusCode, 202);
    assert.equal(server.executions.started.at(-1)?.trigger.tag, 'v1');
    const count = server.executions.started.length;
    const deleted = await notify({ ref: 'refs/heads/old', before, after: '0'.repeat(40) });
    assert.equal(deleted.statusCode, 200);
    assert.equal(deleted.json().ignored, true);
    assert.equal(server.executions.started.length, count);
  });

  test('wrong secret, GitHub header instead of ours, unknown project: refused, nothing started', async () => {
    const count = server.executions.started.length;
    const body = { ref: 'refs/heads/main', before, after };
    assert.equal((await notify(body, { secret: 'nope' })).statusCode, 401);
    assert.equal((await notify(body, { header: 'x-hub-signature-256' })).statusCode, 401);
    assert.equal((await notify(body, { projectId: 'nope' })).statusCode, 404);
    assert.equal(server.executions.started.length, count);
  });

  test('a notification sent twice starts one execution; the same update in another push starts again', async () => {
    const update = { before, after, ref: 'refs/heads/main' };
    const body = { ...update, repository: '/srv/git/x.git', pusher: 'alice' };
    const first = await notify({ ...body, delivery: gitDeliveryFor('push-1', update) });
    assert.equal(first.statusCode, 202);
    const count = server.executions.started.length;
    const again = await notify({ ...body, delivery: gitDeliveryFor('push-1', update) });
    assert.deepEqual(again.json(), { duplicate: true });
    assert.equal(server.executions.started.length, count);
    const next = await notify({ ...body, delivery: gitDeliveryFor('push-2', update) });
    assert.equal(next.statusCode, 202);
    assert.equal(server.executions.started.length, count + 1);
  });

  test("gbcms's own post-receive client gets the execution number back", async () => {
    const live = await startTestServer();
    try {
      const url = await live.app.listen({ host: '127.0.0.1', port: 0 });
      const lines: string[] = [];
      await notifyPush(
        {
          gitDir: '/srv/git/app.git',
          refs: [{ before, after, ref: 'refs/heads/main' }],
          pusher: 'alice',
          settings: { url, project: live.privateProject.id, secret: live.privateProject.webhook_secret },
          // The fake manager never leaves pending: nothing to wait for.
          waitS: 0,
        },
        (line) => lines.push(line),
      );
      const [execution] = (await live.store.executions.listByProject(live.privateProject.id)).items;
      assert.deepEqual(lines, [
        `gbcms: queued execution #1 for refs/heads/main: ${url}/executions/${execution?.id}`,
      ]);
    } finally {
      await live.close();
    }
  });

  test('the hook hears of an invalid pipeline file when the execution ends error at once', async () => {
    const live = await startTestServer();
    try {
      const url = await live.app.listen({ host: '127.0.0.1', port: 0 });
      // The fake manager fails the pipeline check as soon as the execution is queued.
      const start = live.executions.start.bind(live.executions);
      live.executions.start = async (request) => {
        const execution = await start(request);
        setTimeout(() => {
          void live.executions.finish(
            execution.id,
            'error',
            ".gbcms.yml:3:5: error GBCMS_E_UNKNOWN_KEY: unknown key 'stepz'\n.gbcms.yml:9:1: error GBCMS_E_OTHER: more",
          );
        }, 50);
        return execution;
      };
      const lines: string[] = [];
      await notifyPush(
        {
          gitDir: '/srv/git/app.git',
          refs: [{ before, after, ref: 'refs/heads/main' }],
          pusher: 'alice',
          settings: { url, project: live.publicProject.id, secret: live.publicProject.webhook_secret },
        },
        (line) => lines.push(line),
      );
      const [execution] = (await live.store.executions.listByProject(live.publicProject.id)).items;
      assert.deepEqual(lines, [
        "gbcms: execution #1 for refs/heads/main ended at once: invalid pipeline file: .gbcms.yml:3:5: error GBCMS_E_UNKNOWN_KEY: unknown key 'stepz'",
        `gbcms: see ${url}/executions/${execution?.id}`,
      ]);
    } finally {
      await live.close();
    }
  });

  test('the answer waits for the pipeline check only as long as asked, and says how it stood', async () => {
    const payload = JSON.stringify({ ref: 'refs/heads/main', before, after });
    const started = Date.now();
    const response = await server.app.inject({
      method: 'POST',
      url: `/hooks/git/${server.publicProject.id}`,
      headers: {
        'content-type': 'application/json',
        [GBCMS_SIGNATURE_HEADER]: signBody(server.publicProject.webhook_secret, payload),
        'x-gbcms-wait': '1',
      },
      payload,
    });
    assert.equal(response.statusCode, 202);
    // The fake never leaves pending: the answer comes when the wait is over, without a status.
    assert.ok(Date.now() - started >= 900);
    assert.equal(response.json().status, undefined);
  });
});
