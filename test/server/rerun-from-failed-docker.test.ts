// Re-run from the failed steps on a real `gbcms serve` with Docker: build (its dist/ an
// artifact, and ignored by git) then test, which fails while the project secret TEST_MODE says
// so. Flipped, the re-run from the failed steps restores build's artifact instead of running
// build (Docker never sees a build container for it), and ends as a full re-run does.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { LABEL_STEP } from '../../engine/backends/docker/labels.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { commitAll, GRACE, gitAs, gitSkip } from '../helpers/git.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import {
  api,
  dockerEventsFor,
  ended,
  makeProject,
  type Served,
  type Setup,
  serveProcess,
} from './helpers/fork-pull-requests.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const options = gitSkip.skip ? gitSkip : await dockerTestOptions();

const PIPELINE = [
  'version: 1',
  'name: rerun',
  'steps:',
  '  build:',
  `    image: ${BUSYBOX_IMAGE}`,
  '    commands:',
  '      - echo "compiling $(cat VERSION)"',
  '      - mkdir -p dist/lib && echo "app $(cat VERSION)" > dist/app.txt && echo helper > dist/lib/util.txt',
  '    artifacts: [dist/]',
  '  test:',
  `    image: ${BUSYBOX_IMAGE}`,
  '    depends_on: [build]',
  '    secrets: [TEST_MODE]',
  '    commands:',
  '      - echo "testing $(cat dist/app.txt) with $(cat dist/lib/util.txt)"',
  '      - test "$TEST_MODE" = passing',
  '  lint:',
  `    image: ${BUSYBOX_IMAGE}`,
  '    depends_on: []',
  '    commands: ["echo linted"]',
  '',
].join('\n');

interface StepView {
  name: string;
  status: string;
  reason: string | null;
  attempts: number;
}

/** Step name -> status: steps that run together end in no defined order. */
function statusesOf(steps: Map<string, StepView>): Record<string, string> {
  return Object.fromEntries([...steps.values()].map((step) => [step.name, step.status]));
}

