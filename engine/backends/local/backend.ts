// Runs steps as host processes in a scratch copy of the workspace. For laptops without a
// Docker engine: it is not container isolation, and says so; with bubblewrap installed each
// step gets its own namespaces, a read-only host and no network. A run's files live in one
// folder named after the run (scratch.ts), so destroyRun finds them from the run id alone.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { type PlannedStep, REPORTS_DIR, reportsFileOf, workspaceRelative } from '../../plan.ts';
import { stepEnvironment } from '../env.ts';
import { stepCommand } from '../script.ts';
import {
  type Backend,
  BackendError,
  type OutputChunk,
  type RunContext,
  type RunInputs,
  type StepCache,
  type StepExit,
} from '../types.ts';
import { packWorkspacePath } from './archive.ts';
import { localCacheRoot, localCacheTarget, restoreCache, saveCache } from './cache.ts';
import { LocalCacheStore, writeCacheMeta } from './cache-store.ts';
import { mergeOutput } from './output.ts';
import { PROCESSES_FILE, recordProcess } from './processes.ts';
import { bwrapAvailable, bwrapCommand } from './sandbox.ts';
import { copyWorkspace, createScratch, findScratch, listScratchRuns, removeScratch } from './scratch.ts';

export interface LocalBackendOptions {
  /** false: plain processes even where bubblewrap works. */
  sandbox?: boolean;
  /** Where caches are kept; defaults to $XDG_CACHE_HOME/gbcms. */
  cacheRoot?: string;
  /** Where runs' scratch folders go; defaults to the OS temp folder ($TMPDIR). */
  scratchRoot?: string;
}

interface LocalRun {
  /** The run's scratch folder: workspace/, home/ and the record of step processes. */
  root: string;
  workspace: string;
  sandboxed: boolean;
  /** Cache folders by step name: where each is kept, and where the step sees it. */
  caches: Map<string, LocalCache[]>;
}

interface LocalCache {
  dir: string;
  target: string;
  cache: StepCache;
}

interface LocalStep {
  child: ChildProcess;
  exit: Promise<number>;
  /** The note of its process for crash recovery (processes.ts); never rejects. */
  recorded: Promise<void>;
}

export class LocalBackend implements Backend {
  readonly name = 'local';
  private readonly runs = new Map<string, LocalRun>();
  private readonly steps = new Map<string, LocalStep>();
  /** destroyRun calls in progress, so concurrent ones share one removal. */
  private readonly removals = new Map<string, Promise<void>>();

  /** Folders below the cache root, keyed as every backend keys caches (engine/cache.ts). */
  readonly caches = new LocalCacheStore(
    () => this.cacheRoot(),
    (key) =>
      [...this.runs.values()].some((run) => [...run.caches.values()].flat().some((c) => c.cache.key === key)),
  );

  constructor(private readonly options: LocalBackendOptions = {}) {}

  private cacheRoot(): string {
    return this.options.cacheRoot ?? localCacheRoot();
  }

  async isAvailable(): Promise<boolean> {
    return true;
  }

  async setupRun(run: RunContext, inputs: RunInputs): Promise<void> {
    const sandboxed = this.options.sandbox !== false && (await bwrapAvailable());
    const root = await createScratch(this.scratchRoot(), run.id);
    const workspace = join(root, 'workspace');
    const home = join(root, 'home');
    await mkdir(home);
    await mkdir(workspace);
    await copyWorkspace(run.plan.workspace, inputs.workspaceFiles, workspace);
    await mkdir(join(workspace, REPORTS_DIR), { recursive: true });
    const caches = this.resolveCaches(run, inputs, { workspace, home });
    this.runs.set(run.id, { root, workspace, sandboxed, caches });
    run.notice(
      sandboxed
        ? 'local backend: steps run as host processes in a bubblewrap sandbox (read-only host, no network); this is not container isolation and images are ignored'
        : 'local backend: steps run as plain host processes with your user rights; this is not container isolation and images are ignored (install bubblewrap for a sandbox)',
    );
  }

  private resolveCaches(
    run: RunContext,
    inputs: RunInputs,
    dirs: { workspace: string; home: string },
  ): Map<string, LocalCache[]> {
    const root = this.cacheRoot();
    const caches = new Map<string, LocalCache[]>();
    for (const [step, stepCaches] of inputs.caches) {
      const entries: LocalCache[] = [];
      for (const cache of stepCaches) {
        const target = localCacheTarget(cache.path, dirs);
        if (target === undefined) {
          run.notice(
            `local backend: cache '${cache.path}' is outside the workspace and home; it is not kept`,
            step,
          );
          continue;
        }
        entries.push({ dir: join(root, cache.key), target, cache });
      }
      caches.set(step, entries);
    }
    return caches;
  }

  private scratchRoot(): string {
    return this.options.scratchRoot ?? tmpdir();
  }

