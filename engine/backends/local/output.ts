import type { Readable } from 'node:stream';
import type { OutputChunk } from '../types.ts';

/** Interleaves a process's stdout and stderr, in arrival order, until both end. */
export async function* mergeOutput(stdout: Readable, stderr: Readable): AsyncIterable<OutputChunk> {
  const pending: OutputChunk[] = [];
  let open = 2;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const follow = (stream: Readable, name: OutputChunk['stream']) => {
    stream.on('data', (data: Buffer) => {
      pending.push({ stream: name, data });
      notify();
    });
    stream.once('close', () => {
      open -= 1;
      notify();
    });
  };
  follow(stdout, 'stdout');
  follow(stderr, 'stderr');
  for (;;) {
    const chunk = pending.shift();
    if (chunk) {
      yield chunk;
      continue;
    }
    if (open === 0) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
}
