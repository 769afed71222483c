// Which repository sources the server hands to git. Sources come from users registering
// projects and from webhook payloads, and git reads far more than URLs from that argument:
// `ext::CMD` runs a program, `--upload-pack=CMD` is an option, `file://` reads the server's own
// disk, and a host can be the cloud metadata service. Only network transports pass, plus
// absolute paths where the caller says an admin registered them.
//
// Not covered here: a DNS name that resolves to a refused address. That needs the resolver
// at fetch time and a network policy for the server; this check stops the literal forms.
import { posix } from 'node:path';
import { embeddedIPv4, formatIPv4, parseIPv4, parseIPv6 } from './ip-address.ts';
import { hasControlCharacter } from './text.ts';

export type RepoSourceCheck =
  | { ok: true; kind: 'url' | 'path'; value: string }
  | { ok: false; reason: string };

export interface RepoSourceOptions {
  /** Whether absolute local paths are acceptable: true only for sources an admin registered. */
  allowLocalPaths: boolean;
}

const URL_SCHEMES = new Set(['https', 'ssh', 'git']);

// Names that reach a cloud provider's instance metadata (credentials) from inside a VM.
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);
// Metadata services outside 169.254.0.0/16: Alibaba Cloud's IPv4 and AWS's IPv6 endpoint.
const METADATA_IPV4 = new Set([parseIPv4('100.100.100.200')]);
const METADATA_IPV6 = 'fd00:ec2:0:0:0:0:0:254';

const MAX_LENGTH = 4096;
const HOSTNAME = /^[a-z0-9_](?:[a-z0-9_-]*)(?:\.[a-z0-9_][a-z0-9_-]*)*$/;
// Tokens people paste as the user part (`https://ghp_xxx@github.com/...`): GitHub, GitLab.
const TOKEN_USER = /^(?:gh[pousr]_|github_pat_|glpat-)/;

/**
 * Accepts `https://`, `ssh://` and `git://` URLs, scp-like `[user@]host:path`, and absolute
 * local paths when `allowLocalPaths`. `value` is what to pass to git: the source unchanged,
 * or for a path its normalized form. `reason` is a sentence fragment fit for a 400 response.
 */
export function checkRepoSource(source: string, options: RepoSourceOptions): RepoSourceCheck {
  const problem = commonProblem(source);
  if (problem) return refuse(problem);

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(source)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === 'file') {
      return refuse('file:// URLs are not allowed; an admin can register an absolute local path instead');
    }
    if (!URL_SCHEMES.has(scheme))
      return refuse(`scheme '${scheme}://' is not allowed; use https://, ssh:// or git://`);
    const urlProblem = checkUrl(source.slice(scheme.length + 3));
    return urlProblem ? refuse(urlProblem) : { ok: true, kind: 'url', value: source };
  }

  if (source.startsWith('/')) {
    if (!options.allowLocalPaths)
      return refuse('local paths are not allowed here; only an admin can register one');
    if (hasDotDot(source)) return refuse("path contains a '..' segment");
    return { ok: true, kind: 'path', value: posix.normalize(source) };
  }

  // git's own rule: a ':' before the first '/' makes an scp-like ssh address.
  const colon = source.indexOf(':');
  const slash = source.indexOf('/');
  if (colon > 0 && (slash === -1 || colon < slash)) {
    const scpProblem = checkScpLike(source);
    return scpProblem ? refuse(scpProblem) : { ok: true, kind: 'url', value: source };
  }
  return refuse('relative paths are not allowed; use a URL or an absolute path');
}

function refuse(reason: string): RepoSourceCheck {
  return { ok: false, reason };
}

function commonProblem(source: string): string | undefined {
  if (source.length === 0) return 'source is empty';
  if (source.length > MAX_LENGTH) return `source is longer than ${MAX_LENGTH} characters`;
  if (hasControlCharacter(source)) return 'source contains a control character or newline';
  if (source.startsWith('-'))
    return "source starts with '-', which git would read as an option (like --upload-pack)";
  if (/^\s|\s$/.test(source)) return 'source has leading or trailing whitespace';
  // git runs `git-remote-<name>` for `<name>::<address>`; `ext::` runs an arbitrary command.
  if (/^[A-Za-z0-9+.-]*::/.test(source)) {
    return "source uses git's '<transport>::' remote-helper syntax, which can run programs (like ext::)";
  }
  return undefined;
}

