// Which forge an execution reports its status to (set once, when a webhook starts it), and the
// last problem posting there, for the run page.
import type { RepoContext } from './context.ts';
import type { ExecutionForge, Forge } from './schema.ts';

export interface ForgeTarget {
  forge: Forge;
  repo: string;
}

export interface ForgeRepo {
  set(executionId: string, target: ForgeTarget): Promise<void>;
  get(executionId: string): Promise<ExecutionForge | undefined>;
  /** The latest failure to post a status, or null once one went through. */
  setProblem(executionId: string, problem: string | null): Promise<void>;
}

export function forgeRepo({ db }: RepoContext): ForgeRepo {
  return {
    async set(executionId, target) {
      await db
        .insertInto('execution_forges')
        .values({ execution_id: executionId, forge: target.forge, repo: target.repo, problem: null })
        .onConflict((oc) => oc.column('execution_id').doUpdateSet({ forge: target.forge, repo: target.repo }))
        .execute();
    },

    get(executionId) {
      return db
        .selectFrom('execution_forges')
        .selectAll()
        .where('execution_id', '=', executionId)
        .executeTakeFirst();
    },

    async setProblem(executionId, problem) {
      await db
        .updateTable('execution_forges')
        .set({ problem })
        .where('execution_id', '=', executionId)
        .execute();
    },
  };
}
