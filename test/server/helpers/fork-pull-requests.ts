// What the fork pull request tests share: a base repository (the project's registered source,
// an absolute path), a fork of it served over git:// by a real `git daemon` on 127.0.0.1 (an
// address the URL policy accepts, as it would a fork on a forge), a `gbcms serve` process with
// its users and a public project, and signed GitHub pull_request deliveries built from
// @octokit/webhooks-examples.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LABEL_RUN, labelFilter } from '../../../engine/backends/docker/labels.ts';
import { openStore, type Project } from '../../../server/store/index.ts';
import { GITHUB_SIGNATURE_HEADER, signBody } from '../../../server/webhooks/signature.ts';
import { BUSYBOX_IMAGE } from '../../helpers/build-images.ts';
import { docker } from '../../helpers/docker.ts';
import { commitAll, GRACE, gitAs, isolatedGitEnv } from '../../helpers/git.ts';
import { pollUntil } from '../../helpers/poll.ts';
import { type Served, serveProcess } from './serve-process.ts';

const require = createRequire(import.meta.url);
const EXAMPLES = require('@octokit/webhooks-examples/api.github.com/index.json') as {
  name: string;
  examples: Record<string, unknown>[];
}[];
const PR_SYNCHRONIZE = EXAMPLES.find((e) => e.name === 'pull_request')?.examples.find(
  (p) => p.action === 'synchronize',
);

export type Who = 'admin' | 'owner' | 'member' | 'stranger';

/** A pipeline whose one step prints `text`. */
function pipeline(text: string): string {
  return [
    'version: 1',
    'name: forks',
    'steps:',
    '  build:',
    `    image: ${BUSYBOX_IMAGE}`,
    `    commands: ["echo ${text}"]`,
    '',
  ].join('\n');
}

