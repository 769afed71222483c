import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SlotQueue } from '../../server/executions/slots.ts';

const item = (id: string, projectId: string, projectLimit = 1) => ({ id, projectId, projectLimit });
const ids = (items: readonly { id: string }[]) => items.map((i) => i.id);

describe('slot queue', () => {
  test('a project with limit 1 runs one execution at a time, in arrival order', () => {
    const queue = new SlotQueue(4);
    queue.enqueue(item('a1', 'a'));
    queue.enqueue(item('a2', 'a'));
    queue.enqueue(item('a3', 'a'));
    assert.deepEqual(ids(queue.take()), ['a1']);
    assert.deepEqual(ids(queue.take()), []);
    assert.equal(queue.waiting, 2);
    queue.release('a1');
    assert.deepEqual(ids(queue.take()), ['a2']);
    queue.release('a2');
    assert.deepEqual(ids(queue.take()), ['a3']);
  });

  test("one still reading its file holds back its project's later ones, not other projects'", () => {
    const queue = new SlotQueue(4);
    const a1 = { ...item('a1', 'a', 2), reading: true };
    queue.enqueue(a1);
    queue.enqueue(item('a2', 'a', 2));
    queue.enqueue(item('b1', 'b'));
    assert.deepEqual(ids(queue.take()), ['b1']);
    a1.reading = false;
    assert.deepEqual(ids(queue.take()), ['a1', 'a2']);
  });

  test('a full project does not hold back the projects queued after it', () => {
    const queue = new SlotQueue(4);
    queue.enqueue(item('a1', 'a'));
    queue.enqueue(item('a2', 'a'));
    queue.enqueue(item('b1', 'b'));
    assert.deepEqual(ids(queue.take()), ['a1', 'b1']);
    assert.deepEqual(ids(queue.waitingItems()), ['a2']);
  });

  test('the global limit caps all projects together, first come first served', () => {
    const queue = new SlotQueue(2);
    for (const [id, project] of [
      ['a1', 'a'],
      ['b1', 'b'],
      ['c1', 'c'],
      ['a2', 'a'],
    ] as const) {
      queue.enqueue(item(id, project, 3));
    }
    assert.deepEqual(ids(queue.take()), ['a1', 'b1']);
    assert.equal(queue.running, 2);
    queue.release('b1');
    assert.deepEqual(ids(queue.take()), ['c1']);
    queue.release('a1');
    assert.deepEqual(ids(queue.take()), ['a2']);
  });

  test('a project limit above 1 allows that many at once; below 1 counts as 1', () => {
    const queue = new SlotQueue(10);
    for (const id of ['a1', 'a2', 'a3']) queue.enqueue(item(id, 'a', 2));
    for (const id of ['z1', 'z2']) queue.enqueue(item(id, 'z', 0));
    assert.deepEqual(ids(queue.take()), ['a1', 'a2', 'z1']);
  });

  test('remove takes a waiting item out; running or unknown ones are not waiting', () => {
    const queue = new SlotQueue(1);
    queue.enqueue(item('a1', 'a'));
    queue.enqueue(item('b1', 'b'));
    queue.enqueue(item('c1', 'c'));
    queue.take();
    assert.equal(queue.remove('a1'), undefined);
    assert.equal(queue.remove('nope'), undefined);
    assert.deepEqual(queue.remove('b1'), item('b1', 'b'));
    queue.release('a1');
    assert.deepEqual(ids(queue.take()), ['c1']);
    assert.equal(queue.isRunning('c1'), true);
    assert.equal(queue.isWaiting('c1'), false);
  });

  test('an item cannot be queued twice, and the global limit must be positive', () => {
    const queue = new SlotQueue(1);
    queue.enqueue(item('a1', 'a'));
    assert.throws(() => queue.enqueue(item('a1', 'a')), /already queued/);
    queue.take();
    assert.throws(() => queue.enqueue(item('a1', 'a')), /already queued/);
    assert.throws(() => new SlotQueue(0), RangeError);
  });

  test('putBack returns a running item to its place in line, its slot free', () => {
    const queue = new SlotQueue(2);
    for (const [id, project] of [
      ['a1', 'a'],
      ['b1', 'b'],
      ['c1', 'c'],
      ['d1', 'd'],
    ] as const) {
      queue.enqueue(item(id, project));
    }
    assert.deepEqual(ids(queue.take()), ['a1', 'b1']);
    assert.equal(queue.putBack('b1'), true);
    assert.equal(queue.putBack('nope'), false);
    assert.equal(queue.running, 1);
    assert.deepEqual(ids(queue.waitingItems()), ['b1', 'c1', 'd1']);
    assert.equal(queue.putBack('a1'), true);
    assert.deepEqual(ids(queue.waitingItems()), ['a1', 'b1', 'c1', 'd1']);
    assert.deepEqual(ids(queue.take()), ['a1', 'b1']);
  });

  test("one refused for its project holds back its project's later ones, not other projects'", () => {
    const queue = new SlotQueue(4);
    const a1 = item('a1', 'a', 2);
    for (const queued of [a1, item('a2', 'a', 2), item('b1', 'b')]) queue.enqueue(queued);
    assert.deepEqual(ids(queue.take()), ['a1', 'a2', 'b1']);
    queue.putBack('a2');
    queue.putBack('a1');
    queue.putBack('b1');
    Object.assign(a1, { refused: 'project' });
    assert.deepEqual(ids(queue.take()), ['b1']);
    Object.assign(a1, { refused: undefined });
    assert.deepEqual(ids(queue.take()), ['a1', 'a2']);
  });

  test('one refused because every slot is taken holds back every later one', () => {
    const queue = new SlotQueue(4);
    const b1 = item('b1', 'b');
    for (const queued of [item('a1', 'a'), b1, item('c1', 'c')]) queue.enqueue(queued);
    assert.deepEqual(ids(queue.take()), ['a1', 'b1', 'c1']);
    queue.putBack('b1');
    queue.putBack('c1');
    Object.assign(b1, { refused: 'all' });
    assert.deepEqual(ids(queue.take()), []);
    Object.assign(b1, { refused: undefined });
    assert.deepEqual(ids(queue.take()), ['b1', 'c1']);
  });
});
