import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, type Who } from './helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('POST /api/projects', () => {
  test('admins register a project and get its webhook secret', async () => {
    const response = await server.request('admin', {
      method: 'POST',
      url: '/api/projects',
      payload: {
        name: 'web',
        repo: 'https://github.com/example/web.git',
        description: 'the website',
        default_branch: 'trunk',
        visibility: 'public',
      },
    });
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.equal(body.name, 'web');
    assert.equal(body.default_branch, 'trunk');
    assert.equal(body.visibility, 'public');
    assert.equal(body.owner_id, server.users.admin.id);
    assert.match(body.webhook_secret, /^[0-9a-f]{64}$/);
    assert.equal(body.webhook_url, `/hooks/github/${body.id}`);
    assert.equal(body.git_hook_url, `/hooks/git/${body.id}`);
    assert.equal(body.badge_url, `/badges/${body.id}.svg`);
    assert.equal('last_execution_number' in body, false);
  });

  test('defaults to private and main; accepts an absolute local path', async () => {
    const response = await server.request('admin', {
      method: 'POST',
      url: '/api/projects',
      payload: { name: 'local-repo', repo: '/srv/git/local.git' },
    });
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().visibility, 'private');
    assert.equal(response.json().default_branch, 'main');
  });

  test('only admins: 401 anonymous, 403 developers', async () => {
    const payload = { name: 'nope', repo: 'https://example.com/a.git' };
    for (const [who, status] of [
      ['anonymous', 401],
      ['owner', 403],
      ['stranger', 403],
    ] as const) {
      const response = await server.request(who, { method: 'POST', url: '/api/projects', payload });
      assert.equal(response.statusCode, status, who);
    }
    assert.equal(await server.store.projects.byName('nope'), undefined);
  });

  test('refuses dangerous repository sources with the reason', async () => {
    for (const repo of [
      'ext::sh -c touch% /tmp/x',
      'file:///etc',
      '--upload-pack=x',
      'https://169.254.169.254/x',
      'relative/path',
    ]) {
      const response = await server.request('admin', {
        method: 'POST',
        url: '/api/projects',
        payload: { name: 'bad', repo },
      });
      assert.equal(response.statusCode, 400, repo);
      assert.equal(response.json().error, 'GBCMS_ERR_INVALID_REPO');
      assert.match(response.json().message, /^repo refused: /);
    }
  });

  test('refuses bad names, branches and visibility; a taken name is 409', async () => {
    const cases = [
      { name: '', repo: 'https://e.com/a.git' },
      { name: ' padded', repo: 'https://e.com/a.git' },
      { name: 'x', repo: 'https://e.com/a.git', visibility: 'secret' },
      { name: 'x', repo: 'https://e.com/a.git', default_branch: 'bad..branch' },
      { name: 'x', repo: 'https://e.com/a.git', owner_id: 'me' },
    ];
    for (const payload of cases) {
      const response = await server.request('admin', { method: 'POST', url: '/api/projects', payload });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
    }
    const taken = await server.request('admin', {
      method: 'POST',
      url: '/api/projects',
      payload: { name: 'public-app', repo: 'https://e.com/a.git' },
    });
    assert.equal(taken.statusCode, 409);
    assert.equal(taken.json().error, 'GBCMS_ERR_PROJECT_EXISTS');
  });
});

