// The project page's Secrets form in real Chromium (required: the test fails without it): an
// admin adds a secret, sees its name listed (never its value) and removes it; a member sees
// no Secrets section.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { launchBrowser } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const VALUE = 'page-secret-value-5e1f0c';

describe('secrets on the project page in Chromium', () => {
  let server: TestServer;
  let base: string;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    server = await startTestServer({ secretKey: randomBytes(32) });
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('an admin adds a secret through the form and sees its name, not its value', async () => {
    await browser.context.addCookies([{ name: 'gbcms_token', value: server.tokens.admin, url: base }]);
    const page = await browser.context.newPage();
    const projectUrl = `${base}/projects/${server.privateProject.id}`;
    await page.goto(projectUrl);
    assert.match((await page.locator('#secret-form').textContent()) ?? '', /Save secret/);
    await page.fill('#secret-form input[name="name"]', 'DEPLOY_KEY');
    await page.fill('#secret-form input[name="value"]', VALUE);
    await page.fill('#secret-form input[name="events"]', 'push, manual');
    await page.fill('#secret-form input[name="branches"]', 'main');
    await Promise.all([page.waitForURL(projectUrl), page.click('#secret-form button[type="submit"]')]);

    const row = page.locator('#secrets tr[data-secret="DEPLOY_KEY"]');
    assert.equal(await row.count(), 1);
    const text = (await row.textContent()) ?? '';
    assert.match(text, /DEPLOY_KEY/);
    assert.match(text, /push, manual/);
    assert.match(text, /admin/);
    const content = await page.content();
    assert.ok(!content.includes(VALUE), 'the page shows the value');
    assert.ok(!content.includes(Buffer.from(VALUE).toString('base64')));
    const stored = await server.store.secrets.list(`project:${server.privateProject.id}`);
    assert.deepEqual(
      stored.map((s) => [s.name, s.events, s.branches, s.updated_by]),
      [['DEPLOY_KEY', '["push","manual"]', '["main"]', 'admin']],
    );

    await Promise.all([page.waitForURL(projectUrl), row.locator('button', { hasText: 'Remove' }).click()]);
    assert.equal(await page.locator('#secrets tr[data-secret="DEPLOY_KEY"]').count(), 0);
    assert.deepEqual(await server.store.secrets.list(`project:${server.privateProject.id}`), []);
    await page.close();
  });

  test('a member, who may not manage the project, sees no Secrets section', async () => {
    await browser.context.clearCookies();
    await browser.context.addCookies([{ name: 'gbcms_token', value: server.tokens.member, url: base }]);
    const page = await browser.context.newPage();
    await page.goto(`${base}/projects/${server.privateProject.id}`);
    assert.equal(await page.locator('#secret-form').count(), 0);
    await page.close();
  });
});
