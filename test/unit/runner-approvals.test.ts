// The runner's side of an approval gate (agent/approvals.ts): it asks the server until someone
// decides, asks again past a server that does not answer, stops at the gate's end telling the
// server so, and a refusal (no lease, no such gate) becomes the step's reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlannedStep } from '../../engine/plan.ts';
import { serverApprovals } from '../../server/runners/agent/approvals.ts';
import {
  type RunnerClient,
  RunnerRequestError,
  ServerUnreachable,
} from '../../server/runners/agent/client.ts';
import type { GateAnswer, GateRequest } from '../../server/runners/protocol.ts';

const step = { name: 'deploy', commands: [] } as unknown as PlannedStep;
const gate = { message: 'Ship?', approvers: [] };

/** A client whose gate answers come from `answers`, one per call; every call is noted. */
function clientAnswering(answers: ((signal?: AbortSignal) => Promise<GateAnswer>)[]) {
  const calls: GateRequest[] = [];
  const client = {
    gate(_id: string, body: GateRequest, signal?: AbortSignal) {
      calls.push(body);
      if (body.cancel) return Promise.resolve({ decided: false });
      const next = answers.shift();
      return next ? next(signal) : Promise.reject(new Error('asked more than the test expected'));
    },
  } as unknown as RunnerClient;
  return { client, calls };
}

test('asks again while nobody decided, and past a server that did not answer', async () => {
  const { client, calls } = clientAnswering([
    async () => ({ decided: false }),
    async () => {
      throw new ServerUnreachable('connection refused');
    },
    async () => ({ decided: true, approved: true, by: 'ada' }),
  ]);
  const decision = await serverApprovals(client, 'x')(step, gate, new AbortController().signal);
  assert.deepEqual(decision, { approved: true, by: 'ada' });
  assert.deepEqual(calls, [{ step: 'deploy' }, { step: 'deploy' }, { step: 'deploy' }]);
});

test('at the gate’s end the question is dropped and the server told to close the gate', async () => {
  const ended = new AbortController();
  const { client, calls } = clientAnswering([
    (signal) =>
      new Promise((_, reject) => {
        signal?.addEventListener('abort', () => reject(new ServerUnreachable('aborted')), { once: true });
      }),
  ]);
  const asking = serverApprovals(client, 'x')(step, gate, ended.signal);
  await new Promise((resolve) => setImmediate(resolve));
  ended.abort();
  assert.deepEqual(await asking, { approved: false });
  assert.deepEqual(calls, [{ step: 'deploy' }, { step: 'deploy', cancel: true }]);
});

test('a refusal is thrown, for the engine to give as the step’s reason', async () => {
  const refusal = new RunnerRequestError(404, 'GBCMS_ERR_LEASE_NOT_HELD', 'POST /gate: 404 no lease');
  const { client } = clientAnswering([
    async () => {
      throw refusal;
    },
  ]);
  await assert.rejects(serverApprovals(client, 'x')(step, gate, new AbortController().signal), refusal);
});
