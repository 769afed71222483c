import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { reusedQuery } from '../../server/store/reused-query.ts';

interface Db {
  t: { kind: string; owner: string; n: number };
}

test('a reused query compiles once and runs each call with its own values, constants kept', async () => {
  const raw = new SQLite(':memory:');
  raw.exec(
    "create table t (kind text, owner text, n integer); insert into t values ('a', 'x', 1), ('a', 'y', 2), ('b', 'x', 3), ('a', 'x', 4)",
  );
  const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: raw }) });
  try {
    let builds = 0;
    // The owner comes before the constant kind in the SQL, the limit after: each lands in its place.
    const query = reusedQuery(db, (owner: string, min: number) => {
      builds += 1;
      return db
        .selectFrom('t')
        .select('n')
        .where('owner', '=', owner)
        .where('kind', '=', 'a')
        .where('n', '>=', min)
        .orderBy('n');
    });
    assert.deepEqual(await query('x', 0), [{ n: 1 }, { n: 4 }]);
    assert.deepEqual(await query('y', 0), [{ n: 2 }]);
    assert.deepEqual(await query('x', 2), [{ n: 4 }]);
    assert.deepEqual(await query('z', 0), []);
    assert.equal(builds, 1);
  } finally {
    await db.destroy();
  }
});
