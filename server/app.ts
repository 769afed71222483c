// The gbcms server as a Fastify app, fastify's way: external plugins first (rate limit,
// OpenAPI), then the app's own (one decoration each: store, executions, settings, metrics,
// auth), then the routes. `gbcms serve` builds it with the real execution manager; tests build
// it with a fake one and call `app.inject()`.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type Logger, type LoggerOptions, pino } from 'pino';
import { packageVersion } from '../engine/package-info.ts';
import type { Members } from './cluster/members.ts';
import type { ExecutionControl } from './executions/types.ts';
import authPlugin from './plugins/auth.ts';
import errorHandlerPlugin from './plugins/error-handler.ts';
import executionsPlugin from './plugins/executions.ts';
import formBodyPlugin from './plugins/form-body.ts';
import forwardPlugin from './plugins/forward.ts';
import { AccessLog, type AccessLogMode, loggerOptions } from './plugins/logger.ts';
import metricsPlugin, { type StepEvents } from './plugins/metrics.ts';
import openapiPlugin from './plugins/openapi.ts';
import rateLimitPlugin, { DEFAULT_RATE_LIMIT, type RateLimitSettings } from './plugins/rate-limit.ts';
import runnersPlugin from './plugins/runners.ts';
import schemasPlugin from './plugins/schemas.ts';
import secretsPlugin from './plugins/secrets.ts';
import settingsPlugin from './plugins/settings.ts';
import storePlugin from './plugins/store.ts';
import artifactsRoutes from './routes/api/artifacts.ts';
import eventsRoutes from './routes/api/execution-events.ts';
import logsRoutes from './routes/api/execution-logs.ts';
import executionsRoutes from './routes/api/executions.ts';
import externalRoutes from './routes/api/external.ts';
import logSearchRoutes from './routes/api/log-search.ts';
import membersRoutes from './routes/api/members.ts';
import projectsRoutes from './routes/api/projects.ts';
import reportsRoutes from './routes/api/reports.ts';
import runnerRoutes from './routes/api/runner.ts';
import runnersRoutes from './routes/api/runners.ts';
import schedulesRoutes from './routes/api/schedules.ts';
import secretsRoutes from './routes/api/secrets.ts';
import sessionKeysRoutes from './routes/api/session-keys.ts';
import sessionsRoutes from './routes/api/sessions.ts';
import statusSettingsRoutes from './routes/api/status-settings.ts';
import tokensRoutes from './routes/api/tokens.ts';
import usersRoutes from './routes/api/users.ts';
import badgeRoutes from './routes/badges.ts';
import healthRoutes from './routes/health.ts';
import gitHookRoutes from './routes/hooks/git.ts';
import giteaHookRoutes from './routes/hooks/gitea.ts';
import githubHookRoutes from './routes/hooks/github.ts';
import gitlabHookRoutes from './routes/hooks/gitlab.ts';
import metricsRoutes from './routes/metrics.ts';
import pageRoutes from './routes/pages/index.ts';
import type { RunnerHub } from './runners/hub.ts';
import type { SecretVault } from './secrets/vault.ts';
import type { Store } from './store/index.ts';
import { fastifyTrustProxy, type TrustedProxies } from './trust-proxy.ts';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const DEFAULT_SSE_KEEP_ALIVE_MS = 15_000;

