// The small JSON files kept beside an execution's logs (graph.json, diagnostics.json): written
// whole, and read back as an array or not at all (missing, unreadable, or not one).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeRunJson(runDir: string, name: string, value: readonly unknown[]): Promise<void> {
  await writeFile(join(runDir, name), JSON.stringify(value));
}

export async function readRunJsonArray<T>(runDir: string, name: string): Promise<T[] | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(join(runDir, name), 'utf8'));
    return Array.isArray(value) ? (value as T[]) : undefined;
  } catch {
    return undefined;
  }
}