  async startStep(step: PlannedStep, run: RunContext): Promise<void> {
    if (step.services !== undefined && step.services.length > 0) {
      // A host process has no network of its own to put sidecars on; running them on the host
      // would publish their ports to everything there.
      throw new BackendError(
        'GBCMS_ERR_SERVICES',
        `step '${step.name}' has services: services need the docker backend (run with --backend docker)`,
      );
    }
    const local = this.localRun(run);
    for (const cache of local.caches.get(step.name) ?? []) await restoreCache(cache.dir, cache.target);
    const home = join(local.root, 'home');
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      ...stepEnvironment(step, run),
      GBCMS_WORKSPACE: local.workspace,
      GBCMS_REPORTS: join(local.workspace, reportsFileOf(step)),
    };
    const command = stepCommand(step.commands);
    const argv = local.sandboxed
      ? bwrapCommand(
          {
            workspace: local.workspace,
            home,
            network: step.environment.network,
            tmpBytes: step.environment.resources.tmpBytes,
          },
          command,
        )
      : command;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: local.workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a stop reaches everything the step started.
      detached: true,
    });
    const exit = new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    });
    // Not awaited: output a step writes before tailStep listens is lost if it exits meanwhile.
    const recorded =
      child.pid === undefined
        ? Promise.resolve()
        : recordProcess(join(local.root, PROCESSES_FILE), child.pid).catch((error: unknown) =>
            run.notice(
              `local backend: could not note the step's process for crash recovery: ${error instanceof Error ? error.message : String(error)}`,
              step.name,
            ),
          );
    this.steps.set(stepKey(step, run), { child, exit, recorded });
  }

  tailStep(step: PlannedStep, run: RunContext): AsyncIterable<OutputChunk> {
    const { child } = this.localStep(step, run);
    return mergeOutput(child.stdout!, child.stderr!);
  }

  async waitStep(
    step: PlannedStep,
    run: RunContext,
    signal: AbortSignal,
    graceMs: number,
  ): Promise<StepExit> {
    const { child, exit } = this.localStep(step, run);
    const stop = () => {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      void exit.then(() => clearTimeout(timer));
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    let exitCode: number;
    try {
      exitCode = await exit;
    } finally {
      signal.removeEventListener('abort', stop);
    }
    if (exitCode === 0) {
      for (const cache of this.runs.get(run.id)?.caches.get(step.name) ?? []) {
        await saveCache(cache.target, cache.dir);
        await writeCacheMeta(dirname(cache.dir), cache.cache);
      }
    }
    // In bubblewrap /tmp is a tmpfs of resources.tmp; HOME is a folder on the host's disk.
    return { exitCode, oomKilled: false, ...(this.runs.get(run.id)?.sandboxed ? { scratch: ['/tmp'] } : {}) };
  }

  async fetchArchive(step: PlannedStep, run: RunContext, path: string): Promise<Readable | undefined> {
    const local = this.runs.get(run.id);
    const relative = workspaceRelative(path);
    if (!local || relative === undefined || !this.steps.has(stepKey(step, run))) return undefined;
    return packWorkspacePath(local.workspace, relative);
  }

  async destroyStep(step: PlannedStep, run: RunContext): Promise<void> {
    const local = this.steps.get(stepKey(step, run));
    if (!local) return;
    this.steps.delete(stepKey(step, run));
    killGroup(local.child, 'SIGKILL');
    await local.recorded;
  }

  destroyRun(runId: string): Promise<void> {
    let removal = this.removals.get(runId);
    if (removal === undefined) {
      removal = this.removeRunFolders(runId).finally(() => this.removals.delete(runId));
      this.removals.set(runId, removal);
    }
    return removal;
  }

  leftoverRuns(): Promise<string[]> {
    return listScratchRuns(this.scratchRoot());
  }

  /** This process's steps first (killed and waited for), then every folder of the run. */
  private async removeRunFolders(runId: string): Promise<void> {
    const ended: Promise<unknown>[] = [];
    for (const [key, local] of this.steps) {
      if (key.startsWith(`${runId}/`)) {
        killGroup(local.child, 'SIGKILL');
        ended.push(local.exit, local.recorded);
        this.steps.delete(key);
      }
    }
    await Promise.all(ended);
    const local = this.runs.get(runId);
    this.runs.delete(runId);
    const found = await findScratch(this.scratchRoot(), runId);
    const roots = new Set(local ? [local.root, ...found] : found);
    for (const root of roots) await removeScratch(root);
  }

  private localRun(run: RunContext): LocalRun {
    const local = this.runs.get(run.id);
    if (!local) throw new Error(`local backend: run ${run.id} was not set up`);
    return local;
  }

  private localStep(step: PlannedStep, run: RunContext): LocalStep {
    const local = this.steps.get(stepKey(step, run));
    if (!local) throw new Error(`local backend: step '${step.name}' was not started`);
    return local;
  }
}

function stepKey(step: PlannedStep, run: RunContext): string {
  return `${run.id}/${step.name}`;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
