// Environments: the containers (or local sandboxes) an execution created, kept so a crash
// or a restart can still find and remove what was left behind.
import type { RepoContext } from './context.ts';
import { newId } from './context.ts';
import type { Environment, EnvironmentType } from './schema.ts';

export interface NewEnvironment {
  execution_id: string;
  /** Omit for what the whole execution shares. */
  step?: string | null;
  type: EnvironmentType;
  container_id?: string | null;
  image?: string | null;
}

export interface EnvironmentRepo {
  record(input: NewEnvironment): Promise<Environment>;
  /** Fills in the container an environment turned out to be, once it exists; true when the row exists. */
  setContainer(id: string, containerId: string, image: string): Promise<boolean>;
  /** Stamps destroyed_at (default now) once; true when it was not destroyed yet. */
  markDestroyed(id: string, at?: string): Promise<boolean>;
  listByExecution(executionId: string): Promise<Environment[]>;
}

export function environmentRepo({ db, now }: RepoContext): EnvironmentRepo {
  return {
    async record(input) {
      const environment: Environment = {
        id: newId(),
        execution_id: input.execution_id,
        step: input.step ?? null,
        type: input.type,
        container_id: input.container_id ?? null,
        image: input.image ?? null,
        created_at: now(),
        destroyed_at: null,
      };
      await db.insertInto('environments').values(environment).execute();
      return environment;
    },

    async setContainer(id, containerId, image) {
      const result = await db
        .updateTable('environments')
        .set({ container_id: containerId, image })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async markDestroyed(id, at = now()) {
      const result = await db
        .updateTable('environments')
        .set({ destroyed_at: at })
        .where('id', '=', id)
        .where('destroyed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    listByExecution: (executionId) =>
      db
        .selectFrom('environments')
        .selectAll()
        .where('execution_id', '=', executionId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
  };
}