describe('re-run from the failed steps on the server, with Docker', options, () => {
  let setup: Setup;
  let server: Served;

  const call = (method: string, path: string, body?: unknown) =>
    api(server, setup, 'owner', method, path, body);

  async function setMode(value: string): Promise<void> {
    const put = await call('PUT', `/api/projects/${setup.project.id}/secrets/TEST_MODE`, { value });
    assert.ok(put.status === 200 || put.status === 201, JSON.stringify(put.body));
  }

  async function finished(
    id: string,
  ): Promise<{ execution: Record<string, unknown>; steps: Map<string, StepView> }> {
    const execution = await ended(server, setup, id);
    const steps = execution.steps as StepView[];
    return { execution, steps: new Map(steps.map((step) => [step.name, step])) };
  }

  async function stepLog(id: string, step: string): Promise<string> {
    const response = await fetch(`${server.url}/api/executions/${id}/logs?step=${step}`, {
      headers: { authorization: `Bearer ${setup.tokens.owner}` },
    });
    assert.equal(response.status, 200);
    return response.text();
  }

  async function rerun(id: string, body?: unknown): Promise<string> {
    const started = await call('POST', `/api/executions/${id}/rerun`, body);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.rerun_of, id);
    return String(started.body.id);
  }

  before(async () => {
    await ensureBusyboxImage();
    const dir = await tempDir('gbcms-rerun-docker-');
    const base = join(dir, 'base');
    await mkdir(base);
    const git = gitAs(GRACE);
    git(base, 'init', '-q');
    await writeFile(join(base, '.gbcms.yml'), PIPELINE);
    await writeFile(join(base, 'VERSION'), '1.2.3\n');
    // Restored artifacts reach the workspace even where git would leave the folder out.
    await writeFile(join(base, '.gitignore'), 'dist/\n');
    commitAll(git, base, 'build then test');
    setup = await makeProject(join(dir, 'data'), base);
    server = await serveProcess(setup.data, 'docker');
    onCleanup(async () => {
      server.child.kill('SIGKILL');
      await server.exited;
    });
  });

  test('the failed test runs again on the restored build artifact; build does not run; the result is a full run’s', async () => {
    await setMode('failing');
    const started = await call('POST', '/api/executions', { project_id: setup.project.id });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const originalId = String(started.body.id);
    const original = await finished(originalId);
    assert.equal(original.execution.status, 'failure');
    assert.deepEqual(statusesOf(original.steps), { build: 'success', test: 'failure', lint: 'success' });
    assert.match(await stepLog(originalId, 'build'), /^compiling 1\.2\.3$/m);

    await setMode('passing');
    const since = Date.now();
    const rerunId = await rerun(originalId, { from_failed: true });
    const again = await finished(rerunId);
    const until = Date.now();
    assert.equal(again.execution.status, 'success', JSON.stringify(again.execution));
    assert.equal(again.execution.rerun_from_failed, true);
    assert.equal(again.execution.commit_sha, original.execution.commit_sha);
    const build = again.steps.get('build');
    assert.equal(build?.status, 'reused');
    assert.equal(build.attempts, 0);
    assert.equal(build.reason, `reused from run ${originalId}: its artifacts dist were restored`);
    assert.equal(again.steps.get('test')?.status, 'success');
    assert.equal(again.steps.get('lint')?.status, 'success');

    // build's command never ran: no log, and Docker never created a container for it.
    assert.equal(await stepLog(rerunId, 'build'), '');
    const buildEvents = await dockerEventsFor(rerunId, since - 1000, until + 1000, [`${LABEL_STEP}=build`]);
    assert.deepEqual(buildEvents, []);
    const testEvents = await dockerEventsFor(rerunId, since - 1000, until + 1000, [`${LABEL_STEP}=test`]);
    assert.ok(testEvents.includes('container create'), JSON.stringify(testEvents));

    // The re-run keeps the reused artifacts as its own.
    const artifacts = await call('GET', `/api/executions/${rerunId}/artifacts`);
    assert.deepEqual(
      (artifacts.body.items as { path: string; step: string }[]).map((a) => [a.step, a.path]).sort(),
      [
        ['build', 'build/dist/app.txt'],
        ['build', 'build/dist/lib/util.txt'],
      ],
    );

    // A full re-run of the same commit: the same statuses (build ran) and the same test output.
    const fullId = await rerun(originalId);
    const full = await finished(fullId);
    assert.equal(full.execution.status, 'success');
    assert.deepEqual(statusesOf(full.steps), { ...statusesOf(again.steps), build: 'success' });
    assert.equal(full.steps.get('build')?.status, 'success');
    const testOutput = await stepLog(rerunId, 'test');
    assert.match(testOutput, /^testing app 1\.2\.3 with helper$/m);
    assert.equal(testOutput, await stepLog(fullId, 'test'));

    // Nothing failed in the full re-run: there is nothing to re-run from its failed steps.
    const nothing = await call('POST', `/api/executions/${fullId}/rerun`, { from_failed: true });
    assert.equal(nothing.status, 409);
    assert.equal(nothing.body.error, 'GBCMS_ERR_NOTHING_TO_RERUN');
  });

  test('when the original artifacts are gone (retention), build runs again and a notice says why', async () => {
    await setMode('failing');
    const started = await call('POST', '/api/executions', { project_id: setup.project.id });
    const originalId = String(started.body.id);
    assert.equal((await finished(originalId)).execution.status, 'failure');
    await rm(join(setup.data, 'executions', originalId, 'artifacts'), { recursive: true, force: true });

    await setMode('passing');
    const rerunId = await rerun(originalId, { from_failed: true });
    const again = await finished(rerunId);
    assert.equal(again.execution.status, 'success');
    assert.equal(again.steps.get('build')?.status, 'success');
    assert.match(await stepLog(rerunId, 'build'), /^compiling 1\.2\.3$/m);
    const events = await fetch(`${server.url}/api/executions/${rerunId}/events`, {
      headers: { authorization: `Bearer ${setup.tokens.owner}` },
    }).then((response) => response.text());
    assert.match(
      events,
      /run, succeeded, but its artifacts are no longer kept \(build\/dist\/app\.txt was removed, by retention or by hand\)/,
    );
  });
});
