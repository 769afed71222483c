// The first schema. A migration is history: once released it never changes; later changes go
// in 002-..., 003-... Portable column types only (text, integer, bigint, real) so the same
// migration runs on PostgreSQL. Enumerated values (roles, statuses) have no CHECK constraint:
// SQLite cannot alter one without rebuilding the table, and the repositories' types already
// keep them in range.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();

  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('default_branch', 'text', (c) => c.notNull().defaultTo('main'))
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private'))
    .addColumn('owner_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('webhook_secret', 'text', (c) => c.notNull())
    .addColumn('max_concurrent', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('last_execution_number', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('projects_owner').on('projects').column('owner_id').execute();

  await db.schema
    .createTable('project_members')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('project_members_pk', ['project_id', 'user_id'])
    .execute();
  await db.schema.createIndex('project_members_user').on('project_members').column('user_id').execute();

  await db.schema
    .createTable('executions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trigger_event', 'text', (c) => c.notNull())
    .addColumn('ref', 'text')
    .addColumn('ref_type', 'text')
    .addColumn('commit_sha', 'text')
    .addColumn('author', 'text')
    .addColumn('message', 'text')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('ended_at', 'text')
    .addColumn('logs_dir', 'text', (c) => c.notNull())
    .addColumn('rerun_of', 'text', (c) => c.references('executions.id').onDelete('set null'))
    .addUniqueConstraint('executions_project_number', ['project_id', 'number'])
    .execute();
  await db.schema
    .createIndex('executions_project_created')
    .on('executions')
    .columns(['project_id', 'created_at desc', 'number desc'])
    .execute();
  await db.schema
    .createIndex('executions_project_ref')
    .on('executions')
    .columns(['project_id', 'ref'])
    .execute();
  await db.schema.createIndex('executions_status').on('executions').column('status').execute();
  // Deleting an execution nulls the references to it; without an index each delete scans.
  await db.schema.createIndex('executions_rerun_of').on('executions').column('rerun_of').execute();

  await db.schema
    .createTable('steps')
    .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('exit_code', 'integer')
    .addColumn('reason', 'text')
    .addColumn('started_at', 'text')
    .addColumn('ended_at', 'text')
    .addColumn('duration_ms', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('log', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('steps_pk', ['execution_id', 'name'])
    .execute();

  await db.schema
    .createTable('environments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('step', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('container_id', 'text')
    .addColumn('image', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('destroyed_at', 'text')
    .execute();
  await db.schema.createIndex('environments_execution').on('environments').column('execution_id').execute();

  // The primary key starts with execution_id: it is also the "artifacts by execution" index.
  await db.schema
    .createTable('artifacts')
    .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifacts_pk', ['execution_id', 'step', 'path'])
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('delivery_id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('execution_id', 'text', (c) => c.references('executions.id').onDelete('set null'))
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_project')
    .on('webhook_deliveries')
    .column('project_id')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_execution')
    .on('webhook_deliveries')
    .column('execution_id')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_received')
    .on('webhook_deliveries')
    .column('received_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'webhook_deliveries',
    'artifacts',
    'environments',
    'steps',
    'executions',
    'project_members',
    'projects',
    'api_tokens',
    'users',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
