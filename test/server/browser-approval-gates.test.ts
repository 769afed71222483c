// An approval gate on the run page in real Chromium, on a real `gbcms serve` with the Docker
// backend: the owner opens the page while the execution starts, the gate's box appears live
// with the step's message, the owner clicks Approve and the page follows the run to success;
// a member the gate does not name sees the box without the buttons.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { gitSkip } from '../helpers/git.ts';
import { launchBrowser } from './helpers/browser.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { api, type Served, serveProcess, type Who } from './helpers/fork-pull-requests.ts';
import { GATE_MESSAGE, type GatedProject, gatedProject } from './helpers/gated-project.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const options = gitSkip.skip ? gitSkip : await dockerTestOptions();

describe('an approval gate on the run page in Chromium', options, () => {
  let setup: GatedProject;
  let server: Served;
  const contexts = new Map<Who, BrowserContext>();

  before(async () => {
    await ensureBusyboxImage();
    setup = await gatedProject(await tempDir('gbcms-gates-browser-'));
    server = await serveProcess(setup.data, 'docker');
    onCleanup(async () => {
      server.child.kill('SIGKILL');
      await server.exited;
    });
    for (const who of ['owner', 'member'] as const) {
      const browser = await launchBrowser();
      onCleanup(() => browser.close());
      await browser.context.addCookies([{ name: 'gbcms_token', value: setup.tokens[who], url: server.url }]);
      contexts.set(who, browser.context);
    }
  });

  async function open(who: Who, path: string): Promise<{ page: Page; problems: string[] }> {
    const context = contexts.get(who);
    if (!context) throw new Error(`no browser for ${who}`);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${server.url}${path}`);
    return { page, problems };
  }

  test('the box appears live, the owner approves, and the run goes on to success', async () => {
    const started = await api(server, setup, 'owner', 'POST', '/api/executions', {
      project_id: setup.project.id,
    });
    assert.equal(started.status, 201);
    const id = String(started.body.id);

    // Opened at once: the gate has not opened yet when the page first renders (or just has).
    const owner = await open('owner', `/executions/${id}`);
    const box = owner.page.locator('.step-approval[data-step="deploy"]');
    await box.waitFor();
    await owner.page.locator('#status.status-blocked').waitFor();
    assert.equal(await box.locator('.approval-message').textContent(), GATE_MESSAGE);
    assert.equal(
      await owner.page.locator('#steps li[data-step="deploy"] .step-status').textContent(),
      'blocked',
    );

    // The member may start executions but the gate names only owner and admins: no buttons.
    const member = await open('member', `/executions/${id}`);
    const memberBox = member.page.locator('.step-approval[data-step="deploy"]');
    assert.equal(await memberBox.isVisible(), true);
    assert.equal(await memberBox.locator('button').count(), 0);
    assert.match((await memberBox.textContent()) ?? '', /owner, admin can approve it/);

    await box.locator('.approve-step button').click();
    await owner.page.locator('#status.status-success').waitFor();
    await owner.page.locator('#steps li[data-step="deploy"] .step-link').click();
    await owner.page
      .locator('#log-panel[data-step="deploy"] #log')
      .getByText(setup.deployedText, { exact: true })
      .waitFor();
    assert.equal(await owner.page.locator('.step-approval').count(), 0, 'no box once decided');

    // The member's page, open all along, followed live: the box went and the run succeeded.
    await member.page.locator('#status.status-success').waitFor();
    assert.equal(await member.page.locator('.step-approval').count(), 0);
    assert.equal(
      await member.page.locator('#steps li[data-step="notify"] .step-status').textContent(),
      'success',
    );

    const detail = await api(server, setup, 'owner', 'GET', `/api/executions/${id}`);
    const deploy = (detail.body.steps as { name: string; approval: { decision: string; by: string } }[]).find(
      (step) => step.name === 'deploy',
    );
    assert.deepEqual([deploy?.approval.decision, deploy?.approval.by], ['approved', 'owner']);
    // After a reload the row says who let the step run.
    await owner.page.reload();
    assert.equal(
      await owner.page.locator('#steps li[data-step="deploy"] .step-reason').textContent(),
      'approved by owner',
    );
    assert.deepEqual([...owner.problems, ...member.problems], []);
  });
});
