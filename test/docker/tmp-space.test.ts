// /tmp and HOME have a size of their own (resources.tmp), on top of the memory limit: a step
// that fills one of them fails with "no space left on /tmp" (or HOME), not "out of memory",
// and a step that needs more memory than it has is still "out of memory". On the real engine,
// and on the local backend in bubblewrap, where /tmp is a tmpfs of the same size.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import type { Backend, RunContext } from '../../engine/backends/types.ts';
import { StepLog } from '../../engine/logs/step-log.ts';
import type { Plan } from '../../engine/plan.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import { runStep, type StepOutcome } from '../../engine/step-runner.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { planOf, tempDir } from '../helpers/plans.ts';
import { sandboxTestOptions } from '../helpers/sandbox.ts';

function stepPlan(command: string): Plan {
  return planOf(
    { fill: { environment: 'small', commands: [command] } },
    { environments: { small: { image: BUSYBOX_IMAGE, resources: { memory: '96m', tmp: '16m' } } } },
  );
}

async function outcomeOf(backend: Backend, plan: Plan): Promise<StepOutcome> {
  const run: RunContext = {
    id: randomBytes(16).toString('base64url'),
    plan,
    dir: tempDir(),
    secrets: {},
    env: {},
    notice: () => undefined,
  };
  const step = plan.steps[0]!;
  const log = new StepLog({ file: join(tempDir(), 'step.log'), secrets: [] });
  try {
    await backend.setupRun(run, await readRunInputs(plan, run.notice));
    return await runStep(step, {
      backend,
      run,
      log,
      runSignal: new AbortController().signal,
      graceMs: 1000,
      artifactsDir: tempDir(),
      artifactsPrefix: step.slug,
      onAttemptStart: () => undefined,
    });
  } finally {
    await log.close();
    await backend.destroyRun(run.id);
  }
}

// More than /tmp holds, and more than `memory` too: without a size of its own, /tmp filled
// the memory cgroup and the step was killed as out of memory.
const FILL_MB = 160;

describe('resources.tmp on the docker backend', await dockerTestOptions(), () => {
  const backend = new DockerBackend();

  test('filling /tmp ends "no space left on /tmp"', async () => {
    await ensureBusyboxImage();
    const outcome = await outcomeOf(backend, stepPlan(`dd if=/dev/zero of=/tmp/fill bs=1M count=${FILL_MB}`));
    assert.equal(outcome.status, 'failure');
    assert.equal(outcome.reason, 'no space left on /tmp (resources.tmp: 16 MiB)');
  });

  test('filling HOME ends "no space left on" HOME', async () => {
    const outcome = await outcomeOf(
      backend,
      stepPlan(`dd if=/dev/zero of="$HOME/fill" bs=1M count=${FILL_MB}`),
    );
    assert.equal(outcome.status, 'failure');
    assert.equal(outcome.reason, 'no space left on /home/gbcms (resources.tmp: 16 MiB)');
  });

  test('a step that needs more memory is still out of memory', async () => {
    // Doubles a string until the memory cgroup kills it.
    const outcome = await outcomeOf(backend, stepPlan(`awk 'BEGIN { s = "x"; while (1) s = s s }'`));
    assert.equal(outcome.status, 'failure');
    assert.equal(outcome.reason, 'out of memory');
  });
});

const sandboxOptions = await sandboxTestOptions();

describe('resources.tmp on the local backend in bubblewrap', sandboxOptions, () => {
  test('filling /tmp ends "no space left on /tmp"', async () => {
    const outcome = await outcomeOf(
      new LocalBackend(),
      stepPlan(`dd if=/dev/zero of=/tmp/fill bs=1M count=${FILL_MB}`),
    );
    assert.equal(outcome.status, 'failure');
    assert.equal(outcome.reason, 'no space left on /tmp (resources.tmp: 16 MiB)');
  });
});