export interface Repos {
  /** The base repository's work tree: the project's source. */
  base: string;
  /** `git://127.0.0.1:PORT/fork.git` */
  forkUrl: string;
  /** The fork's branch `patch-1`, whose step prints forkText. */
  forkCommit: string;
  forkText: string;
  /** The base repository's own branch `same-1`, whose step prints sameText. */
  sameCommit: string;
  sameText: string;
  daemon: ChildProcess;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

export async function makeRepos(dir: string): Promise<Repos> {
  const git = gitAs(GRACE);
  const marker = randomBytes(6).toString('hex');
  const base = join(dir, 'base');
  await mkdir(base);
  git(base, 'init', '-q');
  await writeFile(join(base, '.gbcms.yml'), pipeline(`from-the-base-${marker}`));
  commitAll(git, base, 'base pipeline');

  const sameText = `from-a-branch-of-the-base-${marker}`;
  git(base, 'checkout', '-q', '-b', 'same-1');
  await writeFile(join(base, '.gbcms.yml'), pipeline(sameText));
  const sameCommit = commitAll(git, base, 'same-repository change');
  git(base, 'checkout', '-q', 'main');

  const served = join(dir, 'served');
  await mkdir(served);
  git(dir, 'clone', '-q', '--bare', base, join(served, 'fork.git'));
  const forkWork = join(dir, 'fork-work');
  git(dir, 'clone', '-q', join(served, 'fork.git'), forkWork);
  const forkText = `from-the-fork-${marker}`;
  git(forkWork, 'checkout', '-q', '-b', 'patch-1');
  await writeFile(join(forkWork, '.gbcms.yml'), pipeline(forkText));
  const forkCommit = commitAll(git, forkWork, 'a change from a fork');
  git(forkWork, 'push', '-q', 'origin', 'patch-1');

  const port = await freePort();
  const daemon = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      `--base-path=${served}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
    ],
    { stdio: 'ignore', env: isolatedGitEnv() },
  );
  const forkUrl = `git://127.0.0.1:${port}/fork.git`;
  await pollUntil('git daemon to serve the fork', () =>
    promisify(execFile)('git', ['ls-remote', forkUrl], { env: isolatedGitEnv() }).then(
      () => true,
      () => false,
    ),
  );
  return { base, forkUrl, forkCommit, forkText, sameCommit, sameText, daemon };
}

export interface Setup {
  data: string;
  project: Project;
  tokens: Record<Who, string>;
}

/** Users (an admin, the project's owner, a member, a stranger) and a public project on `base`. */
export async function makeProject(data: string, base: string): Promise<Setup> {
  const store = await openStore(data);
  try {
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
    const project = await store.projects.create({
      name: 'forks',
      repo: base,
      visibility: 'public',
      owner_id: users.owner.id,
    });
    await store.projects.addMember(project.id, users.member.id);
    return { data, project, tokens };
  } finally {
    await store.close();
  }
}

/** A GitHub `pull_request` (synchronize) body for `patch` in a fork, or `same-1` of the base. */
export function pullRequestBody(repos: Repos, from: 'fork' | 'same repository'): string {
  if (!PR_SYNCHRONIZE) throw new Error('no pull_request synchronize example');
  const body = structuredClone(PR_SYNCHRONIZE) as {
    repository: { clone_url: string; full_name: string };
    pull_request: { head: { ref: string; sha: string; repo: { full_name: string; clone_url: string } } };
  };
  const head = body.pull_request.head;
  if (from === 'fork') {
    head.ref = 'patch-1';
    head.sha = repos.forkCommit;
    head.repo.full_name = 'forker/Hello-World';
    head.repo.clone_url = repos.forkUrl;
  } else {
    head.ref = 'same-1';
    head.sha = repos.sameCommit;
    head.repo.full_name = body.repository.full_name;
    head.repo.clone_url = body.repository.clone_url;
  }
  return JSON.stringify(body);
}

/** A signed delivery, as GitHub sends it. */
export function deliver(server: Served, project: Project, body: string): Promise<Response> {
  return fetch(`${server.url}/hooks/github/${project.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'pull_request',
      'x-github-delivery': randomUUID(),
      [GITHUB_SIGNATURE_HEADER]: signBody(project.webhook_secret, body),
    },
    body,
  });
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A JSON API call as `who` (anonymous without a token). */
export async function api(
  server: Served,
  setup: Setup,
  who: Who | 'anonymous',
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (who !== 'anonymous') headers.authorization = `Bearer ${setup.tokens[who]}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Containers and volumes the Docker engine holds for the run. */
export async function dockerResources(runId: string): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: labelFilter(LABEL_RUN, runId) });
  const volumes = (await docker.listVolumes({ filters: labelFilter(LABEL_RUN, runId) })).Volumes ?? [];
  return [...containers.map((c) => `container ${c.Id}`), ...volumes.map((v) => `volume ${v.Name}`)];
}

/** The execution once it has ended. */
export function ended(server: Served, setup: Setup, id: string): Promise<Record<string, unknown>> {
  return pollUntil(`execution ${id} to end`, async () => {
    const { body } = await api(server, setup, 'owner', 'GET', `/api/executions/${id}`);
    return ['success', 'failure', 'error', 'killed', 'skipped'].includes(String(body.status)) && body;
  });
}

export type { Served };
export { serveProcess };

/**
 * The Docker engine's events for the run's resources between two moments (ms since the epoch):
 * a container created and removed in between would leave nothing to list, but an event.
 */
export async function dockerEventsFor(
  runId: string,
  sinceMs: number,
  untilMs: number,
  /** More `key=value` labels the resources must carry (`gbcms.step=build`). */
  labels: readonly string[] = [],
): Promise<string[]> {
  // Fractions of a second pass as such: Docker reads `S.fff` as seconds and milliseconds.
  const stream = await docker.getEvents({
    since: Math.floor(sinceMs / 1000),
    until: Math.round(untilMs) / 1000,
    filters: JSON.stringify({ label: [`${LABEL_RUN}=${runId}`, ...labels] }),
  });
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const event = JSON.parse(line) as { Type?: string; Action?: string };
      return `${event.Type} ${event.Action}`;
    });
}
