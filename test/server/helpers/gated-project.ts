// A project whose pipeline has an approval gate, for the approval gate tests: build, then deploy
// behind a gate only `owner` (a username) and admins (a role) may decide, then notify.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUSYBOX_IMAGE } from '../../helpers/build-images.ts';
import { commitAll, GRACE, gitAs } from '../../helpers/git.ts';
import { makeProject, type Setup } from './fork-pull-requests.ts';

export const GATE_MESSAGE = 'Deploy to production?';

export interface GatedProject extends Setup {
  /** What the deploy step prints, once it runs. */
  deployedText: string;
}

export async function gatedProject(dir: string): Promise<GatedProject> {
  const base = join(dir, 'base');
  await mkdir(base);
  const git = gitAs(GRACE);
  git(base, 'init', '-q');
  const deployedText = `deployed-${randomBytes(6).toString('hex')}`;
  await writeFile(
    join(base, '.gbcms.yml'),
    [
      'version: 1',
      'name: gates',
      'steps:',
      '  build:',
      `    image: ${BUSYBOX_IMAGE}`,
      '    commands: ["echo built"]',
      '  deploy:',
      `    image: ${BUSYBOX_IMAGE}`,
      '    depends_on: [build]',
      '    approval:',
      `      message: ${GATE_MESSAGE}`,
      '      approvers: [owner, admin]',
      `    commands: ["echo ${deployedText}"]`,
      '  notify:',
      `    image: ${BUSYBOX_IMAGE}`,
      '    depends_on: [deploy]',
      '    commands: ["echo notified"]',
      '',
    ].join('\n'),
  );
  commitAll(git, base, 'a gated deploy');
  return { ...(await makeProject(join(dir, 'data'), base)), deployedText };
}
