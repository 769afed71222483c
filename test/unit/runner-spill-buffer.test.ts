// The runner's buffer of undelivered events: order kept across memory and file, every event
// given out until acknowledged and never after, delivery resumed while new events still come,
// only a window in memory, and a bound in bytes that refuses rather than drops.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RunEvent } from '../../engine/events.ts';
import { SpillBuffer } from '../../server/runners/agent/spill-buffer.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function spillFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-spill-'));
  dirs.push(dir);
  return join(dir, 'undelivered-events.jsonl');
}

function notice(n: number, padding = ''): RunEvent {
  return { type: 'notice', message: `event ${n}${padding}` };
}

function numbers(events: RunEvent[]): number[] {
  return events.map((event) => Number(/^event (\d+)/.exec((event as { message: string }).message)?.[1]));
}

async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(() => ({ size: 0 }))).size;
}

/** Delivers like the event sender: peek a batch, acknowledge some of it, repeat. */
function deliverAll(buffer: SpillBuffer, batch: number, take: (offered: number) => number): number[] {
  const seen: number[] = [];
  while (buffer.length > 0) {
    const offered = buffer.peek(batch, Number.POSITIVE_INFINITY);
    assert.ok(offered.length > 0);
    const taken = take(offered.length);
    seen.push(...numbers(offered.slice(0, taken)));
    buffer.acknowledge(buffer.first + taken);
  }
  return seen;
}

test('events come out in order across the memory window and the file, and the file empties', async () => {
  const file = await spillFile();
  const buffer = new SpillBuffer({ file, windowBytes: 1024 });
  for (let n = 0; n < 5_000; n++) assert.equal(buffer.push(notice(n)), true);
  assert.equal(buffer.length, 5_000);
  assert.equal(buffer.first, 0);
  buffer.peek(1, 1); // writes out what waits for the file
  assert.ok((await fileSize(file)) > 100_000, 'the outage went to disk');
  assert.equal((await stat(file)).mode & 0o777, 0o600, 'only the runner reads it');
  const seen = deliverAll(buffer, 97, (offered) => offered);
  assert.deepEqual(
    seen,
    Array.from({ length: 5_000 }, (_, n) => n),
  );
  assert.equal(buffer.first, 5_000);
  assert.equal(await fileSize(file), 0, 'a drained file starts over');
  buffer.close();
  await assert.rejects(stat(file), /ENOENT/);
});

test('a partly acknowledged batch is offered again from the first event the server lacks', async () => {
  const buffer = new SpillBuffer({ file: await spillFile(), windowBytes: 512 });
  for (let n = 0; n < 300; n++) buffer.push(notice(n));
  assert.deepEqual(numbers(buffer.peek(50, Number.POSITIVE_INFINITY)).slice(0, 3), [0, 1, 2]);
  buffer.acknowledge(20);
  const again = buffer.peek(50, Number.POSITIVE_INFINITY);
  assert.equal(numbers(again)[0], 20);
  // An old answer arriving late acknowledges nothing twice.
  buffer.acknowledge(5);
  assert.equal(buffer.first, 20);
  assert.equal(numbers(buffer.peek(1, 1))[0], 20);
  // Acknowledging in odd amounts still gives every event exactly once.
  const rest = deliverAll(buffer, 50, (offered) => Math.max(1, Math.floor(offered / 3)));
  assert.deepEqual(
    rest,
    Array.from({ length: 280 }, (_, n) => n + 20),
  );
  buffer.close();
});

test('delivery resumes while the run keeps printing, in order', async () => {
  const file = await spillFile();
  const buffer = new SpillBuffer({ file, windowBytes: 2048 });
  let next = 0;
  // The outage: 2,000 events held, most of them on disk.
  while (next < 2_000) buffer.push(notice(next++));
  const seen: number[] = [];
  // The server answers again; each delivered batch is followed by more output.
  while (buffer.length > 0) {
    const offered = buffer.peek(64, Number.POSITIVE_INFINITY);
    seen.push(...numbers(offered));
    buffer.acknowledge(buffer.first + offered.length);
    for (let i = 0; i < 10 && next < 3_000; i++) buffer.push(notice(next++));
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 3_000 }, (_, n) => n),
  );
  buffer.close();
});

test('only a window stays in memory; a line longer than a read comes back whole', async () => {
  const buffer = new SpillBuffer({ file: await spillFile(), windowBytes: 4096 });
  const long = 'x'.repeat(700_000);
  buffer.push(notice(0));
  buffer.push(notice(1, long));
  for (let n = 2; n < 500; n++) buffer.push(notice(n));
  const inMemory = buffer.peek(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  assert.deepEqual(numbers(inMemory), [0]);
  buffer.acknowledge(1);
  const [big] = buffer.peek(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  assert.equal((big as { message: string }).message, `event 1${long}`);
  buffer.acknowledge(2);
  const window = buffer.peek(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  const windowBytes = window.reduce((sum, event) => sum + JSON.stringify(event).length + 1, 0);
  assert.ok(windowBytes <= 4096, `${windowBytes} bytes in memory`);
  assert.equal(numbers(window)[0], 2);
  assert.deepEqual(
    deliverAll(buffer, 100, (offered) => offered),
    Array.from({ length: 498 }, (_, n) => n + 2),
  );
  buffer.close();
});

test('past its bound the buffer refuses an event and keeps every one it took', async () => {
  const buffer = new SpillBuffer({ file: await spillFile(), windowBytes: 1024, limitBytes: 16 * 1024 });
  let taken = 0;
  while (buffer.push(notice(taken))) taken++;
  assert.ok(taken > 100 && taken < 1_000, `${taken} events fit in 16 KiB`);
  assert.ok(buffer.bytes <= 16 * 1024);
  assert.equal(buffer.length, taken);
  assert.equal(buffer.push(notice(taken)), false, 'still full');
  assert.deepEqual(
    deliverAll(buffer, 100, (offered) => offered),
    Array.from({ length: taken }, (_, n) => n),
  );
  assert.equal(buffer.push(notice(taken)), true, 'room again once delivered');
  assert.deepEqual(numbers(buffer.peek(10, Number.POSITIVE_INFINITY)), [taken]);
  buffer.close();
});

test('a file that cannot be written refuses events instead of losing them', async () => {
  const file = join(await spillFile(), 'no-such-folder', 'undelivered-events.jsonl');
  const buffer = new SpillBuffer({ file, windowBytes: 1024 });
  let taken = 0;
  while (taken < 100_000 && buffer.push(notice(taken))) taken++;
  assert.ok(taken > 0 && taken < 100_000, `${taken} events taken before the file was needed`);
  assert.equal(buffer.push(notice(taken)), false, 'still refused');
  assert.equal(buffer.length, taken);
  // Delivering the window reaches the events bound for the file: that fails loudly.
  assert.throws(() => {
    for (;;) buffer.acknowledge(buffer.first + buffer.peek(10, Number.POSITIVE_INFINITY).length);
  }, /ENOENT/);
  buffer.close();
});
