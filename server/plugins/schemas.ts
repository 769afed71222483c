// JSON schemas the routes share, registered by $id (referenced as `{ $ref: 'Execution#' }`):
// responses are serialized through them, so no internal field (logs_dir, a secret for a
// non-admin) can slip into an answer by accident.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { RUN_STATUSES, STEP_STATUSES } from '../../engine/status.ts';
import {
  APPROVAL_DECISIONS,
  FORK_PULL_REQUEST_POLICIES,
  ROLES,
  SECRET_EVENTS,
  VISIBILITIES,
} from '../store/index.ts';

const nullableString = { type: ['string', 'null'] } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;
const timestamp = { type: 'string', format: 'date-time' } as const;
const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' } as const;

export const ErrorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'GBCMS_ERR_* code' },
    message: { type: 'string' },
  },
} as const;

const executionProperties = {
  id: { type: 'string' },
  project_id: { type: 'string' },
  number: { type: 'integer', minimum: 1 },
  status: { type: 'string', enum: [...RUN_STATUSES] },
  trigger_event: { type: 'string' },
  ref: nullableString,
  ref_type: { type: ['string', 'null'], enum: ['branch', 'tag', null] },
  commit_sha: nullableString,
  author: nullableString,
  message: nullableString,
  reason: nullableString,
  created_at: timestamp,
  started_at: nullableTimestamp,
  ended_at: nullableTimestamp,
  duration_ms: nullableInteger,
  rerun_of: nullableString,
  rerun_from_failed: {
    type: 'boolean',
    description:
      'a re-run of rerun_of from its failed steps: steps that succeeded there with artifacts are `reused`, not run',
  },
  external: {
    type: 'boolean',
    description: 'code gbcms did not start reports to it (POST /api/executions with external)',
  },
  fork: {
    type: 'boolean',
    description: 'a pull request from another repository than the base: its steps get no secrets',
  },
  source_repo: {
    type: ['string', 'null'],
    description: "where the source was fetched from when not the project's repository (a fork)",
  },
  approved_by: {
    type: ['string', 'null'],
    description: 'who approved it, when it waited as blocked (a pull request from a fork)',
  },
  approved_at: nullableTimestamp,
  concurrency_group: {
    type: ['string', 'null'],
    description: 'the concurrency group its pipeline file put it in; it runs one at a time with the others',
  },
  runner: {
    type: ['string', 'null'],
    description: 'the runner that claimed it (gbcms runner); null when the server ran it itself',
  },
  session_id: nullableString,
  name: { type: ['string', 'null'], description: "an external execution's label" },
  heartbeat_timeout_s: nullableInteger,
  last_heartbeat_at: nullableTimestamp,
  logs: { type: 'string', description: 'URL of the execution logs (text/plain)' },
  events: { type: 'string', description: 'URL of the live event stream (text/event-stream)' },
  web_url: { type: 'string', description: 'URL of the execution page' },
} as const;

const executionRequired = [
  'id',
  'project_id',
  'number',
  'status',
  'trigger_event',
  'created_at',
  'started_at',
  'ended_at',
  'logs',
] as const;

export const ExecutionSchema = {
  $id: 'Execution',
  type: 'object',
  required: executionRequired,
  properties: executionProperties,
} as const;

export const StepSchema = {
  $id: 'Step',
  type: 'object',
  required: ['name', 'position', 'status', 'attempts'],
  properties: {
    name: { type: 'string' },
    position: { type: 'integer' },
    status: { type: 'string', enum: [...STEP_STATUSES] },
    exit_code: nullableInteger,
    reason: nullableString,
    started_at: nullableTimestamp,
    ended_at: nullableTimestamp,
    duration_ms: nullableInteger,
    attempts: { type: 'integer' },
    approval: {
      type: ['object', 'null'],
      description:
        "the step's approval gate (null without one): what is asked, who may answer (usernames or roles; empty: whoever may start executions), and who decided what, when",
      required: ['message', 'approvers', 'decision', 'by', 'at'],
      properties: {
        message: { type: 'string' },
        approvers: { type: 'array', items: { type: 'string' } },
        decision: { type: ['string', 'null'], enum: [...APPROVAL_DECISIONS, null] },
        by: nullableString,
        at: nullableTimestamp,
      },
    },
    logs: { type: 'string', description: "URL of this step's log (text/plain)" },
  },
} as const;

export const ArtifactSchema = {
  $id: 'Artifact',
  type: 'object',
  required: ['step', 'path', 'size', 'sha256', 'url'],
  properties: {
    step: { type: 'string' },
    path: { type: 'string', description: "relative to the execution's artifacts folder" },
    size: { type: 'integer' },
    sha256: { type: 'string' },
    url: { type: 'string' },
  },
} as const;

