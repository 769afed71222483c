// Runners: registered, authenticated by their token's hash, seen, revoked. Also the two
// execution columns the runner dispatch writes (which runner took it, why it still waits), so
// that SQL about runners stays here.
import {
  generateRunnerToken,
  hashToken,
  isRunnerTokenShaped,
  RUNNER_TOKEN_PREFIX,
} from '../auth/token-crypto.ts';
import type { RepoContext } from './context.ts';
import { newId } from './context.ts';
import type { RunnersTable } from './schema.ts';

/** Characters of the token's secret part kept in clear, to tell runners' tokens apart. */
const PREFIX_LENGTH = 8;

/**
 * A runner as the server knows it: its row without the token's hash, its labels parsed, and its
 * prefix with `gbcmsr_` in front, as listings show it.
 */
export type Runner = Omit<RunnersTable, 'token_hash' | 'labels'> & { labels: string[] };

export interface NewRunner {
  name: string;
  labels: readonly string[];
  createdBy?: string | null;
}

export interface RunnerRepo {
  /** Registers a runner; `token` is shown once and never again. Throws for a name in use. */
  create(input: NewRunner): Promise<{ token: string; runner: Runner }>;
  /** The runner behind a valid, unrevoked runner token; undefined for anything else. */
  authenticate(token: string): Promise<Runner | undefined>;
  list(): Promise<Runner[]>;
  byName(name: string): Promise<Runner | undefined>;
  /** True when the runner was active and is now revoked. */
  revoke(id: string): Promise<boolean>;
  /** It called: when, and what it says it is. */
  seen(id: string, at: string, about?: { version: string; capacity: number }): Promise<void>;
  /** A runner claimed the execution: its name is recorded and the waiting reason cleared. */
  assignExecution(executionId: string, runnerName: string): Promise<void>;
  /** Why a pending execution still waits (no runner has its labels), or null. */
  setPendingReason(executionId: string, reason: string | null): Promise<boolean>;
}

function runnerOf(row: RunnersTable): Runner {
  const { token_hash: _, labels, prefix, ...rest } = row;
  return { ...rest, labels: JSON.parse(labels) as string[], prefix: RUNNER_TOKEN_PREFIX + prefix };
}

export function runnerRepo({ db, now }: RepoContext): RunnerRepo {
  return {
    async create(input) {
      const token = generateRunnerToken();
      const row: RunnersTable = {
        id: newId(),
        name: input.name,
        labels: JSON.stringify([...new Set(input.labels)].sort()),
        token_hash: hashToken(token),
        prefix: token.slice(RUNNER_TOKEN_PREFIX.length, RUNNER_TOKEN_PREFIX.length + PREFIX_LENGTH),
        created_by: input.createdBy ?? null,
        created_at: now(),
        revoked_at: null,
        last_seen_at: null,
        version: null,
        capacity: null,
      };
      await db.insertInto('runners').values(row).execute();
      return { token, runner: runnerOf(row) };
    },

    async authenticate(token) {
      if (!isRunnerTokenShaped(token)) return undefined;
      const row = await db
        .selectFrom('runners')
        .selectAll()
        .where('token_hash', '=', hashToken(token))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return row && runnerOf(row);
    },

    async list() {
      const rows = await db.selectFrom('runners').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(runnerOf);
    },

    async byName(name) {
      const row = await db.selectFrom('runners').selectAll().where('name', '=', name).executeTakeFirst();
      return row && runnerOf(row);
    },

    async revoke(id) {
      const result = await db
        .updateTable('runners')
        .set({ revoked_at: now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async seen(id, at, about) {
      await db
        .updateTable('runners')
        .set(
          about
            ? { last_seen_at: at, version: about.version, capacity: about.capacity }
            : { last_seen_at: at },
        )
        .where('id', '=', id)
        .execute();
    },

    async assignExecution(executionId, runnerName) {
      await db
        .updateTable('executions')
        .set({ runner: runnerName, reason: null })
        .where('id', '=', executionId)
        .execute();
    },

    async setPendingReason(executionId, reason) {
      const result = await db
        .updateTable('executions')
        .set({ reason })
        .where('id', '=', executionId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}
