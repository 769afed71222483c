// The options every command that reads a pipeline takes for its remote includes.
import { defaultIncludeCache, type RemoteIncludeOptions } from '../remote/remote-include.ts';

export const INCLUDE_OPTIONS = {
  offline: { type: 'boolean' },
  'include-cache': { type: 'string' },
} as const;

export const INCLUDE_HELP = `  --offline               use only cached remote includes; fetch nothing
  --include-cache DIR     where remote includes are kept by hash
                          (default: $GBCMS_INCLUDE_CACHE, else ~/.cache/gbcms/includes)
`;

export function remoteFromOptions(
  values: { offline?: boolean; 'include-cache'?: string },
  env: NodeJS.ProcessEnv,
): RemoteIncludeOptions {
  const cacheDir = values['include-cache'] ?? (env.GBCMS_INCLUDE_CACHE || defaultIncludeCache(env));
  return { cacheDir, offline: values.offline === true };
}
