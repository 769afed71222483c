// What a server does with runner calls about executions another server follows (several
// servers sharing one database and Redis): work it claimed for another's execution goes to that
// server with its lease, heartbeats are passed on to it, and while the server following an
// execution is silent (dead, not yet taken over) the runner's heartbeats keep its lease alive
// from what that server kept (runner-state.ts), so that the server taking it up finds it held.
import { join } from 'node:path';
import { isFinished } from '../../engine/status.ts';
import { callPeer } from '../cluster/forward.ts';
import type { Members, Peer } from '../cluster/members.ts';
import type { ExecutionLogger } from '../executions/logger.ts';
import type { Store } from '../store/index.ts';
import type { ClaimedJob, HeartbeatResponse } from './protocol.ts';
import { readRunnerState } from './runner-state.ts';
import type { Lease, WorkQueue } from './work-queue.ts';

export interface PeerRelayOptions {
  store: Store;
  queue: WorkQueue;
  members?: Members;
  dataDir?: string;
  logger: ExecutionLogger;
}

export class PeerRelay {
  readonly #options: PeerRelayOptions;

  constructor(options: PeerRelayOptions) {
    this.#options = options;
  }

  /**
   * Work this server claimed whose execution another manages: the lease goes to that server,
   * which answers with the job. Back in line when it does not answer; dropped when nobody waits
   * for it (ended, or its server gone: the server taking that one's executions up queues it).
   */
  async passOn(lease: Lease, authorization: string): Promise<ClaimedJob | undefined> {
    const { queue, store, members } = this.#options;
    const row = await store.executions.get(lease.executionId);
    const peer = members && row ? await members.findPeer(row.server) : undefined;
    const handed = peer && (await queue.handOver(lease.id));
    if (!peer || !members || !handed) {
      await queue.finish(lease.id);
      return undefined;
    }
    try {
      const path = `/api/runner/jobs/${encodeURIComponent(lease.executionId)}/take`;
      const answer = await callPeer(peer, path, { lease: handed }, authorization, members.name);
      if (answer.status === 200) return answer.body as ClaimedJob;
      if (answer.status < 500) {
        // It no longer waits there: the lease is finished here.
        if (await queue.adopt(handed)) await queue.finish(handed.id);
        return undefined;
      }
    } catch (error) {
      this.#options.logger.warn(
        { err: error, execution: lease.executionId, server: peer.name },
        'passing on work',
      );
    }
    if (await queue.adopt(handed)) await queue.giveBack(handed.id);
    return undefined;
  }

  /** A runner's heartbeat for executions this server does not follow. */
  async heartbeat(executions: readonly string[], authorization: string): Promise<HeartbeatResponse> {
    const answer: HeartbeatResponse = { lost: [], cancel: [] };
    const elsewhere = new Map<string, { peer: Peer; ids: string[] }>();
    for (const id of executions) {
      const where = await this.#managedElsewhere(id);
      if (where === 'here') answer.lost.push(id);
      else if (where === 'unknown') await this.#keepForSuccessor(id);
      else {
        const group = elsewhere.get(where.name) ?? { peer: where, ids: [] };
        group.ids.push(id);
        elsewhere.set(where.name, group);
      }
    }
    for (const { peer, ids } of elsewhere.values()) {
      try {
        const body = { executions: ids };
        const reply = await callPeer(
          peer,
          '/api/runner/heartbeat',
          body,
          authorization,
          this.#options.members?.name ?? '',
        );
        if (reply.status === 200) {
          const beat = reply.body as HeartbeatResponse;
          answer.lost.push(...beat.lost);
          answer.cancel.push(...beat.cancel);
          continue;
        }
      } catch (error) {
        this.#options.logger.warn({ err: error, server: peer.name }, 'passing on a heartbeat');
      }
      // That server does not answer: it loses nothing; its lease is kept from here meanwhile.
      for (const id of ids) await this.#keepForSuccessor(id);
    }
    return answer;
  }

  /**
   * Who manages an execution no server here follows: a live peer; 'unknown' while its server is
   * silent but not yet known dead, or while this one takes it up (the runner keeps it, its
   * lease kept alive meanwhile: it is followed, or ends, shortly); 'here' once it has ended.
   */
  async #managedElsewhere(id: string): Promise<Peer | 'here' | 'unknown'> {
    const members = this.#options.members;
    if (!members) return 'here';
    const row = await this.#options.store.executions.get(id);
    if (!row || isFinished(row.status)) return 'here';
    if (members.isMine(row.server)) return 'unknown';
    return (await members.findPeer(row.server)) ?? 'unknown';
  }

  /** The leases of the runs a silent server follows on runners, extended as it left them. */
  async keepLeasesOf(server: string): Promise<void> {
    for (const row of await this.#options.store.servers.executionsOf(server, ['running', 'blocked'])) {
      if (row.runner !== null) await this.#keepForSuccessor(row.id);
    }
  }

  async #keepForSuccessor(id: string): Promise<void> {
    const { store, queue, dataDir } = this.#options;
    const row = await store.executions.get(id);
    const saved =
      row && dataDir !== undefined ? await readRunnerState(join(dataDir, row.logs_dir)) : undefined;
    if (saved) await queue.extend(saved.state.lease).catch(() => false);
  }
}
