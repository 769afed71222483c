import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ShuttingDownError } from '../../server/executions/index.ts';
import { parseTrustedProxies } from '../../server/trust-proxy.ts';
import { signBody } from '../../server/webhooks/signature.ts';
import { logCapture } from './helpers/log-capture.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('errors', () => {
  test('every error is JSON {error, message} with a GBCMS_ERR_ code', async () => {
    const server = await startTestServer();
    try {
      const cases = [
        {
          options: { method: 'GET' as const, url: '/no/such/route' },
          status: 404,
          code: 'GBCMS_ERR_NOT_FOUND',
        },
        {
          options: {
            method: 'POST' as const,
            url: '/api/executions',
            payload: '{"project_id":',
            headers: { 'content-type': 'application/json' },
          },
          status: 400,
          code: 'GBCMS_ERR_INVALID_JSON',
        },
        {
          options: {
            method: 'POST' as const,
            url: '/api/executions',
            payload: '<x/>',
            headers: { 'content-type': 'application/xml' },
          },
          status: 415,
          code: 'GBCMS_ERR_UNSUPPORTED_MEDIA_TYPE',
        },
        {
          options: { method: 'POST' as const, url: '/api/executions', payload: { project_id: { id: 5 } } },
          status: 400,
          code: 'GBCMS_ERR_VALIDATION',
        },
        {
          options: { method: 'GET' as const, url: '/api/projects/x/executions?limit=0' },
          status: 400,
          code: 'GBCMS_ERR_VALIDATION',
        },
      ];
      for (const { options, status, code } of cases) {
        const response = await server.request('admin', options);
        assert.equal(response.statusCode, status, options.url);
        assert.match(String(response.headers['content-type']), /^application\/json/);
        const body = response.json();
        assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
        assert.equal(body.error, code, options.url);
        assert.equal(typeof body.message, 'string');
      }
    } finally {
      await server.close();
    }
  });

  test('a body over the limit is 413', async () => {
    const server = await startTestServer({ bodyLimit: 1024 });
    try {
      const response = await server.request('admin', {
        method: 'POST',
        url: '/api/projects',
        payload: { name: 'big', repo: 'https://e.com/a.git', description: 'x'.repeat(2000) },
      });
      assert.equal(response.statusCode, 413);
      assert.equal(response.json().error, 'GBCMS_ERR_BODY_TOO_LARGE');
    } finally {
      await server.close();
    }
  });

  test('server errors answer generically; the details go to the log only', async () => {
    const { logger, lines } = logCapture();
    const server = await startTestServer({ logger });
    server.executions.start = async () => {
      throw new Error('database exploded at /var/secret/path');
    };
    try {
      const response = await server.request('owner', {
        method: 'POST',
        url: '/api/executions',
        payload: { project_id: server.publicProject.id },
      });
      assert.equal(response.statusCode, 500);
      assert.deepEqual(response.json(), { error: 'GBCMS_ERR_INTERNAL', message: 'internal server error' });
      assert.doesNotMatch(response.body, /exploded|secret/);
      assert.ok(lines.some((line) => line.includes('database exploded') && JSON.parse(line).level === 50));

      server.executions.start = async () => {
        throw new ShuttingDownError();
      };
      const draining = await server.request('owner', {
        method: 'POST',
        url: '/api/executions',
        payload: { project_id: server.publicProject.id },
      });
      assert.equal(draining.statusCode, 503);
      assert.equal(draining.json().error, 'GBCMS_ERR_UNAVAILABLE');
    } finally {
      await server.close();
    }
  });
});

