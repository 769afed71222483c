// Tests that drive real git skip where it is not installed (the project's own pipeline runs
// its unit tests in a slim node image); CI installs git, so there they always run.
import { spawnSync } from 'node:child_process';

const installed = spawnSync('git', ['--version']).status === 0;

export const gitSkip: { skip: string | false } = {
  skip: installed ? false : 'git is not installed here',
};
