// The schedules on the project page: listed for readers, added and removed through the form by
// the owner and admins, a bad expression answered with a page naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

type Caller = 'owner' | 'member' | 'admin';

function page(url: string, who?: Caller) {
  return server.app.inject({
    method: 'GET',
    url,
    headers: who ? { cookie: `gbcms_token=${server.tokens[who]}` } : {},
  });
}

function post(url: string, who: Caller, fields: Record<string, string> = {}) {
  return server.app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `gbcms_token=${server.tokens[who]}`,
      'sec-fetch-site': 'same-origin',
    },
    payload: new URLSearchParams(fields).toString(),
  });
}

describe('schedules on the project page', () => {
  test('the owner adds one through the form; empty optional fields take the defaults', async () => {
    const project = server.publicProject;
    const before = await page(`/projects/${project.id}`, 'owner');
    assert.match(
      before.body,
      /<form method="post" action="\/projects\/[^"]+\/schedules" class="stacked" id="new-schedule">/,
    );

    const added = await post(`/projects/${project.id}/schedules`, 'owner', {
      cron: '15 4 * * *',
      branch: '',
      name: 'nightly <build>',
      timezone: 'Asia/Tokyo',
    });
    assert.equal(added.statusCode, 303);
    assert.equal(added.headers.location, `/projects/${project.id}#schedules`);
    const [schedule] = await server.store.schedules.listByProject(project.id);
    assert.equal(schedule?.branch, 'main');
    assert.equal(schedule?.timezone, 'Asia/Tokyo');

    const shown = await page(`/projects/${project.id}`);
    assert.match(shown.body, /<code>15 4 \* \* \*<\/code>/);
    assert.match(shown.body, /nightly &lt;build&gt;/);
    assert.match(shown.body, /Asia\/Tokyo/);
    assert.doesNotMatch(shown.body, /id="new-schedule"/, 'anonymous readers get no form');
    assert.doesNotMatch(shown.body, /\/delete"/);

    const removed = await post(`/projects/${project.id}/schedules/${schedule?.id}/delete`, 'owner');
    assert.equal(removed.statusCode, 303);
    assert.deepEqual(await server.store.schedules.listByProject(project.id), []);
  });

  test('a bad expression is answered with a page naming the field', async () => {
    const response = await post(`/projects/${server.publicProject.id}/schedules`, 'admin', {
      cron: '0 0 * * 8',
      timezone: '',
    });
    assert.equal(response.statusCode, 400);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.body, /cron &#39;0 0 \* \* 8&#39; is invalid/);
  });

  test('members see schedules but may not add or remove them', async () => {
    const project = server.privateProject;
    const schedule = (
      await server.request('owner', {
        method: 'POST',
        url: `/api/projects/${project.id}/schedules`,
        payload: { cron: '@daily', name: 'daily' },
      })
    ).json();
    const shown = await page(`/projects/${project.id}`, 'member');
    assert.match(shown.body, /id="schedule-list"/);
    assert.doesNotMatch(shown.body, /id="new-schedule"/);
    assert.equal(
      (await post(`/projects/${project.id}/schedules`, 'member', { cron: '@daily' })).statusCode,
      403,
    );
    assert.equal(
      (await post(`/projects/${project.id}/schedules/${schedule.id}/delete`, 'member')).statusCode,
      403,
    );
    assert.equal((await server.store.schedules.listByProject(project.id)).length, 1);
  });
});
