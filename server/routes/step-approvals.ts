// Approving or declining a step that waits at its approval gate, the same from the API and the
// run page's buttons. The gate says who may answer (usernames or server roles); a gate naming
// nobody is for whoever may start the project's executions. 401 without a token, 404 for an
// execution the caller cannot see, 409 when the step waits at no gate, 403 for anyone else.
import type { FastifyRequest } from 'fastify';
import { canApprove } from '../auth/permissions.ts';
import { errors } from '../errors.ts';
import type { StoredStep } from '../store/index.ts';
import { readExecution, requireActor, requireWrite } from './access.ts';

export interface StepAnswer {
  approved: boolean;
  /** Why it is declined, when the person said. */
  reason?: string;
}

/** Decides the gate; resolves with the step's row as it is once the decision is recorded. */
export async function decideStepGate(
  request: FastifyRequest,
  executionId: string,
  stepName: string,
  answer: StepAnswer,
): Promise<{ executionId: string; step: StoredStep }> {
  const actor = requireActor(request);
  const { execution, access } = await readExecution(request, executionId);
  const { executions, store } = request.server;
  const open = executions.stepGate(execution.id, stepName);
  if (!open) {
    // Outsiders learn nothing about the steps' states: 403 before 409.
    requireWrite(access);
    throw errors.stepNotBlocked(`step '${stepName}' is not waiting for approval`);
  }
  const { approvers } = open.gate;
  if (!canApprove(actor, approvers, access.write)) {
    throw errors.forbidden(
      approvers.length === 0
        ? 'only the project owner, its members and admins may decide this gate'
        : `only ${approvers.join(', ')} may decide this gate`,
    );
  }
  const decision = {
    approved: answer.approved,
    by: actor.username,
    ...(answer.reason ? { reason: answer.reason } : {}),
  };
  if (!(await executions.decideStep(execution.id, stepName, decision))) {
    throw errors.stepNotBlocked(`step '${stepName}' is not waiting for approval`);
  }
  request.log.info(
    { execution: execution.id, step: stepName, by: actor.id, approved: answer.approved },
    'approval gate decided',
  );
  const step = (await store.steps.list(execution.id)).find((row) => row.name === stepName);
  if (!step) throw errors.stepNotFound();
  return { executionId: execution.id, step };
}
