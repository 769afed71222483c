// Re-running an execution, the same from the API and the run page's buttons: those who may start
// executions of the project may re-run one (401, 404, 403 as for any write). From the failed
// steps, only an ended execution with failed, killed, error or skipped steps (409 otherwise).
import type { FastifyRequest } from 'fastify';
import type { Execution } from '../store/index.ts';
import { requireActor, writeExecution } from './access.ts';
import { mapExecutionErrors } from './execution-errors.ts';
import { rerunRequest } from './start-requests.ts';

export async function rerunExecution(
  request: FastifyRequest,
  executionId: string,
  options: { fromFailed: boolean },
): Promise<Execution> {
  const { store, executions } = request.server;
  const actor = requireActor(request);
  const { execution: original, access } = await writeExecution(request, executionId);
  const fromFailed = options.fromFailed ? { steps: await store.steps.list(original.id) } : undefined;
  const forge = await store.forges.get(original.id);
  return mapExecutionErrors(
    executions.start(rerunRequest(original, access.project, actor.id, forge, fromFailed)),
  );
}
