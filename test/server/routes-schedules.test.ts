// The schedules API: readers list, the owner and admins add and remove, bad expressions and
// zones are refused with a message naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, type Who } from './helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const url = (projectId: string) => `/api/projects/${projectId}/schedules`;

async function add(who: Who, projectId: string, payload: object) {
  return server.request(who, { method: 'POST', url: url(projectId), payload });
}

describe('POST /api/projects/:id/schedules', () => {
  test('the owner adds a schedule; its first tick is computed in its zone', async () => {
    const response = await add('owner', server.privateProject.id, {
      cron: '30 2 * * 1-5',
      branch: 'release',
      name: 'weekday build',
      timezone: 'America/New_York',
    });
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.equal(body.project_id, server.privateProject.id);
    assert.equal(body.cron, '30 2 * * 1-5');
    assert.equal(body.branch, 'release');
    assert.equal(body.name, 'weekday build');
    assert.equal(body.timezone, 'America/New_York');
    assert.equal(body.last_run_at, null);
    assert.equal(body.last_execution_id, null);
    assert.equal('created_by' in body, false);
    // 02:30 in New York is 06:30 or 07:30 UTC, on a weekday there.
    const next = new Date(body.next_run_at);
    assert.ok(next.getTime() > Date.now());
    assert.equal(next.getUTCMinutes(), 30);
    assert.ok([6, 7].includes(next.getUTCHours()), body.next_run_at);
  });

  test("defaults: the project's default branch, the server's zone, no name", async () => {
    const response = await add('admin', server.publicProject.id, { cron: '@daily' });
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.equal(body.branch, 'main');
    assert.equal(body.timezone, Intl.DateTimeFormat().resolvedOptions().timeZone);
    assert.equal(body.name, null);
  });

  test('an invalid cron expression is refused, naming the field', async () => {
    for (const [cron, expected] of [
      ['61 * * * *', /^cron '61 \* \* \* \*' is invalid: invalid value for minute: 61$/],
      ['* * * *', /^cron '\* \* \* \*' must have five fields/],
      ['0 0 30 2 *', /never fires/],
      ['* * * * * *', /must have five fields/],
    ] as const) {
      const response = await add('owner', server.publicProject.id, { cron, timezone: 'UTC' });
      assert.equal(response.statusCode, 400, cron);
      assert.equal(response.json().error, 'GBCMS_ERR_INVALID_SCHEDULE');
      assert.match(response.json().message, expected);
    }
  });

  test('an unknown time zone is refused, naming the field', async () => {
    for (const timezone of ['Mars/Olympus', '+02:00', 'Europe/../etc']) {
      const response = await add('owner', server.publicProject.id, { cron: '@hourly', timezone });
      assert.equal(response.statusCode, 400, timezone);
      assert.equal(response.json().error, 'GBCMS_ERR_INVALID_SCHEDULE');
      assert.equal(
        response.json().message,
        `timezone '${timezone}' is not an IANA time zone name (like Europe/Paris or UTC)`,
      );
    }
  });

  test('an invalid branch is refused', async () => {
    const response = await add('owner', server.publicProject.id, { cron: '@hourly', branch: 'a..b' });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().message, /^branch 'a\.\.b' contains '\.\.'$/);
  });

  test('unknown fields are refused', async () => {
    const response = await add('owner', server.publicProject.id, { cron: '@hourly', every: '5m' });
    assert.equal(response.statusCode, 400);
  });

  test('only the owner and admins: 401 anonymous, 403 members, 404 strangers on a private project', async () => {
    const before = (await server.store.schedules.listByProject(server.privateProject.id)).length;
    for (const [who, status] of [
      ['anonymous', 401],
      ['member', 403],
      ['stranger', 404],
    ] as const) {
      const response = await add(who, server.privateProject.id, { cron: '@hourly' });
      assert.equal(response.statusCode, status, who);
    }
    assert.equal((await server.store.schedules.listByProject(server.privateProject.id)).length, before);
  });
});

describe('GET /api/projects/:id/schedules', () => {
  test('readers list them; strangers do not see a private project', async () => {
    const project = (
      await server.store.projects.create({
        name: 'listed',
        repo: '/srv/git/listed.git',
        owner_id: server.users.owner.id,
      })
    ).id;
    await server.store.projects.addMember(project, server.users.member.id);
    const first = (await add('owner', project, { cron: '0 * * * *', name: 'hourly' })).json();
    const second = (await add('admin', project, { cron: '0 0 * * 0', name: 'weekly' })).json();

    const listed = await server.request('member', { method: 'GET', url: url(project) });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      listed.json().items.map((s: { id: string }) => s.id),
      [first.id, second.id],
    );
    assert.equal((await server.request('stranger', { method: 'GET', url: url(project) })).statusCode, 404);
    assert.equal((await server.request('anonymous', { method: 'GET', url: url(project) })).statusCode, 404);
  });

  test('anyone reads those of a public project', async () => {
    const response = await server.request('anonymous', { method: 'GET', url: url(server.publicProject.id) });
    assert.equal(response.statusCode, 200);
  });
});

describe('DELETE /api/projects/:id/schedules/:schedule_id', () => {
  test('the owner removes one; a second time is 404; members may not', async () => {
    const schedule = (await add('owner', server.publicProject.id, { cron: '@weekly' })).json();
    const path = `${url(server.publicProject.id)}/${schedule.id}`;
    assert.equal((await server.request('member', { method: 'DELETE', url: path })).statusCode, 403);
    assert.equal((await server.request('anonymous', { method: 'DELETE', url: path })).statusCode, 401);
    assert.equal((await server.request('owner', { method: 'DELETE', url: path })).statusCode, 204);
    const again = await server.request('owner', { method: 'DELETE', url: path });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error, 'GBCMS_ERR_SCHEDULE_NOT_FOUND');
  });

  test('a schedule of another project is not found through this one', async () => {
    const schedule = (await add('owner', server.publicProject.id, { cron: '@weekly' })).json();
    const response = await server.request('admin', {
      method: 'DELETE',
      url: `${url(server.privateProject.id)}/${schedule.id}`,
    });
    assert.equal(response.statusCode, 404);
    assert.ok(await server.store.schedules.get(schedule.id));
  });
});
