// What the post-receive hook does: for each ref a push updated, POST a signed
// GitPushNotification to `<gbcms.url>/hooks/git/<gbcms.project>` and say what the server
// answered. Everything it prints reaches the pusher as `remote: ...` lines, and nothing it
// does can fail the push: by the time post-receive runs, the refs are already updated.

import { createHash, randomBytes } from 'node:crypto';
import type { GitPushNotification } from '../webhooks/git.ts';
import { GBCMS_SIGNATURE_HEADER, signBody } from '../webhooks/signature.ts';
import type { HookSettings } from './hook-install.ts';
import { PUSH_WAIT_HEADER, pushAnswerLines } from './push-answer.ts';
import { isObjectId, isZeroObjectId } from './ref-name.ts';
import { runGit } from './run-git.ts';
// Server text and ref names go to the pusher's terminal: no escape sequences or line breaks.
import { withoutControlCharacters as printable } from './text.ts';

export interface ReceivedRef {
  before: string;
  after: string;
  ref: string;
}

/** git's post-receive input: one `<old> <new> <ref>` line per updated ref. */
export function parseReceiveInput(text: string): { refs: ReceivedRef[]; problems: string[] } {
  const refs: ReceivedRef[] = [];
  const problems: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [before = '', after = '', ref = '', ...extra] = line.trim().split(' ');
    if (!isObjectId(before) || !isObjectId(after) || ref === '' || extra.length > 0) {
      problems.push(`cannot read hook input line ${printable(line)}`);
    } else refs.push({ before, after, ref });
  }
  return { refs, problems };
}

/** Reads gbcms.url, gbcms.project and gbcms.secret from the repository's own config. */
export async function readHookSettings(gitDir: string): Promise<HookSettings | { missing: string[] }> {
  const output = await runGit(['--git-dir', gitDir, 'config', '--local', '-z', '--get-regexp', '^gbcms\\.'], {
    cwd: gitDir,
    allowProtocols: '',
    deadline: Date.now() + 5000,
  }).catch(() => ''); // exit 1: no gbcms.* key at all
  const values = new Map<string, string>();
  for (const entry of output.split('\0')) {
    const newline = entry.indexOf('\n');
    if (newline > 0) values.set(entry.slice(0, newline), entry.slice(newline + 1));
  }
  const url = values.get('gbcms.url');
  const project = values.get('gbcms.project');
  const secret = values.get('gbcms.secret');
  if (!url || !project || !secret) {
    return { missing: ['gbcms.url', 'gbcms.project', 'gbcms.secret'].filter((key) => !values.get(key)) };
  }
  return { url, project, secret };
}

export function notificationUrl(settings: Pick<HookSettings, 'url' | 'project'>): string {
  return `${settings.url.replace(/\/+$/, '')}/hooks/git/${encodeURIComponent(settings.project)}`;
}

export interface NotifyInput {
  gitDir: string;
  refs: readonly ReceivedRef[];
  pusher: string;
  settings: HookSettings;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** This push's random part of the delivery ids; default: 16 random bytes, drawn once per push. */
  nonce?: string;
  /** How long the server may hold its answer for the pipeline check; default 5 s. */
  waitS?: number;
}

/**
 * Names one ref's update in one push, so the server starts one execution however often the
 * notification arrives. The nonce keeps the same update pushed again (after a reset, say)
 * from passing for a repeat.
 */
export function gitDeliveryFor(nonce: string, update: ReceivedRef): string {
  return createHash('sha256')
    .update(`${nonce}\n${update.before} ${update.after} ${update.ref}`)
    .digest('hex');
}

