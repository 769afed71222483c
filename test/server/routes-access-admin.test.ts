import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { loggerOptions } from '../../server/plugins/logger.ts';
import type { Project } from '../../server/store/index.ts';
import { startTestServer, type TestServer, type Who } from './helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

/** app.inject with a token made during the test. */
function withToken(token: string, options: InjectOptions) {
  return server.app.inject({ ...options, headers: { ...options.headers, authorization: `Bearer ${token}` } });
}

async function expectStatuses(cases: readonly (readonly [Who, number])[], options: InjectOptions) {
  for (const [who, status] of cases) {
    const response = await server.request(who, options);
    assert.equal(response.statusCode, status, `${who}: ${response.body}`);
  }
}

let projectCount = 0;
/** A private project owned by `owner` with `member` in it, for tests that change things. */
async function freshProject(): Promise<Project> {
  projectCount += 1;
  const project = await server.store.projects.create({
    name: `scratch-${projectCount}`,
    repo: '/srv/git/scratch.git',
    owner_id: server.users.owner.id,
  });
  await server.store.projects.addMember(project.id, server.users.member.id);
  return project;
}

describe('GET /api/me', () => {
  test('each caller gets their own user; anonymous and bad tokens get 401', async () => {
    for (const who of ['admin', 'owner', 'member', 'stranger'] as const) {
      const response = await server.request(who, { method: 'GET', url: '/api/me' });
      assert.equal(response.statusCode, 200, who);
      const body = response.json();
      assert.equal(body.id, server.users[who].id);
      assert.equal(body.username, who);
      assert.equal(body.role, who === 'admin' ? 'admin' : 'developer');
      assert.equal(body.email, null);
    }
    const anonymous = await server.request('anonymous', { method: 'GET', url: '/api/me' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().error, 'GBCMS_ERR_UNAUTHORIZED');
    const forged = await withToken(`gbcms_${'A'.repeat(43)}`, { method: 'GET', url: '/api/me' });
    assert.equal(forged.statusCode, 401);
  });
});

describe('users', () => {
  test('admins create a user (201) and list users; a taken username is 409', async () => {
    const created = await server.request('admin', {
      method: 'POST',
      url: '/api/users',
      payload: { username: 'carol', email: 'carol@example.com', role: 'developer' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const carol = created.json();
    assert.equal(carol.username, 'carol');
    assert.equal(carol.email, 'carol@example.com');
    assert.equal(carol.role, 'developer');
    assert.equal((await server.store.users.byUsername('carol'))?.id, carol.id);

    const again = await server.request('admin', {
      method: 'POST',
      url: '/api/users',
      payload: { username: 'carol', role: 'admin' },
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error, 'GBCMS_ERR_USER_EXISTS');
    assert.equal((await server.store.users.byUsername('carol'))?.role, 'developer');

    const list = await server.request('admin', { method: 'GET', url: '/api/users' });
    assert.equal(list.statusCode, 200);
    const names = list.json().items.map((user: { username: string }) => user.username);
    assert.deepEqual(names, ['admin', 'carol', 'member', 'owner', 'stranger']);
  });

  test('refuses bad usernames, roles, emails and unknown fields', async () => {
    for (const payload of [
      { username: '', role: 'developer' },
      { username: 'has space', role: 'developer' },
      { username: '../x', role: 'developer' },
      { username: 'dave', role: 'root' },
      { username: 'dave' },
      { username: 'dave', role: 'developer', email: 'not-an-email' },
      { username: 'dave', role: 'developer', password: 'x' },
    ]) {
      const response = await server.request('admin', { method: 'POST', url: '/api/users', payload });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error, 'GBCMS_ERR_VALIDATION');
    }
    assert.equal(await server.store.users.byUsername('dave'), undefined);
  });

  test('only admins: 401 anonymous, 403 developers', async () => {
    const payload = { username: 'mallory', role: 'admin' };
    const denied = [
      ['anonymous', 401],
      ['owner', 403],
      ['member', 403],
      ['stranger', 403],
    ] as const;
    await expectStatuses(denied, { method: 'POST', url: '/api/users', payload });
    await expectStatuses(denied, { method: 'GET', url: '/api/users' });
    assert.equal(await server.store.users.byUsername('mallory'), undefined);
  });
});

describe('POST /api/tokens', () => {
  test('an admin makes a token for another user; it authenticates as that user, once shown', async () => {
    const response = await server.request('admin', {
      method: 'POST',
      url: '/api/tokens',
      payload: { username: 'member', name: 'laptop' },
    });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
    const body = response.json();
    assert.match(body.token, /^gbcms_[A-Za-z0-9_-]{43}$/);
    assert.equal(body.prefix, body.token.slice(0, 14));
    assert.equal(body.user, 'member');
    assert.equal(body.name, 'laptop');
    assert.ok(!Number.isNaN(Date.parse(body.created_at)));

    const me = await withToken(body.token, { method: 'GET', url: '/api/me' });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().username, 'member');

    // Never again: not in a listing, neither the token nor its hash.
    for (const who of ['admin', 'member'] as const) {
      const list = await server.request(who, { method: 'GET', url: '/api/tokens' });
      assert.equal(list.statusCode, 200);
      assert.ok(!list.body.includes(body.token), who);
      assert.ok(!list.body.includes(body.token.slice(6)), who);
      assert.ok(!list.body.includes('hash'), who);
      const listed = list.json().items.find((token: { prefix: string }) => token.prefix === body.prefix);
      assert.deepEqual(Object.keys(listed).sort(), [
        'created_at',
        'last_used_at',
        'name',
        'prefix',
        'revoked_at',
        'role',
        'user',
      ]);
      assert.equal(listed.user, 'member');
      assert.equal(listed.revoked_at, null);
    }
  });

  test("without a username it is the caller's own; default name 'api'", async () => {
    for (const who of ['admin', 'stranger'] as const) {
      const response = await server.request(who, { method: 'POST', url: '/api/tokens', payload: {} });
      assert.equal(response.statusCode, 201, who);
      assert.equal(response.json().user, who);
      assert.equal(response.json().name, 'api');
      const me = await withToken(response.json().token, { method: 'GET', url: '/api/me' });
      assert.equal(me.json().username, who);
    }
    const own = await server.request('owner', {
      method: 'POST',
      url: '/api/tokens',
      payload: { username: 'owner', name: 'ci bot' },
    });
    assert.equal(own.statusCode, 201);
    assert.equal(own.json().user, 'owner');
  });

  test("developers may not make someone else's token; nor learn whether the user exists", async () => {
    for (const username of ['admin', 'member', 'no-such-user']) {
      const response = await server.request('stranger', {
        method: 'POST',
        url: '/api/tokens',
        payload: { username },
      });
      assert.equal(response.statusCode, 403, username);
      assert.equal(response.json().error, 'GBCMS_ERR_FORBIDDEN');
    }
    const unknown = await server.request('admin', {
      method: 'POST',
      url: '/api/tokens',
      payload: { username: 'no-such-user' },
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'GBCMS_ERR_USER_NOT_FOUND');
    const anonymous = await server.request('anonymous', { method: 'POST', url: '/api/tokens', payload: {} });
    assert.equal(anonymous.statusCode, 401);
    const extra = await server.request('owner', {
      method: 'POST',
      url: '/api/tokens',
      payload: { role: 'admin' },
    });
    assert.equal(extra.statusCode, 400);
  });

  test('the token in the answer never reaches the log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString('utf8').trim().split('\n'));
        callback();
      },
    });
    const logged = await startTestServer({ logger: pino(loggerOptions({ level: 'trace' }), stream) });
    try {
      const response = await logged.request('admin', {
        method: 'POST',
        url: '/api/tokens',
        payload: { username: 'owner' },
      });
      assert.equal(response.statusCode, 201);
      const { token, prefix } = response.json();
      const all = lines.join('\n');
      assert.ok(all.includes('"msg":"token created"'), 'the creation is logged');
      assert.ok(all.includes(prefix), 'by its prefix');
      assert.ok(!all.includes(token), 'the token is in the log');
      assert.ok(!all.includes(token.slice(6)), 'the secret part is in the log');
    } finally {
      await logged.close();
    }
  });
});

