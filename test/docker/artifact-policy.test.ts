// The artifact policy is the engine's, the same on every backend: the same step collected from
// the local backend and from Docker gives the same records, one budget covers all of a step's
// artifacts, hostile entries are refused with the same codes, and a missing artifact is a
// notice line in the step's log, not a failure.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collectArtifacts } from '../../engine/artifacts/collect.ts';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import type { ArtifactRecord, Backend, RunContext } from '../../engine/backends/types.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { StepLog } from '../../engine/logs/step-log.ts';
import type { Plan, PlannedStep } from '../../engine/plan.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import { runStep, type StepOutcome } from '../../engine/step-runner.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const BUDGET = 1000;

const plan = planOf({
  build: {
    image: BUSYBOX_IMAGE,
    commands: [
      'mkdir -p dist/sub && echo app > dist/app.js && echo deep > dist/sub/x.txt',
      'echo report > r.txt',
      // Each fits the budget alone; together they do not.
      'head -c 600 /dev/zero > a.bin && head -c 600 /dev/zero > b.bin',
      'mkdir out && ln -s /etc/passwd out/pw',
      'mkfifo pipe',
    ],
    artifacts: ['dist/', { path: 'r.txt', name: 'reports/result.txt' }, 'never-made'],
  },
});
const build = plan.steps[0]!;

/** The same step, with other artifacts to collect. */
function collecting(...paths: string[]): PlannedStep {
  return { ...build, artifacts: paths.map((path) => ({ path, dest: path })) };
}

interface Harness {
  backend: Backend;
  run: RunContext;
  /** The engine's collection, with the small budget; missing paths are returned too. */
  collect(step: PlannedStep): Promise<{ records: ArtifactRecord[]; missing: string[]; dest: string }>;
}

async function started(backend: Backend, runPlan: Plan): Promise<Harness> {
  const run: RunContext = {
    id: randomBytes(16).toString('base64url'),
    plan: runPlan,
    dir: tempDir(),
    secrets: {},
    env: {},
    notice: () => undefined,
  };
  await backend.setupRun(run, await readRunInputs(runPlan, run.notice));
  return {
    backend,
    run,
    async collect(step) {
      const dest = tempDir();
      const missing: string[] = [];
      const records = await collectArtifacts(backend, step, run, {
        destDir: dest,
        maxBytes: BUDGET,
        missing: (path) => missing.push(path),
      });
      return { records: sortRecords(records), missing, dest };
    },
  };
}

/** A whole step through the step runner, with the small budget: its outcome and its log. */
async function runThroughStepRunner(
  backend: Backend,
  runPlan: Plan,
): Promise<{ outcome: StepOutcome; log: string[] }> {
  const { run } = await started(backend, runPlan);
  const step = runPlan.steps[0]!;
  const file = join(tempDir(), 'step.log');
  const log = new StepLog({ file, secrets: [] });
  try {
    const outcome = await runStep(step, {
      backend,
      run,
      log,
      runSignal: new AbortController().signal,
      graceMs: 1000,
      artifactsDir: tempDir(),
      artifactsPrefix: step.slug,
      artifactMaxBytes: BUDGET,
      onAttemptStart: () => undefined,
    });
    await log.close();
    return { outcome, log: (await readLogFile(file)).map((line) => line.text) };
  } finally {
    await backend.destroyRun(run.id);
  }
}

function sortRecords(records: ArtifactRecord[]): ArtifactRecord[] {
  return [...records].sort((a, b) => a.path.localeCompare(b.path));
}

const backends: Array<{
  name: string;
  make: () => Backend;
  options: () => Promise<{ skip: string | false }>;
}> = [
  { name: 'local', make: () => new LocalBackend({ sandbox: false }), options: async () => ({ skip: false }) },
  { name: 'docker', make: () => new DockerBackend(), options: dockerTestOptions },
];

const collectedBy = new Map<string, ArtifactRecord[]>();

for (const { name, make, options } of backends) {
  describe(`artifact policy on the ${name} backend`, await options(), () => {
    let harness: Harness;
    before(async () => {
      if (name === 'docker') await ensureBusyboxImage();
      harness = await started(make(), plan);
      // The step runs once; each test collects from its ended workspace.
      await harness.backend.startStep(build, harness.run);
      for await (const _ of harness.backend.tailStep(build, harness.run));
      const exit = await harness.backend.waitStep(build, harness.run, new AbortController().signal, 1000);
      assert.equal(exit.exitCode, 0);
    });
    after(() => harness?.backend.destroyRun(harness.run.id));

    test('a folder and a renamed file land under their dest; a missing one is named', async () => {
      const { records, missing } = await harness.collect(build);
      assert.deepEqual(
        records.map((r) => [r.path, r.size]),
        [
          ['dist/app.js', 4],
          ['dist/sub/x.txt', 5],
          ['reports/result.txt', 7],
        ],
      );
      assert.deepEqual(missing, ['never-made']);
      collectedBy.set(name, records);
    });

    test('one budget for the whole step: two artifacts that each fit alone are refused together', async () => {
      assert.equal((await harness.collect(collecting('a.bin'))).records[0]?.size, 600);
      assert.equal((await harness.collect(collecting('b.bin'))).records[0]?.size, 600);
      await assert.rejects(harness.collect(collecting('a.bin', 'b.bin')), {
        code: 'GBCMS_ERR_ARTIFACT_TOO_LARGE',
        message: `artifacts exceed ${BUDGET - 600} bytes (stopped at 'b.bin')`,
      });
    });

    test('hostile entries are refused: a link out of the workspace, a FIFO', async () => {
      const dest = tempDir();
      const collect = (step: PlannedStep) =>
        collectArtifacts(harness.backend, step, harness.run, {
          destDir: dest,
          maxBytes: BUDGET,
          missing: () => assert.fail('not missing'),
        });
      await assert.rejects(collect(collecting('out')), { code: 'GBCMS_ERR_ARTIFACT_LINK' });
      await assert.rejects(collect(collecting('pipe')), { code: 'GBCMS_ERR_ARTIFACT_TYPE' });
      assert.deepEqual(readdirSync(dest), []);
    });

    test('the step runner fails the step past the budget and logs a missing artifact as a notice', async () => {
      const twoHalves = planOf({
        halves: {
          image: BUSYBOX_IMAGE,
          commands: ['head -c 600 /dev/zero > a.bin && head -c 600 /dev/zero > b.bin'],
          artifacts: ['a.bin', 'never-made', 'b.bin'],
        },
      });
      const { outcome, log } = await runThroughStepRunner(make(), twoHalves);
      assert.equal(outcome.status, 'failure');
      assert.equal(
        outcome.reason,
        `artifact collection failed: artifacts exceed ${BUDGET - 600} bytes (stopped at 'b.bin')`,
      );
      assert.deepEqual(outcome.artifacts, []);
      assert.ok(log.includes("notice: artifact 'never-made' was not found in the workspace"), log.join('\n'));
    });
  });
}

describe('artifact policy across backends', await dockerTestOptions(), () => {
  test('the same step gives the same records on local and on Docker', () => {
    assert.ok(collectedBy.has('local') && collectedBy.has('docker'), 'both backends collected');
    assert.deepEqual(collectedBy.get('docker'), collectedBy.get('local'));
  });
});
