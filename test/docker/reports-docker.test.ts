// Step reports on a real Docker engine: `::gbcms` lines and $GBCMS_REPORTS lines arrive as
// events while the step still runs, report lines are flagged, JUnit files are read after the
// step (even a failed one), and `gbcms run --json` carries the summary.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readStepFile } from '../../engine/artifacts/read-file.ts';
import { DockerBackend } from '../../engine/backends/docker/backend.ts';
import { removeRunResources } from '../../engine/backends/docker/cleanup.ts';
import type { RunContext } from '../../engine/backends/types.ts';
import type { RunEvent } from '../../engine/events.ts';
import { type LogLine, readLogFile } from '../../engine/logs/log-line.ts';

import { reportsFileOf } from '../../engine/plan.ts';
import { readReports } from '../../engine/reports/reports-file.ts';
import type { Report } from '../../engine/reports/types.ts';
import { runPipeline } from '../../engine/run.ts';
import { readRunInputs } from '../../engine/run-inputs.ts';
import type { RunRecord } from '../../engine/run-record.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/build-images.ts';
import { gbcms } from '../helpers/cli.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { planOf, tempDir } from '../helpers/plans.ts';

const image = BUSYBOX_IMAGE;
const runIds: string[] = [];

const JUNIT =
  '<testsuites><testsuite name="unit"><testcase name="adds" classname="calc"/><testcase name="divides" classname="calc"><failure message="expected 2">AssertionError: expected 2, got 3</failure></testcase></testsuite></testsuites>';

interface Seen {
  at: number;
  event: RunEvent;
}

async function runOnDocker(steps: Parameters<typeof planOf>[0], options: Parameters<typeof planOf>[1] = {}) {
  const seen: Seen[] = [];
  const runsDir = tempDir();
  const plan = planOf(steps, options);
  const id = randomBytes(16).toString('base64url');
  runIds.push(id);
  const run = await runPipeline(plan, {
    backend: new DockerBackend(),
    runsDir,
    id,
    observer: (event) => seen.push({ at: Date.now(), event }),
  });
  return { run, plan, seen, dir: join(runsDir, run.id) };
}

function reports(seen: Seen[], step: string): Array<Report & { at: number }> {
  return seen.flatMap(({ at, event }) =>
    event.type === 'report' && event.step === step ? [{ ...event.report, at }] : [],
  );
}

function stepEndedAt(seen: Seen[], step: string): number {
  const end = seen.find(
    ({ event }) =>
      event.type === 'step' &&
      event.step.name === step &&
      event.step.status !== 'running' &&
      event.step.status !== 'pending',
  );
  assert.ok(end, `step ${step} ended`);
  return end.at;
}

