// A project's commit-status settings (per-step statuses, the git hook's forge repository) over
// the API and through the project page's form: who may read and change them, and what a bad
// value is answered with.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, type Who } from './helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const url = (projectId: string) => `/api/projects/${projectId}/status-settings`;

function patch(who: Who, projectId: string, body: object) {
  return server.request(who, { method: 'PATCH', url: url(projectId), payload: body });
}

function formPost(who: Who, projectId: string, fields: Record<string, string>) {
  return server.app.inject({
    method: 'POST',
    url: `/projects/${projectId}/status-settings`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `gbcms_token=${server.tokens[who as Exclude<Who, 'anonymous'>]}`,
      'sec-fetch-site': 'same-origin',
    },
    payload: new URLSearchParams(fields).toString(),
  });
}

describe('status settings over the API', () => {
  test('default off and none; readers read them, strangers do not see a private project', async () => {
    const read = await server.request('anonymous', { method: 'GET', url: url(server.publicProject.id) });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), { step_statuses: false, forge: null, forge_repo: null });
    const hidden = await server.request('stranger', { method: 'GET', url: url(server.privateProject.id) });
    assert.equal(hidden.statusCode, 404);
  });

  test('the owner changes them; a member may not', async () => {
    const id = server.privateProject.id;
    assert.equal((await patch('member', id, { step_statuses: true })).statusCode, 403);
    const changed = await patch('owner', id, { step_statuses: true, forge: 'gitea', forge_repo: 'team/app' });
    assert.equal(changed.statusCode, 200);
    assert.deepEqual(changed.json(), { step_statuses: true, forge: 'gitea', forge_repo: 'team/app' });
    // Absent fields keep their values.
    const repo = await patch('owner', id, { forge_repo: 'team/other' });
    assert.deepEqual(repo.json(), { step_statuses: true, forge: 'gitea', forge_repo: 'team/other' });
    const off = await patch('admin', id, { forge: null });
    assert.deepEqual(off.json(), { step_statuses: true, forge: null, forge_repo: null });
    const read = await server.request('member', { method: 'GET', url: url(id) });
    assert.deepEqual(read.json(), { step_statuses: true, forge: null, forge_repo: null });
  });

  test('GitLab takes a numeric project id or a group path', async () => {
    const id = server.publicProject.id;
    for (const repo of ['4242', 'group/sub/app']) {
      const answer = await patch('owner', id, { forge: 'gitlab', forge_repo: repo });
      assert.equal(answer.statusCode, 200, answer.body);
      assert.equal(answer.json().forge_repo, repo);
    }
  });

  test('bad values are refused with what is wrong', async () => {
    const id = server.publicProject.id;
    const cases: [object, RegExp][] = [
      [{ forge: 'github', forge_repo: 'a/b/c' }, /forge_repo must be owner\/name, not "a\/b\/c"/],
      [{ forge: 'github', forge_repo: '../x' }, /forge_repo must be owner\/name/],
      [{ forge: 'gitlab', forge_repo: 'app' }, /forge_repo must be a numeric project id or a path/],
      [{ forge: 'github' }, /forge_repo is required with forge github/],
      [{ forge: null, forge_repo: 'a/b' }, /forge_repo needs a forge/],
      [{ forge: 'bitbucket', forge_repo: 'a/b' }, /forge/],
      [{ step_statuses: 'yes' }, /step_statuses/],
      [{ steps: true }, /additional properties/],
      [{}, /fewer than 1/],
    ];
    await patch('owner', id, { forge: null });
    for (const [body, message] of cases) {
      const answer = await patch('owner', id, body);
      assert.equal(answer.statusCode, 400, JSON.stringify(body));
      assert.match(answer.json().message, message, JSON.stringify(body));
    }
    const unchanged = await server.request('owner', { method: 'GET', url: url(id) });
    assert.equal(unchanged.json().forge, null);
  });
});

describe('status settings on the project page', () => {
  test('the owner sees the form with the current settings and changes them through it', async () => {
    const id = server.publicProject.id;
    await patch('owner', id, { step_statuses: false, forge: null });
    const cookie = (who: Exclude<Who, 'anonymous'>) => ({ cookie: `gbcms_token=${server.tokens[who]}` });
    const shown = await server.app.inject({
      method: 'GET',
      url: `/projects/${id}`,
      headers: cookie('owner'),
    });
    assert.match(
      shown.body,
      /<form method="post" action="\/projects\/[^"]+\/status-settings"[^>]*id="status-settings">/,
    );
    assert.match(shown.body, /<option value="none" selected>none<\/option>/);
    // Readers who do not manage the project see no such form.
    const reader = await server.app.inject({
      method: 'GET',
      url: `/projects/${id}`,
      headers: cookie('member'),
    });
    assert.doesNotMatch(reader.body, /id="status-settings"/);

    const saved = await formPost('owner', id, {
      step_statuses: 'on',
      forge: 'github',
      forge_repo: ' org/app ',
    });
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, `/projects/${id}#commit-statuses`);
    assert.deepEqual(await server.store.statusSettings.get(id), {
      step_statuses: true,
      git_hook_forge: { forge: 'github', repo: 'org/app' },
    });
    const after = await server.app.inject({
      method: 'GET',
      url: `/projects/${id}`,
      headers: cookie('owner'),
    });
    assert.match(after.body, /<option value="github" selected>GitHub<\/option>/);
    assert.match(after.body, /name="step_statuses" value="on" checked/);
    assert.match(after.body, /name="forge_repo" maxlength="255" value="org\/app"/);

    // An unticked box and `none` turn both off.
    assert.equal((await formPost('owner', id, { forge: 'none', forge_repo: 'org/app' })).statusCode, 303);
    assert.deepEqual(await server.store.statusSettings.get(id), {
      step_statuses: false,
      git_hook_forge: null,
    });

    const bad = await formPost('owner', id, { forge: 'github', forge_repo: '' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /forge_repo must be owner\/name/);
    assert.equal((await formPost('member', id, { forge: 'none' })).statusCode, 403);
  });
});
