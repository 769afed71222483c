import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Trigger } from '../../engine/plan.ts';
import {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  triggerColumns,
  triggerOf,
} from '../../server/store/index.ts';

describe('execution cursors', () => {
  test('round-trip and are URL-safe', () => {
    const key = { created_at: '2024-04-27T12:00:00.000Z', number: 42 };
    const cursor = encodeCursor(key);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor), key);
  });

  test('anything else is an InvalidCursorError', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      '',
      '%%%',
      encode({ created_at: '2024-04-27T12:00:00.000Z', number: 1 }),
      encode(['2024-04-27T12:00:00.000Z']),
      encode(['yesterday', 1]),
      encode(['2024-04-27T12:00:00.000Z', 0]),
      encode(['2024-04-27T12:00:00.000Z', 1.5]),
      encode(['2024-04-27T12:00:00.000Z', '1']),
      encode(["2024-04-27T12:00:00.000Z' or 1=1 --", 1]),
    ]) {
      assert.throws(() => decodeCursor(cursor), InvalidCursorError, cursor);
    }
  });
});

describe('trigger columns', () => {
  test('a branch push maps to ref and back', () => {
    const trigger: Trigger = { event: 'push', branch: 'main', commit: 'abc', author: 'ada' };
    const columns = triggerColumns(trigger);
    assert.deepEqual(columns, {
      trigger_event: 'push',
      ref: 'main',
      ref_type: 'branch',
      commit_sha: 'abc',
      author: 'ada',
      fork: 0,
    });
    assert.deepEqual(triggerOf(columns), trigger);
  });

  test("a fork's pull request stays a fork, so a re-run gets no secrets either", () => {
    const trigger: Trigger = { event: 'pull_request', branch: 'patch-1', fork: true };
    assert.equal(triggerColumns(trigger).fork, 1);
    assert.deepEqual(triggerOf(triggerColumns(trigger)), trigger);
  });

  test('a tag wins over a branch; no ref stays null', () => {
    assert.deepEqual(triggerColumns({ event: 'tag', tag: 'v1', branch: 'main' }), {
      trigger_event: 'tag',
      ref: 'v1',
      ref_type: 'tag',
      commit_sha: null,
      author: null,
      fork: 0,
    });
    assert.deepEqual(triggerOf(triggerColumns({ event: 'tag', tag: 'v1' })), { event: 'tag', tag: 'v1' });
    assert.deepEqual(triggerOf(triggerColumns({ event: 'manual' })), { event: 'manual' });
  });
});
