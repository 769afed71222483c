// How the engine tells a step that ended on its own from one the Docker daemon ended. When
// dockerd shuts down (or restarts) it stops every container with its stop signal, so the step
// exits 143 or 137 like a step that died of SIGTERM or SIGKILL by itself; its exit code and
// State (ExitCode, FinishedAt, Error) look the same either way.
//
// The rule: a step was stopped from outside when, without the engine asking for a stop,
//   - the daemon logged a `kill` for its container (only the Docker API sends those: a daemon
//     shutdown, or an operator's docker stop/kill; a signal the step sends itself is not
//     logged), seen on an events subscription opened before the container started, because the
//     daemon keeps only its last few hundred events and forgets them all when it restarts; or
//   - the connection to the daemon broke while the engine waited for the step (isConnectionLoss).
import type Docker from 'dockerode';

export interface KillWatch {
  /** The signal of the first `kill` the daemon logged for the container, if any. */
  killSignal(): string | undefined;
  /**
   * The exit code of the container's `die`. The daemon logs it as soon as the process is
   * reaped, tens of milliseconds before it has cleaned the container up and answers a wait.
   */
  died: Promise<number>;
  close(): void;
}

interface EventMessage {
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

/** Subscribes before the container starts; resolves once the daemon accepted the subscription. */
export async function watchKills(docker: Docker, containerId: string): Promise<KillWatch> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], container: [containerId], event: ['kill', 'die'] },
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  let signal: string | undefined;
  let died: (code: number) => void = () => undefined;
  const death = new Promise<number>((resolve) => {
    died = resolve;
  });
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = parseEvent(line);
      if (event?.Action === 'kill') signal ??= event.Actor?.Attributes?.signal ?? '?';
      const exitCode = Number(event?.Action === 'die' ? event.Actor?.Attributes?.exitCode : Number.NaN);
      if (Number.isInteger(exitCode)) died(exitCode);
    }
  });
  // A lost subscription means a lost daemon; the wait tells that on its own.
  stream.on('error', () => undefined);
  return {
    killSignal: () => signal,
    died: death,
    close: () => stream.destroy?.(),
  };
}

function parseEvent(line: string): EventMessage | undefined {
  try {
    return JSON.parse(line) as EventMessage;
  } catch {
    return undefined;
  }
}

/** The reason a step stopped by the daemon ends `error` with. */
export function stoppedByDaemon(signal: string): string {
  return `stopped by the Docker daemon (signal ${signal}), not by the step: the daemon shut down or restarted, or someone ran docker stop/kill on its container`;
}

/** The reason when the daemon went away while the engine waited for the step. */
export function lostDaemon(step: string, reason: string): string {
  return `lost the Docker daemon while step '${step}' ran: it stopped or restarted (${reason})`;
}
