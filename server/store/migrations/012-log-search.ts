// Log search: one row per indexed log line (masked text, as the step's log file holds it),
// gone with its execution (foreign key cascade, so the retention sweep needs no extra step).
// The full-text index differs by database: SQLite keeps an FTS5 index over the rows (external
// content, kept in step by triggers, so the text is stored once); PostgreSQL a generated
// tsvector column with a GIN index.
import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  let table = db.schema
    .createTable('log_lines')
    // Ascending with indexing order: "newest first" and the search cursor both read it.
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull());
  if (postgres) {
    table = table.addColumn('search', sql`tsvector`, (c) =>
      c.generatedAlwaysAs(sql`to_tsvector('simple', text)`).stored(),
    );
  }
  await table.execute();
  await db.schema.createIndex('log_lines_execution').on('log_lines').column('execution_id').execute();
  await db.schema.createIndex('log_lines_project').on('log_lines').columns(['project_id', 'id']).execute();
  if (postgres) {
    await sql`CREATE INDEX log_lines_search ON log_lines USING GIN (search)`.execute(db);
    return;
  }
  await sql`CREATE VIRTUAL TABLE log_lines_fts USING fts5(text, content='log_lines', content_rowid='id')`.execute(
    db,
  );
  await sql`CREATE TRIGGER log_lines_indexed AFTER INSERT ON log_lines BEGIN
    INSERT INTO log_lines_fts(rowid, text) VALUES (new.id, new.text); END`.execute(db);
  // Fires for the cascade from a deleted execution too.
  await sql`CREATE TRIGGER log_lines_unindexed AFTER DELETE ON log_lines BEGIN
    INSERT INTO log_lines_fts(log_lines_fts, rowid, text) VALUES ('delete', old.id, old.text); END`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'sqlite') {
    await sql`DROP TRIGGER log_lines_unindexed`.execute(db);
    await sql`DROP TRIGGER log_lines_indexed`.execute(db);
    await sql`DROP TABLE log_lines_fts`.execute(db);
  }
  await db.schema.dropTable('log_lines').execute();
}
