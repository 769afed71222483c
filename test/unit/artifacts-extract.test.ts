import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, beforeEach, describe, test } from 'node:test';
import tarFs from 'tar-fs';
import tarStream from 'tar-stream';
import { ArtifactError, extractArchive } from '../../engine/artifacts/extract.ts';

type Header = Parameters<tarStream.Pack['entry']>[0];
interface FakeEntry {
  header: Header;
  content?: string | Buffer;
}

const root = mkdtempSync(join(tmpdir(), 'gbcms-extract-'));
after(() => rmSync(root, { recursive: true, force: true }));

let cases = 0;
/** A fresh sandbox: `dest` to extract into and `sentinel` that nothing may touch. */
let box: { dir: string; dest: string; sentinel: string };
beforeEach(() => {
  const dir = join(root, `case-${++cases}`);
  box = { dir, dest: join(dir, 'dest'), sentinel: join(dir, 'sentinel') };
  mkdirSync(box.sentinel, { recursive: true });
  writeFileSync(join(box.sentinel, 'canary'), 'untouched');
});

async function tarOf(entries: FakeEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const { header, content } of entries) {
    if (content === undefined) pack.entry(header);
    else pack.entry(header, content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const file = (name: string, content: string | Buffer = '', mode?: number): FakeEntry => ({
  header: { name, type: 'file', ...(mode === undefined ? {} : { mode }) },
  content,
});
const dir = (name: string): FakeEntry => ({ header: { name, type: 'directory' } });
const symlink = (name: string, linkname: string): FakeEntry => ({
  header: { name, type: 'symlink', linkname },
});

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Every path below the sandbox, so a test can see exactly what an extraction left behind. */
function listing(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path, { recursive: true, encoding: 'utf8' }).sort();
}

function assertSentinelUntouched() {
  assert.deepEqual(listing(box.sentinel), ['canary']);
  assert.equal(readFileSync(join(box.sentinel, 'canary'), 'utf8'), 'untouched');
}

async function refused(entries: FakeEntry[], code: string, message: RegExp, options = {}) {
  const archive = await tarOf(entries);
  await assert.rejects(
    extractArchive(Readable.from([archive]), box.dest, { maxBytes: 1024 * 1024, ...options }),
    (error: unknown) => {
      assert.ok(error instanceof ArtifactError, String(error));
      assert.equal(error.code, code, error.message);
      assert.match(error.message, message);
      return true;
    },
  );
  assertSentinelUntouched();
}

describe('extractArchive refuses hostile archives', () => {
  test('absolute paths', async () => {
    await refused([file(join(box.sentinel, 'pwned'), 'x')], 'GBCMS_ERR_ARTIFACT_PATH', /absolute path/);
    assert.equal(existsSync(box.dest), false);
  });

  test('.. segments, even ones that would stay inside', async () => {
    await refused([file('../sentinel/pwned', 'x')], 'GBCMS_ERR_ARTIFACT_PATH', /'\.\.\/sentinel\/pwned'/);
    await refused([dir('a/'), file('a/../../sentinel/pwned', 'x')], 'GBCMS_ERR_ARTIFACT_PATH', /climbs out/);
    await refused([file('a/../b', 'x')], 'GBCMS_ERR_ARTIFACT_PATH', /'a\/\.\.\/b'/);
  });

  test('symlinks leaving the destination, and files behind them', async () => {
    await refused([symlink('etc', '/etc')], 'GBCMS_ERR_ARTIFACT_LINK', /'etc' is a symlink to '\/etc'/);
    await refused(
      [symlink('escape', '../sentinel'), file('escape/pwned', 'x')],
      'GBCMS_ERR_ARTIFACT_LINK',
      /outside the destination/,
    );
    await refused(
      [dir('a/'), dir('a/b/'), symlink('a/b/up', '../../..')],
      'GBCMS_ERR_ARTIFACT_LINK',
      /'a\/b\/up'/,
    );
  });

  test('hardlinks, whatever they point at', async () => {
    await refused(
      [{ header: { name: 'passwd', type: 'link', linkname: '/etc/passwd' } }],
      'GBCMS_ERR_ARTIFACT_LINK',
      /hardlink/,
    );
    await refused(
      [file('a.txt', 'a'), { header: { name: 'b.txt', type: 'link', linkname: 'a.txt' } }],
      'GBCMS_ERR_ARTIFACT_LINK',
      /'b\.txt' is a hardlink/,
    );
    assert.equal(existsSync(join(box.dest, 'a.txt')), false, 'the good file before it is removed');
  });

  test('devices and FIFOs', async () => {
    await refused(
      [{ header: { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 } }],
      'GBCMS_ERR_ARTIFACT_TYPE',
      /'null' is a character-device/,
    );
    await refused(
      [{ header: { name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 } }],
      'GBCMS_ERR_ARTIFACT_TYPE',
      /block-device/,
    );
    await refused(
      [{ header: { name: 'pipe', type: 'fifo' } }],
      'GBCMS_ERR_ARTIFACT_TYPE',
      /'pipe' is a fifo/,
    );
  });

  test('writing through a symlink already in the destination', async () => {
    mkdirSync(box.dest);
    symlinkSync(box.sentinel, join(box.dest, 'pre'));
    await refused([file('pre/pwned', 'x')], 'GBCMS_ERR_ARTIFACT_SYMLINK', /through the symlink/);
    await refused([file('pre', 'x')], 'GBCMS_ERR_ARTIFACT_SYMLINK', /'pre'/);
    symlinkSync(join(box.sentinel, 'canary'), join(box.dest, 'file-link'));
    await refused([file('file-link', 'overwritten')], 'GBCMS_ERR_ARTIFACT_SYMLINK', /'file-link'/);
    assert.ok(lstatSync(join(box.dest, 'pre')).isSymbolicLink(), 'what was there before stays');
  });

  test('a destination that is itself a symlink', async () => {
    symlinkSync(box.sentinel, box.dest);
    await refused([dir('out/'), file('out/x', 'x')], 'GBCMS_ERR_ARTIFACT_SYMLINK', /through the symlink/, {
      stripPrefix: 'out',
    });
  });

  test('entries outside the expected top folder', async () => {
    await refused(
      [dir('coverage/'), file('coverage/ok.txt', 'ok'), file('elsewhere.txt', 'x')],
      'GBCMS_ERR_ARTIFACT_PATH',
      /'elsewhere\.txt' is outside the expected top folder 'coverage'/,
      { stripPrefix: 'coverage' },
    );
    assert.equal(existsSync(box.dest), false, 'the destination this call created is removed');
  });

  test('folders this call created above the destination are removed too', async () => {
    const archive = await tarOf([file('ok.txt', 'ok'), file('/etc/evil', 'x')]);
    const deep = join(box.dir, 'a', 'b', 'c');
    await assert.rejects(extractArchive(Readable.from([archive]), deep, { maxBytes: 1e6 }), {
      code: 'GBCMS_ERR_ARTIFACT_PATH',
    });
    assert.deepEqual(listing(box.dir), ['sentinel', join('sentinel', 'canary')]);
  });

  test('more than maxEntries', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => file(`f${i}`, ''));
    await refused(entries, 'GBCMS_ERR_ARTIFACT_TOO_MANY', /more than 10 entries/, { maxEntries: 10 });
    assert.equal(existsSync(box.dest), false);
  });

  test('over maxBytes: refused, and what was written is removed', async () => {
    mkdirSync(box.dest);
    writeFileSync(join(box.dest, 'earlier-artifact'), 'keep me');
    await refused(
      [dir('a/'), file('a/one.bin', Buffer.alloc(600_000)), file('a/b/two.bin', Buffer.alloc(600_000))],
      'GBCMS_ERR_ARTIFACT_TOO_LARGE',
      /exceed 1048576 bytes \(stopped at 'a\/b\/two\.bin'\)/,
    );
    assert.deepEqual(listing(box.dest), ['earlier-artifact']);
    assert.equal(readFileSync(join(box.dest, 'earlier-artifact'), 'utf8'), 'keep me');
  });

  test('over maxBytes: stops reading a huge stream early', async () => {
    let produced = 0;
    async function* huge() {
      const header = ustarHeader('big.bin', 1024 ** 3);
      produced += header.length;
      yield header;
      const zeros = Buffer.alloc(64 * 1024);
      for (let i = 0; i < 1024 ** 3 / zeros.length; i++) {
        produced += zeros.length;
        yield zeros;
      }
    }
    // The header announces 1 GiB: refused before a byte is written.
    await assert.rejects(extractArchive(Readable.from(huge()), box.dest, { maxBytes: 1024 * 1024 }), {
      code: 'GBCMS_ERR_ARTIFACT_TOO_LARGE',
    });
    assert.ok(produced < 16 * 1024 * 1024, `read ${produced} bytes of a 1 GiB archive`);
    assert.equal(existsSync(box.dest), false);
  });

  test('a source that stalls after a hostile entry does not hang the refusal', async () => {
    const archive = await tarOf([file('../sentinel/pwned', 'x')]);
    async function* stalling() {
      yield archive.subarray(0, 1024);
      await new Promise(() => {}); // never resolves, like a stuck connection
    }
    const source = Readable.from(stalling());
    await assert.rejects(extractArchive(source, box.dest, { maxBytes: 1e6 }), {
      code: 'GBCMS_ERR_ARTIFACT_PATH',
    });
    assert.equal(source.destroyed, true, 'the source is released');
    assertSentinelUntouched();
  });

  test('a corrupt or cut-off archive', async () => {
    const archive = await tarOf([file('a.txt', 'aaaa'), file('b.txt', Buffer.alloc(10_000))]);
    await assert.rejects(
      extractArchive(Readable.from([archive.subarray(0, 2048)]), box.dest, { maxBytes: 1e6 }),
      (error: unknown) => error instanceof ArtifactError && error.code === 'GBCMS_ERR_ARTIFACT_ARCHIVE',
    );
    assert.equal(existsSync(box.dest), false, 'a.txt, written before the cut, is removed');
    const garbage = Buffer.alloc(1024, 'x');
    await assert.rejects(extractArchive(Readable.from([garbage]), box.dest, { maxBytes: 1e6 }), {
      code: 'GBCMS_ERR_ARTIFACT_ARCHIVE',
    });
  });

  test('a source stream that fails', async () => {
    const archive = await tarOf([file('a.txt', Buffer.alloc(4096, 'a')), file('b.txt', Buffer.alloc(4096))]);
    async function* failing() {
      yield archive.subarray(0, 2048);
      throw new Error('connection reset');
    }
    await assert.rejects(extractArchive(Readable.from(failing()), box.dest, { maxBytes: 1e6 }), {
      code: 'GBCMS_ERR_ARTIFACT_ARCHIVE',
      message: /connection reset/,
    });
    assert.equal(existsSync(box.dest), false);
  });
});

