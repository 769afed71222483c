// A `gbcms run` stand-in for crash tests: runs a plan of a sleeping step (and one waiting for
// it) on the local backend with plain processes, until the test kills it.
//   node --import tsx local-run-child.ts <runs dir> <scratch root> <run id> <marker>
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import { claimRun } from '../../engine/recovery.ts';
import { runPipeline } from '../../engine/run.ts';
import { runFileWriter } from '../../engine/run-file.ts';
import { planOf, tempDir } from './plans.ts';

const [runsDir, scratchRoot, id, marker] = process.argv.slice(2);
if (!runsDir || !scratchRoot || !id || !marker)
  throw new Error('usage: <runs dir> <scratch root> <run id> <marker>');

const plan = planOf(
  {
    sleeper: { image: 'ignored:latest', commands: [`: ${marker}`, 'sleep 600'] },
    later: { image: 'ignored:latest', depends_on: ['sleeper'], commands: ['true'] },
  },
  { workspace: tempDir() },
);
// As `gbcms run` does: the run's folder claimed by this process, its record kept in run.json.
const runDir = join(runsDir, id);
await mkdir(runDir, { recursive: true });
await claimRun(runDir);
await runPipeline(plan, {
  backend: new LocalBackend({ sandbox: false, scratchRoot }),
  runsDir,
  id,
  observer: runFileWriter(runDir).observe,
});
