// A delivery that could not start anything (the server was shutting down, say) is given
// back, so GitHub's redelivery of the same X-GitHub-Delivery starts the execution then.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { HttpError } from '../../server/errors.ts';
import { signBody } from '../../server/webhooks/signature.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{
  name: string;
  examples: Array<Record<string, unknown>>;
}>;
const push = examples
  .find((e) => e.name === 'push')
  ?.examples.find((p) => p.ref === 'refs/heads/master' && p.deleted === false);

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

test('a failed start releases the delivery; the redelivery starts the execution', async () => {
  assert.ok(push);
  const body = JSON.stringify(push);
  const delivery = randomUUID();
  const send = () =>
    server.app.inject({
      method: 'POST',
      url: `/hooks/github/${server.publicProject.id}`,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': signBody(server.publicProject.webhook_secret, body),
      },
      payload: body,
    });
  const start = server.executions.start.bind(server.executions);
  server.executions.start = async () => {
    throw new HttpError('GBCMS_ERR_UNAVAILABLE', 503, 'the server is shutting down');
  };
  const refused = await send();
  assert.equal(refused.statusCode, 503);
  assert.equal(await server.store.deliveries.get(delivery), undefined);

  server.executions.start = start;
  const redelivered = await send();
  assert.equal(redelivered.statusCode, 202);
  const recorded = await server.store.deliveries.get(delivery);
  assert.equal(recorded?.execution_id, redelivered.json().execution_id);
});
