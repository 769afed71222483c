// Server settings routes need: `app.settings`.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

export interface Settings {
  /** Origin (and path prefix) the server is reached at, without a trailing slash; '' when unknown. */
  publicUrl: string;
  /** Largest webhook body accepted, in bytes. */
  webhookBodyLimit: number;
  /** Interval between keep-alive comments on event streams. */
  sseKeepAliveMs: number;
  /** Whether cookies get the Secure attribute (the public URL is https). */
  secureCookies: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    settings: Settings;
  }
}

const settingsPlugin: FastifyPluginAsync<{ settings: Settings }> = async (app, { settings }) => {
  app.decorate('settings', settings);
};

export default fp(settingsPlugin, { name: 'gbcms-settings', fastify: '5.x' });
