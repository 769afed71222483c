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
  'POST /api/runner/jobs/:id/gate',
]);

/**
 * Past this, a call about an execution nobody took up is answered 503: noticing a dead server
 * (DEAD_AFTER_MS) and ten beats more, for a loaded machine.
 */
const TAKE_UP_WAIT_MS = DEAD_AFTER_MS + 10 * BEAT_MS;
const TAKE_UP_POLL_MS = 250;

const forwardPlugin: FastifyPluginAsync<{ members: Members }> = async (app, { members }) => {
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers[FORWARDED_BY] !== undefined) return;
    if (!FORWARDED_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    const { id } = request.params as { id?: string };
    if (id === undefined) return;
    const until = Date.now() + TAKE_UP_WAIT_MS;
    let waiting = false;
    for (;;) {
      const execution = await app.store.executions.get(id);
      // Answered here: this server's, ended (every server reads those alike), or no such one.
      if (!execution || members.isMine(execution.server) || isFinished(execution.status)) return;
      const peer = await members.findPeer(execution.server);
      if (peer && (await forwardRequest(request, reply, peer, members.name))) return reply;
      if (!waiting) {
        waiting = true;
        request.log.warn(
          { execution: id, server: execution.server },
          'the server managing the execution does not answer: waiting for it or its successor',
        );
      }
      // Its server does not answer (it died, is dying or restarting) and no server has taken
      // it up yet: the call waits for the one that answers or takes it up, asking again on
      // each poll. Answered here meanwhile, its state would be guessed (a runner would hear its
      // work is lost); a runner hears 503 as a server that does not answer, and tries again.
      if (Date.now() > until) throw errors.peerUnavailable();
      await new Promise((resolve) => setTimeout(resolve, TAKE_UP_POLL_MS));
    }
  });
};

export default fp(forwardPlugin, { name: 'gbcms-forward', fastify: '5.x', dependencies: ['gbcms-auth'] });