export const ExecutionDetailSchema = {
  $id: 'ExecutionDetail',
  type: 'object',
  required: [...executionRequired, 'steps', 'artifacts'],
  properties: {
    ...executionProperties,
    steps: { type: 'array', items: { $ref: 'Step#' } },
    artifacts: { type: 'array', items: { $ref: 'Artifact#' } },
    secrets: {
      type: 'array',
      description: 'the secrets the execution was given, by name (never their values)',
      items: {
        type: 'object',
        required: ['name', 'scope'],
        properties: { name: { type: 'string' }, scope: { type: 'string', enum: ['global', 'project'] } },
      },
    },
  },
} as const;

export const SecretSchema = {
  $id: 'Secret',
  type: 'object',
  description: 'a secret as every answer shows it: never its value',
  required: ['name', 'scope', 'project_id', 'events', 'branches', 'updated_by', 'created_at', 'updated_at'],
  properties: {
    name: { type: 'string' },
    scope: { type: 'string', enum: ['global', 'project'] },
    project_id: nullableString,
    events: {
      type: ['array', 'null'],
      items: { type: 'string', enum: [...SECRET_EVENTS] },
      description: 'events it is given to; null: every event',
    },
    branches: {
      type: ['array', 'null'],
      items: { type: 'string' },
      description: 'branch globs it is given to; null: every branch and tags',
    },
    updated_by: { type: 'string', description: 'who set it last' },
    created_at: timestamp,
    updated_at: timestamp,
  },
} as const;

export const ProjectSchema = {
  $id: 'Project',
  type: 'object',
  required: ['id', 'name', 'repo', 'default_branch', 'visibility', 'created_at', 'updated_at'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: nullableString,
    repo: { type: 'string' },
    default_branch: { type: 'string' },
    visibility: { type: 'string', enum: [...VISIBILITIES] },
    owner_id: nullableString,
    max_concurrent: { type: 'integer' },
    fork_pull_requests: {
      type: 'string',
      enum: [...FORK_PULL_REQUEST_POLICIES],
      description: 'pull requests from forks: approve (wait blocked for a member), run (at once), never',
    },
    created_at: timestamp,
    updated_at: timestamp,
    webhook_secret: { type: 'string', description: 'only shown to admins' },
    webhook_url: { type: 'string', description: 'GitHub webhook URL (content type application/json)' },
    git_hook_url: { type: 'string', description: 'URL for the plain-git post-receive hook' },
    badge_url: { type: 'string' },
    web_url: { type: 'string' },
  },
} as const;

export const ScheduleSchema = {
  $id: 'Schedule',
  type: 'object',
  required: [
    'id',
    'project_id',
    'name',
    'cron',
    'branch',
    'timezone',
    'next_run_at',
    'last_run_at',
    'last_execution_id',
    'created_at',
  ],
  properties: {
    id: { type: 'string' },
    project_id: { type: 'string' },
    name: nullableString,
    cron: {
      type: 'string',
      description: 'five fields (minute hour day-of-month month day-of-week) or @daily...',
    },
    branch: { type: 'string' },
    timezone: { type: 'string', description: 'IANA name the expression is read in' },
    next_run_at: { ...nullableTimestamp, description: 'the next tick; null when there is none' },
    last_run_at: nullableTimestamp,
    last_execution_id: { type: ['string', 'null'], description: 'the execution the last tick started' },
    created_at: timestamp,
    source: {
      type: ['string', 'null'],
      enum: ['file', null],
      description:
        "'file': read from schedules: of the default branch's pipeline file, updated and removed by pushes to it; null: made through the API, a page or the CLI",
    },
  },
} as const;

export const UserSchema = {
  $id: 'User',
  type: 'object',
  required: ['id', 'username', 'email', 'role', 'created_at'],
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    email: nullableString,
    role: { type: 'string', enum: [...ROLES] },
    created_at: timestamp,
  },
} as const;

export const ApiTokenSchema = {
  $id: 'ApiToken',
  type: 'object',
  required: ['prefix', 'name', 'user', 'role', 'created_at', 'last_used_at', 'revoked_at'],
  properties: {
    prefix: {
      type: 'string',
      description: 'the start of the token (`gbcms_` and 8 characters); never the token itself',
    },
    name: { type: 'string', description: 'a label' },
    user: { type: 'string', description: "the owner's username" },
    role: { type: 'string', enum: [...ROLES] },
    created_at: timestamp,
    last_used_at: nullableTimestamp,
    revoked_at: nullableTimestamp,
  },
} as const;

export const SHARED_SCHEMAS = [
  ErrorSchema,
  ExecutionSchema,
  StepSchema,
  ArtifactSchema,
  ExecutionDetailSchema,
  ProjectSchema,
  ScheduleSchema,
  UserSchema,
  ApiTokenSchema,
  SecretSchema,
] as const;

/** The error answers a route can give, for its `response` schema. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: 'Error#' }> {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: 'Error#' }]));
}

const schemasPlugin: FastifyPluginAsync = async (app) => {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
};

export default fp(schemasPlugin, { name: 'gbcms-schemas', fastify: '5.x' });