describe('GET /api/projects and /api/projects/:id', () => {
  test('lists what the caller may read; secrets only for admins', async () => {
    const names = async (who: Who) => {
      const response = await server.request(who, { method: 'GET', url: '/api/projects' });
      assert.equal(response.statusCode, 200);
      return response.json().items.map((p: { name: string }) => p.name) as string[];
    };
    assert.ok((await names('anonymous')).includes('public-app'));
    assert.ok(!(await names('anonymous')).includes('private-app'));
    assert.ok(!(await names('stranger')).includes('private-app'));
    assert.ok((await names('member')).includes('private-app'));
    assert.ok((await names('admin')).includes('private-app'));

    const developer = await server.request('owner', { method: 'GET', url: '/api/projects' });
    for (const project of developer.json().items) assert.equal('webhook_secret' in project, false);
    const admin = await server.request('admin', { method: 'GET', url: '/api/projects' });
    for (const project of admin.json().items) assert.match(project.webhook_secret, /^[0-9a-f]{64}$/);
  });

  test('one project: public to all, private 404 to strangers (as if missing)', async () => {
    const expected: Record<Who, [number, number]> = {
      anonymous: [200, 404],
      stranger: [200, 404],
      member: [200, 200],
      owner: [200, 200],
      admin: [200, 200],
    };
    const missing = await server.request('stranger', { method: 'GET', url: '/api/projects/does-not-exist' });
    for (const [who, [onPublic, onPrivate]] of Object.entries(expected)) {
      const pub = await server.request(who as Who, {
        method: 'GET',
        url: `/api/projects/${server.publicProject.id}`,
      });
      const priv = await server.request(who as Who, {
        method: 'GET',
        url: `/api/projects/${server.privateProject.id}`,
      });
      assert.equal(pub.statusCode, onPublic, `${who} public`);
      assert.equal(priv.statusCode, onPrivate, `${who} private`);
      if (onPrivate === 404)
        assert.deepEqual(priv.json(), missing.json(), 'indistinguishable from a missing project');
    }
    const owner = await server.request('owner', {
      method: 'GET',
      url: `/api/projects/${server.privateProject.id}`,
    });
    assert.equal(owner.json().name, 'private-app');
    assert.equal('webhook_secret' in owner.json(), false);
  });
});

describe('GET /api/projects/:id/executions', () => {
  test('pages newest first with next_cursor; filters by status and branch', async () => {
    const created = await server.request('admin', {
      method: 'POST',
      url: '/api/projects',
      payload: { name: 'paged', repo: 'https://e.com/paged.git', visibility: 'public' },
    });
    const project = created.json();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const ref = i % 2 === 0 ? 'main' : 'dev';
      const response = await server.request('admin', {
        method: 'POST',
        url: '/api/executions',
        payload: { project_id: project.id, ref },
      });
      ids.push(response.json().id);
    }
    await server.executions.finish(ids[0] ?? '', 'success');
    await server.executions.finish(ids[2] ?? '', 'failure');

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const response = await server.request('anonymous', {
        method: 'GET',
        url: `/api/projects/${project.id}/executions?limit=3${query}`,
      });
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.ok(body.items.length <= 3);
      seen.push(...body.items.map((e: { number: number }) => e.number));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor !== null);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [7, 6, 5, 4, 3, 2, 1]);

    const dev = await server.request('anonymous', {
      method: 'GET',
      url: `/api/projects/${project.id}/executions?branch=dev`,
    });
    assert.deepEqual(
      dev.json().items.map((e: { number: number }) => e.number),
      [6, 4, 2],
    );
    const failed = await server.request('anonymous', {
      method: 'GET',
      url: `/api/projects/${project.id}/executions?status=failure`,
    });
    assert.deepEqual(
      failed.json().items.map((e: { number: number }) => e.number),
      [3],
    );
    assert.equal(failed.json().next_cursor, null);
  });

  test('400 for a forged cursor, a bad status or limit; 404 for a private project to strangers', async () => {
    const base = `/api/projects/${server.publicProject.id}/executions`;
    const badCursor = await server.request('anonymous', {
      method: 'GET',
      url: `${base}?cursor=not-a-cursor`,
    });
    assert.equal(badCursor.statusCode, 400);
    assert.equal(badCursor.json().error, 'GBCMS_ERR_INVALID_CURSOR');
    assert.equal(
      (await server.request('anonymous', { method: 'GET', url: `${base}?status=great` })).statusCode,
      400,
    );
    assert.equal(
      (await server.request('anonymous', { method: 'GET', url: `${base}?limit=1000` })).statusCode,
      400,
    );
    const hidden = await server.request('stranger', {
      method: 'GET',
      url: `/api/projects/${server.privateProject.id}/executions`,
    });
    assert.equal(hidden.statusCode, 404);
  });
});
