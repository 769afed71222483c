// The recorder's feed to the log search index: batches, what it leaves out, and a backlog that
// never grows without bound while the database is slower than a step's output.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogLine } from '../../engine/logs/log-line.ts';
import { LOG_INDEX_BATCH, LogIndex, MAX_INDEX_BACKLOG } from '../../server/executions/log-index.ts';
import type { LogLineEntry, LogSearchRepo } from '../../server/store/index.ts';
import { pollUntil } from '../helpers/poll.ts';

const T = '2026-01-02T03:04:05.000Z';
const line = (seq: number, text: string, more: Partial<LogLine> = {}): LogLine => ({
  seq,
  time: T,
  stream: 'stdout',
  text,
  ...more,
});

/** A store whose writes wait until the test lets them go (`release`), then go through at once. */
function slowStore() {
  const batches: LogLineEntry[][] = [];
  const queued: Array<() => void> = [];
  let open = false;
  const logSearch: LogSearchRepo = {
    add: (entries) => {
      const write = () => batches.push([...entries]);
      if (open) {
        write();
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        queued.push(() => {
          write();
          resolve();
        });
      });
    },
    search: () => Promise.reject(new Error('not used')),
  };
  const release = () => {
    open = true;
    for (const write of queued.splice(0)) write();
  };
  return { store: { logSearch }, batches, release };
}

describe('log index feed', () => {
  test('lines go in batches, with their step and number; report commands and blank lines stay out', async () => {
    const { store, batches, release } = slowStore();
    release();
    const index = new LogIndex({ store, executionId: 'e1', projectId: 'p1', onError: assert.fail });
    index.add('build', line(1, 'compiling'));
    index.add('build', line(2, '   '));
    index.add('build', line(3, '::gbcms progress 1/2', { report: true }));
    index.add('test', line(1, 'x'.repeat(3000)));
    await index.close();
    assert.deepEqual(
      batches
        .flat()
        .map((entry) => [entry.execution_id, entry.project_id, entry.step, entry.line, entry.text.length]),
      [
        ['e1', 'p1', 'build', 1, 9],
        ['e1', 'p1', 'test', 1, 2000],
      ],
    );
    index.add('build', line(4, 'after close'));
    assert.equal(batches.flat().length, 2);
  });

  test('while the database is behind, lines past the backlog are left out and counted', async () => {
    const { store, batches, release } = slowStore();
    const index = new LogIndex({ store, executionId: 'e1', projectId: 'p1', onError: assert.fail });
    const total = MAX_INDEX_BACKLOG + 1234;
    for (let seq = 1; seq <= total; seq++) index.add('build', line(seq, `line ${seq}`));
    assert.equal(index.skipped, 1234);
    assert.equal(batches.length, 0);
    release();
    await pollUntil('the backlog to be written', () => batches.flat().length === MAX_INDEX_BACKLOG, 10);
    // Written, the backlog is free again: later lines are indexed.
    index.add('build', line(total + 1, 'after the backlog'));
    await index.close();
    const stored = batches.flat();
    assert.equal(stored.length, MAX_INDEX_BACKLOG + 1);
    assert.equal(stored.at(-1)?.text, 'after the backlog');
    assert.ok(batches.every((batch) => batch.length <= LOG_INDEX_BATCH));
  });

  test('a failed batch is reported and the feed goes on', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const logSearch: LogSearchRepo = {
      add: async () => {
        calls += 1;
        if (calls === 1) throw new Error('disk full');
      },
      search: () => Promise.reject(new Error('not used')),
    };
    const index = new LogIndex({
      store: { logSearch },
      executionId: 'e1',
      projectId: 'p1',
      onError: (e) => errors.push(e),
    });
    for (let seq = 1; seq <= LOG_INDEX_BATCH + 1; seq++) index.add('build', line(seq, `line ${seq}`));
    await index.close();
    assert.equal(calls, 2);
    assert.match(String(errors[0]), /disk full/);
  });
});
