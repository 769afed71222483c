// What a run holds on Docker between setupRun and destroyRun: the images its environments
// resolved to, its workspace volume (seeded once from the project's files) and its steps'
// cache volumes, and the removals still going on in the background.
import type Docker from 'dockerode';
import type { PlannedStep, ResolvedEnvironment } from '../../plan.ts';
import type { RunContext, RunInputs } from '../types.ts';
import { ensureStepCaches } from './cache-volumes.ts';
import { type CacheMount, parseOwner } from './convert.ts';
import type { ImageResolver } from './images.ts';
import { createWorkspaceVolume } from './workspace-volume.ts';

export interface DockerRun {
  /** Image id by environment key. */
  images: Map<string, string>;
  volume: string;
  /** Removals left running in the background (seed and step containers), awaited by destroyRun. */
  removals: Set<Promise<void>>;
  /** Cache volumes by step name. */
  caches: Map<string, CacheMount[]>;
}

/** Environments with the same image source share one resolved image. */
export function environmentKey(environment: ResolvedEnvironment): string {
  return environment.build
    ? `build:${JSON.stringify(environment.build)}`
    : `image:${environment.image}:${environment.pull}`;
}

export function stepKey(step: PlannedStep, run: RunContext): string {
  return `${run.id}\0${step.name}`;
}

export function imageOf(environment: ResolvedEnvironment, images: Map<string, string>, what: string): string {
  const image = images.get(environmentKey(environment));
  if (image === undefined) throw new Error(`docker backend: no image resolved for ${what}`);
  return image;
}

export function imageFor(step: PlannedStep, images: Map<string, string>): string {
  return imageOf(step.environment, images, `step '${step.name}'`);
}

/**
 * Resolves (builds, pulls) every image the run's steps and services use, then makes the
 * workspace volume and the cache volumes. `registered` is called as soon as the run has
 * state, so its background removals (the seeding container's) are awaited by destroyRun even
 * when what follows fails.
 */
export async function setUpDockerRun(
  docker: Docker,
  resolver: ImageResolver,
  run: RunContext,
  inputs: RunInputs,
  registered: (state: DockerRun, seedRemoved?: Promise<void>) => void,
): Promise<void> {
  const steps = run.plan.steps.filter((s) => s.skip === undefined);
  const environments = new Map<string, ResolvedEnvironment>();
  for (const step of steps) {
    environments.set(environmentKey(step.environment), step.environment);
    for (const service of step.services ?? [])
      environments.set(environmentKey(service.environment), service.environment);
  }
  const images = new Map<string, string>();
  await Promise.all(
    [...environments].map(async ([key, environment]) => {
      images.set(
        key,
        await resolver.resolve(environment, (message) => run.notice(message), run.plan.workspace),
      );
    }),
  );
  const first = steps[0];
  if (!first) {
    registered({ images, volume: '', removals: new Set(), caches: new Map() });
    return;
  }
  const owner = parseOwner(first.environment.user);
  if (!owner.numeric) {
    run.notice(
      `user '${first.environment.user}' is a name, not uid:gid: the workspace is owned by ${owner.uid}:${owner.gid}`,
    );
  }
  const workspace = await createWorkspaceVolume(docker, {
    runId: run.id,
    source: run.plan.workspace,
    files: inputs.workspaceFiles,
    image: imageFor(first, images),
    owner,
  });
  const state: DockerRun = { images, volume: workspace.name, removals: new Set(), caches: new Map() };
  registered(state, workspace.seedRemoved);
  state.caches = await ensureStepCaches(docker, run.id, steps, inputs, (step) => imageFor(step, images));
}
