#!/usr/bin/env node
// Launcher. In a clone (bin/main.ts beside this file and tsx installed) it runs the TypeScript
// sources through tsx, so `npm ci` is enough to work on gbcms. An installed package has no
// sources and runs the JavaScript compiled into dist/ by `npm run build` (run by `npm pack`).
// GBCMS_FROM_DIST=1 makes a clone run its build too, to measure or check it.
import { existsSync } from 'node:fs';

async function sourceEntry() {
  if (process.env.GBCMS_FROM_DIST === '1' || !existsSync(new URL('./main.ts', import.meta.url)))
    return undefined;
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return undefined; // sources without tsx (npm ci --omit=dev): use the build if there is one
  }
  return import('./main.ts');
}

async function builtEntry() {
  const built = new URL('../dist/bin/main.js', import.meta.url);
  if (!existsSync(built)) {
    process.stderr.write(
      'gbcms: no compiled code in dist/ and no tsx to run the sources: run `npm ci` (with dev dependencies) or `npm run build`\n',
    );
    process.exit(1);
  }
  return import(built.href);
}

const { main } = (await sourceEntry()) ?? (await builtEntry());
process.exitCode = await main(process.argv.slice(2));
