// A call about an execution another server manages, when that server does not answer and is not
// yet known dead (it still beats, or has only just stopped): the call waits for a server to take
// the execution up, and when none does in the time a dead server is noticed, it is answered 503
// with a code that says to retry, never as if this server managed it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../server/store/index.ts';
import { postgresCluster } from '../helpers/postgres.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { serveProcess } from './helpers/serve-process.ts';

const cleanups = cleanUpAfterAll();

test('a call about a silent peer\'s execution nobody takes up is answered 503, "retry"', async () => {
  const dir = await cleanups.tempDir('gbcms-forward-');
  const data = join(dir, 'server');
  const database = await (await postgresCluster()).createDatabase();
  const store = await openStore(data, { database });
  cleanups.onCleanup(() => store.close());
  const admin = await store.users.create({ username: 'admin', role: 'admin' });
  const { token } = await store.tokens.create(admin.id, 'test');
  const project = await store.projects.create({ name: 'p', repo: '/srv/p.git' });
  const execution = await store.executions.create({
    project_id: project.id,
    trigger: { event: 'api', branch: 'main' },
    server: 'ghost',
  });
  await store.executions.setStarted(execution.id);
  // A peer that beats (so it is not gone) at an address where nothing answers.
  await store.servers.register({
    name: 'ghost',
    url: 'http://127.0.0.1:9',
    incarnation: 'one',
    version: null,
  });
  const beating = setInterval(() => void store.servers.beat('ghost', 'one'), 1_000);
  cleanups.onCleanup(async () => clearInterval(beating));

  const served = await serveProcess(data, 'local', process.env, [
    '--database',
    database,
    '--server-name',
    'B',
  ]);
  cleanups.onCleanup(async () => {
    served.child.kill('SIGKILL');
    await served.exited;
  });
  const response = await fetch(`${served.url}/api/executions/${execution.id}/terminate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 503);
  assert.equal(((await response.json()) as { error: string }).error, 'GBCMS_ERR_PEER_UNAVAILABLE');
  const row = await store.executions.get(execution.id);
  assert.equal(row?.status, 'running', 'not terminated by a server that does not manage it');
  assert.equal(row?.server, 'ghost');
});
