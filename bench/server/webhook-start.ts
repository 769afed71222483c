// From a signed GitHub push webhook's receipt by a real `gbcms serve` (Docker backend, a local
// git repository as the source) to the start of the first step's container, against the raw
// dockerode create+start of a container with the same image and hardening, in alternating
// rounds; and, apart, the git fetch of a warm clone, the share of that time no server can skip.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { LABEL_ROLE, LABEL_RUN } from '../../engine/backends/docker/labels.ts';
import { signBody } from '../../server/webhooks/signature.ts';
import { hardenedStepOptions } from '../docker-floor.ts';
import { serverFixture } from './fixture.ts';
import { serve } from './processes.ts';

const exec = promisify(execFile);
const IMAGE = 'busybox:stable';

export interface WebhookFigures {
  webhookMs: number[];
  rawMs: number[];
  fetchMs: number[];
}

interface PushExample {
  name: string;
  examples: Array<Record<string, unknown>>;
}

/** A GitHub push delivery from GitHub's own examples, pointed at `commit` on main. */
export function githubPush(commit: string, overrides: Record<string, unknown> = {}): string {
  const require = createRequire(import.meta.url);
  const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as PushExample[];
  const push = examples
    .find((e) => e.name === 'push')
    ?.examples.find((p) => p.ref === 'refs/heads/master' && p.deleted === false);
  if (!push) throw new Error('no push example');
  return JSON.stringify({
    ...push,
    ref: 'refs/heads/main',
    after: commit,
    commits: [],
    head_commit: null,
    ...overrides,
  });
}

export function githubHeaders(secret: string, body: string, delivery: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': signBody(secret, body),
  };
}

/** Milliseconds of create+start of the step's container as the engine would make it. */
async function rawCreateStart(docker: Docker, options: Docker.ContainerCreateOptions): Promise<number> {
  const started = performance.now();
  const container = await docker.createContainer(options);
  await container.start();
  const ms = performance.now() - started;
  await container.remove({ force: true });
  return ms;
}

/** Resolves with the time the first step container of `runId` started. */
export function firstStepStart(docker: Docker): { of(runId: string): Promise<number>; close(): void } {
  const seen = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  let stream: NodeJS.ReadableStream | undefined;
  const ready = docker
    .getEvents({ filters: { type: ['container'], event: ['start'], label: [`${LABEL_ROLE}=step`] } })
    .then((events) => {
      stream = events;
      events.on('data', (chunk: Buffer) => {
        const at = performance.now();
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          const runId = (JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }).Actor
            ?.Attributes?.[LABEL_RUN];
          if (runId === undefined || seen.has(runId)) continue;
          seen.set(runId, at);
          waiting.get(runId)?.(at);
        }
      });
    });
  return {
    async of(runId) {
      await ready;
      const at = seen.get(runId);
      return at ?? new Promise((resolve) => waiting.set(runId, resolve));
    },
    close: () => (stream as unknown as { destroy(): void } | undefined)?.destroy(),
  };
}

export async function webhookToContainer(rounds: number, logFile: string): Promise<WebhookFigures> {
  const docker = new Docker();
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-webhook-'));
  const fixture = await serverFixture(dir);
  const options = await hardenedStepOptions(IMAGE, ['true'], 'webhook-floor');
  const server = await serve({ data: fixture.data, backend: 'docker', logFile });
  const starts = firstStepStart(docker);
  const work = join(dir, 'work');
  const clone = join(dir, 'warm-clone');
  const git = (cwd: string, ...args: string[]) =>
    exec('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], { cwd });
  await exec('git', ['clone', '-q', '--bare', fixture.repo, clone]);
  const figures: WebhookFigures = { webhookMs: [], rawMs: [], fetchMs: [] };
  try {
    await rawCreateStart(docker, options); // warm-up
    for (let round = 0; round <= rounds; round += 1) {
      // A new commit each round, as a real push brings.
      await writeFile(join(work, 'round.txt'), String(round));
      await git(work, 'add', '.');
      await git(work, 'commit', '-q', '-m', `round ${round}`);
      await git(work, 'push', '-q', fixture.repo, 'main');
      const commit = (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
      const raw = await rawCreateStart(docker, options);

      const body = githubPush(commit);
      const received = performance.now();
      const response = await fetch(`${server.url}/hooks/github/${fixture.publicProject.id}`, {
        method: 'POST',
        headers: githubHeaders(fixture.publicProject.webhookSecret, body, `bench-start-${round}`),
        body,
      });
      if (response.status !== 202)
        throw new Error(`webhook: HTTP ${response.status} ${await response.text()}`);
      const { execution_id: id } = (await response.json()) as { execution_id: string };
      const webhook = (await starts.of(id)) - received;
      await finished(server.url, id);

      const fetchStarted = performance.now();
      await git(clone, 'fetch', '-q', fixture.repo, '+refs/heads/main:refs/heads/main');
      const fetchMs = performance.now() - fetchStarted;
      // Round 0 warms the server (first clone, image lookups) and is left out.
      if (round === 0) continue;
      figures.rawMs.push(raw);
      figures.webhookMs.push(webhook);
      figures.fetchMs.push(fetchMs);
    }
    return figures;
  } finally {
    starts.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function finished(url: string, id: string): Promise<void> {
  for (;;) {
    const execution = (await (await fetch(`${url}/api/executions/${id}`)).json()) as { status: string };
    if (!['pending', 'running', 'blocked'].includes(execution.status)) {
      if (execution.status !== 'success') throw new Error(`execution ${id} ended ${execution.status}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
