// The data folder the server benches serve: a public and a private project, each with finished
// executions that have steps and reports, an admin's API token, and a local git repository as
// the projects' source. Written through the store before `gbcms serve` opens the folder, so
// the server reads rows it did not write itself, as after a restart.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Report } from '../../engine/reports/types.ts';
import { openStore } from '../../server/store/index.ts';

const exec = promisify(execFile);

export interface ServerFixture {
  data: string;
  /** A bare repository holding `.gbcms.yml` on main. */
  repo: string;
  commit: string;
  token: string;
  publicProject: { id: string; webhookSecret: string };
  privateProject: { id: string };
  /** A finished execution of each project. */
  publicExecution: string;
  privateExecution: string;
}

const STEPS = ['checkout', 'build', 'test', 'lint', 'package'];

export const PIPELINE = 'version: 1\nsteps:\n  first:\n    image: busybox:stable\n    commands: ["true"]\n';

/** A bare repository whose main branch holds `pipeline` as `.gbcms.yml`. */
export async function gitRepository(
  dir: string,
  pipeline: string,
): Promise<{ bare: string; commit: string }> {
  const bare = join(dir, 'app.git');
  const work = join(dir, 'work');
  const git = (cwd: string, ...args: string[]) =>
    exec('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], { cwd });
  await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  await exec('git', ['init', '-q', '-b', 'main', work]);
  await writeFile(join(work, '.gbcms.yml'), pipeline);
  await git(work, 'add', '.');
  await git(work, 'commit', '-q', '-m', 'bench');
  await git(work, 'push', '-q', bare, 'main');
  return { bare, commit: (await git(work, 'rev-parse', 'HEAD')).stdout.trim() };
}

export async function serverFixture(dir: string): Promise<ServerFixture> {
  const { bare, commit } = await gitRepository(dir, PIPELINE);
  const data = join(dir, 'data');
  const store = await openStore(data);
  try {
    const admin = await store.users.create({ username: 'admin', role: 'admin' });
    const { token } = await store.tokens.create(admin.id, 'bench');
    const open = await store.projects.create({
      name: 'open',
      repo: bare,
      visibility: 'public',
      owner_id: null,
    });
    const closed = await store.projects.create({
      name: 'closed',
      repo: bare,
      visibility: 'private',
      owner_id: admin.id,
    });
    const finished = async (projectId: string): Promise<string> => {
      let last = '';
      for (let n = 0; n < 5; n += 1) {
        const execution = await store.executions.create({
          project_id: projectId,
          trigger: { event: 'push', branch: 'main' },
          message: `commit ${n}`,
        });
        await store.executions.setStarted(execution.id);
        const logsDir = join(data, execution.logs_dir);
        await mkdir(logsDir, { recursive: true });
        for (const [position, name] of STEPS.entries()) {
          await writeFile(join(logsDir, `${name}.log`), '');
          await store.steps.upsert(
            execution.id,
            {
              name,
              status: 'success',
              exit_code: 0,
              reason: null,
              started_at: new Date().toISOString(),
              ended_at: new Date().toISOString(),
              duration_ms: 1200 + position,
              attempts: 1,
              log: `${name}.log`,
            },
            position,
          );
        }
        const time = new Date().toISOString();
        await store.reports.addEntries(
          execution.id,
          Array.from({ length: 200 }, (_, i) => ({
            step: 'test',
            report: { type: 'metric', name: `loss_${i % 4}`, value: 1 / (i + 1), step: i, time } as Report,
          })),
        );
        await store.executions.setEnded(execution.id, 'success', null);
        last = execution.id;
      }
      return last;
    };
    return {
      data,
      repo: bare,
      commit,
      token,
      publicProject: { id: open.id, webhookSecret: open.webhook_secret },
      privateProject: { id: closed.id },
      publicExecution: await finished(open.id),
      privateExecution: await finished(closed.id),
    };
  } finally {
    await store.close();
  }
}

/** A report batch as a reporter sends it: `size` metric points over a few series. */
export function reportBatch(size: number): unknown[] {
  return Array.from({ length: size }, (_, i) => ({
    type: 'metric',
    name: `series_${i % 10}`,
    value: Math.sin(i),
    step: i,
  }));
}
