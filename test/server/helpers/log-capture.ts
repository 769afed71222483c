// A server logger whose JSON lines a test can read back (debug level, secrets redacted as the
// server does).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loggerOptions } from '../../../server/plugins/logger.ts';

export function logCapture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').trim().split('\n'));
      callback();
    },
  });
  return { logger: pino(loggerOptions({ level: 'debug' }), stream), lines };
}
