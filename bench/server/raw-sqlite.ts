// The floor of report ingestion: the rows a batch of reports becomes, inserted straight into
// gbcms's own `reports` table (its indexes, keys and pragmas) with a prepared statement, one
// transaction per batch, for as long as the HTTP round lasts.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, openStore } from '../../server/store/index.ts';

/** Rows per second, `batchSize` rows per transaction, for `seconds`. */
export async function rawReportInserts(dir: string, batchSize: number, seconds: number): Promise<number> {
  const store = await openStore(dir);
  let executionId: string;
  try {
    const project = await store.projects.create({ name: 'raw', repo: dir });
    executionId = (
      await store.executions.create({
        project_id: project.id,
        trigger: { event: 'manual', branch: 'main' },
        external: { session_id: null, name: null, heartbeat_timeout_s: 3600 },
      })
    ).id;
  } finally {
    await store.close();
  }
  const db = new Database(join(dir, DATABASE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const insert = db.prepare(
      'insert into reports (execution_id, seq, step, type, name, value, step_number, time, data) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    let seq = 0;
    const batch = db.transaction(() => {
      const time = new Date().toISOString();
      for (let i = 0; i < batchSize; i += 1) {
        seq += 1;
        insert.run(executionId, seq, 'external', 'metric', `series_${i % 25}`, Math.sin(i), i, time, null);
      }
    });
    const started = performance.now();
    const until = started + seconds * 1000;
    while (performance.now() < until) batch();
    return seq / ((performance.now() - started) / 1000);
  } finally {
    db.close();
  }
}
