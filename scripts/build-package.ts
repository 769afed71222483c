// `npm run build` (and `npm pack`, through prepack): compiles engine/, server/ and bin/main.ts
// file by file into dist/ with the `.ts` import extensions rewritten to `.js`, then copies the
// files the code reads at run time (page assets, JSON) beside the compiled code, so every
// `new URL('./x', import.meta.url)` finds in dist/ what it finds in the sources.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(ROOT, 'dist');
const SOURCE_DIRS = ['engine', 'server', 'bin'];
/** Source files the compiler turns into code; everything else under SOURCE_DIRS is an asset. */
const COMPILED = new Set(['.ts']);
/** Files that are neither compiled nor read at run time. */
const NOT_SHIPPED = new Set(['bin/gbcms.js']);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function compile(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], {
    stdio: 'inherit',
    cwd: ROOT,
  });
}

function copyAssets(): number {
  let copied = 0;
  for (const dir of SOURCE_DIRS) {
    for (const file of walk(join(ROOT, dir))) {
      const path = relative(ROOT, file);
      if (COMPILED.has(extname(file)) || NOT_SHIPPED.has(path)) continue;
      cpSync(file, join(DIST, path));
      copied += 1;
    }
  }
  return copied;
}

// tsc rewrites `.ts` specifiers in the JavaScript it emits but keeps them in declarations;
// a consumer's compiler then looks for `.ts` files the package does not ship.
const DECLARATION_TS_SPECIFIER = /(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g;

function rewriteDeclarations(files: string[]): void {
  for (const file of files.filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8');
    const rewritten = text.replace(DECLARATION_TS_SPECIFIER, '$1$2$3.js$2');
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

// A `.ts` path built as a string (say `new URL('./worker.ts', import.meta.url)`) is invisible
// to the compiler and would name a file dist/ does not have: refuse to build rather than ship it.
const RELATIVE_TS_STRING = /(['"`])\.{1,2}\/[^'"`\n]*\.ts\1/;

function checkNoTsPaths(files: string[]): void {
  const offenders = files
    .filter((f) => f.endsWith('.js'))
    .flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line, index }))
        .filter(({ line }) => RELATIVE_TS_STRING.test(line) && !line.trimStart().startsWith('//'))
        .map(({ line, index }) => `${relative(ROOT, file)}:${index + 1}: ${line.trim()}`),
    );
  if (offenders.length > 0) {
    throw new Error(
      `compiled code names .ts files that dist/ does not contain; derive the extension from import.meta.url instead:\n${offenders.join('\n')}`,
    );
  }
}

rmSync(DIST, { recursive: true, force: true });
compile();
const assets = copyAssets();
const emitted = walk(DIST);
rewriteDeclarations(emitted);
checkNoTsPaths(emitted);
console.log(`dist/: ${emitted.length - assets} files compiled, ${assets} assets copied`);
