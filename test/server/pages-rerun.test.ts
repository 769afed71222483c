// Re-run from the failed steps on the run page and its form: the button only where something
// failed, its post starting a re-run from the failed steps, and a reused step's row linking to
// the execution and the step log it was reused from. The execution manager is the fake one: the
// re-run itself is proven on Docker (rerun-from-failed-docker.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('re-run from the failed steps on the run page', () => {
  let server: TestServer;
  const cookie = () => `gbcms_token=${server.tokens.owner}`;

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function ended(steps: Record<string, 'success' | 'failure' | 'reused'>, rerunOf?: string) {
    const fake = server.executions;
    const { id } = await fake.start({
      project: server.publicProject,
      trigger: { event: 'api', branch: 'main' },
      source: { kind: 'project' },
      ...(rerunOf ? { rerunOf, fromFailed: true } : {}),
    });
    await fake.begin(id);
    for (const [name, status] of Object.entries(steps)) await fake.step(id, name, status);
    await fake.finish(id, Object.values(steps).includes('failure') ? 'failure' : 'success');
    return id;
  }

  const page = (id: string) =>
    server.app.inject({ method: 'GET', url: `/executions/${id}`, headers: { cookie: cookie() } });

  test('the button shows beside Re-run only when a step failed; its post starts a re-run from the failed steps', async () => {
    const passed = await ended({ build: 'success', test: 'success' });
    const passedPage = (await page(passed)).body;
    assert.ok(passedPage.includes('id="rerun-form"'));
    assert.ok(!passedPage.includes('rerun-failed-form'), 'nothing failed: no button');

    const failed = await ended({ build: 'success', test: 'failure' });
    const failedPage = (await page(failed)).body;
    assert.match(
      failedPage,
      new RegExp(
        `<form method="post" action="/executions/${failed}/rerun" id="rerun-failed-form"><input type="hidden" name="from_failed" value="1"><button type="submit">Re-run failed steps</button></form>`,
      ),
    );

    const posted = await server.app.inject({
      method: 'POST',
      url: `/executions/${failed}/rerun`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
      payload: 'from_failed=1',
    });
    assert.equal(posted.statusCode, 303, posted.body);
    const rerunId = String(posted.headers.location).split('/').pop() ?? '';
    const rerun = await server.store.executions.get(rerunId);
    assert.equal(rerun?.rerun_of, failed);
    assert.equal(rerun?.rerun_from_failed, 1);
    assert.equal(server.executions.started.at(-1)?.fromFailed, true);

    const refused = await server.app.inject({
      method: 'POST',
      url: `/api/executions/${passed}/rerun`,
      headers: { authorization: `Bearer ${server.tokens.owner}` },
      payload: { from_failed: true },
    });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error, 'GBCMS_ERR_NOTHING_TO_RERUN');
  });

  test("a reused step's row links to the original execution and that step's log there", async () => {
    const original = await ended({ build: 'success', test: 'failure' });
    const rerun = await ended({ build: 'reused', test: 'success' }, original);
    const body = (await page(rerun)).body;
    assert.match(body, /<span class="status status-reused">reused<\/span>/);
    assert.ok(body.includes(`<a href="/executions/${original}#build">original execution</a>`), body);
    assert.ok(
      body.includes(`<a href="/api/executions/${original}/logs?step=build">its log of this step</a>`),
    );
    const api = await server.app.inject({
      method: 'GET',
      url: `/api/executions/${rerun}`,
      headers: { authorization: `Bearer ${server.tokens.owner}` },
    });
    assert.equal(api.json().rerun_from_failed, true);
    assert.equal(api.json().steps[0].status, 'reused');
  });
});