/** `rest` is the URL after `scheme://`. */
function checkUrl(rest: string): string | undefined {
  if (/\s/.test(rest)) return 'URL contains whitespace';
  if (rest.includes('\\')) return 'URL contains a backslash';
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const path = end === -1 ? '' : rest.slice(end);
  let hostPort = authority;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userProblem = checkUser(authority.slice(0, at));
    if (userProblem) return userProblem;
    hostPort = authority.slice(at + 1);
  }
  const match = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(hostPort);
  if (!match) return `cannot read the host in '${hostPort}'`;
  const [, host = '', port] = match;
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return `port '${port}' is not a number from 1 to 65535`;
  }
  const hostProblem = checkHost(host);
  if (hostProblem) return hostProblem;
  if (path === '' || path === '/') return 'URL has no repository path';
  if (hasDotDot(path)) return "URL path contains a '..' segment";
  return undefined;
}

function checkScpLike(source: string): string | undefined {
  // `user:secret@host:path`: git would read `user` as the host, but the intent is a password.
  if (/^[^/@]*:[^/@]*@/.test(source)) {
    return 'source contains a password; use an SSH key or a credential helper on the server instead';
  }
  let rest = source;
  const at = source.indexOf('@');
  if (at !== -1 && at < source.indexOf(':')) {
    const userProblem = checkUser(source.slice(0, at));
    if (userProblem) return userProblem;
    rest = source.slice(at + 1);
  }
  // A bracketed IPv6 host may contain ':' itself.
  const hostEnd = rest.startsWith('[') ? rest.indexOf(']') + 1 : rest.indexOf(':');
  if (hostEnd <= 0 || rest[hostEnd] !== ':') return `cannot read the host in '${source}'`;
  const host = rest.slice(0, hostEnd);
  const path = rest.slice(hostEnd + 1);
  const hostProblem = checkHost(host);
  if (hostProblem) return hostProblem;
  if (path === '') return 'source has no repository path after the host';
  if (hasDotDot(path)) return "path contains a '..' segment";
  return undefined;
}

function checkUser(user: string): string | undefined {
  if (user.includes(':')) {
    return 'source contains a password; use an SSH key or a credential helper on the server instead';
  }
  if (user === '') return "source has an empty user name before '@'";
  if (user.includes('@')) return "source contains more than one '@' before the host";
  if (user.startsWith('-')) return "user name starts with '-', which ssh would read as an option";
  if (TOKEN_USER.test(user)) return 'user name looks like an access token; keep credentials out of the URL';
  return undefined;
}

function checkHost(rawHost: string): string | undefined {
  if (rawHost === '') return 'source has no host';
  if (rawHost.startsWith('[')) {
    const inner = rawHost.slice(1, -1);
    if (!rawHost.endsWith(']')) return `host '${rawHost}' is missing its closing ']'`;
    if (inner.includes('%')) return 'IPv6 zone ids are not allowed (they only serve link-local addresses)';
    const groups = parseIPv6(inner);
    if (!groups) return `host '${rawHost}' is not a valid IPv6 address`;
    return checkIPv6(groups, rawHost);
  }
  const host = rawHost.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('-')) return "host starts with '-', which ssh would read as an option";
  if (host.length > 253 || !HOSTNAME.test(host)) return `host '${rawHost}' is not a valid host name`;
  if (METADATA_HOSTS.has(host)) return `host '${rawHost}' is a cloud metadata service`;
  const ipv4 = parseIPv4(host);
  if (ipv4 !== undefined) return checkIPv4(ipv4, rawHost);
  return undefined;
}

function checkIPv4(address: number, shown: string): string | undefined {
  const spelled = formatIPv4(address);
  const as = spelled === shown ? '' : ` (${spelled})`;
  if (Math.floor(address / 65536) === 169 * 256 + 254) {
    return `host '${shown}'${as} is link-local (169.254.0.0/16), where cloud metadata services live`;
  }
  if (METADATA_IPV4.has(address)) return `host '${shown}'${as} is a cloud metadata service`;
  return undefined;
}

function checkIPv6(groups: readonly number[], shown: string): string | undefined {
  const first = groups[0] ?? 0;
  if ((first & 0xffc0) === 0xfe80) return `host '${shown}' is link-local (fe80::/10)`;
  if (groups.map((g) => g.toString(16)).join(':') === METADATA_IPV6) {
    return `host '${shown}' is a cloud metadata service`;
  }
  const ipv4 = embeddedIPv4(groups);
  return ipv4 === undefined ? undefined : checkIPv4(ipv4, shown);
}

function hasDotDot(path: string): boolean {
  return path.split('/').includes('..');
}