/** Sends one notification per updated ref, in order; `report` gets one line per ref. */
export async function notifyPush(input: NotifyInput, report: (line: string) => void): Promise<void> {
  const timeoutMs = input.timeoutMs ?? 10_000;
  const nonce = input.nonce ?? randomBytes(16).toString('hex');
  const waitS = input.waitS ?? 5;
  let unresponsive = false;
  for (const { before, after, ref } of input.refs) {
    if (isZeroObjectId(after)) continue; // a deletion starts nothing
    const shown = printable(ref);
    if (unresponsive) {
      report(`gbcms: not notified for ${shown}: the server did not answer for the previous ref`);
      continue;
    }
    const notification: GitPushNotification = {
      ref,
      before,
      after,
      repository: input.gitDir,
      pusher: input.pusher,
      delivery: gitDeliveryFor(nonce, { before, after, ref }),
    };
    const outcome = await send(input.settings, notification, timeoutMs, waitS);
    unresponsive = outcome.timedOut;
    const said = outcome.text(shown);
    for (const line of typeof said === 'string' ? [said] : said) report(`gbcms: ${line}`);
  }
}

interface Outcome {
  text: (ref: string) => string | string[];
  timedOut: boolean;
}

async function send(
  settings: HookSettings,
  notification: GitPushNotification,
  timeoutMs: number,
  waitS: number,
): Promise<Outcome> {
  const url = notificationUrl(settings);
  const body = JSON.stringify(notification);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'gbcms-hook',
        [GBCMS_SIGNATURE_HEADER]: signBody(settings.secret, body),
        // The server answers once the pipeline file passed or failed its check (bounded), so
        // an invalid file is reported here rather than only on the page.
        [PUSH_WAIT_HEADER]: String(waitS),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      // A redirect would resend the signed body somewhere the admin did not configure.
      redirect: 'error',
    });
    const answer = await readAnswer(response);
    const said = answer.message ? `: ${answer.message}` : '';
    if (!response.ok) return done((ref) => `server refused ${ref} with HTTP ${response.status}${said}`);
    if (answer.number !== undefined && answer.executionId !== undefined) {
      const { number, executionId, status, reason } = answer;
      const page = `${settings.url.replace(/\/+$/, '')}/executions/${encodeURIComponent(executionId)}`;
      return done((ref) =>
        pushAnswerLines(
          { execution_id: executionId, number, ...(status ? { status } : {}), reason },
          ref,
          page,
        ),
      );
    }
    if (answer.number !== undefined) return done((ref) => `queued execution #${answer.number} for ${ref}`);
    return done((ref) => `server answered HTTP ${response.status} for ${ref}${said}`);
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      return {
        text: (ref) => `no answer from ${url} within ${timeoutMs / 1000} s for ${ref}`,
        timedOut: true,
      };
    }
    return done((ref) => `could not notify ${url} for ${ref}: ${describeFetchError(error)}`);
  }
}

function done(text: (ref: string) => string | string[]): Outcome {
  return { text, timedOut: false };
}

interface Answer {
  number?: number;
  executionId?: string;
  status?: string;
  reason?: string | null;
  message?: string;
}

/** The execution, its status and a message from a JSON answer, as far as they are there. */
async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text().catch(() => '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof json !== 'object' || json === null) return {};
  const { number, message, reason, error, execution_id, status } = json as Record<string, unknown>;
  const said = [message, reason, error].find((value) => typeof value === 'string');
  return {
    ...(typeof number === 'number' && Number.isSafeInteger(number) ? { number } : {}),
    ...(typeof execution_id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(execution_id)
      ? { executionId: execution_id }
      : {}),
    ...(typeof status === 'string' ? { status: printable(status.slice(0, 20)) } : {}),
    // Only the first line is shown; each line is made printable on its own.
    ...(typeof reason === 'string'
      ? { reason: reason.split('\n', 1).map((line) => printable(line.slice(0, 300)))[0] ?? null }
      : {}),
    ...(typeof said === 'string' ? { message: printable(said.slice(0, 300)) } : {}),
  };
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND...) is the cause.
  const cause = error.cause;
  if (cause instanceof Error)
    return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return error.message;
}