describe('step reports on Docker', await dockerTestOptions(), () => {
  before(async () => {
    await ensureBusyboxImage();
  });

  after(async () => {
    const { default: Docker } = await import('dockerode');
    const docker = new Docker();
    for (const id of runIds) await removeRunResources(docker, id).catch(() => undefined);
  });

  let train: Awaited<ReturnType<typeof runOnDocker>>;

  test('lines and $GBCMS_REPORTS arrive as events while the step runs', async () => {
    train = await runOnDocker({
      train: {
        image,
        commands: [
          'echo "reports go to $GBCMS_REPORTS"',
          'echo "::gbcms progress 1/2 warming up"',
          'echo "::gbcms metric name=loss value=0.5 step=1"',
          `echo '{"type":"metric","name":"acc","value":0.75,"step":1}' >> "$GBCMS_REPORTS"`,
          'sleep 2',
          `echo '{"type":"metric","name":"acc","value":0.8,"step":2}' >> "$GBCMS_REPORTS"`,
          // No newline: read once the step has ended.
          `printf '{"type":"progress","done":2,"total":2}' >> "$GBCMS_REPORTS"`,
          'echo "::gbcms annotation level=warning file=src/a.ts line=3 title=Slow test"',
          'echo "::gbcms metric name=loss value=NaN"',
          `mkdir -p out && printf '%s' '${JUNIT}' > out/junit.xml`,
          'exit 3',
        ],
        reports: { junit: 'out/junit.xml' },
      },
    });
    const { run, seen } = train;
    assert.equal(run.steps[0]?.status, 'failure');
    const ended = stepEndedAt(seen, 'train');
    const got = reports(seen, 'train');
    const bare = (r: Report & { at?: number }) => {
      const { at: _at, time: _time, ...rest } = r;
      return rest;
    };
    // Lines and file points come by different paths: each keeps its own order, not the other's.
    const key = (r: object) => JSON.stringify(r);
    assert.deepEqual(
      got.map(bare).sort((a, b) => key(a).localeCompare(key(b))),
      [
        { type: 'progress', done: 1, total: 2, message: 'warming up' },
        { type: 'metric', name: 'loss', value: 0.5, step: 1 },
        { type: 'metric', name: 'acc', value: 0.75, step: 1 },
        { type: 'metric', name: 'acc', value: 0.8, step: 2 },
        { type: 'annotation', level: 'warning', file: 'src/a.ts', line: 3, title: 'Slow test' },
        { type: 'progress', done: 2, total: 2 },
        {
          type: 'tests',
          tests: 2,
          failures: 1,
          errors: 0,
          skipped: 0,
          duration_ms: 0,
          failed: [
            {
              suite: 'unit',
              name: 'divides',
              classname: 'calc',
              message: 'expected 2',
              output: 'AssertionError: expected 2, got 3',
            },
          ],
        },
      ].sort((a, b) => key(a).localeCompare(key(b))),
    );
    const acc = got
      .filter((r) => r.type === 'metric' && r.name === 'acc')
      .map((r) => (r.type === 'metric' ? r.value : 0));
    assert.deepEqual(acc, [0.75, 0.8]);
    // The step sleeps 2 s after its first reports: the line reports and the first file point
    // (polled once a second) come while it still runs.
    const early = [
      got.find((r) => r.type === 'progress' && r.done === 1),
      got.find((r) => r.type === 'metric' && r.name === 'loss'),
      got.find((r) => r.type === 'metric' && r.value === 0.75),
    ];
    for (const report of early) {
      assert.ok(report);
      assert.ok(ended - report.at >= 800, `${report.type} came only ${ended - report.at} ms before the end`);
    }
  });

  test('the run summary and the stored points', async () => {
    const { run, dir, seen } = train;
    assert.deepEqual(run.reports.train?.metrics, {
      loss: { last: 0.5, count: 1, min: 0.5, max: 0.5 },
      acc: { last: 0.8, count: 2, min: 0.75, max: 0.8 },
    });
    assert.deepEqual(run.reports.train?.progress, { done: 2, total: 2 });
    assert.equal(run.reports.train?.tests?.failures, 1);
    const stored: Report[] = [];
    for await (const report of readReports(join(dir, 'reports', 'train.jsonl'))) stored.push(report);
    assert.deepEqual(
      stored,
      reports(seen, 'train').map(({ at: _at, ...r }) => r),
    );
  });

  test('report lines reach observers flagged, stay in the log file, and the step saw its path', async () => {
    const { seen, dir, plan } = train;
    const lines = seen.flatMap(({ event }) => (event.type === 'log' ? [event.line] : []));
    const flagged = lines.filter((l: LogLine) => l.report).map((l) => l.text);
    assert.deepEqual(flagged, [
      '::gbcms progress 1/2 warming up',
      '::gbcms metric name=loss value=0.5 step=1',
      '::gbcms annotation level=warning file=src/a.ts line=3 title=Slow test',
    ]);
    const log = await readLogFile(join(dir, 'logs', 'train.log'));
    const texts = log.map((l) => l.text);
    for (const text of flagged) assert.ok(texts.includes(text), `${text} is in the log file`);
    assert.ok(texts.includes('::gbcms metric name=loss value=NaN'), 'an invalid report line stays as text');
    assert.ok(
      texts.includes(
        `reports go to /workspace/${reportsFileOf(plan.steps.find((s) => s.name === 'train')!)}`,
      ),
    );
    assert.ok(texts.includes("JUnit report 'out/junit.xml': 2 tests, 1 failed, 0 errors, 0 skipped"));
  });

  test('report lines are flagged in the log file itself', async () => {
    const log = await readLogFile(join(train.dir, 'logs', 'train.log'));
    const line = log.find((l) => l.text === '::gbcms metric name=loss value=0.5 step=1');
    assert.equal(line?.report, true);
  });

  test('a step running as another user can write its reports file too', async () => {
    // A checkout is usually 0755: other users can enter the workspace but not write to it.
    const workspace = tempDir();
    chmodSync(workspace, 0o755);
    const { run, seen } = await runOnDocker(
      {
        first: { image, commands: ['echo "::gbcms metric name=a value=1"'] },
        second: {
          environment: 'other',
          commands: [`echo '{"type":"metric","name":"b","value":2}' >> "$GBCMS_REPORTS"`, 'id -u'],
        },
      },
      { environments: { other: { image, user: '2000:2000' } }, workspace },
    );
    assert.deepEqual(
      run.steps.map((s) => s.status),
      ['success', 'success'],
    );
    assert.deepEqual(
      reports(seen, 'second').map((r) => (r.type === 'metric' ? `${r.name}=${r.value}` : r.type)),
      ['b=2'],
    );
  });

  test("a reports path the step broke is told in container paths, never the host's", async () => {
    // The reports folder replaced by a file: Docker's own error names the host's overlay path.
    const { run, dir } = await runOnDocker({
      broken: {
        image,
        commands: ['rm -rf /workspace/.gbcms/reports', 'echo x > /workspace/.gbcms/reports', 'sleep 1'],
        reports: { junit: 'out/junit.xml' },
      },
    });
    assert.equal(run.steps[0]?.status, 'success');
    const texts = (await readLogFile(join(dir, 'logs', 'broken.log'))).map((l) => l.text);
    const notice = texts.find((t) => t.includes('$GBCMS_REPORTS'));
    assert.ok(notice, texts.join('\n'));
    assert.match(notice, /\/workspace\/\.gbcms\/reports\/broken\.jsonl: not a directory/);
    assert.doesNotMatch(texts.join('\n'), /\/var\/lib\/docker|overlay2|_data/);
  });

  test('readStepFile through fetchArchive: offsets, limits, and no following of symlinks', async () => {
    const backend = new DockerBackend();
    const plan = planOf({
      files: {
        image,
        commands: [
          'printf "0123456789" > data.txt',
          'ln -s /etc/passwd .gbcms/reports/files.jsonl',
          'mkdir folder',
        ],
      },
    });
    const id = randomBytes(16).toString('base64url');
    runIds.push(id);
    const run: RunContext = {
      id,
      plan,
      dir: tempDir(),
      secrets: {},
      env: {},
      notice: () => undefined,
    };
    const step = plan.steps[0]!;
    try {
      await backend.setupRun(run, await readRunInputs(plan, run.notice));
      await backend.startStep(step, run);
      const exit = await backend.waitStep(step, run, new AbortController().signal, 1000);
      assert.equal(exit.exitCode, 0);
      const read = (path: string, from: number, max?: number) =>
        readStepFile(backend, step, run, path, from, max);
      assert.equal((await read('data.txt', 0))?.toString(), '0123456789');
      assert.equal((await read('data.txt', 4, 3))?.toString(), '456');
      assert.equal((await read('data.txt', 20))?.length, 0);
      assert.equal(await read('missing.txt', 0), undefined);
      assert.equal(await read('folder', 0), undefined);
      assert.equal(await read('.gbcms/reports/files.jsonl', 0), undefined);
      assert.equal(await read('../etc/passwd', 0), undefined);
      await backend.destroyStep(step, run);
      assert.equal(await read('data.txt', 0), undefined);
    } finally {
      await backend.destroyRun(run.id);
    }
  });

  test('gbcms run --json carries the reports summary', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, '.gbcms.yml'),
      [
        'version: 1',
        'steps:',
        '  fit:',
        `    image: ${image}`,
        '    commands:',
        '      - echo "::gbcms metric name=loss value=0.25 step=3"',
        '      - echo "::gbcms progress 3/3 done"',
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await gbcms(['run', dir, '--backend', 'docker', '--json'], { cwd: dir });
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as RunRecord;
    runIds.push(summary.id);
    assert.deepEqual(summary.reports, {
      fit: {
        metrics: { loss: { last: 0.25, count: 1, min: 0.25, max: 0.25 } },
        annotations: [],
        progress: { done: 3, total: 3, message: 'done' },
      },
    });
    assert.doesNotMatch(stderr, /^fit \| ::gbcms/m, 'report lines are not in the progress output');
    assert.match(stderr, /^fit \| \+ echo "::gbcms metric/m, 'the command echo is ordinary output');
    assert.match(stderr, /fit \| metrics: loss=0\.25/);
  });
});
