import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterSlots } from '../../server/executions/cluster-slots.ts';
import type { SlotRequest } from '../../server/executions/slots.ts';
import type { SlotLimits, SlotTake } from '../../server/store/index.ts';
import { warningsLogger } from './helpers/fake-managers.ts';

interface Asked {
  id: string;
  limits: SlotLimits;
  answer(take: SlotTake | Error): void;
}

/** A slot repository whose every take the test answers by hand. */
function handAnswered() {
  const asked: Asked[] = [];
  const released: string[] = [];
  let waiter: (() => void) | undefined;
  return {
    asked,
    released,
    repo: {
      tryTakeSlot(id: string, _projectId: string, limits: SlotLimits): Promise<SlotTake> {
        return new Promise((resolve, reject) => {
          asked.push({
            id,
            limits,
            answer: (take) => (take instanceof Error ? reject(take) : resolve(take)),
          });
          waiter?.();
        });
      },
      async releaseSlot(id: string) {
        released.push(id);
      },
    },
    /** Resolves once `count` takes have been asked. */
    askedCount(count: number): Promise<void> {
      if (asked.length >= count) return Promise.resolve();
      return new Promise((resolve) => {
        waiter = () => {
          if (asked.length >= count) resolve();
        };
      });
    },
  };
}

const request = (id: string, projectLimit = 1): SlotRequest => ({ id, projectId: 'p', projectLimit });

describe('cluster slots', () => {
  test("a server's takes reach the database one at a time, in the order asked, with its limits", async () => {
    const db = handAnswered();
    const { logger } = warningsLogger();
    const slots = new ClusterSlots({ slots: db.repo, maxRunning: 3, logger, retry: () => undefined });
    const first = slots.take(request('a', 2));
    const second = slots.take(request('b'));
    await db.askedCount(1);
    assert.deepEqual(
      db.asked.map((a) => a.id),
      ['a'],
    );
    assert.deepEqual(db.asked[0]?.limits, { maxRunning: 3, projectLimit: 2 });
    db.asked[0]?.answer('taken');
    assert.equal(await first, 'taken');
    await db.askedCount(2);
    db.asked[1]?.answer('project-busy');
    assert.equal(await second, 'project-busy');
  });

  test('a database error counts as every slot taken, and is logged', async () => {
    const db = handAnswered();
    const { logger, warnings } = warningsLogger();
    const slots = new ClusterSlots({ slots: db.repo, maxRunning: 1, logger, retry: () => undefined });
    const take = slots.take(request('a'));
    await db.askedCount(1);
    db.asked[0]?.answer(new Error('connection lost'));
    assert.equal(await take, 'all-busy');
    assert.deepEqual(warnings, ['could not take a slot; trying again']);
  });

  test('refused ones are marked until the retry timer or a wake, then the manager dispatches', async () => {
    const db = handAnswered();
    const { logger } = warningsLogger();
    let retried = 0;
    let onRetry: (() => void) | undefined;
    const slots = new ClusterSlots({
      slots: db.repo,
      maxRunning: 1,
      logger,
      retryMs: 1,
      retry: () => {
        retried += 1;
        onRetry?.();
      },
    });
    const a = request('a');
    const b = request('b');
    slots.refuse(a, 'project-busy');
    slots.refuse(b, 'all-busy');
    assert.equal(a.refused, 'project');
    assert.equal(b.refused, 'all');
    assert.equal(slots.refused, 2);
    await new Promise<void>((resolve) => {
      onRetry = resolve;
    });
    assert.equal(retried, 1);
    assert.equal(a.refused, undefined);
    assert.equal(b.refused, undefined);
    assert.equal(slots.refused, 0);

    // A wake lets them ask at once; the caller dispatches.
    slots.refuse(a, 'all-busy');
    assert.equal(slots.wake(), true);
    assert.equal(a.refused, undefined);
    assert.equal(slots.wake(), false);
    // Forgotten, nothing is left to retry.
    slots.refuse(b, 'project-busy');
    slots.forget(b);
    assert.equal(b.refused, undefined);
    assert.equal(slots.refused, 0);
    assert.equal(retried, 1);
    await slots.release('a');
    assert.deepEqual(db.released, ['a']);
    slots.stop();
  });
});
