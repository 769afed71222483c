// The baselines: what raw dockerode does with the same hardened container, no engine around it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import PQueue from 'p-queue';
import { stepContainerOptions } from '../engine/backends/docker/convert.ts';
import { demux } from '../engine/backends/docker/demux.ts';
import type { RunContext } from '../engine/backends/types.ts';
import { compilePlan } from '../engine/compile/compiler.ts';

export type CreateOptions = Docker.ContainerCreateOptions;

/** Container options exactly as the engine makes them for a step of `image`, without the workspace volume. */
export async function hardenedStepOptions(
  image: string,
  commands: [string, ...string[]],
  name: string,
): Promise<CreateOptions> {
  const dir = await mkdtemp(join(tmpdir(), 'gbcms-bench-'));
  try {
    const plan = compilePlan(
      {
        version: 1,
        name: 'bench',
        environments: { shell: { image } },
        steps: { step: { environment: 'shell', commands } },
      },
      { file: '.gbcms.yml', workspace: dir, trigger: { event: 'manual' } },
    );
    const run: RunContext = { id: `bench-${name}`, plan, dir, secrets: {}, env: {}, notice: () => undefined };
    const options = stepContainerOptions({ step: plan.steps[0]!, run, image, volume: '', attempt: 1 });
    // The floor has no workspace volume: it measures the container alone.
    if (options.HostConfig) options.HostConfig.Mounts = [];
    return { ...options, name: `gbcms-bench-${name}-${process.pid}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** create -> start -> wait -> remove, the floor for one step. Returns milliseconds. */
export async function rawContainer(docker: Docker, options: CreateOptions): Promise<number> {
  const started = performance.now();
  const container = await docker.createContainer(options);
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode?: number };
  await container.remove({ force: true });
  if (StatusCode !== 0) throw new Error(`the floor's container ${options.name} exited ${StatusCode}`);
  return performance.now() - started;
}

/** `count` raw containers through a queue of `concurrency`, as a fan-out would run. */
export async function rawFanOut(docker: Docker, options: CreateOptions, count: number, concurrency: number) {
  const queue = new PQueue({ concurrency });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      queue.add(() => rawContainer(docker, { ...options, name: `${options.name}-${i}` })),
    ),
  );
  return performance.now() - started;
}

/** A container's output read straight from attach, demultiplexed: bytes, and ms from first to last byte. */
export async function rawAttachThroughput(
  docker: Docker,
  options: CreateOptions,
): Promise<{ bytes: number; ms: number }> {
  const container = await docker.createContainer(options);
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true, hijack: true });
    await container.start();
    // From the first byte to the last: the stream's own rate, not the container's start-up.
    let first: number | undefined;
    let bytes = 0;
    for await (const chunk of demux(stream)) {
      first ??= performance.now();
      bytes += chunk.data.length;
    }
    const ms = performance.now() - (first ?? performance.now());
    await container.wait();
    return { bytes, ms };
  } finally {
    await container.remove({ force: true });
  }
}

/** Bytes per second of getArchive from a stopped container, the stream only. */
export async function rawGetArchive(
  container: Docker.Container,
  path: string,
): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  const stream = await container.getArchive({ path });
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) bytes += chunk.length;
  return { bytes, ms: performance.now() - started };
}
