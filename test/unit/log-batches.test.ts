// Log lines batched for the event stream: lines printed in one turn go out together with the
// last one's id, another step's line or any other event sends what is waiting first, and a
// full batch goes out at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ExecutionEvent } from '../../server/executions/types.ts';
import { LogBatches, MAX_BATCH_LINES } from '../../server/routes/api/log-batches.ts';

type LogEvent = Extract<ExecutionEvent, { type: 'log' }>;
const TIME = '2026-01-01T00:00:00.000Z';

function log(id: number, step: string, seq: number, text = `line ${seq}`): LogEvent {
  return { id, type: 'log', step, line: { seq, time: TIME, stream: 'stdout', text } };
}

function recorder() {
  const sent: { id: number; type: string; step: string; seqs: number[]; html: string[] }[] = [];
  const batches = new LogBatches((id, type, data) => {
    const { step, lines } = data as { step: string; lines: { seq: number; html: string }[] };
    sent.push({ id, type, step, seqs: lines.map((l) => l.seq), html: lines.map((l) => l.html) });
  });
  return { sent, batches };
}

test('lines of one turn go out together at its end, with the last id and their html', async () => {
  const { sent, batches } = recorder();
  batches.add(log(7, 'build', 1, '\u001b[31m<b>\u001b[0m'));
  batches.add(log(8, 'build', 2));
  batches.add(log(9, 'build', 3));
  assert.deepEqual(sent, []);
  await nextTurn();
  assert.deepEqual(sent, [
    {
      id: 9,
      type: 'logs',
      step: 'build',
      seqs: [1, 2, 3],
      html: ['<span style="color:#ff7b72">&lt;b&gt;</span>', 'line 2', 'line 3'],
    },
  ]);
  await nextTurn();
  assert.equal(sent.length, 1, 'nothing more');
});

test('another step, a flush or a full batch sends what waits; closing drops it', async () => {
  const { sent, batches } = recorder();
  batches.add(log(1, 'build', 1));
  batches.add(log(2, 'test', 1));
  batches.flush();
  assert.deepEqual(
    sent.map((s) => [s.id, s.step, s.seqs]),
    [
      [1, 'build', [1]],
      [2, 'test', [1]],
    ],
  );
  for (let seq = 1; seq <= MAX_BATCH_LINES + 1; seq++) batches.add(log(2 + seq, 'lint', seq));
  assert.equal(sent.length, 3);
  assert.equal(sent[2]?.seqs.length, MAX_BATCH_LINES);
  assert.equal(sent[2]?.id, 2 + MAX_BATCH_LINES);
  batches.close();
  await nextTurn();
  assert.equal(sent.length, 3, 'the line left waiting is dropped with the stream');
});
