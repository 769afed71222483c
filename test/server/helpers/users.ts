// The callers route tests speak as: an admin, a developer who owns the projects, a developer
// who is a member, and a stranger, each with a token.
import type { Store, User } from '../../../server/store/index.ts';

export type Who = 'anonymous' | 'admin' | 'owner' | 'member' | 'stranger';

export interface Callers {
  users: Record<Exclude<Who, 'anonymous'>, User>;
  tokens: Record<Exclude<Who, 'anonymous'>, string>;
}

export async function createCallers(store: Store): Promise<Callers> {
  const users = {
    admin: await store.users.create({ username: 'admin', role: 'admin' }),
    owner: await store.users.create({ username: 'owner', role: 'developer' }),
    member: await store.users.create({ username: 'member', role: 'developer' }),
    stranger: await store.users.create({ username: 'stranger', role: 'developer' }),
  };
  const tokens = {
    admin: (await store.tokens.create(users.admin.id, 'test')).token,
    owner: (await store.tokens.create(users.owner.id, 'test')).token,
    member: (await store.tokens.create(users.member.id, 'test')).token,
    stranger: (await store.tokens.create(users.stranger.id, 'test')).token,
  };
  return { users, tokens };
}