describe('GET /api/tokens', () => {
  test("developers see their own; admins everyone's or one user's", async () => {
    await server.request('admin', { method: 'POST', url: '/api/tokens', payload: { username: 'owner' } });
    const users = async (who: Who, url = '/api/tokens') => {
      const response = await server.request(who, { method: 'GET', url });
      assert.equal(response.statusCode, 200, `${who} ${url}`);
      return new Set(response.json().items.map((token: { user: string }) => token.user));
    };
    assert.deepEqual(await users('owner'), new Set(['owner']));
    assert.deepEqual(await users('owner', '/api/tokens?username=owner'), new Set(['owner']));
    assert.deepEqual(await users('member'), new Set(['member']));
    assert.deepEqual(await users('admin', '/api/tokens?username=owner'), new Set(['owner']));
    const everyone = await users('admin');
    for (const name of ['admin', 'owner', 'member', 'stranger']) assert.ok(everyone.has(name), name);
  });

  test("developers may not list someone else's; unknown users are 404 to admins; 401 anonymous", async () => {
    const other = await server.request('member', { method: 'GET', url: '/api/tokens?username=owner' });
    assert.equal(other.statusCode, 403);
    const unknown = await server.request('admin', { method: 'GET', url: '/api/tokens?username=nobody' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'GBCMS_ERR_USER_NOT_FOUND');
    const anonymous = await server.request('anonymous', { method: 'GET', url: '/api/tokens' });
    assert.equal(anonymous.statusCode, 401);
  });
});

describe('DELETE /api/tokens/:prefix', () => {
  async function newToken(username: string): Promise<{ token: string; prefix: string }> {
    const response = await server.request('admin', {
      method: 'POST',
      url: '/api/tokens',
      payload: { username },
    });
    assert.equal(response.statusCode, 201);
    return response.json();
  }

  test('a developer revokes their own token: 204, then it gets 401', async () => {
    const { token, prefix } = await newToken('owner');
    assert.equal((await withToken(token, { method: 'GET', url: '/api/me' })).statusCode, 200);
    const response = await server.request('owner', { method: 'DELETE', url: `/api/tokens/${prefix}` });
    assert.equal(response.statusCode, 204);
    assert.equal(response.body, '');
    const after = await withToken(token, { method: 'GET', url: '/api/me' });
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().error, 'GBCMS_ERR_UNAUTHORIZED');
    const listed = (await server.request('owner', { method: 'GET', url: '/api/tokens' }))
      .json()
      .items.find((item: { prefix: string }) => item.prefix === prefix);
    assert.ok(!Number.isNaN(Date.parse(listed.revoked_at)));
    // Again: it is revoked, as asked.
    const again = await server.request('owner', { method: 'DELETE', url: `/api/tokens/${prefix}` });
    assert.equal(again.statusCode, 204);
  });

  test('a token can revoke itself, by prefix without gbcms_', async () => {
    const { token, prefix } = await newToken('member');
    const response = await withToken(token, { method: 'DELETE', url: `/api/tokens/${prefix.slice(6)}` });
    assert.equal(response.statusCode, 204);
    assert.equal((await withToken(token, { method: 'GET', url: '/api/me' })).statusCode, 401);
  });

  test("someone else's token is 404 to a developer and stays valid; admins revoke any", async () => {
    const { token, prefix } = await newToken('owner');
    for (const who of ['member', 'stranger'] as const) {
      const response = await server.request(who, { method: 'DELETE', url: `/api/tokens/${prefix}` });
      assert.equal(response.statusCode, 404, who);
      assert.equal(response.json().error, 'GBCMS_ERR_TOKEN_NOT_FOUND');
    }
    assert.equal((await withToken(token, { method: 'GET', url: '/api/me' })).statusCode, 200);
    const anonymous = await server.request('anonymous', { method: 'DELETE', url: `/api/tokens/${prefix}` });
    assert.equal(anonymous.statusCode, 401);
    const admin = await server.request('admin', { method: 'DELETE', url: `/api/tokens/${prefix}` });
    assert.equal(admin.statusCode, 204);
    assert.equal((await withToken(token, { method: 'GET', url: '/api/me' })).statusCode, 401);
  });

  test('unknown prefixes are 404, malformed ones 400', async () => {
    const unknown = await server.request('admin', { method: 'DELETE', url: '/api/tokens/gbcms_zzzzzzzz' });
    assert.equal(unknown.statusCode, 404);
    for (const prefix of ['abc', 'gbcms_abc', 'abcdefghi', 'abc%20defg']) {
      const response = await server.request('admin', { method: 'DELETE', url: `/api/tokens/${prefix}` });
      assert.equal(response.statusCode, 400, prefix);
    }
  });
});

