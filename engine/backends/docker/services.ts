// A step's services at run time: the internal network first, then each service on it. What
// fails half-way is removed at once; everything also carries the run label, so destroyRun
// and crash recovery find it regardless.
import type Docker from 'dockerode';
import type { PlannedService } from '../../plan.ts';
import type { StepNames } from './convert.ts';
import { serviceContainerOptions, serviceNetworkOptions } from './convert-services.ts';
import { dockerFailure, isGoneOrGoing } from './errors.ts';

export interface StartedServices {
  network: Docker.Network;
  /** The network's name, which is what containers join by. */
  networkName: string;
  containers: Docker.Container[];
}

export interface ServicesInput {
  runId: string;
  step: StepNames;
  attempt: number;
  services: PlannedService[];
  imageOf(service: PlannedService): string;
}

async function ignoringGone(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!isGoneOrGoing(error)) throw error;
  }
}

/** Containers first: Docker refuses to remove a network that still has endpoints. */
export async function removeServices(started: StartedServices): Promise<void> {
  await Promise.all(started.containers.map((c) => ignoringGone(c.remove({ force: true }))));
  await ignoringGone(started.network.remove());
}

export async function startServices(docker: Docker, input: ServicesInput): Promise<StartedServices> {
  const { runId, step, attempt } = input;
  const stepName = step.name;
  const networkOptions = serviceNetworkOptions(runId, step, attempt);
  let network: Docker.Network;
  try {
    network = await docker.createNetwork(networkOptions);
  } catch (error) {
    throw dockerFailure(
      'GBCMS_ERR_START',
      `could not create the services network of step '${stepName}'`,
      error,
    );
  }
  const started: StartedServices = { network, networkName: networkOptions.Name, containers: [] };
  for (const service of input.services) {
    try {
      const container = await docker.createContainer(
        serviceContainerOptions({
          runId,
          step,
          attempt,
          service,
          image: input.imageOf(service),
          network: started.networkName,
        }),
      );
      started.containers.push(container);
      await container.start();
    } catch (error) {
      await removeServices(started).catch(() => undefined);
      throw dockerFailure(
        'GBCMS_ERR_START',
        `could not start service '${service.name}' of step '${stepName}'`,
        error,
      );
    }
  }
  return started;
}
