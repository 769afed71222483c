// The read-only pages: projects, a project's executions, an execution (with its reports).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { serverTimeZone } from '../../../engine/config/cron.ts';
import { errors } from '../../errors.ts';
import { readDiagnostics } from '../../executions/pipeline-diagnostics.ts';
import { readStepGraph } from '../../executions/step-graph.ts';
import { FORGE_NAMES } from '../../forges/commit-status.ts';
import { executionPage } from '../../pages/execution-page.ts';
import { projectPage } from '../../pages/project-page.ts';
import { projectsPage } from '../../pages/projects-page.ts';
import type { SecretRow } from '../../pages/secrets-view.ts';
import { GLOBAL_SCOPE_KEY, scopeKey, secretView } from '../../secrets/vault.ts';
import { type Execution, type ExecutionPage, InvalidCursorError, type Store } from '../../store/index.ts';
import { readExecution, readProject } from '../access.ts';
import { executionDir } from '../api/execution-files.ts';
import { secretUseView } from '../api/views.ts';
import { links } from '../links.ts';
import { idParams } from '../params.ts';
import { type ExecutionListQuery, executionListQuerystring, listFilters } from './execution-list-query.ts';
import { readReportsOverview } from './report-overview.ts';

const PAGE_SIZE = 25;
/** The home page lists the executions of every visible project this many at a time. */
const RECENT_ON_HOME = 20;
const REPORTS_API = '/api/executions/:id/reports';
const METRICS_CSV = '/api/executions/:id/metrics.csv';
const HTML = 'text/html; charset=utf-8';

const htmlResponse = { 200: { type: 'string' } } as const;