describe('extractArchive writes good archives', () => {
  test('nested directories, empty files and a 20 MB file round-trip with their sha256', async () => {
    const big = randomBytes(20 * 1024 * 1024);
    const archive = await tarOf([
      dir('coverage/'),
      file('coverage/index.html', '<html></html>'),
      dir('coverage/lcov/'),
      dir('coverage/lcov/deep/'),
      file('coverage/lcov/deep/empty.txt', ''),
      file('coverage/lcov/big.bin', big),
      file('coverage/implicit/dirs/file.txt', 'no directory entries before me'),
      dir('coverage/empty-dir/'),
    ]);
    const { files } = await extractArchive(Readable.from([archive]), box.dest, {
      maxBytes: 21 * 1024 * 1024,
      stripPrefix: 'coverage',
    });
    assert.deepEqual(files, [
      { path: 'index.html', size: 13, sha256: sha256('<html></html>') },
      { path: 'lcov/deep/empty.txt', size: 0, sha256: sha256('') },
      { path: 'lcov/big.bin', size: big.length, sha256: sha256(big) },
      {
        path: 'implicit/dirs/file.txt',
        size: 30,
        sha256: sha256('no directory entries before me'),
      },
    ]);
    assert.deepEqual(readFileSync(join(box.dest, 'lcov/big.bin')), big);
    assert.equal(readFileSync(join(box.dest, 'lcov/deep/empty.txt'), 'utf8'), '');
    assert.ok(statSync(join(box.dest, 'empty-dir')).isDirectory());
    assertSentinelUntouched();
  });

  test('a file that arrives in many small chunks is written whole, batch after batch', async () => {
    const big = randomBytes(5 * 1024 * 1024 + 123);
    const archive = await tarOf([file('out/big.bin', big)]);
    // Network-sized pieces of uneven length, as Docker's archive stream delivers them.
    const pieces: Buffer[] = [];
    for (let offset = 0, n = 0; offset < archive.length; n++) {
      const size = 1000 + ((n * 7919) % 65_000);
      pieces.push(archive.subarray(offset, offset + size));
      offset += size;
    }
    const { files } = await extractArchive(Readable.from(pieces), box.dest, {
      maxBytes: 6 * 1024 * 1024,
      stripPrefix: 'out',
    });
    assert.deepEqual(files, [{ path: 'big.bin', size: big.length, sha256: sha256(big) }]);
    assert.deepEqual(readFileSync(join(box.dest, 'big.bin')), big);
  });

  test('a single file lands at destDir itself, as Docker names it after the requested path', async () => {
    const archive = await tarOf([file('junit.xml', '<testsuites/>')]);
    const target = join(box.dest, 'reports', 'junit.xml');
    const { files } = await extractArchive(Readable.from([archive]), target, {
      maxBytes: 1e6,
      stripPrefix: 'junit.xml',
    });
    assert.deepEqual(files, [{ path: '', size: 13, sha256: sha256('<testsuites/>') }]);
    assert.equal(readFileSync(target, 'utf8'), '<testsuites/>');
  });

  test('file modes: no setuid/setgid, no group or world write, exec kept', async () => {
    const archive = await tarOf([
      file('suid', '#!/bin/sh', 0o4777),
      file('sgid', 'x', 0o2755),
      file('world', 'x', 0o666),
      file('tool', 'x', 0o755),
      file('readonly', 'x', 0o400),
    ]);
    await extractArchive(Readable.from([archive]), box.dest, { maxBytes: 1e6 });
    const mode = (name: string) => statSync(join(box.dest, name)).mode & 0o7777;
    for (const name of ['suid', 'sgid', 'world', 'tool', 'readonly']) {
      assert.equal(mode(name) & 0o7022, 0, `${name}: ${mode(name).toString(8)}`);
      assert.equal(mode(name) & 0o600, 0o600, `${name} stays readable and removable by its owner`);
    }
    assert.equal(mode('tool') & 0o100, 0o100);
    assert.equal(mode('world') & 0o111, 0);
  });

  test('in-tree symlinks are dropped, not written; the path can then hold a real directory', async () => {
    const archive = await tarOf([
      dir('out/'),
      file('out/real.txt', 'real'),
      symlink('out/alias.txt', 'real.txt'),
      symlink('out/inner', 'sub'),
      file('out/inner/x.txt', 'x'),
    ]);
    const { files } = await extractArchive(Readable.from([archive]), box.dest, {
      maxBytes: 1e6,
      stripPrefix: 'out',
    });
    assert.deepEqual(
      files.map((f) => f.path),
      ['real.txt', 'inner/x.txt'],
    );
    assert.equal(existsSync(join(box.dest, 'alias.txt')), false);
    assert.ok(lstatSync(join(box.dest, 'inner')).isDirectory());
  });

  test('a repeated entry replaces the earlier one, as tar does', async () => {
    const archive = await tarOf([file('a.txt', 'first'), file('b.txt', 'b'), file('a.txt', 'second')]);
    const { files } = await extractArchive(Readable.from([archive]), box.dest, { maxBytes: 1e6 });
    assert.deepEqual(
      files.map((f) => [f.path, f.size]),
      [
        ['b.txt', 1],
        ['a.txt', 6],
      ],
    );
    assert.equal(readFileSync(join(box.dest, 'a.txt'), 'utf8'), 'second');
  });

  test('an existing regular file is replaced, never written through (it may be a hardlink)', async () => {
    mkdirSync(box.dest);
    const outside = join(box.sentinel, 'canary');
    // A hardlink inside the destination to a file outside it.
    const { linkSync } = await import('node:fs');
    linkSync(outside, join(box.dest, 'linked'));
    const archive = await tarOf([file('linked', 'new content')]);
    await extractArchive(Readable.from([archive]), box.dest, { maxBytes: 1e6 });
    assert.equal(readFileSync(join(box.dest, 'linked'), 'utf8'), 'new content');
    assertSentinelUntouched();
  });

  test('an archive packed by tar-fs from a workspace, with a multi-segment prefix', async () => {
    const workspace = join(box.dir, 'workspace');
    mkdirSync(join(workspace, 'build/out/nested'), { recursive: true });
    writeFileSync(join(workspace, 'build/out/app.js'), 'console.log(1)');
    writeFileSync(join(workspace, 'build/out/nested/data.json'), '{}');
    writeFileSync(join(workspace, 'build/other.txt'), 'not collected');
    const packed = tarFs.pack(workspace, { entries: ['build/out'] });
    const { files } = await extractArchive(packed, box.dest, { maxBytes: 1e6, stripPrefix: 'build/out' });
    assert.deepEqual(files.map((f) => f.path).sort(), ['app.js', 'nested/data.json']);
    assert.equal(readFileSync(join(box.dest, 'nested/data.json'), 'utf8'), '{}');
  });
});

/** A ustar header by hand: tar-stream will not announce a size it is not given the bytes for. */
function ustarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`;
  header.write(name, 0);
  header.write(octal(0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(size, 12), 124);
  header.write(octal(0, 12), 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}
