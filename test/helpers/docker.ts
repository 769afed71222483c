// Gate for tests that need a real Docker engine. They skip when none answers, unless
// GBCMS_REQUIRE_DOCKER=1 (CI), where a missing engine is a failure, not a skip.
import Docker from 'dockerode';

export const docker = new Docker();

let answer: Promise<boolean> | undefined;

export function dockerAnswers(): Promise<boolean> {
  answer ??= docker.ping().then(
    () => true,
    () => false,
  );
  return answer;
}

/** Options for node:test's `describe`/`test`: skip without Docker, fail loudly when it is required. */
export async function dockerTestOptions(): Promise<{ skip: string | false }> {
  if (await dockerAnswers()) return { skip: false };
  if (process.env.GBCMS_REQUIRE_DOCKER === '1') {
    throw new Error('GBCMS_REQUIRE_DOCKER=1 but no Docker engine answers on /var/run/docker.sock');
  }
  return { skip: 'no Docker engine answers' };
}
