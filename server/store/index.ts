// The store's public surface: import from here, not from the files behind it.
export type { ArtifactRepo } from './artifacts.ts';
export type { CacheRepo, CacheUse } from './caches.ts';
export { DATABASE_FILE, describeDatabase } from './connection.ts';
export { decodeCursor, encodeCursor } from './cursor.ts';
export { type DataLocation, DEFAULT_DATA_DIR, resolveDatabase, resolveDataDir } from './data-dir.ts';
export type { DeliveryRepo } from './deliveries.ts';
export { type Dialect, isPostgresUrl } from './dialect.ts';
export type { EnvironmentRepo, NewEnvironment } from './environments.ts';
export { InvalidCursorError, NameTakenError, NotFoundError } from './errors.ts';
export { triggerColumns, triggerOf } from './execution-trigger.ts';
export type {
  CommitColumns,
  ExecutionPage,
  ExecutionRepo,
  ListExecutionsOptions,
  NewExecution,
  NewExternal,
  StatusCount,
} from './executions.ts';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './executions.ts';
export type { ForgeRepo, ForgeTarget } from './forges.ts';
export type { LogLineEntry, LogMatch, LogMatchPage, LogSearch, LogSearchRepo } from './log-search.ts';
export { DEFAULT_SEARCH_PAGE, MAX_SEARCH_PAGE } from './log-search.ts';
export {
  MAX_QUERY_CHARS,
  MAX_QUERY_PHRASES,
  matchRanges,
  parseSearchQuery,
  type SearchQuery,
  SearchQueryError,
} from './log-search-query.ts';
export { MigrationError } from './migrations/index.ts';
export type { NewProject, ProjectPatch, ProjectRepo } from './projects.ts';
export type {
  ListReportsOptions,
  MetricName,
  ReportEntry,
  ReportPage,
  ReportRepo,
  ReportType,
  StoredReport,
} from './reports.ts';
export { DEFAULT_REPORT_PAGE, MAX_REPORT_PAGE } from './reports.ts';
export type { NewRunner, Runner, RunnerRepo } from './runners.ts';
export type { NewSchedule, ScheduleRepo } from './schedules.ts';
// The row types, not the tables: the query builder's view of the schema stays in the store.
export type {
  ApiToken,
  ApprovalDecisionKind,
  Environment,
  EnvironmentType,
  Execution,
  ExecutionForge,
  Forge,
  ForkPullRequestPolicy,
  Project,
  RefType,
  Role,
  Schedule,
  Session,
  SessionKey,
  StoredArtifact,
  StoredStep,
  User,
  Visibility,
  WebhookDelivery,
} from './schema.ts';
export {
  APPROVAL_DECISIONS,
  FORGES,
  FORK_PULL_REQUEST_POLICIES,
  ROLES,
  SECRET_EVENTS,
  VISIBILITIES,
} from './schema.ts';
export type { SecretInfo, SecretRepo, SecretUse, StoredSecret } from './secrets.ts';
export type { ServerRepo, ServerRow } from './servers.ts';
export type { SessionKeyInfo, SessionKeyRepo } from './session-keys.ts';
export { SESSION_KEY_LIFETIME_MS } from './session-keys.ts';
export type { SessionRepo, SessionSummary } from './sessions.ts';
export { MAX_SESSION_EXECUTIONS } from './sessions.ts';
export type { SlotLimits, SlotRepo, SlotTake } from './slots.ts';
export type { StatusSettings, StatusSettingsRepo } from './status-settings.ts';
export { DEFAULT_STATUS_SETTINGS } from './status-settings.ts';
export type { StepRepo, StoredGateDecision } from './steps.ts';
export type { Store, StoreOptions } from './store.ts';
export { openStore } from './store.ts';
export type { Authenticated, TokenInfo, TokenRepo } from './tokens.ts';
export { LAST_USED_GRANULARITY_MS } from './tokens.ts';
export type { NewUser, UserRepo } from './users.ts';
