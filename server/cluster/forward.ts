// Calls about an execution that reach a server other than the one managing it are passed on to
// that one, whole: the request as it came (its headers, its body unread), the answer as it
// comes back (streamed, so a live event stream goes on). The managing server checks the token
// or cookie itself against the shared database; the caller cannot tell. A forwarded request is
// marked so that it is never passed on twice.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import type { Peer } from './members.ts';

export const FORWARDED_BY = 'x-gbcms-forwarded-by';

/** A peer that has not taken the connection by then is taken for one that does not answer. */
const CONNECT_TIMEOUT_MS = 3_000;

/** Headers about one connection, not the request: never passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

/**
 * Sends the request to `peer` and its answer back. Resolves false, having sent nothing and read
 * none of the body, when the peer could not be reached: the caller may wait and try again.
 */
export function forwardRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  peer: Peer,
  self: string,
): Promise<boolean> {
  const target = new URL(request.raw.url ?? '/', peer.url);
  const headers = { ...endToEnd(request.raw.headers), [FORWARDED_BY]: self };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let connected = false;
    const upstream = send(target, { method: request.method, headers }, (response: IncomingMessage) => {
      reply.code(response.statusCode ?? 502);
      for (const [name, value] of Object.entries(endToEnd(response.headers))) {
        if (value !== undefined && name !== 'content-length') reply.header(name, value);
      }
      // The caller hung up (a page closed its event stream): so does the peer's request.
      reply.raw.once('close', () => response.destroy());
      void reply.send(response);
      resolve(true);
    });
    // The body is read only once the peer took the connection, so that a peer that is gone
    // leaves it whole for whoever answers instead.
    const onConnected = () => {
      if (connected) return;
      connected = true;
      request.raw.pipe(upstream);
    };
    upstream.once('socket', (socket) => {
      if (!socket.connecting) return onConnected();
      socket.once('connect', onConnected);
      // A machine that is gone does not refuse: the connection would wait for TCP to give up.
      const timer = setTimeout(() => {
        if (!connected) upstream.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
      socket.once('close', () => clearTimeout(timer));
      socket.once('connect', () => clearTimeout(timer));
    });
    upstream.once('error', (error) => {
      if (reply.sent) return;
      if (!connected) return resolve(false);
      request.log.warn({ err: error, peer: peer.name }, 'the server managing the execution was cut off');
      // Cut off half way: the caller sends it again.
      void reply.send(errors.peerUnavailable());
      resolve(true);
    });
  });
}

/** A JSON call to a peer on a runner's behalf (its token passed on): the status and parsed body. */
export async function callPeer(
  peer: Peer,
  path: string,
  body: unknown,
  authorization: string,
  self: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL(path, peer.url), {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json', [FORWARDED_BY]: self },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}
