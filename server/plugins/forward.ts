// With several servers sharing the database, what an execution's live state decides (its event
// stream, its runner's lease, its gates, its slot) is held by the server managing it. Requests
// about such an execution that reach another server are passed on to that one
// (cluster/forward.ts); everything else (pages, lists, logs and artifacts on the shared data
// folder) every server answers alike. Without peers nothing is looked up.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { isFinished } from '../../engine/status.ts';
import { FORWARDED_BY, forwardRequest } from '../cluster/forward.ts';
import type { Members } from '../cluster/members.ts';
import { errors } from '../errors.ts';

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

const forwardPlugin: FastifyPluginAsync<{ members: Members }> = async (app, { members }) => {
  app.addHook('onRequest', async (request, reply) => {
    if (!members.hasPeers || request.headers[FORWARDED_BY] !== undefined) return;
    if (!FORWARDED_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    const { id } = request.params as { id?: string };
    if (id === undefined) return;
    const execution = await app.store.executions.get(id);
    if (!execution) return;
    const peer = members.peer(execution.server);
    if (!peer) {
      // Its server stopped answering and no server has taken it up yet: a runner keeps what it
      // would send (a 404 would tell it the work is lost) and sends it again shortly.
      const orphaned = !members.isMine(execution.server) && !isFinished(execution.status);
      if (orphaned && request.routeOptions.config.auth === 'runner') throw errors.peerUnavailable();
      return;
    }
    if (await forwardRequest(request, reply, peer, members.name)) return reply;
  });
};

export default fp(forwardPlugin, { name: 'gbcms-forward', fastify: '5.x', dependencies: ['gbcms-auth'] });
