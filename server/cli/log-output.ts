// Where `gbcms serve` writes its log and how: readable lines for a person at a terminal, JSON
// lines (pino's own) for everything else (a service manager, a pipe, a log shipper), unless
// --log-format says otherwise. The records are the same either way; only their text differs.
import type { DestinationStream } from 'pino';
import pinoPretty from 'pino-pretty';

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormatOption = (typeof LOG_FORMATS)[number];

/** The access log's fields (plugins/logger.ts): pretty output puts them in its message. */
const ACCESS_FIELDS = ['method', 'url', 'route', 'statusCode', 'responseTime', 'ip'];

export function resolveLogFormat(option: LogFormatOption, stdout: { isTTY?: boolean }): 'pretty' | 'json' {
  if (option !== 'auto') return option;
  return stdout.isTTY === true ? 'pretty' : 'json';
}

type Record = { [key: string]: unknown };

/**
 * `GET /api/projects 200 1.2 ms 127.0.0.1` for an access-log line, the message otherwise:
 * one request, one short line, as an access log reads best.
 */
export function prettyMessage(log: Record, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  if (typeof log.method !== 'string' || typeof log.url !== 'string') return message;
  const request = `${log.method} ${log.url} ${String(log.statusCode)} ${String(log.responseTime)} ms ${String(log.ip)}`;
  return message === 'request' ? request : `${message}: ${request}`;
}

/** The stream pino writes to: stdout itself for JSON, pino-pretty in front of it otherwise. */
export function logDestination(
  format: 'pretty' | 'json',
  stdout: NodeJS.WritableStream & { isTTY?: boolean },
): DestinationStream {
  if (format === 'json') return stdout as DestinationStream;
  return pinoPretty({
    destination: stdout,
    // Colours only for a terminal: forced pretty output into a file stays plain text.
    colorize: stdout.isTTY === true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: ['pid', 'hostname', ...ACCESS_FIELDS].join(','),
    singleLine: true,
    messageFormat: prettyMessage,
  });
}