export interface AppOptions {
  store: Store;
  executions: ExecutionControl;
  /** pino options (secrets are redacted on top of them) or a logger; default: no logging. */
  logger?: LoggerOptions | Logger;
  /** Which requests get an access-log line (see AccessLogMode); default all. */
  accessLog?: AccessLogMode;
  /** Per client address; default 600 requests a minute, banned for an hour past 5× that. */
  rateLimit?: RateLimitSettings;
  /** Largest body accepted, webhooks included; default 1 MiB. */
  bodyLimit?: number;
  /** Where clients reach the server (`https://ci.example.com`), for the URLs in answers. */
  publicUrl?: string;
  /** Reverse proxies whose X-Forwarded-* is believed (client address for rate limits, protocol); default none. */
  trustProxy?: TrustedProxies;
  /** Keep-alive comment interval on event streams; default 15 s. */
  sseKeepAliveMs?: number;
  /** Finished steps for the step-duration histogram: the ExecutionManager's `events`. */
  executionEvents?: StepEvents;
  /** Seals secret values set through the API and pages; without it they cannot be set (503). */
  secrets?: SecretVault;
  /** Runners' claims and reports; without it the runner endpoints and /api/runners are absent. */
  runners?: RunnerHub;
  /** The servers sharing the database (PostgreSQL): calls about another's executions go there. */
  cluster?: Members;
}

function isLogger(value: LoggerOptions | Logger): value is Logger {
  return typeof (value as Logger).child === 'function' && typeof (value as Logger).info === 'function';
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const publicUrl = (options.publicUrl ?? '').replace(/\/+$/, '');
  const logger: FastifyBaseLogger =
    options.logger === undefined
      ? pino({ enabled: false })
      : isLogger(options.logger)
        ? options.logger
        : pino(loggerOptions(options.logger));

  const app = Fastify({
    loggerInstance: logger,
    logController: new AccessLog(options.accessLog ?? 'all'),
    bodyLimit,
    trustProxy: fastifyTrustProxy(options.trustProxy ?? false),
    requestIdHeader: false,
    // Event streams stay open: shutdown closes them (preClose) instead of waiting for clients.
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    // Unknown body fields are refused (a typo should not pass silently), not stripped.
    ajv: { customOptions: { removeAdditional: false } },
  });

  // External plugins.
  await app.register(rateLimitPlugin, { limits: options.rateLimit ?? DEFAULT_RATE_LIMIT });
  await app.register(schemasPlugin);
  await app.register(openapiPlugin, { version: packageVersion() });

  // The app's own.
  await app.register(errorHandlerPlugin);
  await app.register(storePlugin, { store: options.store });
  await app.register(executionsPlugin, { executions: options.executions });
  await app.register(secretsPlugin, { vault: options.secrets });
  await app.register(settingsPlugin, {
    settings: {
      publicUrl,
      webhookBodyLimit: bodyLimit,
      sseKeepAliveMs: options.sseKeepAliveMs ?? DEFAULT_SSE_KEEP_ALIVE_MS,
      secureCookies: publicUrl.startsWith('https://'),
    },
  });
  if (options.runners) await app.register(runnersPlugin, { hub: options.runners });
  await app.register(metricsPlugin, options.executionEvents ? { stepEvents: options.executionEvents } : {});
  await app.register(authPlugin);
  await app.register(formBodyPlugin);
  if (options.cluster) await app.register(forwardPlugin, { members: options.cluster });

  // Routes.
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(usersRoutes);
  await app.register(tokensRoutes);
  await app.register(projectsRoutes);
  await app.register(statusSettingsRoutes);
  await app.register(membersRoutes);
  await app.register(schedulesRoutes);
  await app.register(executionsRoutes);
  await app.register(logsRoutes);
  await app.register(logSearchRoutes);
  await app.register(eventsRoutes);
  await app.register(artifactsRoutes);
  await app.register(reportsRoutes);
  await app.register(externalRoutes);
  await app.register(sessionsRoutes);
  await app.register(sessionKeysRoutes);
  await app.register(secretsRoutes);
  if (options.runners) {
    await app.register(runnerRoutes);
    await app.register(runnersRoutes);
  }
  await app.register(badgeRoutes);
  await app.register(githubHookRoutes);
  await app.register(giteaHookRoutes);
  await app.register(gitlabHookRoutes);
  await app.register(gitHookRoutes);
  await app.register(pageRoutes);

  await app.ready();
  return app;
}
