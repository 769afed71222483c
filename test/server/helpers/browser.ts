// Real Chromium for page tests (Debian's package, driven by playwright-core). The page tests
// need it: where it is missing they fail, saying so, rather than pass without having run.
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * How long a page action or wait may take before it counts as failed: only a hang takes this
 * long, even on a loaded machine, so no test depends on how fast the page happens to be.
 */
const PAGE_HANG_MS = 60_000;

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh profile; close() removes it. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  try {
    await access(CHROMIUM);
  } catch {
    throw new Error(`the page tests need Chromium at ${CHROMIUM}`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'gbcms-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: PAGE_HANG_MS,
  });
  context.setDefaultTimeout(PAGE_HANG_MS);
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
