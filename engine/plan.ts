// The backend-neutral form of a pipeline: what the compiler produces and the scheduler runs.
// Nothing downstream of the compiler reads the YAML again.
export type TriggerEvent = 'push' | 'pull_request' | 'tag' | 'manual' | 'api' | 'cron';

export interface Trigger {
  event: TriggerEvent;
  branch?: string;
  tag?: string;
  commit?: string;
  author?: string;
  /** Files changed by the trigger; undefined means unknown, and `when.path` then matches. */
  changedPaths?: string[];
  /** A pull request from another repository than the base (a fork): it never gets secrets. */
  fork?: boolean;
}

export interface ResolvedEnvironment {
  /** Environment name in the file, or `image:NAME` for a step's anonymous environment. */
  name: string;
  image?: string;
  /** Absolute context directory and Dockerfile path relative to it. */
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  pull: 'always' | 'if-not-present' | 'never';
  /** `tmpBytes`: the size of each of the step's scratch tmpfs (/tmp, HOME), on top of memory. */
  resources: { nanoCpus: number; memoryBytes: number; pids: number; tmpBytes: number };
  network: 'none' | 'bridge';
  runtime: 'runc' | 'crun' | 'gvisor';
  /** uid[:gid] or a user name known to the image. */
  user: string;
  env: Record<string, string>;
}

export interface ArtifactSpec {
  /** Path inside the workspace, relative, normalised, without a trailing slash. */
  path: string;
  /** Destination below the step's artifact folder. */
  dest: string;
}

export interface CacheSpec {
  /** Folder kept between runs: relative to the workspace (normalised) or absolute. */
  path: string;
  /** Files relative to the workspace whose contents key the cache; empty: the path alone. */
  keyFiles: string[];
}

export interface PlannedService {
  /** The host name the step reaches it by: a DNS label. */
  name: string;
  /** Image or build, resources and env; `user` is used only when `userSet`. */
  environment: ResolvedEnvironment;
  /** True when the environment names a user; otherwise the image's own user runs the service. */
  userSet: boolean;
  /** Run as a shell script like a step's; absent: the image's own command. */
  commands?: string[];
  /** The environment's env, then the service's own. */
  env: Record<string, string>;
}

export interface PlannedStep {
  /** Unique name, including the matrix combination: `test (node=20, os=x)`. */
  name: string;
  /**
   * File-system-safe name, unique in the plan (engine/compile/slugs.ts): the step's log,
   * reports file, artifact folder and containers are named by it.
   */
  slug: string;
  /** The key in the file before matrix expansion. */
  baseName: string;
  matrix?: Record<string, string>;
  environment: ResolvedEnvironment;
  commands: string[];
  env: Record<string, string>;
  dependsOn: string[];
  timeoutMs: number;
  retries: number;
  allowFailure: boolean;
  artifacts: ArtifactSpec[];
  reports: { junit?: string };
  /** Names of secrets to inject as environment variables and mask in logs. */
  secrets: string[];
  /** Folders kept between runs; absent when the step keeps none. */
  cache?: CacheSpec[];
  /** Sidecar containers the step reaches by name; absent when it has none. */
  services?: PlannedService[];
  /** Set when the step will not run for this trigger, with the reason. */
  skip?: string;
  /** Someone must approve the step before it starts; absent when it needs no one. */
  approval?: ApprovalGate;
  /** The step runs one at a time with the rest of this group; absent when it has none. */
  concurrency?: ConcurrencyGroup;
  /**
   * Labels a runner must have (its own `runs_on` and its environment's), sorted; absent when
   * any machine may run it.
   */
  runsOn?: string[];
}

export interface ConcurrencyGroup {
  /** The group's name, its variables filled in for this trigger (and matrix combination). */
  group: string;
  /** A newer member of the group terminates the older ones rather than waiting for them. */
  cancelInProgress: boolean;
}

/** A schedule of the file's `schedules:`, as written; the server runs them (event cron). */
export interface FileSchedule {
  name: string;
  cron: string;
  /** Absent: the project's default branch. */
  branch?: string;
  /** Absent: the server's time zone. */
  timezone?: string;
}

export interface ApprovalGate {
  /** Shown to whoever is asked to approve. */
  message?: string;
  /** Usernames or server roles allowed to decide; empty: whoever may start the run. */
  approvers: string[];
  /** How long to wait before the step is skipped; absent: until someone decides. */
  timeoutMs?: number;
}

export interface Plan {
  name: string;
  /** Pipeline file path as given, for messages. */
  file: string;
  /** Directory the workspace is taken from. */
  workspace: string;
  trigger: Trigger;
  /** Steps in a topological order. */
  steps: PlannedStep[];
  /** Groups of step names that can run together, in order. */
  layers: string[][];
  /** Executions in this group run one at a time (on the server); absent when the file has none. */
  concurrency?: ConcurrencyGroup;
  /**
   * The file's schedules, whatever the trigger (the server reads them from the default
   * branch's file); absent when the file has none.
   */
  schedules?: FileSchedule[];
}

export const DEFAULT_RESOURCES = {
  nanoCpus: 2e9,
  memoryBytes: 2 * 1024 ** 3,
  pids: 1024,
  tmpBytes: 1024 ** 3,
} as const;
export const DEFAULT_USER = '1000:1000';
export const DEFAULT_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * The labels a runner needs to run the plan: every label of the steps that run. The unit a
 * runner takes is a whole execution, since its steps share one workspace.
 */
export function planLabels(plan: Pick<Plan, 'steps'>): string[] {
  const labels = new Set<string>();
  for (const step of plan.steps)
    if (step.skip === undefined) for (const label of step.runsOn ?? []) labels.add(label);
  return [...labels].sort();
}

/** Workspace-relative folder of the steps' reports files; the workspace seeding creates it writable. */
export const REPORTS_DIR = '.gbcms/reports';

/** `.gbcms/reports/<slug>.jsonl`: where a step's $GBCMS_REPORTS points, inside its workspace. */
export function reportsFileOf(step: Pick<PlannedStep, 'slug'>): string {
  return `${REPORTS_DIR}/${step.slug}.jsonl`;
}

/**
 * `path` as a clean workspace-relative posix path, or undefined when it would leave the
 * workspace (absolute, `..`) or name the workspace itself.
 */
export function workspaceRelative(path: string): string | undefined {
  if (path.includes('\0') || path.startsWith('/') || path.includes('\\')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return parts.length === 0 ? undefined : parts.join('/');
}
