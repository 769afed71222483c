// The store's tables as Kysely sees them, and the row types the repositories hand out.
// Timestamps are ISO-8601 UTC text (`2024-04-27T12:00:00.000Z`): they sort as text and read
// the same in SQLite and PostgreSQL. Ids are random URL-safe text, never autoincrement
// integers, so no dialect-specific column type is needed.
import type { Generated, Selectable } from 'kysely';
import type { TriggerEvent } from '../../engine/plan.ts';
import type { Report } from '../../engine/reports/types.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import type { RunStatus } from '../../engine/status.ts';

export const ROLES = ['admin', 'developer'] as const;
export type Role = (typeof ROLES)[number];

export const VISIBILITIES = ['public', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/**
 * What a pull request from a fork does: wait as `blocked` until a project member approves it,
 * run at once, or start nothing.
 */
export const FORK_PULL_REQUEST_POLICIES = ['approve', 'run', 'never'] as const;
export type ForkPullRequestPolicy = (typeof FORK_PULL_REQUEST_POLICIES)[number];

export type RefType = 'branch' | 'tag';
export type EnvironmentType = 'docker' | 'local';

export interface UsersTable {
  id: string;
  username: string;
  email: string | null;
  role: Role;
  created_at: string;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  /** A label chosen by whoever created the token ("laptop", "deploy bot"). */
  name: string;
  /** sha256 hex of the whole token; the token itself is never stored. */
  token_hash: string;
  /** The first characters of the token's secret part, for listings (see auth/token-crypto.ts). */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ProjectsTable {
  id: string;
  name: string;
  description: string | null;
  /** Clone URL or local path. */
  repo: string;
  default_branch: Generated<string>;
  visibility: Generated<Visibility>;
  /** Null when no user owns the project: only admins (and members) may then write to it. */
  owner_id: string | null;
  /** HMAC key for the project's webhook (X-Hub-Signature-256); kept in clear because it must be. */
  webhook_secret: string;
  /** How many executions of the project may run at once. */
  max_concurrent: Generated<number>;
  /** Last execution number handed out: a counter, so numbers are never reused after deletions. */
  last_execution_number: Generated<number>;
  fork_pull_requests: Generated<ForkPullRequestPolicy>;
  created_at: string;
  updated_at: string;
}

export interface ProjectMembersTable {
  project_id: string;
  user_id: string;
}

export interface ExecutionsTable {
  id: string;
  project_id: string;
  /** 1, 2, 3... per project. */
  number: number;
  status: RunStatus;
  trigger_event: TriggerEvent;
  /** Branch or tag name, without `refs/heads/`. */
  ref: string | null;
  ref_type: RefType | null;
  commit_sha: string | null;
  author: string | null;
  /** Commit message or a note given with a manual start. */
  message: string | null;
  /** Why the execution ended early (setup failed, terminated), if it did. */
  reason: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  /** The execution's folder (logs/, artifacts/, run.json), relative to the data directory. */
  logs_dir: string;
  /** The execution this one re-runs, if any. */
  rerun_of: string | null;
  /** 1: a re-run of `rerun_of` from its failed steps, reusing those that succeeded; 0 otherwise. */
  rerun_from_failed: number;
  /** The session an external execution belongs to. */
  session_id: string | null;
  /** 1: code gbcms did not start (a notebook, a cluster job) reports to the server; 0: a pipeline run. */
  external: number;
  /** An external execution's label, given by its reporter. */
  name: string | null;
  /** An external execution ends `error` when its reporter is silent for longer than this. */
  heartbeat_timeout_s: number | null;
  /** When an external execution's reporter last showed signs of life (a heartbeat or reports). */
  last_heartbeat_at: string | null;
  /** 1: a pull request from another repository (a fork); its steps never get secrets. */
  fork: number;
  /** Where the source is fetched from when it is not the project's own repository (a fork's clone URL). */
  source_repo: string | null;
  /** The username of who approved a `blocked` execution, and when. */
  approved_by: string | null;
  approved_at: string | null;
  /** The concurrency group the pipeline file put it in, once read; its turn is taken in memory. */
  concurrency_group: string | null;
  /** The name of the runner that claimed it; null when the server ran it itself. */
  runner: string | null;
  /** The `gbcms serve` that manages it (015-servers); null: a server without a name. */
  server: string | null;
}

export interface SessionsTable {
  id: string;
  project_id: string;
  /** Unique within the project: reporters find their session by name. */
  name: string;
  created_at: string;
}

export interface SessionKeysTable {
  id: string;
  session_id: string;
  /** sha256 of the key, hex: the key itself is shown once, when it is made. */
  key_hash: string;
  /** The first characters after `gbcmsk_`, to tell keys apart in lists. */
  prefix: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface ReportsTable {
  execution_id: string;
  /** 1, 2, 3... per execution, in the order the reports were stored. */
  seq: number;
  /** The step that reported (an external execution's reports have one made-up step). */
  step: string;
  type: Report['type'];
  /** A metric's name; null for the other types. */
  name: string | null;
  /** A metric's value; null for the other types. */
  value: number | null;
  /** A metric's training step (epoch, iteration), if it gave one. */
  step_number: number | null;
  time: string;
  /** The report as JSON, without `type` and `time`, for progress, annotations and tests; null for a metric. */
  data: string | null;
}

/** The engine's StepRecord (its log relative to the execution's logs_dir), in its execution. */
export interface StepsTable extends StepRecord {
  execution_id: string;
  /** Order in the plan, from 0. */
  position: number;
  /** Set once the step's approval gate opened: what whoever may approve is asked. */
  approval_message: string | null;
  /** JSON list of usernames and roles that may decide; `[]`: whoever may start executions. */
  approval_approvers: string | null;
  /** Null until someone decided (a gate that timed out or was terminated stays null). */
  approval_decision: ApprovalDecisionKind | null;
  approval_by: string | null;
  approval_at: string | null;
}

export const APPROVAL_DECISIONS = ['approved', 'declined'] as const;
export type ApprovalDecisionKind = (typeof APPROVAL_DECISIONS)[number];

export interface EnvironmentsTable {
  id: string;
  execution_id: string;
  /** Null for what the whole execution shares (workspace volume, network). */
  step: string | null;
  type: EnvironmentType;
  container_id: string | null;
  image: string | null;
  created_at: string;
  destroyed_at: string | null;
}

export interface ArtifactsTable {
  execution_id: string;
  step: string;
  /** Forward slashes, relative to the execution's artifacts folder. */
  path: string;
  size: number;
  sha256: string;
}

export interface WebhookDeliveriesTable {
  /** GitHub's X-GitHub-Delivery (or another forge's equivalent). */
  delivery_id: string;
  project_id: string;
  event: string;
  received_at: string;
  /** The execution the delivery started, once it did; null when it started none. */
  execution_id: string | null;
}

export const FORGES = ['github', 'gitea', 'gitlab'] as const;
export type Forge = (typeof FORGES)[number];

export interface ExecutionForgesTable {
  execution_id: string;
  forge: Forge;
  /** `owner/name` on GitHub and Gitea; the numeric project id on GitLab. */
  repo: string;
  /** The last failure to post a status, for the run page; null once a post succeeds. */
  problem: string | null;
}

export interface ProjectStatusSettingsTable {
  project_id: string;
  /** 1: each step gets a status of its own (`gbcms/<project>/<step>`) besides the execution's. */
  step_statuses: number;
  /** The forge the plain git hook's pushes report to (a mirror's origin); null: none. */
  forge: Forge | null;
  /** That forge's repository: `owner/name` (GitHub, Gitea), a project id or path (GitLab). */
  forge_repo: string | null;
  updated_at: string;
}

export const SECRET_EVENTS = [
  'push',
  'tag',
  'manual',
  'api',
  'cron',
  'pull_request',
] as const satisfies readonly TriggerEvent[];

export interface SecretsTable {
  /** 'global', or 'project:<id>'; also the additional data the ciphertext is bound to. */
  scope_key: string;
  /** Null for a global secret. */
  project_id: string | null;
  name: string;
  /** AES-256-GCM's 96-bit nonce, fresh for every value. */
  nonce: Buffer;
  /** The encrypted value followed by GCM's 16-byte tag. */
  ciphertext: Buffer;
  /** JSON array of the trigger events it is given to; null: every event. */
  events: string | null;
  /** JSON array of branch globs it is given to; null: every branch (and tags). */
  branches: string | null;
  /** Who set it last (a username, or `cli` for the command line on the server's machine). */
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export interface ExecutionSecretsTable {
  execution_id: string;
  scope_key: string;
  name: string;
}

export interface SchedulesTable {
  id: string;
  project_id: string;
  /** A label for listings and the executions it starts; optional. */
  name: string | null;
  /** Five fields (minute hour day-of-month month day-of-week) or a nickname like @daily. */
  cron: string;
  branch: string;
  /** IANA name the cron expression is read in (`Europe/Paris`, `UTC`). */
  timezone: string;
  /**
   * The next tick, ISO-8601 UTC; null when the expression has no further tick. Servers claim a
   * tick by moving this forward with a compare-and-set (store/schedules.ts).
   */
  next_run_at: string | null;
  last_run_at: string | null;
  /** The execution the last tick started, while it exists. */
  last_execution_id: string | null;
  created_by: string | null;
  created_at: string;
  /** Where it came from: null, made through the API, the page or the CLI; 'file', the pipeline file. */
  source: ScheduleSource | null;
}

/** A schedule read from `schedules:` of the default branch's pipeline file. */
export type ScheduleSource = 'file';

export interface CacheUsesTable {
  /** The engine's cache key (sha256 hex): one volume or folder. */
  key: string;
  project_id: string;
  scope: string;
  slot: string;
  last_used_at: string;
}

/** One indexed log line (migration 012 adds the full-text index beside it). */
export interface LogLinesTable {
  id: Generated<number>;
  execution_id: string;
  project_id: string;
  step: string;
  /** 1-based, as the step's log file numbers it. */
  line: number;
  /** Masked, like the log file: secrets never reach the index. */
  text: string;
}

export interface RunnersTable {
  id: string;
  name: string;
  /** JSON array of the labels it was registered with. */
  labels: string;
  token_hash: string;
  /** The first characters of the token's secret part, to tell tokens apart in listings. */
  prefix: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
  /** The last time it called the server (claim, heartbeat, events). */
  last_seen_at: string | null;
  /** What it said it is when it last claimed work. */
  version: string | null;
  capacity: number | null;
}

export interface ServersTable {
  name: string;
  /** Where its peers reach it (gbcms serve --advertise-url). */
  url: string;
  /** Random per process start. */
  incarnation: string;
  version: string | null;
  started_at: string;
  last_seen_at: string;
}

/** A cluster-wide slot an execution holds while it runs (migration 016, server/store/slots.ts). */
export interface ExecutionSlotsTable {
  execution_id: string;
  project_id: string;
  taken_at: string;
}

export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  executions: ExecutionsTable;
  steps: StepsTable;
  environments: EnvironmentsTable;
  artifacts: ArtifactsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  sessions: SessionsTable;
  reports: ReportsTable;
  execution_forges: ExecutionForgesTable;
  secrets: SecretsTable;
  execution_secrets: ExecutionSecretsTable;
  schedules: SchedulesTable;
  project_status_settings: ProjectStatusSettingsTable;
  cache_uses: CacheUsesTable;
  session_keys: SessionKeysTable;
  log_lines: LogLinesTable;
  runners: RunnersTable;
  servers: ServersTable;
  execution_slots: ExecutionSlotsTable;
}

export type User = Selectable<UsersTable>;
export type ApiToken = Selectable<ApiTokensTable>;
/** A project as callers see it; the execution counter stays inside the store. */
export type Project = Omit<Selectable<ProjectsTable>, 'last_execution_number'>;
export type Execution = Selectable<ExecutionsTable>;
export type StoredStep = Selectable<StepsTable>;
export type Environment = Selectable<EnvironmentsTable>;
export type StoredArtifact = Selectable<ArtifactsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type Session = Selectable<SessionsTable>;
export type ExecutionForge = Selectable<ExecutionForgesTable>;
export type Schedule = Selectable<SchedulesTable>;
export type SessionKey = Selectable<SessionKeysTable>;
