import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { DATABASE_FILE, NotFoundError, openStore } from '../../server/store/index.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-store-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const MIGRATIONS = ['001-initial', '002-reports'];

const TABLES = [
  'api_tokens',
  'artifacts',
  'environments',
  'executions',
  'project_members',
  'projects',
  'reports',
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
      const tables = (await store.db.introspection.getTables()).map((t) => t.name).sort();
      assert.deepEqual(tables, TABLES);
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      assert.equal(journal.rows[0]?.journal_mode, 'wal');
      const keys = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
      assert.equal(keys.rows[0]?.foreign_keys, 1);
      const busy = await sql<{ timeout: number }>`pragma busy_timeout`.execute(store.db);
      assert.ok((busy.rows[0]?.timeout ?? 0) > 0);
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
      const applied = await second.db
        .selectFrom(sql<{ name: string }>`kysely_migration`.as('m'))
        .select('m.name')
        .execute();
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