describe('logging', () => {
  test('one access line per request with its id; tokens, cookies and signatures never logged', async () => {
    const { logger, lines } = logCapture();
    const server = await startTestServer({ logger });
    try {
      await server.request('owner', {
        method: 'GET',
        url: '/api/projects',
        headers: { cookie: `gbcms_token=${server.tokens.admin}` },
      });
      const body = JSON.stringify({ zen: 'hi', hook_id: 1 });
      await server.app.inject({
        method: 'POST',
        url: `/hooks/github/${server.publicProject.id}`,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': 'd-1',
          'x-hub-signature-256': signBody(server.publicProject.webhook_secret, body),
        },
        payload: body,
      });
      const access = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');
      assert.equal(access.length, 2);
      assert.deepEqual(
        access.map((line) => [line.method, line.url, line.statusCode]),
        [
          ['GET', '/api/projects', 200],
          ['POST', `/hooks/github/${server.publicProject.id}`, 200],
        ],
      );
      for (const line of access) {
        assert.equal(typeof line.reqId, 'string');
        assert.equal(typeof line.responseTime, 'number');
      }
      const all = lines.join('\n');
      for (const secret of [server.tokens.owner, server.tokens.admin, server.publicProject.webhook_secret]) {
        assert.ok(!all.includes(secret), 'secret in the log');
      }
    } finally {
      await server.close();
    }
  });

  test('the logger redacts credentials wherever they appear', () => {
    const { logger, lines } = logCapture();
    logger.info(
      {
        req: {
          headers: {
            authorization: 'Bearer gbcms_abc',
            cookie: 'gbcms_token=abc',
            'x-hub-signature-256': 'sha256=1',
          },
        },
        project: { webhook_secret: 'whsec' },
        token: 'gbcms_def',
      },
      'hello',
    );
    const line = lines.join('');
    for (const secret of ['gbcms_abc', 'gbcms_token=abc', 'sha256=1', 'whsec', 'gbcms_def']) {
      assert.ok(!line.includes(secret), secret);
    }
    assert.match(line, /\[redacted\]/);
  });
});

