// Real Chromium for page tests (Debian's package, driven by playwright-core). The page tests
// need it: where it is missing they fail, saying so, rather than pass without having run.
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { HANG_MS } from '../../helpers/poll.ts';

export const CHROMIUM = '/usr/bin/chromium';

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

export interface BrowserOptions {
  /**
   * Lets a test inject scripts (axe-core through page.addScriptTag) into pages whose Content
   * Security Policy allows only the server's own.
   */
  bypassCSP?: boolean;
}

/** A browser with a fresh profile; close() removes it. */
export async function launchBrowser(
  options: BrowserOptions = {},
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
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
    timeout: HANG_MS,
    bypassCSP: options.bypassCSP === true,
  });
  // A page action or wait fails only when a hang would: no test depends on how fast the page is.
  context.setDefaultTimeout(HANG_MS);
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
