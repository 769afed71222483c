import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { cachingDatabase } from '../../server/store/statement-cache.ts';

test('the same SQL gets the same prepared statement back, up to the cache size', () => {
  const raw = new SQLite(':memory:');
  const db = cachingDatabase(raw, 2);
  try {
    raw.exec('create table t (n integer)');
    const insert = db.prepare('insert into t values (?)');
    assert.equal(db.prepare('insert into t values (?)'), insert);
    insert.run([1]);
    insert.run([2]);
    assert.deepEqual(db.prepare('select n from t order by n').all([]), [{ n: 1 }, { n: 2 }]);
    // A third text evicts the least recently used (the insert): it is prepared anew.
    db.prepare('select count(*) from t');
    assert.notEqual(db.prepare('insert into t values (?)'), insert);
  } finally {
    db.close();
  }
});

test('a statement still iterating is not handed out again: the second query gets its own', () => {
  const raw = new SQLite(':memory:');
  const db = cachingDatabase(raw);
  try {
    raw.exec('create table t (n integer); insert into t values (1), (2), (3)');
    const sql = 'select n from t order by n';
    const rows = db.prepare(sql).iterate([]);
    assert.deepEqual(rows.next().value, { n: 1 });
    // With the first one busy, reusing it would throw "This statement is busy executing a query".
    assert.deepEqual(db.prepare(sql).all([]), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.deepEqual([...rows], [{ n: 2 }, { n: 3 }]);
  } finally {
    db.close();
  }
});
