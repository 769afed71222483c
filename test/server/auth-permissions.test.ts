import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectAccess } from '../../server/auth/access.ts';
import { type Actor, canApprove, canManage, canRead, canWrite } from '../../server/auth/permissions.ts';
import { openStore, type Project, type Store, type User, type Visibility } from '../../server/store/index.ts';
import { withRawDatabase } from './helpers/raw-database.ts';

type Who = 'admin' | 'owner' | 'member' | 'stranger' | 'anonymous';
const WHO: Who[] = ['admin', 'owner', 'member', 'stranger', 'anonymous'];

// The rules, written out case by case: [read, write, manage].
const EXPECTED: Record<Visibility, Record<Who, [boolean, boolean, boolean]>> = {
  public: {
    admin: [true, true, true],
    owner: [true, true, true],
    member: [true, true, false],
    stranger: [true, false, false],
    anonymous: [true, false, false],
  },
  private: {
    admin: [true, true, true],
    owner: [true, true, true],
    member: [true, true, false],
    stranger: [false, false, false],
    anonymous: [false, false, false],
  },
};

let dir: string;
let store: Store;
const users = {} as Record<Exclude<Who, 'anonymous'>, User>;
const projects = {} as Record<Visibility, Project>;

function actor(who: Who): Actor {
  return who === 'anonymous' ? undefined : users[who];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gbcms-auth-'));
  store = await openStore(dir);
  users.admin = await store.users.create({ username: 'admin', role: 'admin' });
  users.owner = await store.users.create({ username: 'owner', role: 'developer' });
  users.member = await store.users.create({ username: 'member', role: 'developer' });
  users.stranger = await store.users.create({ username: 'stranger', role: 'developer' });
  for (const visibility of ['public', 'private'] as const) {
    projects[visibility] = await store.projects.create({
      name: visibility,
      repo: '/src',
      visibility,
      owner_id: users.owner.id,
    });
    await store.projects.addMember(projects[visibility].id, users.member.id);
  }
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('permissions matrix', () => {
  for (const visibility of ['public', 'private'] as const) {
    for (const who of WHO) {
      const [read, write, manage] = EXPECTED[visibility][who];
      test(`${who} on a ${visibility} project: read ${read}, write ${write}, manage ${manage}`, async () => {
        const project = projects[visibility];
        const isMember = who === 'member';
        assert.equal(canRead(actor(who), project, isMember), read);
        assert.equal(canWrite(actor(who), project, isMember), write);
        assert.equal(canManage(actor(who), project), manage);

        // The same answers from the store-backed paths routes use.
        const access = await projectAccess(store.projects, actor(who), project.id);
        assert.deepEqual(
          access && { write: access.write, manage: access.manage },
          read ? { write, manage } : undefined,
        );
        const listed = (await store.projects.list(actor(who))).some((p) => p.id === project.id);
        assert.equal(listed, read);
      });
    }
  }

  test('a project without an owner is written by admins and members only', async () => {
    const orphan = await store.projects.create({ name: 'orphan', repo: '/src', visibility: 'private' });
    await store.projects.addMember(orphan.id, users.member.id);
    assert.equal((await projectAccess(store.projects, users.admin, orphan.id))?.manage, true);
    assert.equal((await projectAccess(store.projects, users.member, orphan.id))?.write, true);
    assert.equal((await projectAccess(store.projects, users.member, orphan.id))?.manage, false);
    assert.equal(await projectAccess(store.projects, users.owner, orphan.id), undefined);
    assert.equal(canWrite({ id: 'x', role: 'developer' }, orphan, false), false);
  });

  test('an unknown project answers like a private one', async () => {
    assert.equal(await projectAccess(store.projects, users.admin, 'no-such-project'), undefined);
    assert.equal(await projectAccess(store.projects, undefined, projects.private.id), undefined);
  });

  test('list orders by name and shows admins everything', async () => {
    const names = (await store.projects.list(users.admin)).map((p) => p.name);
    assert.deepEqual(names, [...names].sort());
    const stored = withRawDatabase(dir, (db) => db.prepare('select count(*) as n from projects').get()) as {
      n: number;
    };
    assert.equal(names.length, stored.n);
  });
});

describe('who may decide an approval gate', () => {
  const alice = { username: 'alice', role: 'developer' } as const;
  const root = { username: 'root', role: 'admin' } as const;
  test('a gate naming nobody is for whoever may write', () => {
    assert.equal(canApprove(alice, [], true), true);
    assert.equal(canApprove(alice, [], false), false);
  });
  test('a gate naming usernames or roles is for them alone, writers or not', () => {
    assert.equal(canApprove(alice, ['alice'], false), true);
    assert.equal(canApprove(alice, ['bob', 'admin'], true), false);
    assert.equal(canApprove(root, ['bob', 'admin'], false), true);
    assert.equal(canApprove(alice, ['developer'], false), true);
  });
});
