import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { Webhooks } from '@octokit/webhooks';
import { signBody, verifySignature } from '../../server/webhooks/signature.ts';

const SECRET = "It's a Secret to Everybody";
const BODY = 'Hello, World!';

describe('signBody / verifySignature', () => {
  test("matches GitHub's documented test vector", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    assert.equal(
      signBody(SECRET, BODY),
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  test('round-trips strings and buffers, and agrees with @octokit/webhooks', async () => {
    const json = JSON.stringify({ ref: 'refs/heads/main', message: 'héllo ✓' });
    for (const body of [json, Buffer.from(json), `\uFEFF${json}`]) {
      const header = signBody(SECRET, body);
      assert.equal(await verifySignature(SECRET, body, header), true);
      assert.equal(
        await verifySignature(SECRET, typeof body === 'string' ? Buffer.from(body) : body.toString(), header),
        true,
      );
    }
    const octokit = new Webhooks({ secret: SECRET });
    assert.equal(signBody(SECRET, json), await octokit.sign(json));
    assert.equal(await verifySignature(SECRET, json, await octokit.sign(json)), true);
  });

  test('refuses a signature made with another secret or over another body', async () => {
    const header = signBody(SECRET, BODY);
    assert.equal(await verifySignature('another secret', BODY, header), false);
    assert.equal(await verifySignature(SECRET, `${BODY} `, header), false);
    assert.equal(await verifySignature(SECRET, Buffer.from(`${BODY}\n`), header), false);
  });

  test('refuses missing, repeated and garbled headers', async () => {
    const good = signBody(SECRET, BODY);
    const hex = good.slice('sha256='.length);
    const sha1 = `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}`;
    const garbled: (string | string[] | undefined)[] = [
      undefined,
      '',
      [good, good],
      hex,
      `SHA256=${hex}`,
      `sha256=${hex.toUpperCase()}`,
      ` ${good}`,
      `${good} `,
      `${good}00`,
      good.slice(0, -1),
      `sha256=${'0'.repeat(64)}`,
      `sha256=${'z'.repeat(64)}`,
      sha1,
      'sha256=',
    ];
    for (const header of garbled) {
      assert.equal(await verifySignature(SECRET, BODY, header), false, JSON.stringify(header));
    }
  });

  test('refuses empty bodies and bodies that are not UTF-8', async () => {
    assert.equal(await verifySignature(SECRET, '', signBody(SECRET, 'x')), false);
    const notUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    assert.equal(await verifySignature(SECRET, notUtf8, signBody(SECRET, notUtf8)), false);
  });

  test('an empty secret is a setup error, never "anything goes"', async () => {
    assert.throws(() => signBody('', BODY), TypeError);
    await assert.rejects(verifySignature('', BODY, signBody(SECRET, BODY)), TypeError);
  });
});
