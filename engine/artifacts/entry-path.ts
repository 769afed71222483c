// Pure checks on tar entries, before anything touches the disk.
import { posix } from 'node:path';
import { ArtifactError } from './artifact-error.ts';

/** `a//./b/` -> ['a', 'b']; undefined when a segment is `..` or the path is absolute. */
function segments(path: string): string[] | undefined {
  if (path.startsWith('/') || path.includes('\0')) return undefined;
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return parts.includes('..') ? undefined : parts;
}

/**
 * Where an entry lands, relative to the destination, in posix form: '' is the destination
 * itself. `stripPrefix` (one or more leading segments) is removed; entries outside it are refused.
 */
export function entryPath(name: string, stripPrefix = ''): string {
  const parts = segments(name);
  if (parts === undefined) {
    throw new ArtifactError(
      'GBCMS_ERR_ARTIFACT_PATH',
      `archive entry '${name}' is an absolute path or climbs out with '..'`,
      name,
    );
  }
  const prefix = segments(checkPrefix(stripPrefix)) ?? [];
  if (prefix.some((part, i) => parts[i] !== part)) {
    throw new ArtifactError(
      'GBCMS_ERR_ARTIFACT_PATH',
      `archive entry '${name}' is outside the expected top folder '${prefix.join('/')}'`,
      name,
    );
  }
  return parts.slice(prefix.length).join('/');
}

/** The caller's own value: a bad one is a programming error, not a hostile archive. */
export function checkPrefix(stripPrefix: string): string {
  if (segments(stripPrefix) === undefined) {
    throw new TypeError(`stripPrefix '${stripPrefix}' must be a relative path without '..'`);
  }
  return stripPrefix;
}

/**
 * Whether a symlink at `path` (relative to the destination) pointing at `target` stays inside
 * the destination. Absolute targets never do: they would point into the host.
 */
export function symlinkStaysInside(path: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  if (path === '') return false; // the destination itself: a relative target resolves beside it
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  return resolved !== '..' && !resolved.startsWith('../');
}

/** Keeps the owner's and read/execute bits; drops setuid, setgid, sticky, group and world write. */
export function safeFileMode(mode: number | undefined): number {
  return ((mode ?? 0o644) & 0o755) | 0o600;
}

export const DIRECTORY_MODE = 0o755;
