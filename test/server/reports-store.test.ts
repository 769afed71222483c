import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Report } from '../../engine/reports/types.ts';
import type { Execution, Project, Store } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';

forEachDatabase((databases) => {
  let dir: string;
  let store: Store;
  let project: Project;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gbcms-reports-store-'));
    store = await databases.openStore(dir);
    project = await store.projects.create({ name: 'ml', repo: '/srv/git/ml.git' });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function newExecution(): Promise<Execution> {
    return store.executions.create({ project_id: project.id, trigger: { event: 'api' } });
  }

  const time = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString();
  const metric = (name: string, value: number, step?: number, at = 0): Report =>
    step === undefined
      ? { type: 'metric', name, value, time: time(at) }
      : { type: 'metric', name, value, step, time: time(at) };

  describe('reports store', () => {
    test('10,000 reports in one call are stored in one go: one run of seqs, even beside another batch', async () => {
      const execution = await newExecution();
      const reports = Array.from({ length: 10_000 }, (_, i) => metric('loss', 1 / (i + 1), i, i));
      // Another batch for the same execution at the same time: which one goes first is not
      // defined, but neither may land in the middle of the other.
      const others = Array.from({ length: 10_000 }, (_, i) => metric('acc', i / 10_000, i, i));
      const [stored, other] = await Promise.all([
        store.reports.addBatch(execution.id, 'train', reports),
        store.reports.addBatch(execution.id, 'eval', others),
      ]);
      const run = (batch: { seq: number }[]) => {
        const first = batch[0]?.seq ?? 0;
        return {
          first,
          contiguous: batch.every((entry, i) => entry.seq === first + i),
          length: batch.length,
        };
      };
      const runs = [run(stored), run(other)].sort((x, y) => x.first - y.first);
      assert.deepEqual(runs, [
        { first: 1, contiguous: true, length: 10_000 },
        { first: 10_001, contiguous: true, length: 10_000 },
      ]);
      assert.equal(await store.reports.lastSeq(execution.id), 20_000);

      const first = run(stored).first;
      const page = await store.reports.list({
        executionId: execution.id,
        step: 'train',
        after: first + 9_997,
      });
      assert.deepEqual(page, {
        items: [
          { seq: first + 9_998, step: 'train', report: metric('loss', 1 / 9_999, 9_998, 9_998) },
          { seq: first + 9_999, step: 'train', report: metric('loss', 1 / 10_000, 9_999, 9_999) },
        ],
        next: null,
      });
    });

    test('a batch that fails is stored not at all, and numbering goes on after the last stored', async () => {
      const execution = await newExecution();
      await store.reports.addBatch(execution.id, 'a', [metric('x', 1)]);
      // A report whose data cannot be serialised (a BigInt) fails half-way through the batch.
      const broken = { type: 'progress', done: 1n, total: 2, time: time(0) } as unknown as Report;
      await assert.rejects(store.reports.addBatch(execution.id, 'a', [metric('x', 2), broken]));
      assert.equal(await store.reports.lastSeq(execution.id), 1);
      const stored = await store.reports.addBatch(execution.id, 'a', [metric('x', 3)]);
      assert.deepEqual(
        stored.map((r) => r.seq),
        [2],
      );
    });

    test('every report type reads back as it was written', async () => {
      const execution = await newExecution();
      const reports: Report[] = [
        metric('acc', 0.5),
        metric('acc', 0, 3),
        { type: 'progress', done: 3, total: 10, message: 'epoch 3', time: time(1) },
        { type: 'progress', done: 0.5, total: 1, time: time(2) },
        {
          type: 'annotation',
          level: 'warning',
          file: 'src/a.ts',
          line: 3,
          title: 'Slow',
          message: 'took 3 s',
          time: time(3),
        },
        {
          type: 'tests',
          tests: 3,
          failures: 1,
          errors: 0,
          skipped: 1,
          duration_ms: 12,
          failed: [{ suite: 's', name: 'n', classname: 'c', message: 'boom', output: 'trace' }],
          time: time(4),
        },
      ];
      await store.reports.addBatch(execution.id, 'step one', reports);
      const page = await store.reports.list({ executionId: execution.id });
      assert.deepEqual(
        page.items.map((item) => item.report),
        reports,
      );
      assert.ok(page.items.every((item) => item.step === 'step one'));
    });

    test('lists filter by type, name and step, and page with after/next', async () => {
      const execution = await newExecution();
      await store.reports.addEntries(execution.id, [
        { step: 'train', report: metric('loss', 3, 0) },
        { step: 'train', report: metric('acc', 0.1, 0) },
        { step: 'eval', report: metric('loss', 4, 0) },
        { step: 'train', report: { type: 'progress', done: 1, total: 3, time: time(1) } },
        { step: 'train', report: metric('loss', 2, 1) },
        { step: 'train', report: metric('loss', 1, 2) },
      ]);
      const losses = await store.reports.list({ executionId: execution.id, type: 'metric', name: 'loss' });
      assert.deepEqual(
        losses.items.map((i) => [i.seq, i.step, i.report.type === 'metric' ? i.report.value : NaN]),
        [
          [1, 'train', 3],
          [3, 'eval', 4],
          [5, 'train', 2],
          [6, 'train', 1],
        ],
      );
      const trainLoss = await store.reports.list({
        executionId: execution.id,
        name: 'loss',
        step: 'train',
        limit: 2,
      });
      assert.deepEqual(
        trainLoss.items.map((i) => i.seq),
        [1, 5],
      );
      assert.equal(trainLoss.next, 5);
      const rest = await store.reports.list({
        executionId: execution.id,
        name: 'loss',
        step: 'train',
        limit: 2,
        after: trainLoss.next ?? 0,
      });
      assert.deepEqual(
        rest.items.map((i) => i.seq),
        [6],
      );
      assert.equal(rest.next, null);
      const progress = await store.reports.list({ executionId: execution.id, type: 'progress' });
      assert.deepEqual(
        progress.items.map((i) => i.seq),
        [4],
      );
      assert.deepEqual(
        (await store.reports.range(execution.id, 2, 4)).map((i) => i.seq),
        [2, 3, 4],
      );
      assert.deepEqual(await store.reports.metricNames(execution.id), [
        { step: 'eval', name: 'loss', count: 1 },
        { step: 'train', name: 'acc', count: 1 },
        { step: 'train', name: 'loss', count: 3 },
      ]);
      assert.deepEqual(await store.reports.steps(execution.id), ['train', 'eval']);
    });

    test('page sizes are clamped: at least 1, at most 10,000', async () => {
      const execution = await newExecution();
      await store.reports.addBatch(
        execution.id,
        's',
        Array.from({ length: 10_005 }, (_, i) => metric('m', i)),
      );
      const big = await store.reports.list({ executionId: execution.id, limit: 1_000_000 });
      assert.equal(big.items.length, 10_000);
      assert.equal(big.next, 10_000);
      const small = await store.reports.list({ executionId: execution.id, limit: 0 });
      assert.equal(small.items.length, 1);
      const byDefault = await store.reports.list({ executionId: execution.id });
      assert.equal(byDefault.items.length, 1000);
    });

    test("deleting an execution deletes its reports; other executions' are kept", async () => {
      const gone = await newExecution();
      const kept = await newExecution();
      await store.reports.addBatch(gone.id, 's', [metric('m', 1)]);
      await store.reports.addBatch(kept.id, 's', [metric('m', 2)]);
      // Retention deletes finished executions only: `kept` stays pending.
      await store.executions.setEnded(gone.id, 'success', null);
      assert.deepEqual(await store.executions.deleteOlderThan(new Date(Date.now() + 60_000)), [
        gone.logs_dir,
      ]);
      assert.equal((await store.reports.list({ executionId: gone.id })).items.length, 0);
      assert.equal((await store.reports.list({ executionId: kept.id })).items.length, 1);
    });
  });

  describe('sessions store', () => {
    test('create, get, byName, ensure, list and executions', async () => {
      const other = await store.projects.create({ name: 'other', repo: '/srv/git/other.git' });
      const session = await store.sessions.create(project.id, 'regression');
      assert.deepEqual(await store.sessions.get(session.id), session);
      assert.deepEqual(await store.sessions.byName(project.id, 'regression'), session);
      assert.equal(await store.sessions.byName(other.id, 'regression'), undefined);
      await assert.rejects(store.sessions.create(project.id, 'regression'));
      assert.deepEqual(await store.sessions.ensure(project.id, 'regression'), session);
      const [a, b] = await Promise.all([
        store.sessions.ensure(other.id, 'raced'),
        store.sessions.ensure(other.id, 'raced'),
      ]);
      assert.equal(a.id, b.id);

      const external = { session_id: session.id, name: 'run 1', heartbeat_timeout_s: 60 };
      const first = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'api' },
        external,
      });
      assert.equal(first.status, 'running');
      assert.equal(first.external, 1);
      assert.equal(first.started_at, first.created_at);
      assert.equal(first.last_heartbeat_at, first.created_at);
      assert.equal(first.heartbeat_timeout_s, 60);
      const second = await store.executions.create({
        project_id: project.id,
        trigger: { event: 'api' },
        external: { ...external, name: 'run 2' },
      });
      assert.deepEqual(
        (await store.sessions.executions(session.id)).map((e) => e.name),
        ['run 1', 'run 2'],
      );
      const listed = await store.sessions.list(project.id);
      const summary = listed.find((s) => s.id === session.id);
      assert.equal(summary?.executions, 2);
      assert.equal(summary?.last_execution_at, second.created_at);
      const empty = await store.sessions.create(project.id, 'empty');
      assert.deepEqual(
        (await store.sessions.list(project.id)).find((s) => s.id === empty.id),
        { ...empty, executions: 0, last_execution_at: null },
      );
      await assert.rejects(store.sessions.create('no-such-project', 'x'), /not found/);
    });

    test('a pipeline execution is not external and has no session', async () => {
      const execution = await newExecution();
      assert.equal(execution.external, 0);
      assert.equal(execution.session_id, null);
      assert.equal(execution.status, 'pending');
      assert.equal(execution.last_heartbeat_at, null);
    });
  });
});
