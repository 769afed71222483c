// Gate for tests of the local backend's bubblewrap sandbox, like dockerTestOptions for Docker:
// they skip on a machine where bwrap cannot run, unless GBCMS_REQUIRE_DOCKER=1 (CI, which
// installs bubblewrap with Docker), where a sandbox that cannot run is a failure, not a skip.
import { bwrapAvailable } from '../../engine/backends/local/sandbox.ts';

/** Options for node:test's `describe`/`test`: skip without bwrap, fail when CI requires it. */
export async function sandboxTestOptions(): Promise<{ skip: string | false }> {
  if (await bwrapAvailable()) return { skip: false };
  if (process.env.GBCMS_REQUIRE_DOCKER === '1') {
    throw new Error('GBCMS_REQUIRE_DOCKER=1 but bwrap is not installed or cannot create namespaces here');
  }
  return { skip: 'bwrap is not installed or cannot create namespaces here' };
}
