// Reading a step's log file that may not exist yet (the step has not started).
import { open } from 'node:fs/promises';

export type LogFileHandle = Awaited<ReturnType<typeof open>>;

/** Runs `read` on the open file and closes it; undefined when there is no file. */
export async function withLogFile<T>(
  file: string,
  read: (handle: LogFileHandle, size: number) => Promise<T>,
): Promise<T | undefined> {
  let handle: LogFileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    return await read(handle, size);
  } finally {
    await handle.close();
  }
}
