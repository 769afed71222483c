// Prometheus metrics in a registry of the app's own (two apps in one process don't mix):
// executions by status (counted in the store at scrape time), the manager's queue and
// running steps, step durations as the manager reports them, HTTP request durations.
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { StepRecord } from '../../engine/run-record.ts';
import { RUN_STATUSES } from '../../engine/status.ts';

type EndedStep = Pick<StepRecord, 'status' | 'duration_ms'>;

/** Where step durations come from: called once per finished step. */
export type StepObserver = (step: EndedStep) => void;

type StepEndedListener = (ended: { step: EndedStep }) => void;

/** The execution manager's `events` emitter, as far as metrics need it. */
export interface StepEvents {
  on(event: 'step-ended', listener: StepEndedListener): unknown;
  off(event: 'step-ended', listener: StepEndedListener): unknown;
}

export interface Metrics {
  registry: Registry;
  /** Feed finished steps here (the manager's events). */
  observeStep: StepObserver;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

const metricsPlugin: FastifyPluginAsync<{ stepEvents?: StepEvents }> = async (app, { stepEvents }) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gbcms_' });

  new Gauge({
    name: 'gbcms_executions',
    help: 'Executions in the store, by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await app.store.executions.countByStatus();
      for (const status of RUN_STATUSES) this.set({ status }, 0);
      for (const { status, count } of counts) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'gbcms_queue_depth',
    help: 'Executions waiting for a slot',
    registers: [registry],
    collect() {
      this.set(app.executions.stats().pending);
    },
  });
  new Gauge({
    name: 'gbcms_running_executions',
    help: 'Executions running now',
    registers: [registry],
    collect() {
      this.set(app.executions.stats().running);
    },
  });
  new Gauge({
    name: 'gbcms_running_steps',
    help: 'Step containers (or local sandboxes) running now',
    registers: [registry],
    collect() {
      this.set(app.executions.stats().runningSteps);
    },
  });
  const stepDuration = new Histogram({
    name: 'gbcms_step_duration_seconds',
    help: 'How long finished steps ran, by status',
    labelNames: ['status'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'gbcms_http_request_duration_seconds',
    help: 'HTTP request durations, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const observeStep: StepObserver = (step) => {
    if (step.duration_ms !== null) stepDuration.observe({ status: step.status }, step.duration_ms / 1000);
  };
  app.decorate('metrics', { registry, observeStep });
  if (stepEvents) {
    const listener: StepEndedListener = ({ step }) => observeStep(step);
    stepEvents.on('step-ended', listener);
    app.addHook('onClose', async () => {
      stepEvents.off('step-ended', listener);
    });
  }

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: one series per route, whatever the ids in the path.
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
};

export default fp(metricsPlugin, {
  name: 'gbcms-metrics',
  fastify: '5.x',
  dependencies: ['gbcms-store', 'gbcms-executions'],
});
