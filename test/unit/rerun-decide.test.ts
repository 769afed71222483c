import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ArtifactRecord } from '../../engine/backends/types.ts';
import type { Plan } from '../../engine/plan.ts';
import { decideReuse, hasFailedSteps, type OriginalRun } from '../../engine/rerun/decide.ts';
import type { StepStatus } from '../../engine/status.ts';
import { planOf } from '../helpers/plans.ts';

const image = 'busybox:stable';

/** build (artifacts dist/ and version.txt as meta/version) -> test; lint beside them without artifacts. */
function pipeline(): Plan {
  return planOf({
    build: {
      image,
      commands: ['make'],
      artifacts: ['dist/', { path: 'version.txt', name: 'meta/version' }],
    },
    test: { image, commands: ['make test'], depends_on: ['build'], artifacts: ['report.xml'] },
    lint: { image, commands: ['make lint'] },
  });
}

function artifact(step: string, path: string): ArtifactRecord {
  return { step, path, size: 1, sha256: '0'.repeat(64) };
}

const BUILD_ARTIFACTS = [
  artifact('build', 'build/dist/app.js'),
  artifact('build', 'build/dist/lib/util.js'),
  artifact('build', 'build/meta/version'),
];

function original(statuses: Record<string, StepStatus>, artifacts = BUILD_ARTIFACTS): OriginalRun {
  return {
    id: 'run-1',
    steps: Object.entries(statuses).map(([name, status]) => ({ name, status })),
    artifacts,
  };
}

const allKept = (run: OriginalRun) => new Set(run.artifacts.map((a) => a.path));

function summary(plan: Plan, run: OriginalRun, kept = allKept(run)): Record<string, string> {
  const decided = decideReuse(plan, run, kept);
  return Object.fromEntries([...decided.steps].map(([name, d]) => [name, `${d.action}: ${d.reason}`]));
}

describe('re-run from the failed steps: which steps are reused', () => {
  test('a succeeded step with kept artifacts is reused; the failed one and one without artifacts run', () => {
    const plan = pipeline();
    const run = original({ build: 'success', test: 'failure', lint: 'success' });
    assert.deepEqual(summary(plan, run), {
      build: 'reuse: succeeded, its artifacts dist, version.txt are restored',
      test: 'run: failed',
      lint: 'run: succeeded but declares no artifacts, so its workspace changes cannot be restored',
    });
  });

  test('reused files go back where they were collected from, a renamed artifact included', () => {
    const plan = pipeline();
    const decided = decideReuse(
      plan,
      original({ build: 'success', test: 'failure', lint: 'success' }),
      allKept(original({})),
    );
    const build = decided.steps.get('build');
    assert.equal(build?.action, 'reuse');
    assert.deepEqual(
      build.action === 'reuse' && build.restore.map((r) => [r.artifact.path, r.workspacePath]),
      [
        ['build/dist/app.js', 'dist/app.js'],
        ['build/dist/lib/util.js', 'dist/lib/util.js'],
        ['build/meta/version', 'version.txt'],
      ],
    );
    assert.equal(decided.from, 'run-1');
  });

  test('killed, error and skipped steps run again, each saying why', () => {
    const plan = pipeline();
    const run = original({ build: 'killed', test: 'skipped', lint: 'error' });
    assert.deepEqual(summary(plan, run), {
      build: 'run: was killed',
      test: 'run: was skipped',
      lint: 'run: ended with an error',
    });
  });

  test('a succeeded step after a dependency that runs again runs again, even with artifacts', () => {
    const plan = planOf({
      build: { image, commands: ['make'] },
      test: { image, commands: ['t'], depends_on: ['build'], artifacts: ['out'] },
      deploy: { image, commands: ['d'], depends_on: ['test'] },
    });
    const run = original({ build: 'success', test: 'success', deploy: 'failure' }, [
      artifact('test', 'test/out'),
    ]);
    assert.deepEqual(summary(plan, run), {
      build: 'run: succeeded but declares no artifacts, so its workspace changes cannot be restored',
      test: "run: succeeded, but it depends on 'build', which runs again",
      deploy: 'run: failed',
    });
  });

  test('the rule is transitive: a chain of reused steps stays reused, the first one run again breaks it', () => {
    const plan = planOf({
      a: { image, commands: ['a'], artifacts: ['a.txt'] },
      b: { image, commands: ['b'], depends_on: ['a'], artifacts: ['b.txt'] },
      c: { image, commands: ['c'], depends_on: ['b'], artifacts: ['c.txt'] },
      d: { image, commands: ['d'], depends_on: ['c'] },
    });
    const records = ['a', 'b', 'c'].map((s) => artifact(s, `${s}/${s}.txt`));
    const run = original({ a: 'success', b: 'success', c: 'success', d: 'failure' }, records);
    assert.deepEqual(
      Object.values(summary(plan, run)).map((s) => s.split(':')[0]),
      ['reuse', 'reuse', 'reuse', 'run'],
    );
    const withoutA = new Set(['b/b.txt', 'c/c.txt']);
    assert.deepEqual(summary(plan, run, withoutA), {
      a: 'run: succeeded, but its artifacts are no longer kept (a/a.txt was removed, by retention or by hand)',
      b: "run: succeeded, but it depends on 'a', which runs again",
      c: "run: succeeded, but it depends on 'b', which runs again",
      d: 'run: failed',
    });
  });

  test('artifacts removed since (retention) or never collected make the step run again', () => {
    const plan = pipeline();
    const statuses = { build: 'success', test: 'failure', lint: 'success' } as const;
    const gone = summary(plan, original(statuses), new Set(['build/dist/app.js', 'build/meta/version']));
    assert.equal(
      gone.build,
      'run: succeeded, but its artifacts are no longer kept (build/dist/lib/util.js was removed, by retention or by hand)',
    );
    const uncollected = summary(plan, original(statuses, BUILD_ARTIFACTS.slice(0, 2)));
    assert.equal(
      uncollected.build,
      "run: succeeded, but its artifact 'version.txt' was not collected, so it cannot be restored",
    );
  });

  test('a step reused by an earlier re-run counts as succeeded; a step new since runs', () => {
    const plan = pipeline();
    const run = original({ build: 'reused', test: 'failure' });
    const decided = summary(plan, run);
    assert.equal(decided.build, 'reuse: succeeded, its artifacts dist, version.txt are restored');
    assert.equal(decided.lint, 'run: is not in the original run');
  });

  test('a step this trigger skips is not reused', () => {
    const plan = planOf({
      build: { image, commands: ['make'], artifacts: ['dist'], when: { branch: 'release' } },
      test: { image, commands: ['t'] },
    });
    const run = original({ build: 'success', test: 'failure' }, [artifact('build', 'build/dist/x')]);
    assert.match(summary(plan, run).build ?? '', /^run: succeeded, but this trigger skips it: /);
  });

  test('only a run with failed, killed, error or skipped steps has anything to re-run', () => {
    assert.equal(hasFailedSteps(original({ build: 'success', test: 'reused' })), false);
    for (const status of ['failure', 'killed', 'error', 'skipped'] as const) {
      assert.equal(hasFailedSteps(original({ build: 'success', test: status })), true, status);
    }
  });
});
