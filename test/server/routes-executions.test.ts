import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, type Who } from './helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const COMMIT = 'a'.repeat(40);

async function startAs(who: Who, projectId: string, body: Record<string, unknown> = {}) {
  return server.request(who, {
    method: 'POST',
    url: '/api/executions',
    payload: { project_id: projectId, ...body },
  });
}

describe('POST /api/executions', () => {
  test('starts an execution on the default branch from the project source', async () => {
    const before = server.executions.started.length;
    const response = await startAs('owner', server.publicProject.id);
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.equal(body.project_id, server.publicProject.id);
    assert.equal(body.status, 'pending');
    assert.equal(typeof body.id, 'string');
    assert.equal(typeof body.number, 'number');
    assert.ok('started_at' in body && 'ended_at' in body);
    assert.equal(body.logs, `/api/executions/${body.id}/logs`);
    assert.equal(body.trigger_event, 'api');
    assert.equal(body.ref, 'main');
    assert.equal('logs_dir' in body, false);
    const request = server.executions.started[before];
    assert.deepEqual(request?.source, { kind: 'project' });
    assert.deepEqual(request?.trigger, { event: 'api', branch: 'main' });
    assert.equal(request?.requestedBy, server.users.owner.id);
  });

  test('ref and commit go in the trigger; the source stays the registered one', async () => {
    const response = await startAs('member', server.privateProject.id, { ref: 'feature/x', commit: COMMIT });
    assert.equal(response.statusCode, 201);
    const request = server.executions.started.at(-1);
    assert.deepEqual(request?.trigger, { event: 'api', branch: 'feature/x', commit: COMMIT });
    assert.deepEqual(request?.source, { kind: 'project' });
  });

  test('a full tag ref starts a tag build', async () => {
    const response = await startAs('admin', server.publicProject.id, { ref: 'refs/tags/v1.2.0' });
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().ref_type, 'tag');
    assert.deepEqual(server.executions.started.at(-1)?.trigger, { event: 'api', tag: 'v1.2.0' });
  });

  test('refuses bad refs, bad commits and unknown fields with 400', async () => {
    for (const body of [{ ref: '--upload-pack=x' }, { ref: 'a..b' }, { commit: 'abc' }, { nope: 1 }]) {
      const response = await startAs('owner', server.publicProject.id, body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.match(response.json().error, /^GBCMS_ERR_/);
    }
    const missing = await server.request('owner', { method: 'POST', url: '/api/executions', payload: {} });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error, 'GBCMS_ERR_VALIDATION');
  });

  test('access matrix: 401 without a token, 404 for a private project to strangers, 403 on a public one', async () => {
    const expected: Record<'public' | 'private', Record<Who, number>> = {
      public: { anonymous: 401, stranger: 403, member: 201, owner: 201, admin: 201 },
      private: { anonymous: 401, stranger: 404, member: 201, owner: 201, admin: 201 },
    };
    for (const [kind, row] of Object.entries(expected)) {
      const project = kind === 'public' ? server.publicProject : server.privateProject;
      for (const [who, status] of Object.entries(row)) {
        const count = server.executions.started.length;
        const response = await startAs(who as Who, project.id);
        assert.equal(response.statusCode, status, `${who} on ${kind}`);
        if (status !== 201) {
          assert.equal(server.executions.started.length, count, 'nothing started');
          assert.equal(typeof response.json().message, 'string');
        }
      }
    }
  });

  test('an invalid or malformed token is 401 even on reads', async () => {
    for (const authorization of [`Bearer gbcms_${'x'.repeat(43)}`, 'Basic abc', 'Bearer']) {
      const response = await server.app.inject({
        method: 'GET',
        url: `/api/projects/${server.publicProject.id}`,
        headers: { authorization },
      });
      assert.equal(response.statusCode, 401, authorization);
      assert.equal(response.json().error, 'GBCMS_ERR_UNAUTHORIZED');
    }
  });

  test('unknown project is 404', async () => {
    const response = await startAs('admin', 'no-such-project');
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error, 'GBCMS_ERR_PROJECT_NOT_FOUND');
  });
});

