// Users: who may call the API, with which role.
import type { RepoContext } from './context.ts';
import { newId } from './context.ts';
import { isUniqueViolation, NameTakenError } from './errors.ts';
import type { Role, User } from './schema.ts';

export interface NewUser {
  username: string;
  role: Role;
  email?: string | null;
}

export interface UserRepo {
  /** Throws NameTakenError when the username is taken. */
  create(input: NewUser): Promise<User>;
  get(id: string): Promise<User | undefined>;
  byUsername(username: string): Promise<User | undefined>;
  /** The user with that name, created with `role` when missing; `created` says which. */
  ensure(input: NewUser): Promise<{ user: User; created: boolean }>;
  list(): Promise<User[]>;
}

export function userRepo({ db, now }: RepoContext): UserRepo {
  const repo: UserRepo = {
    async create(input) {
      const user: User = {
        id: newId(),
        username: input.username,
        email: input.email ?? null,
        role: input.role,
        created_at: now(),
      };
      try {
        await db.insertInto('users').values(user).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new NameTakenError('user', input.username, { cause: error });
        throw error;
      }
      return user;
    },

    get: (id) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),

    byUsername: (username) =>
      db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst(),

    async ensure(input) {
      // Insert-or-ignore then read: two processes ensuring the same user both end up with one row.
      const user: User = {
        id: newId(),
        username: input.username,
        email: input.email ?? null,
        role: input.role,
        created_at: now(),
      };
      const result = await db
        .insertInto('users')
        .values(user)
        .onConflict((oc) => oc.column('username').doNothing())
        .executeTakeFirst();
      if (result.numInsertedOrUpdatedRows === 1n) return { user, created: true };
      const existing = await repo.byUsername(input.username);
      if (!existing) throw new Error(`user '${input.username}' vanished while being created`);
      return { user: existing, created: false };
    },

    list: () => db.selectFrom('users').selectAll().orderBy('username').execute(),
  };
  return repo;
}
