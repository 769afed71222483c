// A signed GitHub push runs the pipeline (fake backend) and its statuses reach a local
// GitHub stand-in, each request checked against GitHub's OpenAPI description of
// POST /repos/{owner}/{repo}/statuses/{sha}.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.ts';
import type { ExecutionManager } from '../../server/executions/manager.ts';
import { forgeStatusReporter, type StatusReporter } from '../../server/forges/index.ts';
import type { Project, Store } from '../../server/store/index.ts';
import { signBody } from '../../server/webhooks/signature.ts';
import { githubStatusValidator } from '../helpers/forge-api.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { type FakeForge, startFakeForge } from './helpers/fake-forge.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{
  name: string;
  examples: Array<Record<string, unknown>>;
}>;
const push = examples
  .find((e) => e.name === 'push')
  ?.examples.find((p) => p.ref === 'refs/heads/master' && p.deleted === false) as {
  after: string;
  repository: { full_name: string };
};
const PUBLIC_URL = 'https://ci.example.com';
const TOKEN = 'ghp_test_token';

const pipeline = (exitCode: number) => `version: 1
steps:
  build:
    image: busybox:stable
    commands: [make]
    env:
      STEP_EXIT_CODE: "${exitCode}"
`;

let forge: FakeForge;
let store: Store;
let manager: ExecutionManager;
let app: FastifyInstance;
let reporter: StatusReporter;

before(async () => {
  forge = await startFakeForge(githubStatusValidator());
  onCleanup(() => forge.close());
  const { logger } = warningsLogger();
  const managers = await openFakeManagers(await tempDir('gbcms-forge-'), { logger });
  onCleanup(() => managers.close());
  ({ store, manager } = managers);
  reporter = forgeStatusReporter({
    store,
    tokens: { forgeToken: async (_project, kind) => (kind === 'github' ? TOKEN : undefined) },
    publicUrl: PUBLIC_URL,
    urls: { githubApi: forge.url },
    notice: (id, message) => manager.notice(id, message),
    logger,
    retryDelaysMs: [5, 5],
  });
  manager.events.on('status', reporter.observe);
  app = await buildApp({ store, executions: manager, publicUrl: PUBLIC_URL });
  onCleanup(() => app.close());
});

let projects = 0;
async function projectWith(exitCode: number): Promise<Project> {
  projects += 1;
  const dir = await writePipeline(await tempDir('gbcms-forge-src-'), pipeline(exitCode));
  return store.projects.create({ name: `app-${projects}`, repo: dir, visibility: 'public' });
}

async function deliverPush(project: Project): Promise<string> {
  const body = JSON.stringify(push);
  const response = await app.inject({
    method: 'POST',
    url: `/hooks/github/${project.id}`,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signBody(project.webhook_secret, body),
    },
    payload: body,
  });
  assert.equal(response.statusCode, 202, response.body);
  return response.json().execution_id;
}

/** Polls until the execution has ended and its statuses are posted; the bound is only for a hang. */
async function settled(id: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const row = await store.executions.get(id);
    if (row && row.ended_at !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await reporter.idle();
}

function statusesOf(id: string) {
  return forge.received.filter((r) => r.body?.target_url === `${PUBLIC_URL}/executions/${id}`);
}

describe('commit statuses to GitHub', () => {
  test('a passing push posts pending (queued), pending (running), success to the pushed commit', async () => {
    const project = await projectWith(0);
    const id = await deliverPush(project);
    await settled(id);
    const sent = statusesOf(id);
    assert.deepEqual(
      sent.map((r) => [r.body.state, r.body.description]),
      [
        ['pending', 'queued'],
        ['pending', 'running'],
        ['success', 'passed'],
      ],
    );
    for (const request of sent) {
      assert.deepEqual(request.problems, [], 'every request is what the OpenAPI description says');
      assert.equal(request.url, `/repos/${push.repository.full_name}/statuses/${push.after}`);
      assert.equal(request.body.context, `gbcms/${project.name}`);
      assert.equal(request.headers.authorization, `token ${TOKEN}`);
    }
  });

  test('a failing pipeline ends with failure', async () => {
    const id = await deliverPush(await projectWith(3));
    await settled(id);
    const sent = statusesOf(id);
    assert.deepEqual(
      sent.map((r) => r.body.state),
      ['pending', 'pending', 'failure'],
    );
    assert.deepEqual(
      sent.flatMap((r) => r.problems),
      [],
    );
  });

  test('a post the forge refuses for a while is retried; one it keeps refusing becomes a problem', async () => {
    const retried = await projectWith(0);
    forge.answers.push(502);
    const first = await deliverPush(retried);
    await settled(first);
    assert.deepEqual(
      statusesOf(first).map((r) => [r.body.state, r.answer]),
      [
        ['pending', 502],
        ['pending', 201],
        ['pending', 201],
        ['success', 201],
      ],
    );
    assert.equal((await store.forges.get(first))?.problem, null);

    // Refused outright: 422 is not worth another try, and the execution still succeeds.
    forge.answers.push(201, 201, 422);
    const second = await deliverPush(await projectWith(0));
    await settled(second);
    assert.deepEqual(
      statusesOf(second).map((r) => r.body.state),
      ['pending', 'pending', 'success'],
    );
    assert.equal((await store.executions.get(second))?.status, 'success');
    assert.match(
      (await store.forges.get(second))?.problem ?? '',
      /could not report the status "success" to GitHub \(Codertocat\/Hello-World@6113728f27ae\): HTTP 422: no/,
    );
    // The run page says where statuses go and why the last one is missing.
    const page = await app.inject({ method: 'GET', url: `/executions/${second}` });
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /<dd id="forge-status">GitHub Codertocat\/Hello-World <span class="error" id="forge-problem">could not report the status &quot;success&quot;/,
    );
  });
});
