// With several servers sharing the database, what an execution's live state decides (its event
// stream, its runner's lease, its gates, its slot) is held by the server managing it. Requests
// about such an execution that reach another server are passed on to that one
// (cluster/forward.ts); everything else (pages, lists, logs and artifacts on the shared data
// folder) every server answers alike.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { isFinished } from '../../engine/status.ts';
import { FORWARDED_BY, forwardRequest } from '../cluster/forward.ts';
import { BEAT_MS, DEAD_AFTER_MS, type Members } from '../cluster/members.ts';
import { errors } from '../errors.ts';
import type { Execution } from '../store/index.ts';

/** `METHOD url-pattern` of the routes whose answer lives on the managing server. */
const FORWARDED_ROUTES = new Set([
  'GET /api/executions/:id/events',
  'POST /api/executions/:id/terminate',
  'POST /api/executions/:id/approve',
  'POST /api/executions/:id/decline',
  'POST /api/executions/:id/steps/:name/approve',
  'POST /api/executions/:id/steps/:name/decline',
  'POST /api/executions/:id/reports',
  'POST /api/executions/:id/heartbeat',
  'POST /api/executions/:id/finish',
  'POST /executions/:id/terminate',
  'POST /executions/:id/approve',
  'POST /executions/:id/decline',
  'POST /executions/:id/steps/:name/approve',
  'POST /executions/:id/steps/:name/decline',
  'GET /api/runner/jobs/:id/source',
  'POST /api/runner/jobs/:id/events',
  'PUT /api/runner/jobs/:id/artifacts',
  'POST /api/runner/jobs/:id/finish',
]);

/** Past this, a call about an execution nobody took up is answered 503. */
const TAKE_UP_WAIT_MS = DEAD_AFTER_MS + 4 * BEAT_MS;
const TAKE_UP_POLL_MS = 250;

const forwardPlugin: FastifyPluginAsync<{ members: Members }> = async (app, { members }) => {
  /** The row once another server manages it (or it ended); as it is when that takes too long. */
  const takenUp = async (id: string, from: string | null): Promise<Execution | undefined> => {
    const until = Date.now() + TAKE_UP_WAIT_MS;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, TAKE_UP_POLL_MS));
      const execution = await app.store.executions.get(id);
      if (!execution || execution.server !== from || isFinished(execution.status)) return execution;
      if (Date.now() > until) return execution;
    }
  };

  app.addHook('onRequest', async (request, reply) => {
    if (request.headers[FORWARDED_BY] !== undefined) return;
    if (!FORWARDED_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    const { id } = request.params as { id?: string };
    let execution = id === undefined ? undefined : await app.store.executions.get(id);
    while (execution && !members.isMine(execution.server) && !isFinished(execution.status)) {
      const peer = await members.findPeer(execution.server);
      if (peer && (await forwardRequest(request, reply, peer, members.name))) return reply;
      // Its server does not answer (it died, or is dying) and no server has taken it up yet:
      // the call waits for the server that takes it up (within the time a dead server is
      // noticed), then goes there. A runner's would otherwise hear its work is lost (404).
      const from = execution.server;
      execution = await takenUp(execution.id, from);
      // Nobody took it up in that time: answered here, its state would be guessed. A runner
      // hears 503 as a server that does not answer, and tries again.
      if (execution?.server === from && !isFinished(execution.status)) throw errors.peerUnavailable();
    }
  });
};

export default fp(forwardPlugin, { name: 'gbcms-forward', fastify: '5.x', dependencies: ['gbcms-auth'] });
