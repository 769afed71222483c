import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AccessLogMode, accessLogged } from '../../server/plugins/logger.ts';
import { logCapture } from './helpers/log-capture.ts';
import { startTestServer } from './helpers/server.ts';

/** The method and status of each access line the server logs for the same requests in `mode`. */
async function accessLines(mode: AccessLogMode): Promise<Array<[string, number]>> {
  const { logger, lines } = logCapture();
  const server = await startTestServer({ logger, accessLog: mode });
  try {
    const answers = [
      await server.request('anonymous', { method: 'GET', url: `/api/projects/${server.publicProject.id}` }),
      await server.request('anonymous', { method: 'HEAD', url: `/api/projects/${server.publicProject.id}` }),
      await server.request('anonymous', { method: 'GET', url: '/api/projects/no-such-project' }),
      await server.request('owner', {
        method: 'PATCH',
        url: `/api/projects/${server.publicProject.id}`,
        payload: { description: 'changed' },
      }),
      await server.request('anonymous', {
        method: 'POST',
        url: '/api/projects',
        payload: { name: 'x', repo: 'https://git.example.com/x.git' },
      }),
    ];
    assert.deepEqual(
      answers.map((answer) => answer.statusCode),
      [200, 200, 404, 200, 401],
    );
    return lines
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'request')
      .map((line) => [line.method, line.statusCode]);
  } finally {
    await server.close();
  }
}

describe('access log modes', () => {
  test('all logs every request; writes skips successful reads; errors keeps failures; off none', async () => {
    assert.deepEqual(await accessLines('all'), [
      ['GET', 200],
      ['HEAD', 200],
      ['GET', 404],
      ['PATCH', 200],
      ['POST', 401],
    ]);
    assert.deepEqual(await accessLines('writes'), [
      ['GET', 404],
      ['PATCH', 200],
      ['POST', 401],
    ]);
    assert.deepEqual(await accessLines('errors'), [
      ['GET', 404],
      ['POST', 401],
    ]);
    assert.deepEqual(await accessLines('off'), []);
  });

  test('a request that failed with an error is logged in every mode but off', () => {
    for (const mode of ['all', 'writes', 'errors'] as const) {
      assert.equal(accessLogged(mode, 'GET', 200, true), true, mode);
    }
    assert.equal(accessLogged('off', 'GET', 500, true), false);
    assert.equal(accessLogged('writes', 'OPTIONS', 204, false), false);
    assert.equal(accessLogged('writes', 'DELETE', 204, false), true);
  });
});
