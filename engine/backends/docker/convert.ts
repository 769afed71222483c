// Pure mapping from a planned step to Docker's container options: every hardening choice
// lives here, where a unit test can read it without an engine. No I/O in this file.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { PlannedStep, ResolvedEnvironment } from '../../plan.ts';
import { stepEnvironment } from '../env.ts';
import { stepCommand } from '../script.ts';
import { BackendError, type RunContext, type StepCache } from '../types.ts';
import { cacheLabels, runLabels, stepLabels } from './labels.ts';

export const WORKSPACE_PATH = '/workspace';
export const HOME_PATH = '/home/gbcms';
/** The tmpfs sized by `resources.tmp`. */
export const SCRATCH_PATHS = ['/tmp', HOME_PATH] as const;
export const GVISOR_RUNTIME = 'runsc';
/** Where the cache-seeding container mounts a fresh cache volume to hand its root to the step user. */
export const CACHE_SEED_PATH = '/cache';

/** Owner of the workspace and of the home tmpfs, when the environment's user is not numeric. */
export const FALLBACK_OWNER = { uid: 1000, gid: 1000 } as const;

export interface Owner {
  uid: number;
  gid: number;
  /** False when the user was a name and the owner is the fallback. */
  numeric: boolean;
}

/** `1000`, `1000:1000` -> numbers; a name (known only inside the image) -> the fallback owner. */
export function parseOwner(user: string): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(user.trim());
  if (!match) return { ...FALLBACK_OWNER, numeric: false };
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]), numeric: true };
}

/** Characters Docker accepts in container and volume names. */
function nameSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]+/g, '-');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/** The names a step's Docker resources are derived from. */
export type StepNames = Pick<PlannedStep, 'name' | 'slug'>;

/**
 * Readable and unique per attempt. The slug is unique in the plan, but only its first 40
 * characters fit here, so a hash of the exact step name keeps long names apart.
 */
export function stepContainerName(runId: string, step: StepNames, attempt: number): string {
  return `gbcms-${nameSafe(runId).slice(0, 12)}-${step.slug.slice(0, 40)}-${shortHash(step.name)}-${attempt}`;
}

export function workspaceVolumeName(runId: string): string {
  return `gbcms-${nameSafe(runId)}-workspace`;
}

export function seedContainerName(runId: string): string {
  return `gbcms-${nameSafe(runId).slice(0, 12)}-seed-${shortHash(runId)}`;
}

/** One volume per cache key; 24 hex digits (96 bits) keep names short and collisions out of reach. */
export function cacheVolumeName(key: string): string {
  return `gbcms-cache-${key.slice(0, 24)}`;
}

/** Relative cache paths live in the workspace; absolute ones (`/home/gbcms/.npm`) stay as given. */
export function cacheMountTarget(path: string): string {
  return path.startsWith('/') ? path : `${WORKSPACE_PATH}/${path}`;
}

/** A step's cache, resolved: the volume that holds it and the folder it is mounted at. */
export interface CacheMount {
  volume: string;
  path: string;
}

export function cacheVolumeOptions(cache: StepCache): Docker.VolumeCreateOptions {
  return { Name: cacheVolumeName(cache.key), Labels: cacheLabels(cache) };
}

export const CRUN_RUNTIME = 'crun';

/** Docker's runtime name for the environment, or a clear error when the engine lacks it. */
export function requireRuntime(
  environment: ResolvedEnvironment,
  available: readonly string[],
): string | undefined {
  if (environment.runtime === 'runc') return undefined;
  if (environment.runtime === 'crun') {
    if (!available.includes(CRUN_RUNTIME)) {
      throw new BackendError(
        'GBCMS_ERR_RUNTIME',
        `crun is not registered in this Docker engine, but environment '${environment.name}' asks for runtime: crun. ` +
          `Install crun and register it in /etc/docker/daemon.json ("runtimes": {"${CRUN_RUNTIME}": ...}), or use runtime: runc.`,
      );
    }
    return CRUN_RUNTIME;
  }
  if (!available.includes(GVISOR_RUNTIME)) {
    throw new BackendError(
      'GBCMS_ERR_RUNTIME',
      `gVisor (runsc) is not installed in this Docker engine, but environment '${environment.name}' asks for runtime: gvisor. ` +
        `Install runsc and register it in /etc/docker/daemon.json ("runtimes": {"${GVISOR_RUNTIME}": ...}), or use runtime: runc.`,
    );
  }
  return GVISOR_RUNTIME;
}

export function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

/**
 * NoCopy: on an empty volume Docker would otherwise copy the image's (or WorkingDir's freshly
 * made, root-owned) /workspace into it, taking its owner and mode, and the step user would
 * lose write access to the workspace root.
 */
function workspaceMount(volume: string, target = WORKSPACE_PATH): Docker.MountSettings {
  return {
    Type: 'volume',
    Source: volume,
    Target: target,
    ReadOnly: false,
    // Zero values, which Docker reads as absent; the dockerode types require the keys.
    VolumeOptions: { NoCopy: true, Labels: {}, DriverConfig: { Name: '', Options: {} } },
  };
}

