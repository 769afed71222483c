// Preload (`node --import`) that appends every module URL the process resolves to the file
// named by $GBCMS_RECORD_IMPORTS, so a test can tell which packages a command loaded.
// Loader hooks run in their own thread in Node 20: the preload registers this same file
// there, and that copy records through `resolve`. Appending synchronously keeps what was
// recorded even when the command ends with process.exit.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const log = process.env.GBCMS_RECORD_IMPORTS;
  if (log) appendFileSync(log, `${resolved.url}\n`);
  return resolved;
}
