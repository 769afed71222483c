// Reports of a pipeline run (the fake backend prints `::gbcms` lines and fills $GBCMS_REPORTS)
// are stored, streamed with their seq, read back for late subscribers and replayed once ended.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecutionManagerOptions } from '../../server/executions/manager.ts';
import { REPLAY_FIRST_ID } from '../../server/executions/stored-replay.ts';
import type { ExecutionEvent } from '../../server/executions/types.ts';
import type { Project, Store } from '../../server/store/index.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { collectEvents as collect } from './helpers/collect-events.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

async function harness(options: Partial<ExecutionManagerOptions> = {}) {
  const dataDir = await tempDir('gbcms-reports-run-');
  const { logger, warnings: problems } = warningsLogger();
  const { store, manager, close } = await openFakeManagers(dataDir, { logger, ...options });
  onCleanup(close);
  return { store, manager, problems };
}

let projects = 0;
async function projectWith(store: Store, pipeline: string): Promise<Project> {
  const dir = await writePipeline(await tempDir('gbcms-reports-src-'), pipeline);
  projects += 1;
  return store.projects.create({ name: `reports-${projects}`, repo: dir });
}

const REPORTING = `version: 1
steps:
  train:
    image: busybox:stable
    commands: [run]
    env:
      STEP_SLEEP_MS: "300"
      STEP_OUTPUT: "epoch 1\\n::gbcms metric name=loss value=0.5 step=1\\n::gbcms progress 1/2 epoch 1\\n::gbcms metric name=loss value=0.25 step=2\\n::gbcms annotation level=warning title=Slow epoch\\ndone\\n"
      STEP_REPORTS_JSONL: '{"type":"metric","name":"acc","value":0.9,"step":2}'
  evaluate:
    image: busybox:stable
    commands: [run]
    depends_on: [train]
    env:
      STEP_OUTPUT: "::gbcms metric name=score value=7\\n"
`;

function describeEvent(event: ExecutionEvent): string {
  switch (event.type) {
    case 'report': {
      const { report } = event;
      const what = report.type === 'metric' ? `${report.name}=${report.value}` : report.type;
      return `report ${event.step} #${event.seq} ${what}`;
    }
    case 'log':
      return `log ${event.step} ${event.line.text}${event.line.report ? ' (report)' : ''}`;
    case 'step':
      return `step ${event.step.name} ${event.step.status}`;
    case 'status':
    case 'end':
      return `${event.type} ${event.execution.status}`;
    default:
      return event.type;
  }
}

describe('reports of a pipeline run', () => {
  test('are stored, streamed once stored (with their seq) and replayed after the logs of their step', async () => {
    const { store, manager, problems } = await harness({ endedStreamMs: 0, reportFlushMs: 50 });
    const project = await projectWith(store, REPORTING);
    const execution = await manager.start({
      project,
      trigger: { event: 'manual', branch: 'main' },
      source: { kind: 'project' },
    });
    const live = await collect(manager, execution.id);
    const end = live.at(-1);
    assert.equal(end?.type === 'end' ? end.execution.status : undefined, 'success');
    assert.deepEqual(problems, []);

    const liveReports = live.filter((e) => e.type === 'report').map(describeEvent);
    assert.deepEqual(liveReports.sort(), [
      'report evaluate #6 score=7',
      'report train #1 loss=0.5',
      'report train #2 progress',
      'report train #3 loss=0.25',
      'report train #4 annotation',
      'report train #5 acc=0.9',
    ]);
    const reportLines = live.filter((e) => e.type === 'log' && e.line.report).map(describeEvent);
    assert.equal(reportLines.length, 5, 'the report lines are flagged in the live log');
    const lastTrainReport = live.findIndex((e) => e.type === 'report' && e.seq === 5);
    const firstTrainLog = live.findIndex((e) => e.type === 'log' && e.step === 'train');
    assert.ok(firstTrainLog < lastTrainReport);

    const stored = await store.reports.list({ executionId: execution.id });
    assert.deepEqual(
      stored.items.map((item) => `${item.step} #${item.seq} ${item.report.type}`),
      [
        'train #1 metric',
        'train #2 progress',
        'train #3 metric',
        'train #4 annotation',
        'train #5 metric',
        'evaluate #6 metric',
      ],
    );
    assert.deepEqual(await store.reports.metricNames(execution.id), [
      { step: 'evaluate', name: 'score', count: 1 },
      { step: 'train', name: 'acc', count: 1 },
      { step: 'train', name: 'loss', count: 2 },
    ]);

    // The live stream is gone (endedStreamMs: 0): what follows is the stored replay.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const replay = await collect(manager, execution.id);
    const again = await collect(manager, execution.id);
    assert.deepEqual(replay, again, 'the same events with the same ids every time');
    assert.equal(replay[0]?.id, REPLAY_FIRST_ID);
    assert.deepEqual(replay.filter((e) => e.type !== 'step').map(describeEvent), [
      'status success',
      'log train epoch 1',
      'log train ::gbcms metric name=loss value=0.5 step=1 (report)',
      'log train ::gbcms progress 1/2 epoch 1 (report)',
      'log train ::gbcms metric name=loss value=0.25 step=2 (report)',
      'log train ::gbcms annotation level=warning title=Slow epoch (report)',
      'log train done',
      'report train #1 loss=0.5',
      'report train #2 progress',
      'report train #3 loss=0.25',
      'report train #4 annotation',
      'report train #5 acc=0.9',
      'log evaluate ::gbcms metric name=score value=7 (report)',
      'report evaluate #6 score=7',
      'end success',
    ]);
    const replayed = replay.find((e) => e.type === 'report' && e.seq === 1);
    const streamed = live.find((e) => e.type === 'report' && e.seq === 1);
    assert.deepEqual(
      replayed?.type === 'report' ? replayed.report : undefined,
      streamed?.type === 'report' ? streamed.report : undefined,
      'a replayed report is the report that was streamed',
    );
  });

  test('a subscriber far behind gets report events read back from the store, with their ids', async () => {
    const many = Array.from({ length: 300 }, (_, i) => `::gbcms metric name=m value=${i} step=${i}`).join(
      '\\n',
    );
    const pipeline = `version: 1
steps:
  flood:
    image: busybox:stable
    commands: [run]
    env:
      STEP_OUTPUT: "${many}\\n"
`;
    // Ten events in memory: nearly every event is evicted by the end.
    const { store, manager } = await harness({ maxBufferedEvents: 10, reportFlushMs: 10 });
    const project = await projectWith(store, pipeline);
    const execution = await manager.start({
      project,
      trigger: { event: 'manual', branch: 'main' },
      source: { kind: 'project' },
    });
    const live = await collect(manager, execution.id);
    const late = await collect(manager, execution.id);
    assert.deepEqual(late, live);
    const reports = late.filter((e) => e.type === 'report');
    assert.equal(reports.length, 300);
    assert.deepEqual(
      reports.map((e) => (e.type === 'report' ? e.seq : 0)),
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
  });
});
