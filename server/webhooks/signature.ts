// HMAC-SHA256 body signatures, GitHub's scheme: header `sha256=<hex of HMAC(secret, raw body)>`.
// GitHub sends it as X-Hub-Signature-256; gbcms's own git hook as X-Gbcms-Signature-256.
// Verification goes through @octokit/webhooks, which compares in constant time. Gitea/Forgejo
// (bare hex HMAC) and GitLab (the secret itself, X-Gitlab-Token) are checked here.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';

/** Header names as Node lower-cases them. */
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';
export const GBCMS_SIGNATURE_HEADER = 'x-gbcms-signature-256';

const HEADER_FORM = /^sha256=[0-9a-f]{64}$/;
// ignoreBOM keeps a leading BOM in the text, so the bytes hashed are the bytes received.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `sha256=<hex>` for `body` exactly as it goes on the wire. Throws on an empty secret. */
export function signBody(secret: string, body: string | Buffer): string {
  requireSecret(secret);
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether `header` is the signature of the raw `body` with `secret`. False for a missing,
 * repeated or malformed header, an empty body, and a body that is not UTF-8 (webhook bodies
 * are JSON, and the octokit check hashes text). Throws on an empty secret: that is a setup
 * error, and treating it as "no signature needed" would open the endpoint.
 */
export async function verifySignature(
  secret: string,
  body: string | Buffer,
  header: string | readonly string[] | undefined,
): Promise<boolean> {
  requireSecret(secret);
  if (typeof header !== 'string' || !HEADER_FORM.test(header)) return false;
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8.decode(body);
  } catch {
    return false;
  }
  if (text === '') return false;
  return new Webhooks({ secret }).verify(text, header);
}

function requireSecret(secret: string): void {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('a webhook secret is required');
}

/** Gitea's and Forgejo's headers: the bare hex HMAC-SHA256 of the raw body, no `sha256=`. */
export const GITEA_SIGNATURE_HEADER = 'x-gitea-signature';
export const FORGEJO_SIGNATURE_HEADER = 'x-forgejo-signature';
/** GitLab signs nothing: it sends the secret itself. */
export const GITLAB_TOKEN_HEADER = 'x-gitlab-token';

const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Gitea/Forgejo: whether `header` is the lower-case hex HMAC-SHA256 of the raw `body`. False
 * for a missing, repeated or malformed header and an empty body; compared in constant time.
 */
export function verifyHexSignature(
  secret: string,
  body: Buffer,
  header: string | readonly string[] | undefined,
): boolean {
  requireSecret(secret);
  if (typeof header !== 'string' || !HEX_SIGNATURE.test(header) || body.length === 0) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(header, 'hex'));
}

/**
 * GitLab: whether the header is the secret. Both sides are hashed first, so the comparison
 * takes the same time whatever the header's length and contents.
 */
export function verifySecretToken(secret: string, header: string | readonly string[] | undefined): boolean {
  requireSecret(secret);
  if (typeof header !== 'string' || header === '') return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(secret), digest(header));
}
