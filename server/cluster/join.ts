// How `gbcms serve` joins the servers sharing its PostgreSQL database: under its name, reached at
// its advertised URL, taking up the executions of any peer that stops answering. With SQLite
// there is one server, so none of this is set up.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { packageVersion } from '../../engine/package-info.ts';
import type { RecoveryReport } from '../executions/manager-types.ts';
import type { Store } from '../store/index.ts';
import { Members } from './members.ts';

export interface JoinSettings {
  serverName: string | undefined;
  advertiseUrl: string | undefined;
  host: string;
  port: number;
}

/** Before recover(): who else is there. */
export async function openMembers(store: Store, settings: JoinSettings, logger: Logger): Promise<Members> {
  const members = new Members({
    store,
    // Port 0 (a free one) is chosen only when listening: the process id tells two such apart.
    name: settings.serverName ?? `${hostname()}:${settings.port === 0 ? `pid${process.pid}` : settings.port}`,
    version: packageVersion(),
    alone: false,
    onError: (error) => logger.warn({ err: error }, 'server heartbeat'),
    onNameClash: () =>
      logger.error(
        { server: members.name },
        'another server registered under this name: give each server its own --server-name',
      ),
  });
  await members.load();
  return members;
}

/** Once listening: registered, beating, and taking up what dead peers leave. */
export async function startMembers(
  members: Members,
  settings: JoinSettings,
  listening: string,
  takeOverFrom: (server: string) => Promise<RecoveryReport>,
  /** Keeps the runner leases a silent server follows alive, until it is known dead or beats again. */
  keepLeasesOf: (server: string) => Promise<void>,
  logger: Logger,
): Promise<void> {
  await members.start(settings.advertiseUrl ?? advertised(settings.host, listening));
  members.afterBeat(async () => {
    // Noticing a dead server takes longer than a lease: its runners' leases would run out first.
    for (const silent of members.silent()) await keepLeasesOf(silent.name);
    for (const gone of members.gone()) {
      const report = await takeOverFrom(gone.name);
      if (report.failed.length + report.requeued.length + report.blocked.length > 0) {
        logger.warn(
          { server: gone.name, ...report },
          'took over the executions of a server that stopped answering',
        );
      }
      // Another server may have taken some: what is left of it is nothing either way.
      await members.forget(gone);
    }
  });
  logger.info({ server: members.name, url: members.url }, 'joined the servers sharing the database');
}

/** http://<host>:<port> of the address listened on; the machine's name for a wildcard address. */
function advertised(host: string, listening: string): string {
  const port = new URL(listening).port;
  const wildcard = host === '0.0.0.0' || host === '::';
  const name = wildcard ? hostname() : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}
