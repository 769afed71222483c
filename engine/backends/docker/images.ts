// Getting each environment's image ready: pulled per its policy, or built from its context
// and tagged by a hash of that context so an unchanged build is never redone. Work is shared
// between concurrent runs asking for the same image.
import { relative } from 'node:path';
import type Docker from 'dockerode';
import type { ResolvedEnvironment } from '../../plan.ts';
import { BackendError } from '../types.ts';
import { buildContextDir, contextHash, listContextFiles, packContext } from './build-context.ts';
import { dockerFailure, dockerReason, isNotFound } from './errors.ts';
import { LABEL_BUILD_HASH, LABEL_MANAGED } from './labels.ts';

interface ProgressMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Reads Docker's NDJSON progress to the end; Docker reports pull and build failures inside it. */
async function readProgress(stream: NodeJS.ReadableStream): Promise<{ error?: string; output: string[] }> {
  const output: string[] = [];
  let buffered = '';
  let error: string | undefined;
  const take = (line: string) => {
    if (line.trim() === '') return;
    let message: ProgressMessage;
    try {
      message = JSON.parse(line) as ProgressMessage;
    } catch {
      output.push(line);
      return;
    }
    const failure = message.errorDetail?.message ?? message.error;
    if (failure !== undefined) error ??= failure.trim();
    if (message.stream !== undefined) output.push(message.stream);
  };
  for await (const chunk of stream) {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) take(line);
  }
  take(buffered);
  return error === undefined ? { output } : { error, output };
}

export function buildTag(hash: string): string {
  return `gbcms-build/${hash}:latest`;
}

export class ImageResolver {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly docker: Docker) {}

  /**
   * The image id an environment's steps run, ready in the engine. A build context must lie
   * inside `workspace` once its links are resolved (workspace-files.ts).
   */
  resolve(
    environment: ResolvedEnvironment,
    notice: (message: string) => void,
    workspace: string,
  ): Promise<string> {
    const key = environment.build
      ? `build\0${JSON.stringify(environment.build)}`
      : `image\0${environment.image}\0${environment.pull}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const work = (
      environment.build ? this.build(environment, notice, workspace) : this.pull(environment, notice)
    ).finally(() => this.inflight.delete(key));
    this.inflight.set(key, work);
    return work;
  }

  /** Image id, or undefined when the engine does not have it. */
  private async localId(name: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(name).inspect()).Id;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw dockerFailure('GBCMS_ERR_DOCKER', `could not inspect image '${name}'`, error);
    }
  }

  private async pull(environment: ResolvedEnvironment, notice: (message: string) => void): Promise<string> {
    const image = environment.image;
    if (image === undefined || image === '') {
      throw new BackendError(
        'GBCMS_ERR_IMAGE',
        `environment '${environment.name}' has neither image nor build`,
      );
    }
    if (environment.pull !== 'always') {
      const id = await this.localId(image);
      if (id !== undefined) return id;
      if (environment.pull === 'never') {
        throw new BackendError(
          'GBCMS_ERR_IMAGE_MISSING',
          `image '${image}' is not present in the Docker engine and environment '${environment.name}' says pull: never`,
        );
      }
    }
    notice(`pulling image ${image}`);
    try {
      const { error } = await readProgress(await this.docker.pull(image));
      if (error !== undefined) throw new Error(error);
    } catch (error) {
      throw dockerFailure('GBCMS_ERR_IMAGE_PULL', `could not pull image '${image}'`, error);
    }
    const id = await this.localId(image);
    if (id === undefined) {
      throw new BackendError(
        'GBCMS_ERR_IMAGE_PULL',
        `could not pull image '${image}': not present after the pull`,
      );
    }
    return id;
  }

  private async build(
    environment: ResolvedEnvironment,
    notice: (message: string) => void,
    workspace: string,
  ): Promise<string> {
    const build = environment.build;
    if (!build) throw new Error('build() called for an environment without build');
    const shown = relative(workspace, build.context) || '.';
    let context: string;
    let files: string[];
    let hash: string;
    try {
      context = await buildContextDir(workspace, build.context, shown);
      files = await listContextFiles(context, build.dockerfile);
      hash = await contextHash(context, files, build.dockerfile, build.args);
    } catch (error) {
      throw dockerFailure(
        'GBCMS_ERR_IMAGE_BUILD',
        `could not read the build context '${shown}' of environment '${environment.name}'`,
        error,
      );
    }
    const tag = buildTag(hash);
    const cached = await this.localId(tag);
    if (cached !== undefined) return cached;
    notice(`building image for environment '${environment.name}' from ${shown}`);
    let failure: string | undefined;
    try {
      const stream = await this.docker.buildImage(packContext(context, files), {
        t: tag,
        dockerfile: build.dockerfile,
        buildargs: build.args,
        labels: { [LABEL_MANAGED]: 'true', [LABEL_BUILD_HASH]: hash },
        rm: true,
        forcerm: true,
      });
      failure = (await readProgress(stream)).error;
    } catch (error) {
      failure = dockerReason(error);
    }
    if (failure !== undefined) {
      throw new BackendError(
        'GBCMS_ERR_IMAGE_BUILD',
        `could not build the image of environment '${environment.name}': ${failure}`,
      );
    }
    const id = await this.localId(tag);
    if (id === undefined) {
      throw new BackendError(
        'GBCMS_ERR_IMAGE_BUILD',
        `build of environment '${environment.name}' produced no image`,
      );
    }
    return id;
  }
}
