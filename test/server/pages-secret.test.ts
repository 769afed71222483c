// A secret's own page, its audit trail: what it is given to, who changed it and when, the last
// executions given it (linked), never its value; project secrets for those who manage the
// project, global ones for admins. The project page's Secrets section links to it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, type Who } from './helpers/server.ts';

const VALUE = 'deploy-key-value-7c1e';
const GLOBAL_VALUE = 'global-registry-value-42aa';

let server: TestServer;
before(async () => {
  server = await startTestServer({ secretKey: randomBytes(32) });
});
after(() => server.close());

function page(url: string, who: Exclude<Who, 'anonymous'>) {
  return server.app.inject({ method: 'GET', url, headers: { cookie: `gbcms_token=${server.tokens[who]}` } });
}

describe("a secret's page", () => {
  test('lists what it is given to, who changed it, and the executions that used it, linked', async () => {
    const project = server.privateProject;
    const set = await server.request('owner', {
      method: 'PUT',
      url: `/api/projects/${project.id}/secrets/DEPLOY_KEY`,
      payload: { value: VALUE, events: ['push'], branches: ['main', 'release/*'] },
    });
    assert.equal(set.statusCode, 201);
    const unused = await page(`/projects/${project.id}/secrets/DEPLOY_KEY`, 'owner');
    assert.equal(unused.statusCode, 200);
    assert.match(unused.body, /No execution has been given it yet/);

    const first = await server.store.executions.create({
      project_id: project.id,
      trigger: { event: 'push', branch: 'main' },
    });
    const second = await server.store.executions.create({
      project_id: project.id,
      trigger: { event: 'push', branch: 'main' },
    });
    const scope = `project:${project.id}`;
    await server.store.secrets.recordUse(first.id, [{ scope_key: scope, name: 'DEPLOY_KEY' }]);
    await server.store.secrets.recordUse(second.id, [{ scope_key: scope, name: 'DEPLOY_KEY' }]);

    const shown = await page(`/projects/${project.id}/secrets/DEPLOY_KEY`, 'owner');
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /<h1>Secret <code>DEPLOY_KEY<\/code><\/h1>/);
    assert.match(shown.body, new RegExp(`project <a href="/projects/${project.id}">private-app</a>`));
    assert.match(shown.body, /<dt>Events<\/dt><dd>push<\/dd>/);
    assert.match(shown.body, /<dt>Branches<\/dt><dd>main, release\/\*<\/dd>/);
    assert.match(shown.body, /<dt>Changed<\/dt><dd>by owner <time/);
    const links = [...shown.body.matchAll(/<a href="\/executions\/([^"]+)">private-app #(\d+)<\/a>/g)].map(
      (m) => [m[1], m[2]],
    );
    // Newest first.
    assert.deepEqual(links, [
      [second.id, String(second.number)],
      [first.id, String(first.number)],
    ]);
    assert.ok(!shown.body.includes(VALUE));

    // The project page's Secrets section links the name to it.
    const projectPage = await page(`/projects/${project.id}`, 'owner');
    assert.match(
      projectPage.body,
      new RegExp(`<a href="/projects/${project.id}/secrets/DEPLOY_KEY"><code>DEPLOY_KEY</code></a>`),
    );
  });

  test('only those who manage the project see a project secret; only admins a global one', async () => {
    const project = server.privateProject;
    assert.equal((await page(`/projects/${project.id}/secrets/DEPLOY_KEY`, 'member')).statusCode, 403);
    assert.equal((await page(`/projects/${project.id}/secrets/DEPLOY_KEY`, 'admin')).statusCode, 200);
    assert.equal((await page(`/projects/${project.id}/secrets/NO_SUCH`, 'owner')).statusCode, 404);

    const set = await server.request('admin', {
      method: 'PUT',
      url: '/api/secrets/REGISTRY_TOKEN',
      payload: { value: GLOBAL_VALUE },
    });
    assert.equal(set.statusCode, 201);
    const execution = await server.store.executions.create({
      project_id: project.id,
      trigger: { event: 'api', branch: 'main' },
    });
    await server.store.secrets.recordUse(execution.id, [{ scope_key: 'global', name: 'REGISTRY_TOKEN' }]);
    const shown = await page('/secrets/REGISTRY_TOKEN', 'admin');
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /global: every project whose steps name it/);
    assert.match(shown.body, /<dt>Events<\/dt><dd>all<\/dd>/);
    assert.match(
      shown.body,
      new RegExp(`<a href="/executions/${execution.id}">private-app #${execution.number}</a>`),
    );
    assert.ok(!shown.body.includes(GLOBAL_VALUE));
    assert.equal((await page('/secrets/REGISTRY_TOKEN', 'owner')).statusCode, 403);

    // The owner sees the global secret on the project page, without a link to a page they may not open.
    const forOwner = await page(`/projects/${project.id}`, 'owner');
    assert.match(forOwner.body, /<td><code>REGISTRY_TOKEN<\/code><\/td>/);
    const forAdmin = await page(`/projects/${project.id}`, 'admin');
    assert.match(forAdmin.body, /<a href="\/secrets\/REGISTRY_TOKEN"><code>REGISTRY_TOKEN<\/code><\/a>/);
  });
});
