// Real Chromium for page tests (Debian's package, driven by playwright-core). Skipped when it
// is missing, unless GBCMS_REQUIRE_DOCKER=1 (CI), where that is a failure.
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

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

export async function browserTestOptions(): Promise<{ skip: string | false }> {
  try {
    await access(CHROMIUM);
    return { skip: false };
  } catch {
    if (process.env.GBCMS_REQUIRE_DOCKER === '1')
      throw new Error(`GBCMS_REQUIRE_DOCKER=1 but ${CHROMIUM} is missing`);
    return { skip: `${CHROMIUM} is missing` };
  }
}

/** A browser with a fresh profile; close() removes it. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'gbcms-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
