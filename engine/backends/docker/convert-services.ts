// Pure mapping from a step's services to Docker's network and container options. Each step
// attempt gets its own internal network (no route out), and each service joins it under its
// own name as DNS alias. No I/O in this file.
import type Docker from 'dockerode';
import type { PlannedService } from '../../plan.ts';
import { stepCommand } from '../script.ts';
import { envList, type StepNames, stepContainerName } from './convert.ts';
import { LABEL_SERVICE, stepResourceLabels } from './labels.ts';

/**
 * Capabilities a real service image needs to start as root and drop to its own user (postgres
 * chowns its data folder, then setuid), and nothing more.
 */
export const SERVICE_CAPABILITIES = ['CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'FOWNER'] as const;

/** Unique per step attempt, like the step container it belongs to. */
export function serviceNetworkName(runId: string, step: StepNames, attempt: number): string {
  return `${stepContainerName(runId, step, attempt)}-net`;
}

export function serviceContainerName(
  runId: string,
  step: StepNames,
  attempt: number,
  service: string,
): string {
  return `${stepContainerName(runId, step, attempt)}-svc-${service}`;
}

export function serviceNetworkOptions(
  runId: string,
  step: StepNames,
  attempt: number,
): Docker.NetworkCreateOptions {
  return {
    Name: serviceNetworkName(runId, step, attempt),
    Driver: 'bridge',
    // No route out: services talk to the step and to each other, never to the internet.
    Internal: true,
    // Internal only stops forwarding: the host keeps an address on the bridge (the gateway)
    // and answers on every one of its addresses through it. Without an IPv4 address on the
    // bridge, the host is no neighbour; containers on the network still reach each other.
    Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
    CheckDuplicate: true,
    Labels: stepResourceLabels(runId, step.name, 'network'),
  };
}

export interface ServiceContainerInput {
  runId: string;
  step: StepNames;
  attempt: number;
  service: PlannedService;
  /** Resolved image id for the service's environment. */
  image: string;
  network: string;
}

export function serviceContainerOptions(input: ServiceContainerInput): Docker.ContainerCreateOptions {
  const { runId, step, attempt, service, image, network } = input;
  const { resources } = service.environment;
  // Without commands the image's entrypoint and command run, as the image's authors meant.
  const command: Docker.ContainerCreateOptions =
    service.commands === undefined ? {} : { Entrypoint: [], Cmd: stepCommand(service.commands) };
  return {
    name: serviceContainerName(runId, step, attempt, service.name),
    Image: image,
    ...command,
    Env: envList(service.env),
    ...(service.userSet ? { User: service.environment.user } : {}),
    Hostname: service.name,
    Labels: { ...stepResourceLabels(runId, step.name, 'service'), [LABEL_SERVICE]: service.name },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [service.name] } } },
    HostConfig: {
      Init: true,
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: [...SERVICE_CAPABILITIES],
      SecurityOpt: ['no-new-privileges'],
      // Writable: services keep their data (a database's files) in their own filesystem.
      ReadonlyRootfs: false,
      NetworkMode: network,
      Memory: resources.memoryBytes,
      MemorySwap: resources.memoryBytes,
      NanoCpus: resources.nanoCpus,
      PidsLimit: resources.pids,
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
    },
  };
}
