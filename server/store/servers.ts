// The `gbcms serve` processes sharing this database (015-servers): each beats here, and the
// executions it manages name it. Taking another server's executions over is one conditional
// UPDATE per execution, so when two live servers find the same dead one, each execution goes
// to exactly one of them.
import type { RunStatus } from '../../engine/status.ts';
import type { RepoContext } from './context.ts';
import type { Execution, ServersTable } from './schema.ts';

export type ServerRow = ServersTable;

export interface ServerRepo {
  /** Registers (or re-registers, after a restart under the same name) a server. */
  register(row: Omit<ServerRow, 'started_at' | 'last_seen_at'>): Promise<ServerRow>;
  /** Its heartbeat; false when another incarnation holds the name now. */
  beat(name: string, incarnation: string): Promise<boolean>;
  list(): Promise<ServerRow[]>;
  /** Forgotten: the row goes, if this incarnation still holds it. */
  remove(name: string, incarnation: string): Promise<void>;
  /** A clean stop: shown silent for ever, so that the others take its executions up at once. */
  retire(name: string, incarnation: string): Promise<void>;
  /** Executions in these statuses that `server` manages (null: those no named server manages). */
  executionsOf(server: string | null, statuses: readonly RunStatus[]): Promise<Execution[]>;
  /** Moves an execution from one server to another; false when it was not (or no longer) `from`'s. */
  takeOver(executionId: string, from: string | null, to: string): Promise<boolean>;
}

export function serverRepo({ db, now }: RepoContext): ServerRepo {
  return {
    async register(row) {
      const at = now();
      const full: ServerRow = { ...row, started_at: at, last_seen_at: at };
      await db
        .insertInto('servers')
        .values(full)
        .onConflict((oc) =>
          oc.column('name').doUpdateSet({
            url: row.url,
            incarnation: row.incarnation,
            version: row.version,
            started_at: at,
            last_seen_at: at,
          }),
        )
        .execute();
      return full;
    },

    async beat(name, incarnation) {
      const result = await db
        .updateTable('servers')
        .set({ last_seen_at: now() })
        .where('name', '=', name)
        .where('incarnation', '=', incarnation)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    list: () => db.selectFrom('servers').selectAll().orderBy('name').execute(),

    async remove(name, incarnation) {
      await db
        .deleteFrom('servers')
        .where('name', '=', name)
        .where('incarnation', '=', incarnation)
        .execute();
    },

    async retire(name, incarnation) {
      await db
        .updateTable('servers')
        .set({ last_seen_at: new Date(0).toISOString() })
        .where('name', '=', name)
        .where('incarnation', '=', incarnation)
        .execute();
    },

    async executionsOf(server, statuses) {
      if (statuses.length === 0) return [];
      return db
        .selectFrom('executions')
        .selectAll()
        .where('server', server === null ? 'is' : '=', server)
        .where('status', 'in', statuses)
        .orderBy('created_at')
        .orderBy('number')
        .execute();
    },

    async takeOver(executionId, from, to) {
      const result = await db
        .updateTable('executions')
        .set({ server: to })
        .where('id', '=', executionId)
        .where('server', from === null ? 'is' : '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
