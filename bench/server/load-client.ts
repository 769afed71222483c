// The load generator, a process of its own so that its CPU is not the server's: autocannon's
// API on one target, the result printed as one JSON line. Run by load.ts with a LoadSpec as
// its only argument.
import { createRequire } from 'node:module';

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Header given a new value on every request (a webhook's delivery id), so none is a repeat. */
  uniqueHeader?: string;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  perSecond: number;
  ok: number;
  /** Answers that were not 2xx, and connection errors. */
  failed: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
}

interface AutocannonRequest {
  headers?: Record<string, string>;
  [key: string]: unknown;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  non2xx: number;
  latency: { p50: number; p99: number };
  statusCodeStats: Record<string, { count: number }>;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  let sent = 0;
  const { uniqueHeader } = spec;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    method: spec.method ?? 'GET',
    headers: spec.headers ?? {},
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    ...(uniqueHeader !== undefined
      ? {
          requests: [
            {
              setupRequest: (request: AutocannonRequest) => {
                sent += 1;
                request.headers = { ...request.headers, [uniqueHeader]: `bench-${process.pid}-${sent}` };
                return request;
              },
            },
          ],
        }
      : {}),
  });
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)]),
  );
  const ok = Object.entries(statuses)
    .filter(([code]) => code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    perSecond: ok / result.duration,
    ok,
    failed: result.non2xx + result.errors,
    statuses,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    seconds: result.duration,
  };
}

if (process.argv[1] === import.meta.filename) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  process.stdout.write(`${JSON.stringify(await runLoad(spec))}\n`);
}
