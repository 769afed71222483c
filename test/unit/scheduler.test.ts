import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FakeBackend } from '../../engine/backends/fake.ts';
import type { RunEvent } from '../../engine/events.ts';
import { readLogFile } from '../../engine/logs/log-line.ts';
import { runPipeline } from '../../engine/run.ts';
import { runFileWriter } from '../../engine/run-file.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { beforeHang } from '../helpers/hang.ts';
import { planOf, tempDir } from '../helpers/plans.ts';
import { HANG_MS } from '../helpers/poll.ts';

const image = 'busybox:stable';
/** Longer than any test waits: a step that sleeps this long runs until it is stopped. */
const UNTIL_STOPPED = 10 * HANG_MS;

function statuses(run: RunRecord): Record<string, string> {
  return Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
}

async function runFake(
  steps: Parameters<typeof planOf>[0],
  options: Partial<Parameters<typeof runPipeline>[1]> = {},
) {
  const backend = new FakeBackend();
  const events: RunEvent[] = [];
  const runsDir = options.runsDir ?? tempDir();
  const run = await runPipeline(planOf(steps), {
    backend,
    runsDir,
    observer: (e) => events.push(e),
    ...options,
  });
  return { run, backend, events, dir: join(runsDir, run.id) };
}

describe('scheduler on the fake backend', () => {
  test('steps without depends_on run one after another', async () => {
    const { run, backend } = await runFake({
      a: { image, commands: ['x'], env: { STEP_SLEEP_MS: 20 } },
      b: { image, commands: ['x'] },
      c: { image, commands: ['x'] },
    });
    assert.equal(run.status, 'success');
    const order = backend.calls.filter((c) => c.startsWith('start') || c.startsWith('end'));
    assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.equal(backend.maxConcurrent, 1);
  });

  test('independent steps run in parallel up to the concurrency limit', async () => {
    // Steps that run until the run is terminated: three start, and no fourth while they run.
    const steps = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [
        `s${i}`,
        { image, commands: ['x'] as [string], depends_on: [], env: { STEP_SLEEP_MS: UNTIL_STOPPED } },
      ]),
    );
    const controller = new AbortController();
    const running = new Set<string>();
    const { run, backend } = await beforeHang(
      runFake(steps, {
        concurrency: 3,
        signal: controller.signal,
        observer: (event) => {
          if (event.type !== 'step' || event.step.status !== 'running') return;
          running.add(event.step.name);
          // Once three run, whatever could have started alongside them has had its chance.
          if (running.size === 3) setImmediate(() => controller.abort());
        },
      }),
      'the run',
    );
    assert.equal(backend.maxConcurrent, 3);
    assert.deepEqual(
      run.steps.map((step) => step.status),
      ['killed', 'killed', 'killed', 'skipped', 'skipped', 'skipped'],
    );
  });

  test('a failure skips what depends on it, and the run fails', async () => {
    const { run } = await runFake({
      build: { image, commands: ['x'], env: { STEP_EXIT_CODE: 2 } },
      test: { image, commands: ['x'], depends_on: ['build'] },
      deploy: { image, commands: ['x'], depends_on: ['test'] },
      lint: { image, commands: ['x'], depends_on: [] },
    });
    assert.deepEqual(statuses(run), {
      build: 'failure',
      test: 'skipped',
      deploy: 'skipped',
      lint: 'success',
    });
    assert.equal(run.status, 'failure');
    const build = run.steps.find((s) => s.name === 'build')!;
    assert.equal(build.exit_code, 2);
    assert.equal(build.reason, 'exit code 2');
    assert.match(
      run.steps.find((s) => s.name === 'test')!.reason ?? '',
      /depends on 'build', which ended with failure/,
    );
    assert.match(run.steps.find((s) => s.name === 'deploy')!.reason ?? '', /depends on skipped step 'test'/);
  });

  test('allow_failure lets dependents run and keeps the run green', async () => {
    const { run } = await runFake({
      flaky: { image, commands: ['x'], allow_failure: true, env: { STEP_EXIT_CODE: 3 } },
      after: { image, commands: ['x'] },
    });
    assert.deepEqual(statuses(run), { flaky: 'failure', after: 'success' });
    assert.equal(run.status, 'success');
  });

  test('retries run a failing step again until it passes', async () => {
    const { run, backend, dir } = await runFake({
      flaky: { image, commands: ['x'], retries: 2, env: { STEP_FAIL_ATTEMPTS: 2 } },
    });
    assert.equal(run.status, 'success');
    assert.equal(run.steps[0]?.attempts, 3);
    assert.equal(backend.calls.filter((c) => c === 'start flaky').length, 3);
    // Each failed attempt's resources are removed before the next one starts.
    assert.equal(backend.calls.filter((c) => c === 'destroy flaky').length, 3);
    const log = await readLogFile(join(dir, run.steps[0]!.log));
    assert.ok(log.some((l) => l.stream === 'system' && /retrying: attempt 3 of 3/.test(l.text)));
  });

  test('a step past its timeout is stopped and fails with the reason', async () => {
    const { run } = await runFake({
      slow: { image, commands: ['x'], timeout: '1s', env: { STEP_SLEEP_MS: UNTIL_STOPPED } },
    });
    assert.equal(run.steps[0]?.status, 'failure');
    assert.equal(run.steps[0]?.reason, 'timed out after 1.0s');
    // Stopped, not slept out: only a hang lasts this long.
    assert.ok((run.steps[0]?.duration_ms ?? 0) < HANG_MS);
  });

  test('out of memory is a failure with that reason', async () => {
    const { run } = await runFake({ hog: { image, commands: ['x'], env: { STEP_OOM_KILLED: '1' } } });
    assert.deepEqual([run.steps[0]?.status, run.steps[0]?.reason], ['failure', 'out of memory']);
  });

  test('a backend error is the engine fault: error, not failure', async () => {
    const { run } = await runFake({
      a: { image, commands: ['x'], env: { STEP_START_ERROR: 'image missing' } },
    });
    assert.deepEqual(
      [run.steps[0]?.status, run.steps[0]?.reason, run.status],
      ['error', 'image missing', 'error'],
    );
  });

  test('a failed setup marks every step error and still tears the run down', async () => {
    const { run, backend } = await runFake({
      a: { image, commands: ['x'], env: { FAKE_SETUP_ERROR: 'could not pull image' } },
      b: { image, commands: ['x'] },
    });
    assert.deepEqual(statuses(run), { a: 'error', b: 'error' });
    assert.equal(run.reason, 'could not pull image');
    assert.equal(backend.calls.at(-1), 'destroyRun');
  });

  test('terminating a run kills running steps, skips the rest, and cleans up', async () => {
    const controller = new AbortController();
    const { run, backend } = await beforeHang(
      runFake(
        {
          long: { image, commands: ['x'], env: { STEP_SLEEP_MS: UNTIL_STOPPED } },
          next: { image, commands: ['x'] },
        },
        {
          signal: controller.signal,
          // Terminated once `long` runs, not after a delay it might not have started within.
          observer: (event) => {
            if (event.type === 'step' && event.step.name === 'long' && event.step.status === 'running')
              controller.abort();
          },
        },
      ),
      'the terminated run',
    );
    assert.deepEqual(statuses(run), { long: 'killed', next: 'skipped' });
    assert.equal(run.status, 'killed');
    assert.ok(backend.calls.includes('destroy long'));
    assert.equal(backend.calls.at(-1), 'destroyRun');
  });

  test('steps whose when does not match are skipped with the reason', async () => {
    const { run } = await runFake({
      release: { image, commands: ['x'], when: { branch: 'release/*' } },
      always: { image, commands: ['x'], depends_on: [] },
    });
    assert.equal(run.steps.find((s) => s.name === 'release')?.status, 'skipped');
    assert.match(run.steps.find((s) => s.name === 'release')?.reason ?? '', /release\/\*/);
    assert.equal(run.status, 'success');
  });

  test('missing or too short secrets are an error before the step starts', async () => {
    const { run, backend } = await runFake(
      {
        a: { image, commands: ['x'], secrets: ['API_TOKEN'], depends_on: [] },
        b: { image, commands: ['x'], secrets: ['SHORT_ONE'], depends_on: [] },
      },
      { secrets: { SHORT_ONE: 'abc' } },
    );
    assert.deepEqual(statuses(run), { a: 'error', b: 'error' });
    assert.match(run.steps[0]?.reason ?? '', /secret API_TOKEN is not set/);
    assert.match(run.steps[1]?.reason ?? '', /3 characters or fewer/);
    assert.ok(!backend.calls.some((c) => c.startsWith('start')));
  });

  test('a secret printed with colours or backspaces inside it reaches the log file masked', async () => {
    const { run, dir } = await runFake(
      {
        deploy: {
          image,
          commands: ['x'],
          secrets: ['DEPLOY_KEY'],
          env: { STEP_OUTPUT: 'key hunt\u001b[1mer2-sec\u001b[0mret\nkey huX\bnter2-secret\n' },
        },
      },
      { secrets: { DEPLOY_KEY: 'hunter2-secret' } },
    );
    const lines = await readLogFile(join(dir, run.steps[0]!.log));
    assert.deepEqual(
      lines.filter((l) => l.stream === 'stdout').map((l) => l.text),
      ['key ***', 'key ***'],
    );
  });

  test('logs are kept per step with secrets masked, artifacts are listed, run.json is written by its observer', async () => {
    const runsDir = tempDir();
    const id = 'run-file-test';
    const runFile = runFileWriter(join(runsDir, id));
    const events: RunEvent[] = [];
    const { run, dir } = await runFake(
      {
        build: {
          image,
          commands: ['x'],
          secrets: ['DEPLOY_KEY'],
          env: { STEP_OUTPUT: 'using key hunter2-secret\nsecond line\n' },
          artifacts: ['dist/', { path: 'report.txt', name: 'reports/summary.txt' }],
        },
      },
      {
        secrets: { DEPLOY_KEY: 'hunter2-secret' },
        runsDir,
        id,
        observer: (event) => {
          events.push(event);
          runFile.observe(event);
        },
      },
    );
    await runFile.flush();
    const lines = await readLogFile(join(dir, run.steps[0]!.log));
    assert.deepEqual(
      lines.filter((l) => l.stream === 'stdout').map((l) => l.text),
      ['using key ***', 'second line'],
    );
    assert.deepEqual(
      run.artifacts.map((a) => a.path),
      ['build/dist', 'build/reports/summary.txt'],
    );
    const saved = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunRecord;
    assert.deepEqual(saved, run);
    assert.equal(saved.status, 'success');
    assert.equal(saved.artifacts.length, 2);
    assert.ok(events.some((e) => e.type === 'log' && e.line.text === 'using key ***'));
    assert.ok(!JSON.stringify(events).includes('hunter2-secret'));
  });
});
