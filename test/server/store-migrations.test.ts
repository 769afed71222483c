import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DATABASE_FILE, NotFoundError, openStore } from '../../server/store/index.ts';
import { withRawDatabase } from './helpers/raw-database.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-store-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const MIGRATIONS = [
  '001-initial',
  '002-reports',
  '003-secrets',
  '004-forge-status',
  '005-schedules',
  '006-fork-pull-requests',
  '007-project-status-settings',
  '008-cache-uses',
  '009-session-keys',
  '010-step-approvals',
  '013-runners',
];

const TABLES = [
  'api_tokens',
  'artifacts',
  'cache_uses',
  'environments',
  'execution_forges',
  'execution_secrets',
  'executions',
  'project_members',
  'project_status_settings',
  'projects',
  'reports',
  'runners',
  'schedules',
  'secrets',
  'session_keys',
  'sessions',
  'steps',
  'users',
  'webhook_deliveries',
];

describe('store migrations', () => {
  test('a fresh directory is created, migrated and configured', async () => {
    const dataDir = join(await tempDir(), 'nested', 'data');
    const store = await openStore(dataDir);
    try {
      assert.deepEqual(store.migrated, MIGRATIONS);
      assert.equal(store.dataDir, dataDir);
      assert.ok((await readdir(dataDir)).includes(DATABASE_FILE));
      const { tables, journal } = withRawDatabase(dataDir, (db) => ({
        tables: (
          db
            .prepare(
              "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name",
            )
            .all() as { name: string }[]
        ).map((t) => t.name),
        // WAL is a property of the file: every connection sees it.
        journal: db.pragma('journal_mode', { simple: true }),
      }));
      assert.deepEqual(tables, TABLES);
      assert.equal(journal, 'wal');
    } finally {
      await store.close();
    }
  });

  test('re-opening applies nothing and keeps the data', async () => {
    const dataDir = await tempDir();
    const first = await openStore(dataDir);
    const user = await first.users.create({ username: 'ada', role: 'admin' });
    await first.close();
    await first.close(); // closing twice is harmless

    const second = await openStore(dataDir);
    try {
      assert.deepEqual(second.migrated, []);
      assert.deepEqual(await second.users.byUsername('ada'), user);
      const applied = withRawDatabase(
        dataDir,
        (db) => db.prepare('select name from kysely_migration order by name').all() as { name: string }[],
      );
      assert.deepEqual(
        applied.map((r) => r.name),
        MIGRATIONS,
      );
    } finally {
      await second.close();
    }
  });

  test('two stores on one directory see each other and open concurrently', async () => {
    const dataDir = await tempDir();
    const [a, b] = await Promise.all([openStore(dataDir), openStore(dataDir)]);
    try {
      await a.users.create({ username: 'from-a', role: 'developer' });
      assert.equal((await b.users.byUsername('from-a'))?.role, 'developer');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("a write waits for another process's write rather than failing at once", async () => {
    const dataDir = await tempDir();
    const store = await openStore(dataDir);
    // Another process (the CLI next to a server) holds the write lock for a moment.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]);
         db.exec('begin immediate');
         process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
         db.exec('commit');
         db.close();`,
        join(dataDir, DATABASE_FILE),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(holder.stdout, 'data');
      const started = performance.now();
      await store.users.create({ username: 'patient', role: 'developer' });
      assert.ok(performance.now() - started >= 100, 'the write waited for the lock');
      assert.equal((await store.users.byUsername('patient'))?.role, 'developer');
    } finally {
      holder.kill();
      await store.close();
    }
  });

  test('foreign keys are enforced', async () => {
    const store = await openStore(await tempDir());
    try {
      await assert.rejects(store.tokens.create('no-such-user', 'x'), /FOREIGN KEY constraint failed/);
      await assert.rejects(
        store.executions.create({ project_id: 'nope', trigger: { event: 'manual' } }),
        NotFoundError,
      );
      await assert.rejects(store.artifacts.add('nope', [{ step: 's', path: 'a', size: 1, sha256: 'x' }]));
    } finally {
      await store.close();
    }
  });
});
