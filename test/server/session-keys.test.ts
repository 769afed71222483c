// Session keys over real HTTP: a key creates executions in its session and reports to them,
// gets 401 or 404 for everything else, and stops working when revoked or expired (the store's
// clock is the test's).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, test } from 'node:test';
import { createHttpReporter } from '../../engine/report/client.ts';
import { SESSION_KEY_LIFETIME_MS } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { type ExternalServer, startExternalServer, waitFor } from './helpers/external-server.ts';

forEachDatabase((databases) => {
  const servers: ExternalServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  type Json = Record<string, unknown>;

  // `ws` (the library behind @fastify/websocket) ships no types: this much of it is used.
  interface WsClient {
    send(data: string): void;
    close(): void;
    on(event: 'open' | 'close', listener: () => void): void;
    on(event: 'error', listener: (error: Error) => void): void;
    on(
      event: 'unexpected-response',
      listener: (request: unknown, response: { statusCode?: number }) => void,
    ): void;
  }
  const { WebSocket } = createRequire(import.meta.url)('ws') as {
    WebSocket: new (url: string, options?: { headers?: Record<string, string> }) => WsClient;
  };

  /** Opens a report socket; resolves with it, or with the HTTP status that refused the upgrade. */
  function openSocket(url: string, headers: Record<string, string> = {}): Promise<WsClient | number> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('error', reject);
      socket.on('open', () => resolve(socket));
    });
  }

  const DAY_MS = 24 * 3600 * 1000;

  async function server(
    clock?: () => Date,
    appOptions: Parameters<typeof startExternalServer>[1] = {},
  ): Promise<ExternalServer> {
    const started = await startExternalServer({ reportFlushMs: 20 }, appOptions, {
      database: await databases.fresh(),
      ...(clock ? { now: clock } : {}),
    });
    servers.push(started);
    return started;
  }

  /** A request with `credential` as the bearer. */
  async function call(
    s: ExternalServer,
    credential: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { authorization: `Bearer ${credential}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${s.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    // Pages answer their errors in HTML.
    const json = response.headers.get('content-type')?.startsWith('application/json') ?? false;
    return { status: response.status, body: json ? (JSON.parse(text) as Json) : { text } };
  }

  async function sessionWithKey(s: ExternalServer, projectId: string, name: string) {
    const made = await s.api<Json & { key: Json }>('owner', 'POST', `/api/projects/${projectId}/sessions`, {
      name,
      key: true,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return {
      sessionId: String(made.body.id),
      key: String(made.body.key.key),
      keyId: String(made.body.key.id),
    };
  }

  describe('session keys', () => {
    test('a key creates executions in its session and reports to them, over its whole life', async () => {
      const s = await server();
      const { sessionId, key } = await sessionWithKey(s, s.privateProject.id, 'notebook');
      assert.match(key, /^gbcmsk_[A-Za-z0-9_-]{43}$/);

      const created = await call(s, key, 'POST', '/api/executions', { external: true, name: 'alpha 0.1' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.session_id, sessionId);
      assert.equal(created.body.project_id, s.privateProject.id);
      const id = String(created.body.id);
      // Naming its own project and session is allowed too.
      const named = await call(s, key, 'POST', '/api/executions', {
        external: true,
        project_id: s.privateProject.id,
        session: 'notebook',
      });
      assert.equal(named.status, 201, JSON.stringify(named.body));

      const reports = await call(s, key, 'POST', `/api/executions/${id}/reports`, [
        { type: 'metric', name: 'loss', value: 0.5, step: 1 },
        { type: 'progress', done: 1, total: 2 },
      ]);
      assert.equal(reports.status, 202, JSON.stringify(reports.body));
      assert.equal(reports.body.accepted, 2);
      assert.equal((await call(s, key, 'POST', `/api/executions/${id}/heartbeat`, {})).status, 200);
      assert.equal((await call(s, key, 'GET', `/api/executions/${id}`)).status, 200);
      const finished = await call(s, key, 'POST', `/api/executions/${id}/finish`, {
        status: 'failure',
        message: 'diverged',
      });
      assert.equal(finished.status, 200, JSON.stringify(finished.body));
      assert.equal(finished.body.status, 'failure');
      assert.equal(finished.body.reason, 'diverged');

      const points = await s.api<{ items: Json[] }>(
        'owner',
        'GET',
        `/api/executions/${id}/reports?type=metric`,
      );
      assert.equal(points.status, 200);
      assert.deepEqual(
        points.body.items.map((item) => (item.report as Json).value),
        [0.5],
      );
      // Only the hash is kept: the listing never shows the key.
      const listed = await s.api<{ items: Json[] }>('owner', 'GET', `/api/sessions/${sessionId}/keys`);
      assert.equal(listed.status, 200);
      assert.equal(listed.body.items.length, 1);
      assert.ok(!JSON.stringify(listed.body).includes(key.slice('gbcmsk_'.length)));
    });

    test('createHttpReporter takes a session key in place of a token and a project', async () => {
      const s = await server();
      const { sessionId, key } = await sessionWithKey(s, s.privateProject.id, 'reporter');
      const reporter = createHttpReporter({ url: s.url, token: key, flushMs: 10 });
      const started = await reporter.start({ name: 'from a key' });
      assert.equal(started?.session_id, sessionId);
      reporter.metric('loss', 0.25, 3);
      const ended = await reporter.finish('success');
      assert.equal(ended.status, 'success');
      assert.equal(reporter.lost, 0);
    });

    test('a key streams reports over the WebSocket, in the header or as ?token=', async () => {
      const s = await server();
      const { key } = await sessionWithKey(s, s.privateProject.id, 'socket');
      const other = await sessionWithKey(s, s.privateProject.id, 'elsewhere');
      const created = await call(s, key, 'POST', '/api/executions', { external: true });
      const id = String(created.body.id);
      const ws = `${s.url.replace('http', 'ws')}/api/executions/${id}/reports/ws`;
      for (const [n, socket] of [
        [1, await openSocket(ws, { authorization: `Bearer ${key}` })],
        [2, await openSocket(`${ws}?token=${key}`)],
      ] as const) {
        assert.notEqual(typeof socket, 'number', `socket ${n} opened`);
        const open = socket as WsClient;
        open.send(JSON.stringify({ type: 'metric', name: 'loss', value: n }));
        await new Promise<void>((done) => {
          open.on('close', done);
          open.close();
        });
      }
      assert.equal(await openSocket(`${ws}?token=${other.key}`), 404);
      assert.equal(await openSocket(`${ws}?token=gbcmsk_${'A'.repeat(43)}`), 401);
      const values = async () => {
        const points = await s.api<{ items: { report: Json }[] }>(
          'owner',
          'GET',
          `/api/executions/${id}/reports`,
        );
        return points.body.items.map((item) => item.report.value).sort();
      };
      // Reports from a socket are stored in the background: wait for both, then compare.
      await waitFor(async () => (await values()).length >= 2);
      assert.deepEqual(await values(), [1, 2]);
    });

    test('everything else is 401 or 404 to a key', async () => {
      const s = await server();
      const { sessionId, key } = await sessionWithKey(s, s.privateProject.id, 'mine');
      const other = await s.api('owner', 'POST', '/api/executions', {
        project_id: s.privateProject.id,
        external: true,
        session: 'theirs',
      });
      const otherId = String(other.body.id);
      const publicOne = await s.api('owner', 'POST', '/api/executions', {
        project_id: s.publicProject.id,
        external: true,
      });

      const unauthorized: [string, string, unknown?][] = [
        ['GET', '/api/projects'],
        ['GET', `/api/projects/${s.publicProject.id}`],
        ['GET', `/api/sessions/${sessionId}`],
        ['GET', `/api/sessions/${sessionId}/keys`],
        ['POST', `/api/sessions/${sessionId}/keys`],
        ['GET', `/api/executions/${otherId}/reports`],
        ['POST', `/api/executions/${otherId}/terminate`],
        ['POST', '/api/executions', { project_id: s.privateProject.id }],
        ['GET', `/sessions/${sessionId}`],
      ];
      for (const [method, path, body] of unauthorized) {
        const answer = await call(s, key, method, path, body);
        assert.equal(answer.status, 401, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      }
      const notFound: [string, string, unknown?][] = [
        ['GET', `/api/executions/${otherId}`],
        ['GET', `/api/executions/${String(publicOne.body.id)}`],
        ['POST', `/api/executions/${otherId}/reports`, [{ type: 'metric', name: 'x', value: 1 }]],
        ['POST', `/api/executions/${otherId}/heartbeat`, {}],
        ['POST', `/api/executions/${otherId}/finish`, { status: 'success' }],
        ['POST', '/api/executions', { external: true, project_id: s.publicProject.id }],
        ['POST', '/api/executions', { external: true, session: 'theirs' }],
      ];
      for (const [method, path, body] of notFound) {
        const answer = await call(s, key, method, path, body);
        assert.equal(answer.status, 404, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      }
      // A key-shaped string that is no key, and a key on a route that takes none.
      const forged = await call(s, `gbcmsk_${'A'.repeat(43)}`, 'POST', '/api/executions', { external: true });
      assert.equal(forged.status, 401);
      assert.match(String(forged.body.message), /session key is invalid, revoked or expired/);
      // The other session's execution is untouched.
      const untouched = await s.api('owner', 'GET', `/api/executions/${otherId}`);
      assert.equal(untouched.body.status, 'running');
    });

    test('who may make and revoke keys', async () => {
      const s = await server();
      const made = await s.api('owner', 'POST', `/api/projects/${s.privateProject.id}/sessions`, {
        name: 'runs',
      });
      assert.equal(made.status, 201);
      assert.equal(made.body.key, undefined);
      const again = await s.api('owner', 'POST', `/api/projects/${s.privateProject.id}/sessions`, {
        name: 'runs',
      });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, made.body.id);
      const sessionId = String(made.body.id);

      assert.equal((await s.api('anonymous', 'POST', `/api/sessions/${sessionId}/keys`)).status, 401);
      assert.equal((await s.api('stranger', 'POST', `/api/sessions/${sessionId}/keys`)).status, 404);
      assert.equal(
        (await s.api('stranger', 'POST', `/api/projects/${s.privateProject.id}/sessions`, { name: 'x' }))
          .status,
        404,
      );
      const byMember = await s.api('member', 'POST', `/api/sessions/${sessionId}/keys`);
      assert.equal(byMember.status, 201, JSON.stringify(byMember.body));
      const key = String(byMember.body.key);
      const keyId = String(byMember.body.id);
      assert.equal((await call(s, key, 'POST', '/api/executions', { external: true })).status, 201);

      const revokePath = `/api/sessions/${sessionId}/keys/${keyId}/revoke`;
      assert.equal((await s.api('member', 'POST', revokePath)).status, 403);
      const revoked = await s.api('owner', 'POST', revokePath);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(typeof revoked.body.revoked_at, 'string');
      assert.equal((await s.api('owner', 'POST', revokePath)).status, 404);
      const refused = await call(s, key, 'POST', '/api/executions', { external: true });
      assert.equal(refused.status, 401);
      const bad = await s.api('owner', 'POST', `/api/projects/${s.privateProject.id}/sessions`, {
        name: ' x',
      });
      assert.equal(bad.status, 400);
    });

    test('a key lapses 14 days after the newest execution of its session started', async () => {
      let now = Date.parse('2026-01-01T00:00:00.000Z');
      const s = await server(() => new Date(now));
      const { sessionId, key } = await sessionWithKey(s, s.publicProject.id, 'sweep');
      const start = () => call(s, key, 'POST', '/api/executions', { external: true });

      now += 13 * DAY_MS;
      const created = await start();
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const listed = await s.api<{ items: Json[] }>('owner', 'GET', `/api/sessions/${sessionId}/keys`);
      assert.equal(listed.body.items[0]?.expires_at, new Date(now + SESSION_KEY_LIFETIME_MS).toISOString());

      now += SESSION_KEY_LIFETIME_MS - 1000;
      assert.equal(
        (await call(s, key, 'POST', `/api/executions/${String(created.body.id)}/heartbeat`, {})).status,
        200,
      );
      now += 1000;
      const lapsed = await start();
      assert.equal(lapsed.status, 401);
      assert.match(String(lapsed.body.message), /expired/);

      // A key whose session never had an execution lapses 14 days after it was made.
      const fresh = await sessionWithKey(s, s.publicProject.id, 'idle');
      now += SESSION_KEY_LIFETIME_MS - 1;
      assert.equal(
        (await call(s, fresh.key, 'POST', '/api/executions', { external: true, name: 'x' })).status,
        201,
      );
      const later = await sessionWithKey(s, s.publicProject.id, 'unused');
      now += SESSION_KEY_LIFETIME_MS;
      assert.equal((await call(s, later.key, 'POST', '/api/executions', { external: true })).status, 401);
    });

    test('requests with a key are rate-limited per address like any other', async () => {
      const s = await server(undefined, { rateLimit: { max: 4, timeWindowMs: 3_600_000 } });
      const { key } = await sessionWithKey(s, s.publicProject.id, 'limited');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await call(s, key, 'POST', '/api/executions', { external: true })).status);
      // The key's session was made with one request of the window: three more fit, then 429.
      assert.deepEqual(statuses, [201, 201, 201, 429]);
    });

    test('the session page makes a key, shows it once and revokes it', async () => {
      const s = await server();
      const made = await s.api('owner', 'POST', `/api/projects/${s.publicProject.id}/sessions`, {
        name: 'page',
      });
      const sessionId = String(made.body.id);
      const cookie = (who: 'owner' | 'member') => ({ cookie: `gbcms_token=${s.tokens[who]}` });

      const anonymous = await fetch(`${s.url}/sessions/${sessionId}`);
      assert.equal(anonymous.status, 200);
      assert.ok(!(await anonymous.text()).includes('session-key-form'));

      const posted = await fetch(`${s.url}/sessions/${sessionId}/keys`, {
        method: 'POST',
        headers: cookie('owner'),
      });
      assert.equal(posted.status, 200);
      assert.equal(posted.headers.get('cache-control'), 'no-store');
      const page = await posted.text();
      const key = /gbcmsk_[A-Za-z0-9_-]{43}/.exec(page)?.[0];
      assert.ok(key, 'the page shows the new key');
      assert.equal((await call(s, key, 'POST', '/api/executions', { external: true })).status, 201);

      const shown = await (
        await fetch(`${s.url}/sessions/${sessionId}`, { headers: cookie('owner') })
      ).text();
      assert.ok(!shown.includes(key), 'the key is shown only once');
      const keyId = /data-key="([^"]+)"/.exec(shown)?.[1];
      assert.ok(keyId);
      assert.match(shown, /Revoke/);
      const revoked = await fetch(`${s.url}/sessions/${sessionId}/keys/${keyId}/revoke`, {
        method: 'POST',
        headers: cookie('owner'),
        redirect: 'manual',
      });
      assert.equal(revoked.status, 303);
      assert.equal((await call(s, key, 'POST', '/api/executions', { external: true })).status, 401);
      const after = await (
        await fetch(`${s.url}/sessions/${sessionId}`, { headers: cookie('owner') })
      ).text();
      assert.match(after, /revoked/);
    });
  });
});
