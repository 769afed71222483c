import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ArtifactError } from '../../engine/artifacts/artifact-error.ts';
import { entryPath, safeFileMode, symlinkStaysInside } from '../../engine/artifacts/entry-path.ts';

const refused = (code: string) => (error: unknown) => error instanceof ArtifactError && error.code === code;

describe('entryPath', () => {
  test('normalises harmless spellings', () => {
    assert.equal(entryPath('a/b/c.txt'), 'a/b/c.txt');
    assert.equal(entryPath('./a//b/./c.txt'), 'a/b/c.txt');
    assert.equal(entryPath('dir/'), 'dir');
    assert.equal(entryPath('./'), '');
  });

  test('refuses absolute paths and any .. segment', () => {
    for (const name of ['/etc/passwd', '../x', 'a/../../x', 'a/../b', '..', 'a/..', 'a\0b']) {
      assert.throws(() => entryPath(name), refused('GBCMS_ERR_ARTIFACT_PATH'), name);
    }
  });

  test('strips a one- or multi-segment prefix and refuses entries outside it', () => {
    assert.equal(entryPath('coverage/', 'coverage'), '');
    assert.equal(entryPath('coverage/lcov/index.html', 'coverage'), 'lcov/index.html');
    assert.equal(entryPath('junit.xml', 'junit.xml'), '');
    assert.equal(entryPath('build/out/x.js', 'build/out'), 'x.js');
    assert.equal(entryPath('./build/out/x.js', './build/out/'), 'x.js');
    assert.throws(() => entryPath('other/x', 'coverage'), refused('GBCMS_ERR_ARTIFACT_PATH'));
    assert.throws(() => entryPath('coverage-evil/x', 'coverage'), refused('GBCMS_ERR_ARTIFACT_PATH'));
    assert.throws(() => entryPath('build', 'build/out'), refused('GBCMS_ERR_ARTIFACT_PATH'));
  });

  test('a bad stripPrefix is a programming error', () => {
    assert.throws(() => entryPath('x', '../x'), TypeError);
    assert.throws(() => entryPath('x', '/abs'), TypeError);
  });

  test('the error names the entry', () => {
    assert.throws(
      () => entryPath('../../etc/cron.d/x'),
      (error: unknown) => {
        assert.ok(error instanceof ArtifactError);
        assert.equal(error.entry, '../../etc/cron.d/x');
        assert.match(error.message, /'\.\.\/\.\.\/etc\/cron\.d\/x'/);
        return true;
      },
    );
  });
});

describe('symlinkStaysInside', () => {
  test('relative targets inside the destination', () => {
    assert.equal(symlinkStaysInside('a/link', 'b'), true);
    assert.equal(symlinkStaysInside('a/link', '../b'), true);
    assert.equal(symlinkStaysInside('a/b/link', '../../c/./d'), true);
  });

  test('absolute, escaping, empty targets, or a link that is the destination itself', () => {
    assert.equal(symlinkStaysInside('link', '/etc'), false);
    assert.equal(symlinkStaysInside('link', '..'), false);
    assert.equal(symlinkStaysInside('a/link', '../../x'), false);
    assert.equal(symlinkStaysInside('a/link', 'b/../../../x'), false);
    assert.equal(symlinkStaysInside('link', ''), false);
    assert.equal(symlinkStaysInside('', 'sibling'), false);
  });
});

describe('safeFileMode', () => {
  test('drops setuid, setgid, sticky, group and world write; keeps exec and owner rw', () => {
    assert.equal(safeFileMode(0o4755), 0o755);
    assert.equal(safeFileMode(0o2777), 0o755);
    assert.equal(safeFileMode(0o1666), 0o644);
    assert.equal(safeFileMode(0o444), 0o644);
    assert.equal(safeFileMode(0o700), 0o700);
    assert.equal(safeFileMode(undefined), 0o644);
  });
});

describe('tar-fs', () => {
  test('the installed tar-fs is at least 3.1.1 (the release with the 2025 traversal fixes)', () => {
    const url = new URL('../../node_modules/tar-fs/package.json', import.meta.url);
    const { version } = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
    const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
    const atLeast = major > 3 || (major === 3 && (minor > 1 || (minor === 1 && patch >= 1)));
    assert.ok(atLeast, `tar-fs ${version} is older than 3.1.1`);
  });
});
