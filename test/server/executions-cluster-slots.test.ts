// Two servers on one PostgreSQL database: two ExecutionManagers, each with a store of its own
// (its own connection pool) over the same database and data folder, as two `gbcms serve` are.
// The running limits hold over both together (server/executions/cluster-slots.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeBackend } from '../../engine/backends/fake.ts';
import { ExecutionManager } from '../../server/executions/manager.ts';
import type { Execution, Project, SlotTake, Store } from '../../server/store/index.ts';
import { testDatabases } from '../helpers/databases.ts';
import { HANG_MS, pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const postgres = testDatabases('postgres');

/** Longer than any test waits: a step that sleeps this long runs until it is stopped. */
const UNTIL_STOPPED = 10 * HANG_MS;
const SLEEPING = `version: 1
steps:
  wait:
    image: busybox:stable
    commands: [sleep]
    env:
      STEP_SLEEP_MS: "${UNTIL_STOPPED}"
`;

interface Server {
  manager: ExecutionManager;
  store: Store;
  /** What each of its takes in the database answered, in order. */
  takes: Array<{ id: string; take: SlotTake }>;
}

interface Cluster {
  servers: [Server, Server];
  project(maxConcurrent: number): Promise<Project>;
  warnings: string[];
}

async function cluster(maxRunning: number): Promise<Cluster> {
  const dataDir = await tempDir('gbcms-cluster-');
  const { logger, warnings } = warningsLogger();
  const server = async (): Promise<Server> => {
    const opened = await postgres.openStore(dataDir);
    const takes: Server['takes'] = [];
    // The same store, its takes recorded: the test sees when the database said no.
    const store: Store = {
      ...opened,
      slots: {
        ...opened.slots,
        async tryTakeSlot(id, projectId, limits) {
          const take = await opened.slots.tryTakeSlot(id, projectId, limits);
          takes.push({ id, take });
          return take;
        },
      },
    };
    const manager = new ExecutionManager({ store, backend: new FakeBackend(), dataDir, logger, maxRunning });
    onCleanup(async () => {
      await manager.drain(0);
      await opened.close();
    });
    return { manager, store, takes };
  };
  const servers: [Server, Server] = [await server(), await server()];
  let projects = 0;
  return {
    servers,
    warnings,
    async project(maxConcurrent) {
      projects += 1;
      const repo = await writePipeline(await tempDir('gbcms-cluster-src-'), SLEEPING);
      return servers[0].store.projects.create({ name: `p${projects}`, repo, max_concurrent: maxConcurrent });
    },
  };
}

function start(server: Server, project: Project): Promise<Execution> {
  return server.manager.start({
    project,
    trigger: { event: 'manual', branch: 'main' },
    source: { kind: 'project' },
  });
}

/** Resolves once the step is running (its first `step` event with status running). */
function stepRunning(manager: ExecutionManager, id: string, step = 'wait'): Promise<void> {
  return new Promise((resolve, reject) => {
    manager
      .subscribe(id, (event) => {
        if (event.type === 'step' && event.step.name === step && event.step.status === 'running') resolve();
        if (event.type === 'end') reject(new Error(`execution ended before ${step} ran`));
      })
      .catch(reject);
  });
}

/** Resolves once the database has refused `id` `times` times. */
function refused(server: Server, id: string, times = 1): Promise<SlotTake> {
  return pollUntil(`the database to refuse ${id} ${times} time(s)`, () => {
    const answers = server.takes.filter((take) => take.id === id && take.take !== 'taken');
    return answers.length >= times ? answers[0]?.take : undefined;
  });
}

describe('running limits across two servers on one PostgreSQL database', () => {
  test('with max_concurrent 1 one execution of the project runs over both; the other starts after it ends', async () => {
    const { servers, project, warnings } = await cluster(4);
    const [a, b] = servers;
    const one = await project(1);
    const other = await project(1);
    const first = await start(a, one);
    await stepRunning(a.manager, first.id);
    const second = await start(b, one);
    // Refused, and refused again when it asked anew: it waits for the first.
    assert.equal(await refused(b, second.id, 2), 'project-busy');
    assert.equal((await b.store.executions.get(second.id))?.status, 'pending');
    assert.deepEqual(await b.store.slots.holders(), [first.id]);
    // Waiting for the other server, it holds no slot on its own: another project runs there.
    const third = await start(b, other);
    await stepRunning(b.manager, third.id);
    assert.deepEqual(b.manager.stats(), { pending: 1, running: 1, runningSteps: 1 });
    assert.equal((await b.store.executions.get(second.id))?.status, 'pending');

    await a.manager.terminate(first.id);
    await stepRunning(b.manager, second.id);
    const firstEnd = await a.store.executions.get(first.id);
    const secondNow = await b.store.executions.get(second.id);
    assert.equal(secondNow?.status, 'running');
    assert.ok(
      (secondNow?.started_at ?? '') >= (firstEnd?.ended_at ?? 'z'),
      `second started ${secondNow?.started_at}, first ended ${firstEnd?.ended_at}`,
    );
    assert.deepEqual((await a.store.slots.holders()).sort(), [second.id, third.id].sort());
    await b.manager.terminate(second.id);
    await b.manager.terminate(third.id);
    assert.deepEqual(await a.store.slots.holders(), []);
    assert.deepEqual(warnings, []);
  });

  test('the global limit holds over both servers: with --max-running 1 one execution runs in all', async () => {
    const { servers, project, warnings } = await cluster(1);
    const [a, b] = servers;
    const first = await start(a, await project(1));
    await stepRunning(a.manager, first.id);
    const second = await start(b, await project(1));
    assert.equal(await refused(b, second.id, 2), 'all-busy');
    assert.equal((await b.store.executions.get(second.id))?.status, 'pending');
    await a.manager.terminate(first.id);
    await stepRunning(b.manager, second.id);
    const firstEnd = await a.store.executions.get(first.id);
    const secondNow = await b.store.executions.get(second.id);
    assert.ok((secondNow?.started_at ?? '') >= (firstEnd?.ended_at ?? 'z'));
    await b.manager.terminate(second.id);
    assert.deepEqual(warnings, []);
  });

  test('an execution terminated while the database refuses it ends killed, holding nothing', async () => {
    const { servers, project, warnings } = await cluster(4);
    const [a, b] = servers;
    const one = await project(1);
    const first = await start(a, one);
    await stepRunning(a.manager, first.id);
    const second = await start(b, one);
    await refused(b, second.id);
    await b.manager.terminate(second.id);
    assert.equal((await b.store.executions.get(second.id))?.status, 'killed');
    assert.deepEqual(b.manager.stats(), { pending: 0, running: 0, runningSteps: 0 });
    assert.deepEqual(await a.store.slots.holders(), [first.id]);
    await a.manager.terminate(first.id);
    assert.deepEqual(await a.store.slots.holders(), []);
    assert.deepEqual(warnings, []);
  });
});
