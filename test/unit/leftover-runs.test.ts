// What a run could not remove (its engine was unreachable at the end) is removed at the next
// `gbcms run`, found through Backend.leftoverRuns: only for runs of this runs folder that no
// live process owns. Here with the local backend, whose leftovers are scratch folders.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LocalBackend } from '../../engine/backends/local/backend.ts';
import { OWNER_FILE, removeLeftoverRuns } from '../../engine/recovery.ts';
import { tempDir } from '../helpers/plans.ts';

const newId = () => randomBytes(16).toString('base64url');

describe('removeLeftoverRuns', () => {
  test('removes ended runs of this folder, keeps live ones and other projects', async () => {
    const runsDir = tempDir();
    const scratchRoot = tempDir();
    const backend = new LocalBackend({ scratchRoot, sandbox: false });
    const leftover = (id: string) => mkdirSync(join(scratchRoot, `gbcms-local-${id}.${newId().slice(0, 6)}`));
    const runDir = (id: string, owner?: { pid: number; host: string }) => {
      mkdirSync(join(runsDir, id));
      if (owner) writeFileSync(join(runsDir, id, OWNER_FILE), JSON.stringify(owner));
    };

    const ended = newId();
    runDir(ended);
    leftover(ended);
    const live = newId();
    runDir(live, { pid: process.pid, host: hostname() });
    leftover(live);
    const otherProject = newId();
    leftover(otherProject);
    assert.deepEqual((await backend.leftoverRuns()).sort(), [ended, live, otherProject].sort());

    const sweep = await removeLeftoverRuns(runsDir, backend);
    assert.deepEqual(sweep, { removed: [ended], failed: [] });
    const left = readdirSync(scratchRoot).map((entry) =>
      entry.slice('gbcms-local-'.length, entry.lastIndexOf('.')),
    );
    assert.deepEqual(left.sort(), [live, otherProject].sort());
    assert.deepEqual(await removeLeftoverRuns(runsDir, backend), { removed: [], failed: [] });
  });
});
