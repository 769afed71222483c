// How `gbcms run` words things: counts agree with their number (1 step, 2 steps), a failure
// that allow_failure lets pass says so on its line and in the summary, and the live view
// leaves no spinner behind when Ctrl-C interrupts a run.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { count } from '../../engine/cli/count.ts';
import { painter, runSummary, stepSummary } from '../../engine/cli/reporters/format.ts';
import { liveReporter } from '../../engine/cli/reporters/live.ts';
import { plainReporter } from '../../engine/cli/reporters/plain.ts';
import { ReportsView } from '../../engine/cli/reporters/reports-view.ts';
import type { RunRecord, StepRecord } from '../../engine/run-record.ts';
import { gbcms } from '../helpers/cli.ts';
import { pollUntil } from '../helpers/poll.ts';
import { fakeTerminal, screen } from '../helpers/screen.ts';

const T = '2026-01-02T03:04:05.000Z';
const paint = painter(false);
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function step(name: string, status: StepRecord['status'], more: Partial<StepRecord> = {}): StepRecord {
  return {
    name,
    status,
    exit_code: status === 'failure' ? 3 : status === 'success' ? 0 : null,
    reason: status === 'failure' ? 'exit code 3' : null,
    started_at: T,
    ended_at: status === 'running' ? null : T,
    duration_ms: status === 'running' ? null : 1200,
    attempts: 1,
    log: `logs/${name}.log`,
    ...more,
  };
}

function run(steps: StepRecord[], more: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r1',
    pipeline: 'demo',
    status: 'success',
    reason: null,
    backend: 'local',
    trigger: { event: 'manual' },
    started_at: T,
    ended_at: T,
    duration_ms: 2000,
    steps,
    artifacts: [],
    reports: {},
    ...more,
  } as RunRecord;
}

describe('counts', () => {
  test('one is singular, every other number plural', () => {
    assert.equal(count(1, 'step'), '1 step');
    assert.equal(count(0, 'step'), '0 steps');
    assert.equal(count(2, 'step'), '2 steps');
    assert.equal(count(1, 'process', 'processes'), '1 process');
    assert.equal(count(3, 'process', 'processes'), '3 processes');
  });

  test('the run summary counts one artifact and one test in the singular, metric points in the plural', () => {
    const record = run([step('build', 'success')], {
      artifacts: [{ step: 'build', path: 'dist/app.js', size: 10, sha256: 'x'.repeat(64) }],
      reports: {
        build: { tests: { tests: 1, failures: 0, errors: 0, skipped: 0 } },
      } as unknown as RunRecord['reports'],
    });
    const summary = runSummary(record, paint, '.gbcms/runs/r1');
    assert.match(summary, /^ {2}build: 1 test, 0 failed$/m);
    assert.match(summary, /^ {2}1 artifact in \.gbcms\/runs\/r1\/artifacts$/m);
    assert.doesNotMatch(summary, /\(s\)/);
    const view = new ReportsView();
    view.add('train', { type: 'metric', name: 'loss', value: 0.5, time: T });
    view.add('train', { type: 'metric', name: 'loss', value: 0.4, time: T });
    assert.match(view.metricSummary('train') ?? '', /2 points/);
  });
});

describe('allowed failures', () => {
  const allowed = new Set(['lint']);

  test('the step line and the summary say the failure was allowed', () => {
    assert.equal(
      stepSummary(step('lint', 'failure'), allowed),
      'failure (allowed by allow_failure), 1.2s, exit code 3',
    );
    // A failure allow_failure does not cover reads as it always did.
    assert.equal(stepSummary(step('test', 'failure'), allowed), 'failure, 1.2s, exit code 3');
    const summary = runSummary(run([step('build', 'success'), step('lint', 'failure')]), paint, 'r', allowed);
    assert.match(summary, /^✓ run success in 2\.0s \(1 success, 1 failure allowed by allow_failure\)$/m);
    assert.match(summary, /^ {2}failed, allowed by allow_failure: lint$/m);
  });

  test('the plain and the live reporters print it on the step line', () => {
    const plain = fakeTerminal();
    plainReporter(plain.out, paint, { allowed }).onEvent({ type: 'step', step: step('lint', 'failure') });
    assert.equal(plain.text(), '✗ lint: failure (allowed by allow_failure), 1.2s, exit code 3\n');
    const live = fakeTerminal();
    const reporter = liveReporter(live.out, paint, allowed);
    reporter.onEvent({ type: 'step', step: step('lint', 'failure') });
    reporter.close();
    assert.deepEqual(screen(live.text()).filter(Boolean), [
      '✗ lint: failure (allowed by allow_failure), 1.2s, exit code 3',
    ]);
  });

  test('gbcms run: a step allowed to fail, its run a success, all said so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gbcms-wording-'));
    dirs.push(dir);
    await writeFile(
      join(dir, '.gbcms.yml'),
      'version: 1\nname: wording\nsteps:\n  lint:\n    image: busybox:stable\n    allow_failure: true\n    commands: ["echo checking", "exit 3"]\n',
    );
    const { code, stdout, stderr } = await gbcms(['run', '--backend', 'local'], { cwd: dir });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^gbcms run wording \(local, 1 step, manual\)$/m);
    assert.match(stdout, /^✗ lint: failure \(allowed by allow_failure\), [\d.]+m?s, exit code 3$/m);
    assert.match(stdout, /^✓ run success in [\d.]+m?s \(1 failure allowed by allow_failure\)$/m);
    assert.match(stdout, /^ {2}failed, allowed by allow_failure: lint$/m);
    assert.doesNotMatch(stdout, /1 steps/);
  });
});

describe('Ctrl-C and the live view', () => {
  async function spinning() {
    const term = fakeTerminal();
    const reporter = liveReporter(term.out, paint);
    reporter.onEvent({ type: 'step', step: step('build', 'running') });
    reporter.onEvent({ type: 'step', step: step('test', 'running') });
    // Let the spinner turn a few frames, as it does while a person waits.
    const frames = term.text().length;
    await pollUntil('the spinner to turn', () => term.text().length > frames, 20);
    return { term, reporter };
  }

  test('the first Ctrl-C: its message goes above the live view, which then goes away cleanly', async () => {
    const { term, reporter } = await spinning();
    reporter.notice('terminating: stopping steps and removing containers (Ctrl-C again to quit now)');
    await sleep(150);
    reporter.onEvent({ type: 'step', step: step('build', 'killed', { reason: 'terminated' }) });
    reporter.onEvent({ type: 'step', step: step('test', 'killed', { reason: 'terminated' }) });
    reporter.close();
    const shown = screen(term.text()).filter(Boolean);
    assert.deepEqual(shown, [
      'terminating: stopping steps and removing containers (Ctrl-C again to quit now)',
      '■ build: killed, 1.2s, terminated',
      '■ test: killed, 1.2s, terminated',
    ]);
  });

  test('the second Ctrl-C: the view is erased before gbcms quits, no spinner left', async () => {
    const { term, reporter } = await spinning();
    assert.match(screen(term.text()).join('\n'), SPINNER);
    reporter.close();
    reporter.close();
    assert.deepEqual(screen(term.text()).filter(Boolean), []);
  });

  test('how it was: a line written below the view leaves a spinner in the scrollback', async () => {
    // What the first Ctrl-C used to do, for contrast: the screen model sees the stale line.
    const { term, reporter } = await spinning();
    term.out.write('\nterminating\n');
    await sleep(150);
    reporter.close();
    assert.match(screen(term.text()).join('\n'), SPINNER);
  });
});