describe('GET /api/executions/:id', () => {
  test('the execution with steps, artifacts, ended_at and a logs URL', async () => {
    const id = (await startAs('owner', server.publicProject.id)).json().id as string;
    await server.executions.begin(id);
    await server.executions.step(id, 'build', 'running');
    await server.executions.step(id, 'build', 'success');
    await server.executions.artifact(id, 'build', 'build/out.txt', 'hello');
    await server.executions.finish(id, 'success');
    const response = await server.request('anonymous', { method: 'GET', url: `/api/executions/${id}` });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.status, 'success');
    assert.equal(typeof body.started_at, 'string');
    assert.equal(typeof body.ended_at, 'string');
    assert.equal(typeof body.duration_ms, 'number');
    assert.equal(body.logs, `/api/executions/${id}/logs`);
    assert.equal(body.steps.length, 1);
    assert.equal(body.steps[0].name, 'build');
    assert.equal(body.steps[0].status, 'success');
    assert.equal(body.steps[0].logs, `/api/executions/${id}/logs?step=build`);
    assert.equal('log' in body.steps[0], false);
    assert.deepEqual(
      body.artifacts.map((a: { path: string; size: number; url: string }) => [a.path, a.size, a.url]),
      [['build/out.txt', 5, `/api/executions/${id}/artifacts/build/out.txt`]],
    );
  });

  test('private executions are 404 to anonymous callers and strangers, visible to members', async () => {
    const id = (await startAs('owner', server.privateProject.id)).json().id as string;
    for (const [who, status] of [
      ['anonymous', 404],
      ['stranger', 404],
      ['member', 200],
      ['owner', 200],
      ['admin', 200],
    ] as const) {
      const response = await server.request(who, { method: 'GET', url: `/api/executions/${id}` });
      assert.equal(response.statusCode, status, who);
      if (status === 404) assert.equal(response.json().error, 'GBCMS_ERR_EXECUTION_NOT_FOUND');
    }
    const missing = await server.request('admin', { method: 'GET', url: '/api/executions/nope' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(Object.keys(missing.json()).sort(), ['error', 'message']);
  });

  test('the public URL prefixes the URLs in answers', async () => {
    const other = await startTestServer({ publicUrl: 'https://ci.example.com/' });
    try {
      const response = await other.request('owner', {
        method: 'POST',
        url: '/api/executions',
        payload: { project_id: other.publicProject.id },
      });
      const body = response.json();
      assert.equal(body.logs, `https://ci.example.com/api/executions/${body.id}/logs`);
      assert.equal(body.web_url, `https://ci.example.com/executions/${body.id}`);
    } finally {
      await other.close();
    }
  });
});

describe('POST /api/executions/:id/terminate', () => {
  test('200 with the spec body, then 409 once ended', async () => {
    const id = (await startAs('owner', server.publicProject.id)).json().id as string;
    await server.executions.begin(id);
    const first = await server.request('member', { method: 'POST', url: `/api/executions/${id}/terminate` });
    assert.equal(first.statusCode, 200);
    const body = first.json();
    assert.equal(body.status, 'success');
    assert.equal(body.message, 'Execution terminated successfully.');
    assert.equal(body.execution_id, id);
    assert.ok(!Number.isNaN(Date.parse(body.terminated_at)));
    assert.deepEqual(server.executions.terminated.slice(-1), [id]);

    const again = await server.request('member', { method: 'POST', url: `/api/executions/${id}/terminate` });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error, 'GBCMS_ERR_EXECUTION_ENDED');
    const stored = await server.store.executions.get(id);
    assert.equal(stored?.status, 'killed');
  });

  test('access: 401 anonymous, 403 stranger on public, 404 stranger on private', async () => {
    const publicId = (await startAs('owner', server.publicProject.id)).json().id as string;
    const privateId = (await startAs('owner', server.privateProject.id)).json().id as string;
    const cases = [
      ['anonymous', publicId, 401],
      ['stranger', publicId, 403],
      ['anonymous', privateId, 401],
      ['stranger', privateId, 404],
    ] as const;
    for (const [who, id, status] of cases) {
      const response = await server.request(who, { method: 'POST', url: `/api/executions/${id}/terminate` });
      assert.equal(response.statusCode, status, `${who} ${id}`);
    }
    assert.equal((await server.store.executions.get(publicId))?.status, 'pending');
    const admin = await server.request('admin', {
      method: 'POST',
      url: `/api/executions/${privateId}/terminate`,
    });
    assert.equal(admin.statusCode, 200);
  });
});

describe('POST /api/executions/:id/rerun', () => {
  test('201 with a new execution that records rerun_of and reuses trigger and commit', async () => {
    const original = (
      await startAs('owner', server.privateProject.id, { ref: 'dev', commit: COMMIT })
    ).json();
    await server.executions.finish(original.id, 'failure');
    const response = await server.request('member', {
      method: 'POST',
      url: `/api/executions/${original.id}/rerun`,
    });
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.notEqual(body.id, original.id);
    assert.equal(body.rerun_of, original.id);
    assert.equal(body.number, original.number + 1);
    assert.equal(body.commit_sha, COMMIT);
    const request = server.executions.started.at(-1);
    assert.equal(request?.rerunOf, original.id);
    assert.deepEqual(request?.trigger, { event: 'api', branch: 'dev', commit: COMMIT });
    assert.deepEqual(request?.source, { kind: 'project' });
  });

  test('401 anonymous, 404 stranger on a private project', async () => {
    const id = (await startAs('owner', server.privateProject.id)).json().id as string;
    assert.equal(
      (await server.request('anonymous', { method: 'POST', url: `/api/executions/${id}/rerun` })).statusCode,
      401,
    );
    assert.equal(
      (await server.request('stranger', { method: 'POST', url: `/api/executions/${id}/rerun` })).statusCode,
      404,
    );
  });
});
