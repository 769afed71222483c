// Sessions: a project's named groups of external executions ("regression model", "simulation
// sweep"). A reporter names its session; the first execution that names it creates it.
import { newId, type RepoContext } from './context.ts';
import { NotFoundError } from './errors.ts';
import type { Execution, Session } from './schema.ts';

/** Executions listed with a session, at most. */
export const MAX_SESSION_EXECUTIONS = 1000;

export interface SessionSummary extends Session {
  /** Executions in the session. */
  executions: number;
  /** created_at of its newest execution; null when it has none (any more). */
  last_execution_at: string | null;
}

export interface SessionRepo {
  /** Throws NotFoundError for an unknown project; a constraint error when the name is taken. */
  create(projectId: string, name: string): Promise<Session>;
  get(id: string): Promise<Session | undefined>;
  byName(projectId: string, name: string): Promise<Session | undefined>;
  /** The session of that name, created when there is none yet (safe when two callers race). */
  ensure(projectId: string, name: string): Promise<Session>;
  /** The project's sessions, newest first. */
  list(projectId: string, limit?: number): Promise<SessionSummary[]>;
  /** The session's executions, oldest first, at most MAX_SESSION_EXECUTIONS. */
  executions(sessionId: string): Promise<Execution[]>;
}

export function sessionRepo({ db, now }: RepoContext): SessionRepo {
  const byName = (projectId: string, name: string) =>
    db
      .selectFrom('sessions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();

  const create = async (projectId: string, name: string): Promise<Session> => {
    const project = await db
      .selectFrom('projects')
      .select('id')
      .where('id', '=', projectId)
      .executeTakeFirst();
    if (!project) throw new NotFoundError('project', projectId);
    const session: Session = { id: newId(), project_id: projectId, name, created_at: now() };
    await db.insertInto('sessions').values(session).execute();
    return session;
  };

  return {
    create,

    get: (id) => db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst(),

    byName,

    async ensure(projectId, name) {
      const found = await byName(projectId, name);
      if (found) return found;
      try {
        return await create(projectId, name);
      } catch (error) {
        // Another reporter created it meanwhile: the unique index decided, take theirs.
        const raced = await byName(projectId, name);
        if (raced) return raced;
        throw error;
      }
    },

    async list(projectId, limit = 100) {
      const rows = await db
        .selectFrom('sessions')
        .leftJoin('executions', 'executions.session_id', 'sessions.id')
        .selectAll('sessions')
        .select((eb) => [
          eb.fn.count<number>('executions.id').as('executions'),
          eb.fn.max('executions.created_at').as('last_execution_at'),
        ])
        .where('sessions.project_id', '=', projectId)
        .groupBy('sessions.id')
        .orderBy('sessions.created_at', 'desc')
        .orderBy('sessions.id')
        .limit(Math.max(1, Math.min(1000, Math.floor(limit))))
        .execute();
      return rows.map((row) => ({
        ...row,
        executions: Number(row.executions),
        last_execution_at: row.last_execution_at ?? null,
      }));
    },

    executions: (sessionId) =>
      db
        .selectFrom('executions')
        .selectAll()
        .where('session_id', '=', sessionId)
        .orderBy('created_at')
        .orderBy('number')
        .limit(MAX_SESSION_EXECUTIONS)
        .execute(),
  };
}