describe('rate limit', () => {
  test('per client address: 429 past the limit on every kind of route, others unaffected', async () => {
    const server = await startTestServer({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    try {
      const from = (remoteAddress: string, url: string) =>
        server.app.inject({ method: 'GET', url, remoteAddress });
      for (let i = 0; i < 3; i++) assert.equal((await from('10.0.0.1', '/healthz')).statusCode, 200);
      for (const url of [
        '/healthz',
        '/api/projects',
        '/',
        `/badges/${server.publicProject.id}.svg`,
        '/metrics',
      ]) {
        const limited = await from('10.0.0.1', url);
        assert.equal(limited.statusCode, 429, url);
        // Pages answer with an HTML page, everything else with JSON.
        if (url === '/') assert.match(limited.body, /Too many requests/);
        else assert.equal(limited.json().error, 'GBCMS_ERR_RATE_LIMITED');
        assert.ok(Number(limited.headers['retry-after']) > 0);
      }
      assert.equal((await from('10.0.0.2', '/healthz')).statusCode, 200);
    } finally {
      await server.close();
    }
  });

  test('an address far past the limit is banned beyond the window, until the ban ends', async (t) => {
    const server = await startTestServer({
      rateLimit: { max: 2, timeWindowMs: 300, banAfter: 3, banMs: 1200 },
    });
    // Windows and bans are reckoned with Date.now(): the test moves it, so slow requests on a
    // loaded machine neither straddle a window nor outlast the ban.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const get = () => server.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.0.0.9' });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get()).statusCode);
      assert.deepEqual(statuses, [200, 200, 429, 429, 429, 403]);
      t.mock.timers.tick(400);
      const banned = await get();
      assert.equal(banned.statusCode, 403, 'still banned after the window');
      assert.equal(banned.json().error, 'GBCMS_ERR_BANNED');
      assert.ok(Number(banned.headers['retry-after']) > 0);
      assert.equal(
        (await server.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.0.0.10' })).statusCode,
        200,
      );
      t.mock.timers.tick(799);
      assert.equal((await get()).statusCode, 403, 'banned up to its last millisecond');
      t.mock.timers.tick(1);
      assert.equal((await get()).statusCode, 200, 'the ban ended');
    } finally {
      await server.close();
    }
  });
});

describe('OpenAPI and health', () => {
  test('/api/openapi.json describes the API from the route schemas', async () => {
    const server = await startTestServer();
    try {
      const response = await server.request('anonymous', { method: 'GET', url: '/api/openapi.json' });
      assert.equal(response.statusCode, 200);
      const doc = response.json();
      assert.equal(doc.openapi, '3.1.0');
      for (const path of [
        '/api/executions',
        '/api/executions/{id}',
        '/api/executions/{id}/terminate',
        '/api/executions/{id}/rerun',
        '/api/executions/{id}/logs',
        '/api/executions/{id}/events',
        '/api/executions/{id}/artifacts',
        '/api/projects',
        '/api/projects/{id}',
        '/api/projects/{id}/executions',
        '/hooks/github/{project_id}',
        '/hooks/git/{project_id}',
        '/healthz',
        '/metrics',
      ]) {
        assert.ok(doc.paths[path], path);
      }
      assert.equal(doc.paths['/'], undefined, 'pages are not API');
      const execution = doc.components.schemas.Execution;
      for (const field of ['id', 'project_id', 'status', 'started_at', 'ended_at', 'logs']) {
        assert.ok(execution.properties[field], field);
      }
      const terminate =
        doc.paths['/api/executions/{id}/terminate'].post.responses['200'].content['application/json'].schema;
      assert.deepEqual(Object.keys(terminate.properties).sort(), [
        'execution_id',
        'message',
        'status',
        'terminated_at',
      ]);
      assert.ok(
        doc.paths['/api/executions'].post.requestBody.content['application/json'].schema.properties
          .project_id,
      );
    } finally {
      await server.close();
    }
  });

  test('/healthz answers with the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const server = await startTestServer();
    try {
      const response = await server.request('anonymous', { method: 'GET', url: '/healthz' });
      assert.deepEqual(response.json(), { status: 'ok', version });
    } finally {
      await server.close();
    }
  });
});

describe('behind a reverse proxy', () => {
  // The proxy at 127.0.0.1 appends the address it saw to whatever X-Forwarded-For the client sent.
  const PROXY = '127.0.0.1';
  const viaProxy = (server: TestServer, clientSent: string | undefined, client: string) =>
    server.app.inject({
      method: 'GET',
      url: '/healthz',
      remoteAddress: PROXY,
      headers: { 'x-forwarded-for': clientSent === undefined ? client : `${clientSent}, ${client}` },
    });

  for (const [what, trustProxy] of [
    ['a hop count', 1],
    ['the proxy address', ['127.0.0.1']],
    ['a CIDR range', ['127.0.0.0/8', '::1']],
  ] as const) {
    test(`trusting ${what}: a client rotating its X-Forwarded-For stays limited`, async () => {
      const server = await startTestServer({
        rateLimit: { max: 3, timeWindowMs: 60_000 },
        trustProxy: typeof trustProxy === 'number' ? trustProxy : [...trustProxy],
      });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++)
          statuses.push((await viaProxy(server, `198.51.100.${i}`, '203.0.113.7')).statusCode);
        assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
      } finally {
        await server.close();
      }
    });

    test(`trusting ${what}: forging a neighbour's address bans the forger, not the neighbour`, async () => {
      const server = await startTestServer({
        rateLimit: { max: 2, timeWindowMs: 60_000, banAfter: 2 },
        trustProxy: typeof trustProxy === 'number' ? trustProxy : [...trustProxy],
      });
      const neighbour = '192.0.2.10';
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++)
          statuses.push((await viaProxy(server, neighbour, '203.0.113.66')).statusCode);
        assert.equal(statuses.at(-1), 403, `the forger is banned: ${statuses.join(',')}`);
        assert.equal((await viaProxy(server, undefined, neighbour)).statusCode, 200, 'the neighbour is not');
      } finally {
        await server.close();
      }
    });
  }

  test('without --trust-proxy, X-Forwarded-For is ignored: the socket address is the client', async () => {
    const server = await startTestServer({ rateLimit: { max: 2, timeWindowMs: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await viaProxy(server, undefined, `198.51.100.${i}`)).statusCode);
      assert.deepEqual(statuses, [200, 200, 429]);
    } finally {
      await server.close();
    }
  });

  test('--trust-proxy takes a hop count or addresses, and names what it refuses', () => {
    assert.equal(parseTrustedProxies('2'), 2);
    assert.deepEqual(parseTrustedProxies('127.0.0.1, 10.0.0.0/8,::1'), ['127.0.0.1', '10.0.0.0/8', '::1']);
    assert.throws(() => parseTrustedProxies('0'), /hop count must be from 1 to 10, not 0/);
    assert.throws(() => parseTrustedProxies('true'), /'true' is not an IP address or CIDR range/);
    assert.throws(
      () => parseTrustedProxies('10.0.0.0/33'),
      /'10.0.0.0\/33' has a prefix length that is not 0 to 32/,
    );
    assert.throws(() => parseTrustedProxies('127.0.0.1,'), /'' is empty/);
  });
});
