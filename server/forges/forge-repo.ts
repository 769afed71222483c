// What a forge repository named by a user (a git-hook project's forge setting) must look like.
// Pure. Checked when set, so a typo is refused at once rather than as a failed status post
// after every push.
import type { Forge } from '../store/index.ts';

const SEGMENT = /^[A-Za-z0-9_.-]+$/;

/** How each forge's repository is written, for messages and help texts. */
export const FORGE_REPO_FORMS: Record<Forge, string> = {
  github: 'owner/name',
  gitea: 'owner/name',
  gitlab: 'a numeric project id or a path like group/name',
};

/** Why `repo` cannot name a repository on `forge`; undefined when it can. */
export function forgeRepoProblem(forge: Forge, repo: string): string | undefined {
  const form = FORGE_REPO_FORMS[forge];
  if (repo.length > 255) return `must be at most 255 characters (${form})`;
  if (forge === 'gitlab' && /^[1-9]\d{0,18}$/.test(repo)) return undefined;
  const segments = repo.split('/');
  const expected = forge === 'gitlab' ? segments.length >= 2 : segments.length === 2;
  const wellFormed = segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
  return expected && wellFormed ? undefined : `must be ${form}, not ${JSON.stringify(repo.slice(0, 100))}`;
}
