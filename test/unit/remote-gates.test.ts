// The server's side of a runner's approval gates (remote-gates.ts): a long poll that answers
// "not yet" while nobody decides, the decision once someone does (again, should the answer be
// lost), the gate closed when the runner stops waiting or the run ends, and the server's plan,
// not the runner, saying which steps have a gate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApprovalAsker, ApprovalDecision } from '../../engine/approval.ts';
import type { RemoteRunRequest } from '../../server/runners/remote-dispatch.ts';
import { RemoteGates } from '../../server/runners/remote-gates.ts';

/** A request whose asker hands each question to the test: it decides, or sees it withdrawn. */
function gatedRequest() {
  const asked: { step: string; decide(decision: ApprovalDecision): void; signal: AbortSignal }[] = [];
  const approvals: ApprovalAsker = (step, _gate, signal) =>
    new Promise((resolve) => {
      asked.push({ step: step.name, decide: resolve, signal });
      signal.addEventListener('abort', () => resolve({ approved: false }), { once: true });
    });
  const request = {
    execution: { id: 'x' },
    plan: {
      steps: [
        { name: 'build', commands: [] },
        { name: 'deploy', commands: [], approval: { message: 'Ship?' } },
      ],
    },
    approvals,
  } as unknown as RemoteRunRequest;
  return { request, asked };
}

const live = () => new AbortController().signal;

test('a poll answers "not yet" until someone decides; the decision is given again if asked again', async () => {
  const gates = new RemoteGates(20);
  const { request, asked } = gatedRequest();
  assert.deepEqual(await gates.answer(request, { step: 'deploy' }, live()), { decided: false });
  assert.deepEqual(await gates.answer(request, { step: 'deploy' }, live()), { decided: false });
  assert.equal(asked.length, 1, 'the gate stays open between polls: asked once');
  asked[0]?.decide({ approved: true, by: 'ada' });
  const answer = { decided: true, approved: true, by: 'ada' };
  assert.deepEqual(await gates.answer(request, { step: 'deploy' }, live()), answer);
  assert.deepEqual(await gates.answer(request, { step: 'deploy' }, live()), answer);
  assert.equal(asked.length, 1);
});

test('a poll waiting when someone decides gets the decision at once', async () => {
  const gates = new RemoteGates(60_000);
  const { request, asked } = gatedRequest();
  const polling = gates.answer(request, { step: 'deploy' }, live());
  await new Promise((resolve) => setImmediate(resolve));
  asked[0]?.decide({ approved: false, by: 'ada', reason: 'not today' });
  assert.deepEqual(await polling, { decided: true, approved: false, by: 'ada', reason: 'not today' });
});

test('the runner hanging up ends its poll; stopping to wait, or the run ending, closes the gate', async () => {
  const gates = new RemoteGates(60_000);
  const { request, asked } = gatedRequest();
  const hangUp = new AbortController();
  const polling = gates.answer(request, { step: 'deploy' }, hangUp.signal);
  hangUp.abort();
  assert.deepEqual(await polling, { decided: false });
  assert.equal(asked[0]?.signal.aborted, false, 'a hang-up alone leaves the gate open');

  assert.deepEqual(await gates.answer(request, { step: 'deploy', cancel: true }, live()), { decided: false });
  assert.equal(asked[0]?.signal.aborted, true);

  const again = gates.answer(request, { step: 'deploy' }, live());
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(asked.length, 2, 'asked anew after the close');
  gates.closeAll('x');
  assert.equal(asked[1]?.signal.aborted, true);
  assert.deepEqual(await again, { decided: true, approved: false });
});

test("a step the server's plan gives no gate is refused; without an asker a gate is declined", async () => {
  const gates = new RemoteGates(60_000);
  const { request } = gatedRequest();
  for (const step of ['build', 'nope']) {
    await assert.rejects(
      gates.answer(request, { step }, live()),
      (error: Error & { statusCode?: number }) => {
        assert.equal(error.statusCode, 404);
        assert.match(error.message, new RegExp(`no step '${step}' with an approval gate`));
        return true;
      },
    );
  }
  const { approvals: _, ...nobody } = request;
  assert.deepEqual(await gates.answer(nobody as RemoteRunRequest, { step: 'deploy' }, live()), {
    decided: true,
    approved: false,
    reason: 'approval needed, and this run has no one to ask',
  });
});
