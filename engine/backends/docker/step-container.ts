// One step container's life on the engine: created, attached before start so no output is
// lost (with stdin too when its script waits at a gate), its kills watched, started, removed.
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { PlannedStep } from '../../plan.ts';
import { dockerFailure, isGoneOrGoing } from './errors.ts';
import { type KillWatch, watchKills } from './outside-stops.ts';
import type { EngineRuntimes } from './runtimes.ts';
import type { StartedServices } from './services.ts';

export interface DockerStep {
  container: Docker.Container;
  /** The attach stream: demultiplexed output, and the gate's stdin when there is one. */
  output: NodeJS.ReadableStream;
  /** Kills the daemon logged for the container: tells a daemon's stop from the step's own exit. */
  kills: KillWatch;
}

/** Created and attached, its kills watched; not started. Nothing is left behind when it throws. */
export async function openStepContainer(
  docker: Docker,
  step: PlannedStep,
  options: Docker.ContainerCreateOptions,
  extra: { services?: StartedServices | undefined; stdin?: boolean } = {},
): Promise<DockerStep> {
  const { services, stdin = false } = extra;
  let container: Docker.Container;
  try {
    container = await docker.createContainer(options);
    // A bridge step was created on bridge; it reaches its services through a second network.
    if (services !== undefined && step.environment.network === 'bridge')
      await services.network.connect({ Container: container.id });
  } catch (error) {
    throw dockerFailure('GBCMS_ERR_START', `could not create the container of step '${step.name}'`, error);
  }
  // Two connections, one round: neither needs the other, and both must be open before start.
  const [output, kills] = await Promise.allSettled([
    container.attach({ stream: true, stdin, stdout: true, stderr: true, hijack: true }),
    watchKills(docker, container.id),
  ]);
  if (output.status === 'fulfilled' && kills.status === 'fulfilled')
    return { container, output: output.value, kills: kills.value };
  if (output.status === 'fulfilled') (output.value as Duplex).destroy();
  if (kills.status === 'fulfilled') kills.value.close();
  await removeContainer(container).catch(() => undefined);
  throw output.status === 'rejected'
    ? dockerFailure('GBCMS_ERR_START', `could not attach to step '${step.name}'`, output.reason)
    : dockerFailure(
        'GBCMS_ERR_START',
        `could not follow the events of step '${step.name}'`,
        (kills as PromiseRejectedResult).reason,
      );
}

/** Starts it; a host that cannot run its runtime at all gets the runtime's own clear error. */
export async function startStepContainer(
  step: PlannedStep,
  container: Docker.Container,
  runtime: string | undefined,
  runtimes: EngineRuntimes,
): Promise<void> {
  try {
    await container.start();
  } catch (error) {
    throw (
      runtimes.refusedAtStart(runtime, error) ??
      dockerFailure('GBCMS_ERR_START', `could not start step '${step.name}'`, error)
    );
  }
}

/** Stops following it, then removes it. */
export async function closeStepContainer(step: DockerStep): Promise<void> {
  step.kills.close();
  (step.output as Duplex).destroy();
  await removeContainer(step.container);
}

export async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true });
  } catch (error) {
    if (!isGoneOrGoing(error)) throw error;
  }
}