const browseRoutes: FastifyPluginAsync = async (app) => {
  // Relative on purpose: the page talks to the origin it was served from.
  const urls = links('');
  // The reports API may be absent (a server without it): the page then follows the event stream
  // alone, and offers no CSV.
  const has = (url: string) => app.hasRoute({ method: 'GET', url });
  const origin = (request: FastifyRequest) =>
    app.settings.publicUrl || `${request.protocol}://${request.host}`;

  app.get<{ Querystring: ExecutionListQuery }>(
    '/',
    {
      config: { html: true },
      schema: { hide: true, querystring: executionListQuerystring, response: htmlResponse },
    },
    async (request, reply) => {
      const projects = await app.store.projects.list(request.actor);
      const filters = listFilters(request.query);
      const recent = await listOrRefuse(() =>
        app.store.executions.listRecent(
          projects.map((project) => project.id),
          { limit: RECENT_ON_HOME, ...filters, ...cursorOf(request.query) },
        ),
      );
      const page = projectsPage({
        actor: request.actor,
        projects,
        recent: recent.items,
        nextCursor: recent.next_cursor,
        filters,
        paged: request.query.cursor !== undefined,
        sessionNames: await sessionNamesOf(app.store, recent.items),
        now: new Date(),
      });
      return reply.type(HTML).send(page.value);
    },
  );

  app.get<{ Params: { id: string }; Querystring: ExecutionListQuery }>(
    '/projects/:id',
    {
      config: { html: true },
      schema: {
        hide: true,
        params: idParams,
        querystring: executionListQuerystring,
        response: htmlResponse,
      },
    },
    async (request, reply) => {
      const access = await readProject(request, request.params.id);
      const filters = listFilters(request.query);
      const page = await listOrRefuse(() =>
        app.store.executions.listByProject(access.project.id, {
          limit: PAGE_SIZE,
          ...filters,
          ...cursorOf(request.query),
        }),
      );
      const sessions = await app.store.sessions.list(access.project.id, PAGE_SIZE);
      const sessionNames = new Map(sessions.map((session) => [session.id, session.name]));
      const secrets = access.manage ? await secretRows(app.store, access.project.id) : undefined;
      const schedules = await app.store.schedules.listByProject(access.project.id);
      const statusSettings = access.manage
        ? await app.store.statusSettings.get(access.project.id)
        : undefined;
      const body = projectPage({
        actor: request.actor,
        project: access.project,
        executions: page.items,
        nextCursor: page.next_cursor,
        filters,
        paged: request.query.cursor !== undefined,
        sessionNames,
        sessions,
        schedules,
        canWrite: access.write,
        ...(secrets ? { secrets } : {}),
        ...(statusSettings ? { statusSettings } : {}),
        canManage: access.manage,
        serverTimeZone: serverTimeZone(),
        origin: origin(request),
        now: new Date(),
      });
      return reply.type(HTML).send(body.value);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/executions/:id',
    { config: { html: true }, schema: { hide: true, params: idParams, response: htmlResponse } },
    async (request, reply) => {
      const { execution, access } = await readExecution(request, request.params.id);
      const [steps, artifacts, reports, session, forge, secrets] = await Promise.all([
        app.store.steps.list(execution.id),
        app.store.artifacts.list(execution.id),
        readReportsOverview(app.store.reports, execution.id),
        execution.session_id === null ? undefined : app.store.sessions.get(execution.session_id),
        app.store.forges.get(execution.id),
        app.store.secrets.usedBy(execution.id),
      ]);
      const runDir = executionDir(app.store.dataDir, execution);
      const [graph, diagnostics] = await Promise.all([readStepGraph(runDir), readDiagnostics(runDir)]);
      const body = executionPage({
        actor: request.actor,
        project: access.project,
        execution,
        steps,
        graph,
        diagnostics,
        artifacts,
        reports,
        ...(session ? { session: { id: session.id, label: session.name } } : {}),
        ...(forge
          ? { forge: { name: FORGE_NAMES[forge.forge], repo: forge.repo, problem: forge.problem } }
          : {}),
        canWrite: access.write,
        secrets: secrets.map(secretUseView),
        urls: {
          events: urls.executionEvents(execution.id),
          reports: has(REPORTS_API) ? `${urls.execution(execution.id)}/reports` : undefined,
          metricsCsv: has(METRICS_CSV) ? `${urls.execution(execution.id)}/metrics.csv` : undefined,
          logs: urls.executionLogs(execution.id),
          stepLogs: (step) => urls.stepLogs(execution.id, step),
          stepLines: `${urls.execution(execution.id)}/steps/`,
          artifact: (path) => urls.artifact(execution.id, path),
        },
        now: new Date(),
      });
      return reply.type(HTML).send(body.value);
    },
  );
};

function cursorOf(query: ExecutionListQuery): { cursor?: string } {
  return query.cursor !== undefined ? { cursor: query.cursor } : {};
}

/** A page of executions; a cursor the store cannot read is the client's mistake (400). */
async function listOrRefuse(list: () => Promise<ExecutionPage>): Promise<ExecutionPage> {
  try {
    return await list();
  } catch (error) {
    if (error instanceof InvalidCursorError) throw errors.invalidCursor();
    throw error;
  }
}

/** The names of the sessions these executions belong to, for the list's external rows. */
async function sessionNamesOf(store: Store, executions: readonly Execution[]): Promise<Map<string, string>> {
  const ids = [...new Set(executions.flatMap((e) => (e.session_id === null ? [] : [e.session_id])))];
  const sessions = await Promise.all(ids.map((id) => store.sessions.get(id)));
  return new Map(sessions.flatMap((session) => (session ? [[session.id, session.name] as const] : [])));
}

/** How many of the last executions the Secrets section links per secret. */
const SECRET_USES_SHOWN = 5;

/** The project's own secrets, then the global ones it does not override, each with its last uses. */
async function secretRows(store: Store, projectId: string): Promise<SecretRow[]> {
  const own = await store.secrets.list(scopeKey({ kind: 'project', projectId }));
  const names = new Set(own.map((secret) => secret.name));
  const global = (await store.secrets.list(GLOBAL_SCOPE_KEY)).filter((secret) => !names.has(secret.name));
  return Promise.all(
    [...own, ...global].map(async (info) => ({
      ...secretView(info),
      uses: (await store.secrets.uses(info.scope_key, info.name, SECRET_USES_SHOWN)).filter(
        (use) => use.project_id === projectId,
      ),
    })),
  );
}

export default browseRoutes;
