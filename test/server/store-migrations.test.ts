import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DATABASE_FILE, NotFoundError, openStore } from '../../server/store/index.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { rawQuery, withRawDatabase } from './helpers/raw-database.ts';

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
  '011-concurrency-file-schedules',
  '012-log-search',
  '013-runners',
  '014-rerun-from-failed',
  '015-servers',
  '016-execution-slots',
];

const TABLES = [
  'api_tokens',
  'artifacts',
  'cache_uses',
  'environments',
  'execution_forges',
  'execution_secrets',
  'execution_slots',
  'executions',
  'log_lines',
  'project_members',
  'project_status_settings',
  'projects',
  'reports',
  'runners',
  'schedules',
  'secrets',
  'servers',
  'session_keys',
  'sessions',
  'steps',
  'users',
  'webhook_deliveries',
];

// SQLite's full-text index of log_lines is a table of its own with FTS5's tables behind it;
// PostgreSQL indexes a column of log_lines instead.
const SQLITE_ONLY_TABLES = [
  'log_lines_fts',
  'log_lines_fts_config',
  'log_lines_fts_data',
  'log_lines_fts_docsize',
  'log_lines_fts_idx',
];

const tablesOn = (dialect: string) =>
  (dialect === 'sqlite' ? [...TABLES, ...SQLITE_ONLY_TABLES] : TABLES).sort();

forEachDatabase((databases) => {
  const location = async (dataDir: string) => ({ dataDir, database: await databases.database(dataDir) });

  describe('store migrations', () => {
    test('a fresh directory is created, migrated and configured', async () => {
      const dataDir = join(await tempDir(), 'nested', 'data');
      const store = await databases.openStore(dataDir);
      try {
        assert.deepEqual(store.migrated, MIGRATIONS);
        assert.equal(store.dataDir, dataDir);
        // With PostgreSQL the folder still holds logs and artifacts, but no database file.
        assert.equal((await readdir(dataDir)).includes(DATABASE_FILE), databases.dialect === 'sqlite');
        const tables = await rawQuery<{ name: string }>(
          await location(dataDir),
          databases.dialect === 'sqlite'
            ? "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name"
            : "select table_name as name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely_%' order by name",
        );
        assert.deepEqual(
          tables.map((t) => t.name),
          tablesOn(databases.dialect),
        );
        if (databases.dialect === 'sqlite') {
          // WAL is a property of the file: every connection sees it.
          const journal = withRawDatabase(dataDir, (db) => db.pragma('journal_mode', { simple: true }));
          assert.equal(journal, 'wal');
        }
      } finally {
        await store.close();
      }
    });

    test('re-opening applies nothing and keeps the data', async () => {
      const dataDir = await tempDir();
      const first = await databases.openStore(dataDir);
      const user = await first.users.create({ username: 'ada', role: 'admin' });
      await first.close();
      await first.close(); // closing twice is harmless

      const second = await databases.openStore(dataDir);
      try {
        assert.deepEqual(second.migrated, []);
        assert.deepEqual(await second.users.byUsername('ada'), user);
        const applied = await rawQuery<{ name: string }>(
          await location(dataDir),
          'select name from kysely_migration order by name',
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
      const [a, b] = await Promise.all([databases.openStore(dataDir), databases.openStore(dataDir)]);
      try {
        await a.users.create({ username: 'from-a', role: 'developer' });
        assert.equal((await b.users.byUsername('from-a'))?.role, 'developer');
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('foreign keys are enforced', async () => {
      const store = await databases.openStore(await tempDir());
      try {
        await assert.rejects(
          store.tokens.create('no-such-user', 'x'),
          /FOREIGN KEY constraint failed|violates foreign key constraint/,
        );
        await assert.rejects(
          store.executions.create({ project_id: 'nope', trigger: { event: 'manual' } }),
          NotFoundError,
        );
        await assert.rejects(store.artifacts.add('nope', [{ step: 's', path: 'a', size: 1, sha256: 'x' }]));
      } finally {
        await store.close();
      }
    });

    test('column types: what SQLite always had, the 8-byte and binary equivalents on PostgreSQL', async () => {
      const dataDir = await tempDir();
      await (await databases.openStore(dataDir)).close();
      const types = await rawQuery<{ name: string; type: string }>(
        await location(dataDir),
        databases.dialect === 'sqlite'
          ? "select t.name || '.' || c.name as name, lower(c.type) as type from sqlite_master t, pragma_table_info(t.name) c where t.name in ('reports', 'secrets', 'steps', 'executions') and c.name in ('value', 'nonce', 'ciphertext', 'duration_ms', 'number') order by name"
          : "select table_name || '.' || column_name as name, data_type as type from information_schema.columns where table_schema = 'public' and table_name in ('reports', 'secrets', 'steps', 'executions') and column_name in ('value', 'nonce', 'ciphertext', 'duration_ms', 'number') order by name",
      );
      const expected =
        databases.dialect === 'sqlite'
          ? { blob: 'blob', float: 'real', bigint: 'bigint', integer: 'integer' }
          : { blob: 'bytea', float: 'double precision', bigint: 'bigint', integer: 'integer' };
      assert.deepEqual(types, [
        { name: 'executions.number', type: expected.integer },
        { name: 'reports.value', type: expected.float },
        { name: 'secrets.ciphertext', type: expected.blob },
        { name: 'secrets.nonce', type: expected.blob },
        { name: 'steps.duration_ms', type: expected.bigint },
      ]);
    });
  });
});

describe('store migrations on SQLite', () => {
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
});
