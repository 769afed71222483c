// Artifacts an execution's steps produced: what the engine collected, for listings and downloads.
import type { ArtifactRecord } from '../../engine/backends/types.ts';
import type { RepoContext } from './context.ts';
import { reusedQuery } from './reused-query.ts';

// Keeps each INSERT under SQLite's bound-parameter limit (5 columns a row).
const ROWS_PER_INSERT = 500;

export interface ArtifactRepo {
  /** Adding the same step+path again replaces its size and hash. */
  add(executionId: string, artifacts: readonly ArtifactRecord[]): Promise<void>;
  /** By step, then path. */
  list(executionId: string): Promise<ArtifactRecord[]>;
  get(executionId: string, step: string, path: string): Promise<ArtifactRecord | undefined>;
}

export function artifactRepo({ db }: RepoContext): ArtifactRepo {
  // Every look at an execution lists them.
  const listQuery = reusedQuery(db, (executionId: string) =>
    db
      .selectFrom('artifacts')
      .select(['step', 'path', 'size', 'sha256'])
      .where('execution_id', '=', executionId)
      .orderBy('step')
      .orderBy('path'),
  );
  return {
    async add(executionId, artifacts) {
      if (artifacts.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < artifacts.length; i += ROWS_PER_INSERT) {
          const rows = artifacts.slice(i, i + ROWS_PER_INSERT).map((a) => ({
            execution_id: executionId,
            step: a.step,
            path: a.path,
            size: a.size,
            sha256: a.sha256,
          }));
          await trx
            .insertInto('artifacts')
            .values(rows)
            .onConflict((oc) =>
              oc.columns(['execution_id', 'step', 'path']).doUpdateSet((eb) => ({
                size: eb.ref('excluded.size'),
                sha256: eb.ref('excluded.sha256'),
              })),
            )
            .execute();
        }
      });
    },

    list: (executionId) => listQuery(executionId),

    get: (executionId, step, path) =>
      db
        .selectFrom('artifacts')
        .select(['step', 'path', 'size', 'sha256'])
        .where('execution_id', '=', executionId)
        .where('step', '=', step)
        .where('path', '=', path)
        .executeTakeFirst(),
  };
}
