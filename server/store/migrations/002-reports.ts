// Reports and sessions. Reports are what steps (or an external reporter: a notebook, a cluster
// job) send while they run: metric points, progress, annotations and test results, one row
// each, numbered per execution. Sessions group external executions by name within a project.
// Executions gain the columns an external execution needs; a pipeline run leaves them null/0.
import type { Kysely } from 'kysely';
import { floatType } from './portable.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('sessions_project_name', ['project_id', 'name'])
    .execute();
  await db.schema
    .createIndex('sessions_project_created')
    .on('sessions')
    .columns(['project_id', 'created_at'])
    .execute();

  await db.schema
    .alterTable('executions')
    .addColumn('session_id', 'text', (c) => c.references('sessions.id').onDelete('set null'))
    .execute();
  await db.schema
    .alterTable('executions')
    .addColumn('external', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('executions').addColumn('name', 'text').execute();
  await db.schema.alterTable('executions').addColumn('heartbeat_timeout_s', 'integer').execute();
  await db.schema.alterTable('executions').addColumn('last_heartbeat_at', 'text').execute();
  await db.schema.createIndex('executions_session').on('executions').column('session_id').execute();

  // (execution_id, seq) is the key: seq is handed out per execution by the one writer of its
  // reports, so it is portable (no autoincrement) and doubles as the pagination cursor.
  await db.schema
    .createTable('reports')
    .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('value', floatType(db))
    .addColumn('step_number', 'bigint')
    .addColumn('time', 'text', (c) => c.notNull())
    .addColumn('data', 'text')
    .addPrimaryKeyConstraint('reports_pk', ['execution_id', 'seq'])
    .execute();
  // One metric's points in order (charts, CSV, ?type=&name=), and the metric names.
  await db.schema
    .createIndex('reports_execution_type_name')
    .on('reports')
    .columns(['execution_id', 'type', 'name', 'seq'])
    .execute();
  // A step's reports in order (replay after the step's log, ?step=).
  await db.schema
    .createIndex('reports_execution_step')
    .on('reports')
    .columns(['execution_id', 'step', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reports').execute();
  await db.schema.dropIndex('executions_session').execute();
  for (const column of ['last_heartbeat_at', 'heartbeat_timeout_s', 'name', 'external', 'session_id']) {
    await db.schema.alterTable('executions').dropColumn(column).execute();
  }
  await db.schema.dropTable('sessions').execute();
}
