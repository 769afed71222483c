// `gbcms run --from-failed` and `gbcms plan --from-failed` on a real Docker engine: build (its
// dist/ an artifact) then test, which fails until the MODE file in the project says `pass`. The
// re-run restores build's artifact from the run folder instead of running build, and ends as a
// full run does; plan says per step what the re-run does and why, also once the artifacts are gone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readLogFile } from '../../engine/logs/log-line.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcms } from '../helpers/cli.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { tempDir } from '../helpers/plans.ts';

const PIPELINE = `version: 1
name: rerun
steps:
  build:
    image: ${BUSYBOX_IMAGE}
    commands:
      - echo "compiling $(cat VERSION)"
      - mkdir -p dist && echo "app $(cat VERSION)" > dist/app.txt
    artifacts: [dist/]
  test:
    image: ${BUSYBOX_IMAGE}
    depends_on: [build]
    commands:
      - echo "testing $(cat dist/app.txt)"
      - test "$(cat MODE)" = pass
  lint:
    image: ${BUSYBOX_IMAGE}
    depends_on: []
    commands: ["echo linted"]
`;

type Summary = RunRecord & { dir: string };

async function run(
  dir: string,
  ...args: string[]
): Promise<{ code: number; stderr: string; summary: Summary }> {
  const result = await gbcms(['run', dir, '--backend', 'docker', '--json', ...args], { cwd: dir });
  assert.ok(result.stdout, result.stderr);
  return { code: result.code, stderr: result.stderr, summary: JSON.parse(result.stdout) as Summary };
}

function statuses(summary: RunRecord): Record<string, string> {
  return Object.fromEntries(summary.steps.map((step) => [step.name, step.status]));
}

async function logTexts(summary: Summary, step: string): Promise<string[]> {
  const record = summary.steps.find((s) => s.name === step);
  assert.ok(record);
  return (await readLogFile(join(summary.dir, record.log))).map((line) => line.text);
}

describe('gbcms run and plan --from-failed on Docker', await dockerTestOptions(), () => {
  before(async () => {
    await ensureBusyboxImage();
  });

  test('the failed test runs again on the restored build artifact; build does not run; plan says why', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.gbcms.yml'), PIPELINE);
    writeFileSync(join(dir, 'VERSION'), '1.2.3\n');
    writeFileSync(join(dir, 'MODE'), 'fail\n');

    const nothingYet = await gbcms(['plan', dir, '--from-failed'], { cwd: dir });
    assert.equal(nothingYet.code, 2);
    assert.match(
      nothingYet.stderr,
      /^gbcms plan: no earlier run in .*\.gbcms\/runs to re-run from its failed steps$/m,
    );

    const first = await run(dir);
    assert.equal(first.code, 1, first.stderr);
    assert.deepEqual(statuses(first.summary), { build: 'success', test: 'failure', lint: 'success' });
    const firstId = first.summary.id;

    const plan = await gbcms(['plan', dir, '--from-failed'], { cwd: dir });
    assert.equal(plan.code, 0, plan.stderr);
    const started = first.summary.started_at;
    assert.ok(
      plan.stdout.endsWith(
        [
          `re-run from the failed steps of run ${firstId} (failure, started ${started}):`,
          '  build  reuse  succeeded, its artifacts dist are restored',
          '  lint   run    succeeded but declares no artifacts, so its workspace changes cannot be restored',
          '  test   run    failed',
          '',
        ].join('\n'),
      ),
      plan.stdout,
    );

    // The fix: test passes now. Only test and lint run; build's artifact comes from the first run.
    writeFileSync(join(dir, 'MODE'), 'pass\n');
    const again = await run(dir, '--from-failed');
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      new RegExp(`re-run from the failed steps of run ${firstId}: reuses build; runs lint, test`),
    );
    assert.deepEqual(statuses(again.summary), { build: 'reused', test: 'success', lint: 'success' });
    assert.equal(again.summary.rerun_of, firstId);
    const build = again.summary.steps.find((step) => step.name === 'build');
    assert.equal(build?.attempts, 0);
    assert.equal(build.reason, `reused from run ${firstId}: its artifacts dist were restored`);
    // build's command never ran: it has no log at all in the re-run.
    assert.equal(existsSync(join(again.summary.dir, build.log)), false);
    assert.ok((await logTexts(again.summary, 'test')).includes('testing app 1.2.3'));
    // The re-run keeps the restored artifact as its own, so a later re-run can reuse it again.
    assert.deepEqual(
      again.summary.artifacts.map((a) => a.path),
      ['build/dist/app.txt'],
    );
    assert.equal(
      readFileSync(join(again.summary.dir, 'artifacts', 'build', 'dist', 'app.txt'), 'utf8'),
      'app 1.2.3\n',
    );
    // The project itself gained nothing: the artifact went into the run's workspace only.
    assert.equal(existsSync(join(dir, 'dist')), false);

    // A full run gives the same statuses (build ran) and the same test output.
    const full = await run(dir);
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual(statuses(full.summary), { ...statuses(again.summary), build: 'success' });
    assert.deepEqual(await logTexts(full.summary, 'test'), await logTexts(again.summary, 'test'));
    assert.match(
      (await gbcms(['run', dir, '--backend', 'docker', '--from-failed'], { cwd: dir })).stderr,
      new RegExp(
        `^gbcms run: run ${full.summary.id} has no failed, killed, error or skipped steps: nothing to re-run$`,
        'm',
      ),
    );

    // The first run's artifacts removed: build would run again, and plan says why.
    rmSync(join(first.summary.dir, 'artifacts'), { recursive: true });
    const gone = await gbcms(['plan', dir, '--json', '--from-failed', firstId], { cwd: dir });
    assert.equal(gone.code, 0, gone.stderr);
    const planned = JSON.parse(gone.stdout) as {
      from_failed: { run: string; steps: Record<string, unknown> };
    };
    assert.deepEqual(planned.from_failed, {
      run: firstId,
      steps: {
        build: {
          action: 'run',
          reason:
            'succeeded, but its artifacts are no longer kept (build/dist/app.txt was removed, by retention or by hand)',
        },
        test: { action: 'run', reason: 'failed' },
        lint: {
          action: 'run',
          reason: 'succeeded but declares no artifacts, so its workspace changes cannot be restored',
        },
      },
    });
  });
});
