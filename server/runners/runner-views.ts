// What `GET /api/runners` and the runners page show of each registered runner: its record in
// the database, with what this server has seen of it since (presence) and what it runs now.
import type { Store } from '../store/index.ts';
import type { Presence, RunnerPresence } from './presence.ts';

export interface RunnerView {
  name: string;
  labels: string[];
  version: string | null;
  backend: string | null;
  capacity: number | null;
  running: string[];
  last_seen_at: string | null;
  connected: boolean;
  created_at: string;
  revoked_at: string | null;
}

/** `running`: execution ids by runner name. */
export async function runnerViews(
  store: Store,
  presence: Presence,
  running: ReadonlyMap<string, string[]>,
): Promise<RunnerView[]> {
  return (await store.runners.list()).map((runner) => {
    const seen: RunnerPresence | undefined = presence.get(runner.name);
    return {
      name: runner.name,
      labels: seen?.labels ?? runner.labels,
      version: seen?.version ?? runner.version,
      backend: seen?.backend ?? null,
      capacity: seen?.capacity ?? runner.capacity,
      running: running.get(runner.name) ?? [],
      last_seen_at: seen ? new Date(seen.lastSeen).toISOString() : runner.last_seen_at,
      connected: runner.revoked_at === null && presence.isConnected(runner.name),
      created_at: runner.created_at,
      revoked_at: runner.revoked_at,
    };
  });
}
