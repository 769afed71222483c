import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { DATABASE_FILE } from '../../server/store/index.ts';
import { capture } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const VALUE = 'correct-horse-battery-staple-7f3a';

describe('secrets API', () => {
  let server: TestServer;
  const bodies: string[] = [];
  const key = randomBytes(32);
  const logs = capture();

  before(async () => {
    server = await startTestServer({ secretKey: key, logger: pino({ level: 'trace' }, logs) });
  });
  after(async () => {
    await server?.close();
  });

  const call = async (...args: Parameters<TestServer['request']>) => {
    const response = await server.request(...args);
    bodies.push(response.body);
    return response;
  };
  const projectUrl = (name = '') =>
    `/api/projects/${server.privateProject.id}/secrets${name === '' ? '' : `/${name}`}`;

  test('the owner sets a project secret; answers show its name and limits, never its value', async () => {
    const created = await call('owner', {
      method: 'PUT',
      url: projectUrl('DEPLOY_KEY'),
      payload: { value: VALUE, events: ['push'], branches: ['main', 'release/*'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    const secret = created.json();
    assert.equal(secret.name, 'DEPLOY_KEY');
    assert.equal(secret.scope, 'project');
    assert.deepEqual(secret.events, ['push']);
    assert.deepEqual(secret.branches, ['main', 'release/*']);
    assert.equal(secret.updated_by, 'owner');
    assert.equal('value' in secret, false);

    const replaced = await call('admin', {
      method: 'PUT',
      url: projectUrl('DEPLOY_KEY'),
      payload: { value: `${VALUE}-2` },
    });
    assert.equal(replaced.statusCode, 200);
    assert.equal(replaced.json().updated_by, 'admin');
    assert.equal(replaced.json().events, null);
    assert.equal(replaced.json().created_at, secret.created_at);

    const list = await call('owner', { method: 'GET', url: projectUrl() });
    assert.deepEqual(
      list.json().items.map((s: { name: string }) => s.name),
      ['DEPLOY_KEY'],
    );
    const detail = await call('owner', { method: 'GET', url: projectUrl('DEPLOY_KEY') });
    assert.equal(detail.statusCode, 200);
    assert.deepEqual(detail.json().uses, []);
  });

  test('members, strangers and anonymous callers may not manage project secrets', async () => {
    assert.equal((await call('anonymous', { method: 'GET', url: projectUrl() })).statusCode, 401);
    assert.equal((await call('member', { method: 'GET', url: projectUrl() })).statusCode, 403);
    assert.equal((await call('stranger', { method: 'GET', url: projectUrl() })).statusCode, 404);
    const put = await call('member', {
      method: 'PUT',
      url: projectUrl('MEMBER_KEY'),
      payload: { value: VALUE },
    });
    assert.equal(put.statusCode, 403);
  });

  test('global secrets are for admins only', async () => {
    const put = await call('admin', {
      method: 'PUT',
      url: '/api/secrets/NPM_TOKEN',
      payload: { value: VALUE, events: ['push', 'tag'] },
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.equal(put.json().scope, 'global');
    assert.equal((await call('owner', { method: 'GET', url: '/api/secrets' })).statusCode, 403);
    assert.equal(
      (await call('owner', { method: 'PUT', url: '/api/secrets/OTHER', payload: { value: VALUE } }))
        .statusCode,
      403,
    );
    const list = await call('admin', { method: 'GET', url: '/api/secrets' });
    assert.deepEqual(
      list.json().items.map((s: { name: string }) => s.name),
      ['NPM_TOKEN'],
    );
    assert.equal((await call('admin', { method: 'GET', url: '/api/secrets/NPM_TOKEN' })).statusCode, 200);
  });

  test('names follow the pipeline file, values are 4 characters to 64 KiB without NUL', async () => {
    for (const name of ['KEY', '1ABC', 'A-B-C']) {
      const response = await call('admin', {
        method: 'PUT',
        url: projectUrl(name),
        payload: { value: VALUE },
      });
      assert.equal(response.statusCode, 400, name);
    }
    const short = await call('admin', {
      method: 'PUT',
      url: projectUrl('SHORT_ONE'),
      payload: { value: 'abc' },
    });
    assert.equal(short.statusCode, 400);
    const big = await call('admin', {
      method: 'PUT',
      url: projectUrl('BIG_ONE'),
      payload: { value: 'é'.repeat(32 * 1024 + 1) },
    });
    assert.equal(big.statusCode, 400);
    assert.equal(big.json().error, 'GBCMS_ERR_INVALID_SECRET');
    const fits = await call('admin', {
      method: 'PUT',
      url: projectUrl('FITS_ONE'),
      payload: { value: 'x'.repeat(64 * 1024) },
    });
    assert.equal(fits.statusCode, 201);
    const nul = await call('admin', {
      method: 'PUT',
      url: projectUrl('NUL_ONE'),
      payload: { value: 'abc\u0000def' },
    });
    assert.equal(nul.statusCode, 400);
    const event = await call('admin', {
      method: 'PUT',
      url: projectUrl('EVENT_ONE'),
      payload: { value: VALUE, events: ['deploy'] },
    });
    assert.equal(event.statusCode, 400);
  });

  test('an execution lists the secrets it was given; the secret lists its last executions', async () => {
    const execution = await server.store.executions.create({
      project_id: server.privateProject.id,
      trigger: { event: 'push', branch: 'main' },
    });
    await server.store.secrets.recordUse(execution.id, [
      { scope_key: `project:${server.privateProject.id}`, name: 'DEPLOY_KEY' },
      { scope_key: 'global', name: 'NPM_TOKEN' },
    ]);
    const detail = await call('owner', { method: 'GET', url: `/api/executions/${execution.id}` });
    assert.deepEqual(detail.json().secrets, [
      { name: 'DEPLOY_KEY', scope: 'project' },
      { name: 'NPM_TOKEN', scope: 'global' },
    ]);
    assert.equal(detail.json().fork, false);
    const secret = await call('owner', { method: 'GET', url: projectUrl('DEPLOY_KEY') });
    assert.deepEqual(
      secret
        .json()
        .uses.map((use: { execution_id: string; number: number }) => [use.execution_id, use.number]),
      [[execution.id, execution.number]],
    );
    const global = await call('admin', { method: 'GET', url: '/api/secrets/NPM_TOKEN' });
    assert.equal(global.json().uses.length, 1);
    const page = await call('owner', { method: 'GET', url: `/executions/${execution.id}` });
    assert.match(page.body, /<dd id="secrets"><code>DEPLOY_KEY<\/code>/);
    const projectPage = await call('owner', { method: 'GET', url: `/projects/${server.privateProject.id}` });
    assert.match(projectPage.body, /data-secret="DEPLOY_KEY"/);
    assert.match(projectPage.body, /data-secret="NPM_TOKEN"/);
    const memberPage = await call('member', { method: 'GET', url: `/projects/${server.privateProject.id}` });
    assert.doesNotMatch(memberPage.body, /data-secret=/);
  });

  test('removing a secret answers 204, then 404', async () => {
    assert.equal((await call('owner', { method: 'DELETE', url: projectUrl('FITS_ONE') })).statusCode, 204);
    const again = await call('owner', { method: 'DELETE', url: projectUrl('FITS_ONE') });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error, 'GBCMS_ERR_SECRET_NOT_FOUND');
  });

  test('neither the database file, nor any answer, nor the server log holds a value or its base64', async () => {
    const log = logs.text();
    assert.match(log, /"secret_name":"DEPLOY_KEY"/);
    const database = await readFile(join(server.dir, DATABASE_FILE));
    const wal = await readFile(join(server.dir, `${DATABASE_FILE}-wal`)).catch(() => Buffer.alloc(0));
    for (const value of [VALUE, `${VALUE}-2`]) {
      for (const form of [value, Buffer.from(value).toString('base64')]) {
        assert.equal(database.includes(form), false, `database holds ${form}`);
        assert.equal(wal.includes(form), false, `WAL holds ${form}`);
        for (const body of bodies) assert.equal(body.includes(form), false, `an answer holds ${form}`);
        assert.equal(log.includes(form), false, `the log holds ${form}`);
      }
    }
    assert.ok(bodies.length > 10);
  });
});
