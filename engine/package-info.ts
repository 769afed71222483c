// gbcms's own package.json, found from this file: in a clone this file is engine/package-info.ts,
// in an installed package it is dist/engine/package-info.js, so the root is one or two levels up.
// Walking up to the package named gbcms finds it in both without knowing which layout runs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageInfo {
  root: string;
  version: string;
}

let cached: PackageInfo | undefined;

function find(): PackageInfo {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'gbcms' && typeof pkg.version === 'string') return { root: dir, version: pkg.version };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const parent = dirname(dir);
    // A file outside any gbcms package is a broken install, not a state to guess around.
    if (parent === dir)
      throw new Error(`gbcms: no package.json of gbcms above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function info(): PackageInfo {
  cached ??= find();
  return cached;
}

/** The version gbcms reports everywhere: CLI, /healthz, pages, OpenAPI. */
export function packageVersion(): string {
  return info().version;
}

/** The folder holding gbcms's package.json and its `bin/gbcms.js` launcher. */
export function packageRoot(): string {
  return info().root;
}
