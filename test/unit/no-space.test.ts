import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OutputChunk } from '../../engine/backends/types.ts';
import { NoSpaceWatch } from '../../engine/logs/no-space.ts';

const SCRATCH = ['/tmp', '/home/gbcms'];

function watched(...chunks: Array<string | OutputChunk>): NoSpaceWatch {
  const watch = new NoSpaceWatch();
  for (const chunk of chunks) {
    watch.feed(typeof chunk === 'string' ? { stream: 'stderr', data: Buffer.from(chunk) } : chunk);
  }
  return watch;
}

describe('NoSpaceWatch', () => {
  test('names the scratch folder a no-space message names, however the program words it', () => {
    assert.equal(
      watched("dd: error writing '/tmp/fill': No space left on device\n").fullFolder(SCRATCH),
      '/tmp',
    );
    assert.equal(
      watched('write /home/gbcms/.cache/x: no space left on device\n').fullFolder(SCRATCH),
      '/home/gbcms',
    );
    assert.equal(
      watched("Error: ENOSPC: no space left on device, open '/tmp/a/b'\n").fullFolder(SCRATCH),
      '/tmp',
    );
  });

  test('a message split across chunks, or without a final newline, is still read', () => {
    assert.equal(
      watched('cp: error writing "/tm', 'p/x": No space le', 'ft on device').fullFolder(SCRATCH),
      '/tmp',
    );
  });

  test('no space elsewhere, or without a path, is told apart from none at all', () => {
    assert.equal(watched('tar: /workspace/out: No space left on device\n').fullFolder(SCRATCH), '');
    assert.equal(watched('Error: ENOSPC: no space left on device, write\n').fullFolder(SCRATCH), '');
    assert.equal(watched('/tmp/x: permission denied\n').fullFolder(SCRATCH), undefined);
    // A path that only starts like a scratch folder is not in it.
    assert.equal(watched('/tmpfoo/x: No space left on device\n').fullFolder(SCRATCH), '');
  });

  test('the streams are split into lines separately', () => {
    const watch = watched(
      { stream: 'stdout', data: Buffer.from('writing /tmp/') },
      { stream: 'stderr', data: Buffer.from('No space left on device\n') },
    );
    assert.equal(watch.fullFolder(SCRATCH), '');
  });
});
