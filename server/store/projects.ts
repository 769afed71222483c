// Projects and who besides the owner may work on them.
import { randomBytes } from 'node:crypto';
import type { RepoContext } from './context.ts';
import { newId } from './context.ts';
import { isUniqueViolation, NameTakenError } from './errors.ts';
import { reusedQuery } from './reused-query.ts';
import type { ForkPullRequestPolicy, Project, User, Visibility } from './schema.ts';

export interface NewProject {
  name: string;
  repo: string;
  description?: string | null;
  default_branch?: string;
  visibility?: Visibility;
  owner_id?: string | null;
  max_concurrent?: number;
  fork_pull_requests?: ForkPullRequestPolicy;
}

export type ProjectPatch = Partial<
  Pick<
    Project,
    | 'name'
    | 'description'
    | 'repo'
    | 'default_branch'
    | 'visibility'
    | 'owner_id'
    | 'max_concurrent'
    | 'fork_pull_requests'
  >
>;

export interface ProjectRepo {
  /**
   * Defaults: branch `main`, private, one execution at a time, fork pull requests await
   * approval; a fresh webhook secret. Throws NameTakenError when the name is taken.
   */
  create(input: NewProject): Promise<Project>;
  get(id: string): Promise<Project | undefined>;
  byName(name: string): Promise<Project | undefined>;
  /**
   * Projects the viewer may read, by name: all for an admin, public ones plus their own and
   * those they are a member of for a developer, public ones for no one (anonymous). Mirrors
   * canRead in server/auth/permissions.ts.
   */
  list(visibleTo: Pick<User, 'id' | 'role'> | undefined): Promise<Project[]>;
  /** The updated project, or undefined when there is none with that id. */
  update(id: string, patch: ProjectPatch): Promise<Project | undefined>;
  /** Idempotent. */
  addMember(projectId: string, userId: string): Promise<void>;
  /** True when the user was a member. */
  removeMember(projectId: string, userId: string): Promise<boolean>;
  isMember(projectId: string, userId: string): Promise<boolean>;
  members(projectId: string): Promise<User[]>;
}

const PROJECT_COLUMNS = [
  'id',
  'name',
  'description',
  'repo',
  'default_branch',
  'visibility',
  'owner_id',
  'webhook_secret',
  'max_concurrent',
  'fork_pull_requests',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof Project)[];

function newWebhookSecret(): string {
  return randomBytes(32).toString('hex');
}

export function projectRepo({ db, now }: RepoContext): ProjectRepo {
  // Nearly every request checks access to a project.
  const getQuery = reusedQuery(db, (id: string) =>
    db.selectFrom('projects').select(PROJECT_COLUMNS).where('id', '=', id),
  );
  return {
    async create(input) {
      const at = now();
      return db
        .insertInto('projects')
        .values({
          id: newId(),
          name: input.name,
          repo: input.repo,
          description: input.description ?? null,
          // Undefined values are left out of the insert: the column defaults apply.
          default_branch: input.default_branch,
          visibility: input.visibility,
          owner_id: input.owner_id ?? null,
          max_concurrent: input.max_concurrent,
          fork_pull_requests: input.fork_pull_requests,
          webhook_secret: newWebhookSecret(),
          created_at: at,
          updated_at: at,
        })
        .returning(PROJECT_COLUMNS)
        .executeTakeFirstOrThrow()
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) throw new NameTakenError('project', input.name, { cause: error });
          throw error;
        });
    },

    get: async (id) => (await getQuery(id))[0],

    byName: (name) =>
      db.selectFrom('projects').select(PROJECT_COLUMNS).where('name', '=', name).executeTakeFirst(),

    async list(viewer) {
      let query = db.selectFrom('projects').select(PROJECT_COLUMNS).orderBy('name');
      if (viewer === undefined) {
        query = query.where('visibility', '=', 'public');
      } else if (viewer.role !== 'admin') {
        query = query.where((eb) =>
          eb.or([
            eb('visibility', '=', 'public'),
            eb('owner_id', '=', viewer.id),
            eb.exists(
              eb
                .selectFrom('project_members as m')
                .select('m.user_id')
                .whereRef('m.project_id', '=', 'projects.id')
                .where('m.user_id', '=', viewer.id),
            ),
          ]),
        );
      }
      return query.execute();
    },

    async update(id, patch) {
      return db
        .updateTable('projects')
        .set({ ...patch, updated_at: now() })
        .where('id', '=', id)
        .returning(PROJECT_COLUMNS)
        .executeTakeFirst();
    },

    async addMember(projectId, userId) {
      await db
        .insertInto('project_members')
        .values({ project_id: projectId, user_id: userId })
        .onConflict((oc) => oc.columns(['project_id', 'user_id']).doNothing())
        .execute();
    },

    async removeMember(projectId, userId) {
      const result = await db
        .deleteFrom('project_members')
        .where('project_id', '=', projectId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numDeletedRows === 1n;
    },

    async isMember(projectId, userId) {
      const row = await db
        .selectFrom('project_members')
        .select('user_id')
        .where('project_id', '=', projectId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row !== undefined;
    },

    members: (projectId) =>
      db
        .selectFrom('project_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .selectAll('u')
        .where('m.project_id', '=', projectId)
        .orderBy('u.username')
        .execute(),
  };
}