describe('project members', () => {
  test('readers see the owner and members, without emails; others get 404', async () => {
    await server.store.users.create({ username: 'erin', email: 'erin@example.com', role: 'developer' });
    const erin = await server.store.users.byUsername('erin');
    assert.ok(erin);
    await server.store.projects.addMember(server.publicProject.id, erin.id);
    const response = await server.request('anonymous', {
      method: 'GET',
      url: `/api/projects/${server.publicProject.id}/members`,
    });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.deepEqual(body.owner, { id: server.users.owner.id, username: 'owner', role: 'developer' });
    assert.deepEqual(
      body.items.map((member: { username: string }) => member.username),
      ['erin', 'member'],
    );
    assert.ok(!response.body.includes('erin@example.com'));

    const url = `/api/projects/${server.privateProject.id}/members`;
    await expectStatuses(
      [
        ['admin', 200],
        ['owner', 200],
        ['member', 200],
        ['stranger', 404],
        ['anonymous', 404],
      ],
      { method: 'GET', url },
    );
    const missing = await server.request('admin', { method: 'GET', url: '/api/projects/nope/members' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'GBCMS_ERR_PROJECT_NOT_FOUND');
  });

  test('the owner and admins grant and withdraw; members 403; strangers 404 on a private project', async () => {
    const project = await freshProject();
    const url = `/api/projects/${project.id}/members/stranger`;
    const denied = [
      ['anonymous', 401],
      ['stranger', 404],
      ['member', 403],
    ] as const;
    await expectStatuses(denied, { method: 'PUT', url });
    assert.equal(await server.store.projects.isMember(project.id, server.users.stranger.id), false);

    await expectStatuses([['owner', 204]], { method: 'PUT', url });
    assert.equal(await server.store.projects.isMember(project.id, server.users.stranger.id), true);
    await expectStatuses([['admin', 204]], { method: 'PUT', url });

    // Now a member, the stranger sees the project but may not manage it.
    await expectStatuses(
      [
        ['anonymous', 401],
        ['stranger', 403],
        ['member', 403],
      ],
      { method: 'DELETE', url },
    );
    await expectStatuses([['owner', 204]], { method: 'DELETE', url });
    assert.equal(await server.store.projects.isMember(project.id, server.users.stranger.id), false);
    const gone = await server.request('admin', { method: 'DELETE', url });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error, 'GBCMS_ERR_MEMBER_NOT_FOUND');
    await expectStatuses([['admin', 204]], {
      method: 'DELETE',
      url: `/api/projects/${project.id}/members/member`,
    });
  });

  test('strangers get 403 on a public project they can see; unknown users 404', async () => {
    const url = `/api/projects/${server.publicProject.id}/members/stranger`;
    await expectStatuses([['stranger', 403]], { method: 'PUT', url });
    await expectStatuses([['stranger', 403]], {
      method: 'DELETE',
      url: `/api/projects/${server.publicProject.id}/members/member`,
    });
    const unknown = await server.request('owner', {
      method: 'PUT',
      url: `/api/projects/${server.publicProject.id}/members/nobody`,
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'GBCMS_ERR_USER_NOT_FOUND');
  });

  test('a developer made over the API starts executions once granted, and not after', async () => {
    const project = await freshProject();
    const user = await server.request('admin', {
      method: 'POST',
      url: '/api/users',
      payload: { username: 'frank', role: 'developer' },
    });
    assert.equal(user.statusCode, 201);
    const made = await server.request('admin', {
      method: 'POST',
      url: '/api/tokens',
      payload: { username: 'frank', name: 'frank laptop' },
    });
    const { token } = made.json();
    const start = () =>
      withToken(token, { method: 'POST', url: '/api/executions', payload: { project_id: project.id } });

    const before = await start();
    assert.equal(before.statusCode, 404);
    assert.equal(before.json().error, 'GBCMS_ERR_PROJECT_NOT_FOUND');
    const stranger = await server.request('stranger', {
      method: 'POST',
      url: '/api/executions',
      payload: { project_id: project.id },
    });
    assert.equal(stranger.statusCode, 404);

    const grant = await server.request('owner', {
      method: 'PUT',
      url: `/api/projects/${project.id}/members/frank`,
    });
    assert.equal(grant.statusCode, 204);
    const started = await start();
    assert.equal(started.statusCode, 201, started.body);
    assert.equal(started.json().project_id, project.id);
    const request = server.executions.started.at(-1);
    assert.equal(request?.project.id, project.id);
    assert.equal(request?.requestedBy, user.json().id);

    const withdraw = await server.request('owner', {
      method: 'DELETE',
      url: `/api/projects/${project.id}/members/frank`,
    });
    assert.equal(withdraw.statusCode, 204);
    assert.equal((await start()).statusCode, 404);
  });
});

describe('PATCH /api/projects/:id', () => {
  test('the owner changes settings; the answer is the project', async () => {
    const project = await freshProject();
    const response = await server.request('owner', {
      method: 'PATCH',
      url: `/api/projects/${project.id}`,
      payload: { description: 'the app', default_branch: 'trunk', visibility: 'public', max_concurrent: 3 },
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.description, 'the app');
    assert.equal(body.default_branch, 'trunk');
    assert.equal(body.visibility, 'public');
    assert.equal(body.max_concurrent, 3);
    assert.equal('webhook_secret' in body, false);
    const stored = await server.store.projects.get(project.id);
    assert.equal(stored?.default_branch, 'trunk');
    assert.equal(stored?.max_concurrent, 3);

    const cleared = await server.request('admin', {
      method: 'PATCH',
      url: `/api/projects/${project.id}`,
      payload: { description: null },
    });
    assert.equal(cleared.statusCode, 200);
    assert.equal(cleared.json().description, null);
    assert.match(cleared.json().webhook_secret, /^[0-9a-f]{64}$/);
  });

  test('401 anonymous, 404 strangers on a private project, 403 members and strangers who can see it', async () => {
    const project = await freshProject();
    const options = {
      method: 'PATCH',
      url: `/api/projects/${project.id}`,
      payload: { description: 'x' },
    } as const;
    await expectStatuses(
      [
        ['anonymous', 401],
        ['stranger', 404],
        ['member', 403],
      ],
      options,
    );
    await expectStatuses([['stranger', 403]], {
      method: 'PATCH',
      url: `/api/projects/${server.publicProject.id}`,
      payload: { description: 'x' },
    });
    assert.equal((await server.store.projects.get(project.id))?.description, null);
    const missing = await server.request('admin', {
      method: 'PATCH',
      url: '/api/projects/nope',
      payload: { description: 'x' },
    });
    assert.equal(missing.statusCode, 404);
  });

  test('refuses empty, unknown or invalid changes', async () => {
    const project = await freshProject();
    for (const [payload, code] of [
      [{}, 'GBCMS_ERR_VALIDATION'],
      [{ name: 'renamed' }, 'GBCMS_ERR_VALIDATION'],
      [{ max_concurrent: 0 }, 'GBCMS_ERR_VALIDATION'],
      [{ visibility: 'internal' }, 'GBCMS_ERR_VALIDATION'],
      [{ default_branch: 'a..b' }, 'GBCMS_ERR_INVALID_REF'],
    ] as const) {
      const response = await server.request('owner', {
        method: 'PATCH',
        url: `/api/projects/${project.id}`,
        payload,
      });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error, code);
    }
  });

  test('only admins hand a project to another owner, who then manages it', async () => {
    const project = await freshProject();
    const url = `/api/projects/${project.id}`;
    const byOwner = await server.request('owner', { method: 'PATCH', url, payload: { owner: 'stranger' } });
    assert.equal(byOwner.statusCode, 403);
    assert.equal((await server.store.projects.get(project.id))?.owner_id, server.users.owner.id);

    const unknown = await server.request('admin', { method: 'PATCH', url, payload: { owner: 'nobody' } });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error, 'GBCMS_ERR_USER_NOT_FOUND');

    const moved = await server.request('admin', { method: 'PATCH', url, payload: { owner: 'stranger' } });
    assert.equal(moved.statusCode, 200);
    assert.equal(moved.json().owner_id, server.users.stranger.id);

    // The new owner manages it; the old one, not a member, no longer sees the private project.
    await expectStatuses([['stranger', 204]], { method: 'PUT', url: `${url}/members/admin` });
    await expectStatuses([['stranger', 200]], { method: 'PATCH', url, payload: { description: 'mine' } });
    await expectStatuses([['owner', 404]], { method: 'GET', url });
    const members = await server.request('stranger', { method: 'GET', url: `${url}/members` });
    assert.equal(members.json().owner.username, 'stranger');
  });
});

describe('OpenAPI', () => {
  test('lists the new routes and their shared schemas', async () => {
    const response = await server.request('anonymous', { method: 'GET', url: '/api/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    const paths = document.paths as Record<string, Record<string, unknown>>;
    const expected: [string, string][] = [
      ['/api/me', 'get'],
      ['/api/users', 'get'],
      ['/api/users', 'post'],
      ['/api/tokens', 'get'],
      ['/api/tokens', 'post'],
      ['/api/tokens/{prefix}', 'delete'],
      ['/api/projects/{id}', 'patch'],
      ['/api/projects/{id}/members', 'get'],
      ['/api/projects/{id}/members/{username}', 'put'],
      ['/api/projects/{id}/members/{username}', 'delete'],
    ];
    for (const [path, method] of expected) {
      assert.ok(paths[path]?.[method], `${method.toUpperCase()} ${path}`);
    }
    assert.ok(document.components.schemas.User);
    assert.ok(document.components.schemas.ApiToken);
  });
});
