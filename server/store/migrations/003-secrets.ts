// Secrets and their audit trail. A value is stored only encrypted (AES-256-GCM, server/secrets/):
// the key lives outside the database, so a copy of this file alone reveals nothing.
// `scope_key` is 'global' or 'project:<id>': one text column so the unique index also holds
// for global secrets (a NULL project_id would never collide), and it is the additional data
// the ciphertext is bound to. Executions remember which secret names they were given, and
// whether they came from a fork (re-runs of a fork's pull request must not get secrets either).
import type { Kysely } from 'kysely';
import { binaryType } from './portable.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('secrets')
    .addColumn('scope_key', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('nonce', binaryType(db), (c) => c.notNull())
    .addColumn('ciphertext', binaryType(db), (c) => c.notNull())
    .addColumn('events', 'text')
    .addColumn('branches', 'text')
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('secrets_pk', ['scope_key', 'name'])
    .execute();

  await db.schema
    .createTable('execution_secrets')
    .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('scope_key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('execution_secrets_pk', ['execution_id', 'name'])
    .execute();
  // "Which executions used this secret", newest first.
  await db.schema
    .createIndex('execution_secrets_secret')
    .on('execution_secrets')
    .columns(['scope_key', 'name'])
    .execute();

  await db.schema
    .alterTable('executions')
    .addColumn('fork', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('executions').dropColumn('fork').execute();
  await db.schema.dropTable('execution_secrets').execute();
  await db.schema.dropTable('secrets').execute();
}