export interface StepContainerInput {
  step: PlannedStep;
  run: RunContext;
  /** Resolved image id for the step's environment. */
  image: string;
  volume: string;
  attempt: number;
  /** Docker runtime name, from requireRuntime. */
  runtime?: string;
  /** Cache volumes, mounted over their folders after the workspace (Docker orders by depth). */
  caches?: CacheMount[];
  /**
   * The step's internal services network. A step without network joins only it; a step on
   * `bridge` keeps bridge and is connected to it before start (Docker creates with one network).
   */
  serviceNetwork?: string;
}

function stepNetwork(network: 'none' | 'bridge', serviceNetwork: string | undefined): string {
  if (network === 'bridge') return 'bridge';
  return serviceNetwork ?? 'none';
}

export function stepContainerOptions(input: StepContainerInput): Docker.ContainerCreateOptions {
  const { step, run, image, volume, attempt, runtime, caches = [], serviceNetwork } = input;
  const environment = step.environment;
  const owner = parseOwner(environment.user);
  const { memoryBytes, tmpBytes } = environment.resources;
  // tmpfs pages are charged to the container's memory cgroup: a full /tmp under the step's own
  // limit would be an OOM kill, blamed on memory. The limit is `memory` plus room for one full
  // scratch folder, so filling /tmp (or HOME) ends in ENOSPC ("no space left on /tmp"). Not
  // plus two: the cgroup cannot tell tmpfs pages from a process's, and every byte added here is
  // memory a step that never touches /tmp may use too.
  const memory = memoryBytes + tmpBytes;
  const scratch = `rw,exec,nosuid,nodev,uid=${owner.uid},gid=${owner.gid}`;
  return {
    name: stepContainerName(run.id, step, attempt),
    Image: image,
    // An image's entrypoint would wrap our script in someone else's; an empty one means none.
    Entrypoint: [],
    Cmd: stepCommand(step.commands),
    Env: envList({ HOME: HOME_PATH, ...stepEnvironment(step, run) }),
    User: environment.user,
    WorkingDir: WORKSPACE_PATH,
    Labels: stepLabels(run.id, step.name),
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: stepNetwork(environment.network, serviceNetwork) === 'none',
    HostConfig: {
      Init: true,
      Privileged: false,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: {
        // Docker copies an image's /tmp mode onto the mount (some images have 0755), so the
        // step user owns it outright. `exec` because Docker's default noexec breaks real
        // builds (`go test` runs binaries from $TMPDIR) while /workspace is executable anyway.
        '/tmp': `${scratch},mode=1777,size=${tmpBytes}`,
        [HOME_PATH]: `${scratch},mode=0700,size=${tmpBytes}`,
      },
      Mounts: [
        workspaceMount(volume),
        ...caches.map((cache) => workspaceMount(cache.volume, cacheMountTarget(cache.path))),
      ],
      NetworkMode: stepNetwork(environment.network, serviceNetwork),
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: environment.resources.nanoCpus,
      PidsLimit: environment.resources.pids,
      // Attach carries the output; a log driver would only store a second copy, slower.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
      ...(runtime === undefined ? {} : { Runtime: runtime }),
    },
  };
}

/**
 * The gate of a step prepared ahead of its turn: the container starts with a shell that waits
 * for one line on stdin, then execs the step's own command, so the script begins the moment
 * the engine writes that line on the attach stream it already holds (no API round at release).
 * `read` is a builtin and reads a pipe byte by byte, so nothing beyond the line is consumed;
 * StdinOnce closes the step's stdin when the engine ends its side, so the script sees EOF
 * there as it sees /dev/null without a gate. Stdin closed without the line: nothing runs.
 */
export function gatedContainerOptions(options: Docker.ContainerCreateOptions): Docker.ContainerCreateOptions {
  return {
    ...options,
    Cmd: ['/bin/sh', '-c', 'IFS= read -r _ || exit 0; exec "$@"', 'gbcms-gate', ...(options.Cmd ?? [])],
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
  };
}

/** The line that opens a gate (gatedContainerOptions). */
export const GATE_OPEN = '\n';

/**
 * The container that fills the workspace volume: created, written through putArchive, removed,
 * never started. It exists because putArchive into `/` is refused on a read-only rootfs.
 */
export function seedContainerOptions(
  runId: string,
  image: string,
  volume: string,
): Docker.ContainerCreateOptions {
  return { name: seedContainerName(runId), ...neverStartedOptions(runId, image, workspaceMount(volume)) };
}

/**
 * The container that hands a fresh cache volume's root to the step user (a tar entry for the
 * mount point itself, see workspace-volume.ts): created, written, removed, never started.
 */
export function cacheSeedContainerOptions(
  runId: string,
  image: string,
  volume: string,
): Docker.ContainerCreateOptions {
  // The run's label, not the cache's: a crash mid-seed leaves a container destroyRun finds.
  return neverStartedOptions(runId, image, workspaceMount(volume, CACHE_SEED_PATH));
}

/** A container that only receives an archive: no process, no network, no capabilities. */
function neverStartedOptions(
  runId: string,
  image: string,
  mount: ReturnType<typeof workspaceMount>,
): Docker.ContainerCreateOptions {
  return {
    Image: image,
    Entrypoint: [],
    Cmd: ['/bin/true'],
    Labels: runLabels(runId, 'seed'),
    NetworkDisabled: true,
    HostConfig: {
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
      Privileged: false,
      Mounts: [mount],
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
    },
  };
}
