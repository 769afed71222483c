// Picks the backend for a run: the one asked for, or Docker when an engine answers and the
// local executor otherwise, saying so.
import { FakeBackend } from './fake.ts';
import { LocalBackend } from './local/backend.ts';
import { type Backend, BackendError, type BackendName } from './types.ts';

export type BackendChoice = BackendName | 'auto';

async function dockerBackend(): Promise<Backend> {
  const { DockerBackend } = await import('./docker/backend.ts');
  return new DockerBackend();
}

export async function selectBackend(
  choice: BackendChoice,
  notice: (message: string) => void,
): Promise<Backend> {
  switch (choice) {
    case 'fake':
      return new FakeBackend();
    case 'local':
      return new LocalBackend();
    case 'docker': {
      const docker = await dockerBackend();
      if (!(await docker.isAvailable())) {
        throw new BackendError(
          'GBCMS_ERR_DOCKER_UNAVAILABLE',
          `no Docker engine answers at ${dockerHostDescription()}; start one, or run with --backend local`,
        );
      }
      return docker;
    }
    case 'auto': {
      const docker = await dockerBackend();
      if (await docker.isAvailable()) return docker;
      notice(`no Docker engine answers at ${dockerHostDescription()}: falling back to the local backend`);
      return new LocalBackend();
    }
  }
}

function dockerHostDescription(): string {
  return process.env.DOCKER_HOST ?? '/var/run/docker.sock';
}
