// Approving or declining a `blocked` execution (a fork's pull request), the same from the API
// and the run page's buttons: those who may start executions of the project may also let this
// one run (401, 404, 403 as for any write), and only while it is blocked as a whole (409
// otherwise; one that started and waits at a step's gate is answered per step, step-approvals.ts).
import type { FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import type { Execution } from '../store/index.ts';
import { requireActor, writeExecution } from './access.ts';

export async function approveExecution(request: FastifyRequest, executionId: string): Promise<Execution> {
  const actor = requireActor(request);
  const { execution } = await writeExecution(request, executionId);
  requireHeldAsAWhole(execution);
  const approved = await request.server.executions.approve(execution.id, actor.username);
  if (!approved) throw errors.notBlocked();
  request.log.info({ execution: execution.id, by: actor.id }, 'execution approved');
  return approved;
}

/** Declined: it ends `killed`, with who declined it as the reason. */
export async function declineExecution(request: FastifyRequest, executionId: string): Promise<Execution> {
  const actor = requireActor(request);
  const { execution } = await writeExecution(request, executionId);
  requireHeldAsAWhole(execution);
  const result = await request.server.executions.terminate(execution.id, `declined by ${actor.username}`);
  const declined = result && (await request.server.store.executions.get(execution.id));
  if (!declined) throw errors.notBlocked();
  request.log.info({ execution: execution.id, by: actor.id }, 'execution declined');
  return declined;
}

function requireHeldAsAWhole(execution: Execution): void {
  if (execution.status !== 'blocked') throw errors.notBlocked();
  if (execution.started_at !== null) {
    throw errors.notBlocked("the execution waits at a step's approval gate: approve or decline that step");
  }
}
