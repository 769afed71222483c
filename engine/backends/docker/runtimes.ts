// Which OCI runtime a step's container runs under, and whether this engine can give it. Asked
// of Docker once per backend (registering a runtime needs an engine reload anyway), and a host
// that refuses a runtime at start is remembered, so later steps are refused before anything
// is created.
import type { ResolvedEnvironment } from '../../plan.ts';
import { BackendError } from '../types.ts';
import { CRUN_RUNTIME, requireRuntime } from './convert.ts';
import { dockerFailure, dockerReason } from './errors.ts';

/**
 * crun 1.x refuses every container on a "hybrid" host (cgroup v1 controllers plus a cgroup2
 * hierarchy that still holds one, like hugetlb) and would run none with limits there. Nothing
 * per container changes that: only the host's cgroup layout does.
 */
const CRUN_HYBRID = /cgroups in hybrid mode not supported/i;

export class EngineRuntimes {
  private registered: Promise<string[]> | undefined;
  /** Why a runtime cannot run on this host, by Docker runtime name, learnt from a failed start. */
  private readonly refused = new Map<string, string>();

  constructor(private readonly list: () => Promise<string[]>) {}

  /** Docker's runtime name for the environment (undefined: the default, runc). */
  async require(environment: ResolvedEnvironment): Promise<string | undefined> {
    if (environment.runtime === 'runc') return undefined;
    const runtime = requireRuntime(environment, await this.engineRuntimes());
    const refusal = runtime === undefined ? undefined : this.refused.get(runtime);
    if (refusal !== undefined) throw new BackendError('GBCMS_ERR_RUNTIME', refusal);
    return runtime;
  }

  /** The clear error for a start that failed because this host cannot run `runtime` at all. */
  refusedAtStart(runtime: string | undefined, error: unknown): BackendError | undefined {
    if (runtime !== CRUN_RUNTIME || !CRUN_HYBRID.test(dockerReason(error))) return undefined;
    const refusal =
      'runtime: crun cannot run on this host: it mounts cgroup v1 with a cgroup2 hierarchy beside it ' +
      "(hybrid mode), where crun cannot set up the cgroups that carry a step's memory, CPU and pids limits " +
      `and refuses to start (Docker said: ${dockerReason(error)}). gbcms never runs a step without its limits: use runtime: runc, ` +
      'or a host on cgroup v2 only (systemd.unified_cgroup_hierarchy=1).';
    this.refused.set(runtime, refusal);
    return new BackendError('GBCMS_ERR_RUNTIME', refusal, { cause: error });
  }

  private engineRuntimes(): Promise<string[]> {
    this.registered ??= this.list().catch((error: unknown) => {
      this.registered = undefined;
      throw dockerFailure('GBCMS_ERR_DOCKER', `could not ask Docker for its runtimes`, error);
    });
    return this.registered;
  }
}
