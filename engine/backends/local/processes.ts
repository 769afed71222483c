// The step processes of a local run, written down in its scratch folder so that destroyRun can
// stop them after the process that started them crashed: plain processes outlive it (only
// bubblewrap's --die-with-parent takes a sandboxed step along). A pid alone may name an
// unrelated process by then; its start time with it does not.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** In the scratch folder, beside (not inside) the workspace a sandboxed step can write to. */
export const PROCESSES_FILE = 'processes.jsonl';

interface ProcessRecord {
  pid: number;
  started: string;
}

const HAS_PROC = existsSync('/proc/self/stat');

/**
 * When the process started, in a form only compared for equality; undefined when it is gone.
 * Linux: clock ticks since boot from /proc; elsewhere what `ps` says.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (HAS_PROC) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces: state is
      // field 3 of stat(5) and starttime field 22.
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    } catch {
      return undefined;
    }
  }
  try {
    const { stdout } = await run('ps', ['-o', 'lstart=', '-p', String(pid)]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Notes a step's process, the leader of its own process group, in `file`. */
export async function recordProcess(file: string, pid: number): Promise<void> {
  const started = await processStartTime(pid);
  // Already gone: nothing to stop later.
  if (started === undefined) return;
  const record: ProcessRecord = { pid, started };
  await appendFile(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/** Kills the process group of every recorded process that is still the one recorded. */
export async function killRecordedProcesses(file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const record = parseRecord(line);
    if (record === undefined) continue;
    if ((await processStartTime(record.pid)) !== record.started) continue;
    try {
      process.kill(-record.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

function parseRecord(line: string): ProcessRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, started } = value as Record<string, unknown>;
    if (!Number.isSafeInteger(pid) || (pid as number) <= 1 || typeof started !== 'string') return undefined;
    return { pid: pid as number, started };
  } catch {
    return undefined;
  }
}
