// The one end-of-execution sequence that pipeline runs and external executions share.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Ending, endExecution } from '../../server/executions/ending.ts';
import type { EventBody } from '../../server/executions/event-shapes.ts';
import { type Execution, openStore, type Store } from '../../server/store/index.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

async function newStore(): Promise<Store> {
  const store = await openStore(await tempDir('gbcms-ending-'));
  onCleanup(() => store.close());
  return store;
}

function observed(store: Pick<Store, 'executions'>) {
  const told: string[] = [];
  const logs: string[] = [];
  const log = (level: string) => (_details: object, message: string) => logs.push(`${level}: ${message}`);
  const ctx = {
    store,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    emitStatus: (execution: Execution) => told.push(`status ${execution.status}`),
    retireStream: (id: string) => told.push(`retire ${id}`),
  };
  const ending = (execution: Execution, patch: Partial<Ending> = {}): Ending => ({
    execution,
    stream: {
      publish: (body: EventBody) => {
        told.push(body.type === 'end' ? `end ${body.execution.status}` : body.type);
        return { id: 0, ...body };
      },
    },
    status: 'success',
    reason: null,
    at: '2030-01-01T00:00:00.000Z',
    noun: 'execution',
    recorded: (recorded) => told.push(`recorded ${recorded.status}`),
    ...patch,
  });
  return { ctx, ending, told, logs };
}

describe('endExecution', () => {
  test('records the end, then tells status observers, the stream and its registry, in that order', async () => {
    const store = await newStore();
    const project = await store.projects.create({ name: 'p', repo: '/src' });
    const execution = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
    const { ctx, ending, told, logs } = observed(store);
    const ended = await endExecution(ctx, ending(execution, { status: 'failure', reason: 'exit code 1' }));
    assert.deepEqual(ended, await store.executions.get(execution.id));
    assert.equal(ended.status, 'failure');
    assert.equal(ended.reason, 'exit code 1');
    assert.equal(ended.ended_at, '2030-01-01T00:00:00.000Z');
    assert.deepEqual(told, ['recorded failure', 'status failure', 'end failure', `retire ${execution.id}`]);
    assert.deepEqual(logs, ['info: execution ended']);
  });

  test('a second end changes nothing: everyone is told the end as stored', async () => {
    const store = await newStore();
    const project = await store.projects.create({ name: 'p', repo: '/src' });
    const execution = await store.executions.create({ project_id: project.id, trigger: { event: 'manual' } });
    const { ctx, ending, told, logs } = observed(store);
    await endExecution(ctx, ending(execution, { status: 'killed', reason: 'terminated by user' }));
    told.length = 0;
    logs.length = 0;
    const late = await endExecution(ctx, ending(execution, { noun: 'external execution' }));
    assert.equal(late.status, 'killed');
    assert.deepEqual(told.slice(0, 3), ['recorded killed', 'status killed', 'end killed']);
    assert.deepEqual(logs, [
      'warn: the external execution had already ended',
      'info: external execution ended',
    ]);
  });

  test('a store that fails still lets the end be told, as it was meant', async () => {
    const failing = {
      executions: {
        setEnded: async () => {
          throw new Error('disk full');
        },
      },
    } as unknown as Pick<Store, 'executions'>;
    const { ctx, ending, told, logs } = observed(failing);
    const execution = { id: 'e1', status: 'running' } as Execution;
    let before = 0;
    const ended = await endExecution(
      ctx,
      ending(execution, {
        before: async () => {
          before += 1;
        },
      }),
    );
    assert.equal(before, 1);
    assert.equal(ended.status, 'success');
    assert.deepEqual(told, ['recorded success', 'status success', 'end success', 'retire e1']);
    assert.deepEqual(logs, ['error: could not record the end of the execution', 'info: execution ended']);
  });
});
