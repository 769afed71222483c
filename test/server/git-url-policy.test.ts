import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIPv4, parseIPv6 } from '../../server/git/ip-address.ts';
import { checkRepoSource } from '../../server/git/url-policy.ts';

const ALLOWED: [source: string, kind: 'url' | 'path'][] = [
  ['https://github.com/gbcms/gbcms.git', 'url'],
  ['https://user@git.example.com/team/repo.git', 'url'],
  ['https://git.example.com:8443/team/repo', 'url'],
  ['HTTPS://Git.Example.com/team/repo', 'url'],
  ['ssh://git@github.com/gbcms/gbcms.git', 'url'],
  ['ssh://git@[2001:db8::1]:2222/srv/repo.git', 'url'],
  ['git://git.kernel.org/pub/scm/git/git.git', 'url'],
  ['git@github.com:gbcms/gbcms.git', 'url'],
  ['github.com:gbcms/gbcms.git', 'url'],
  ['git@[2001:db8::1]:repo.git', 'url'],
  ['https://10.0.0.5/repo.git', 'url'],
  ['https://localhost/repo.git', 'url'],
];

const REFUSED: [source: string, reason: RegExp][] = [
  ['', /empty/],
  ['file:///etc/passwd', /file:\/\//],
  ['FILE:///srv/repo.git', /file:\/\//],
  ['ext::sh -c touch% /tmp/pwned', /remote-helper/],
  ['ext::sh -c "touch /tmp/pwned"', /remote-helper/],
  ['fd::17', /remote-helper/],
  ['testgit::/srv/repo', /remote-helper/],
  ['::/srv/repo', /remote-helper/],
  ['--upload-pack=touch /tmp/pwned', /starts with '-'/],
  ['-oProxyCommand=touch /tmp/pwned', /starts with '-'/],
  ['ssh://-oProxyCommand=touch%20x/repo', /host starts with '-'/],
  ['ssh://-oProxyCommand=x@host/repo', /user name starts with '-'/],
  ['http://github.com/gbcms/gbcms.git', /scheme 'http:\/\/'/],
  ['ftp://example.com/repo.git', /scheme 'ftp:\/\/'/],
  ['https://user:hunter2@github.com/org/repo.git', /password/],
  ['https://user:@github.com/org/repo.git', /password/],
  ['user:hunter2@github.com:org/repo.git', /password/],
  ['https://ghp_abcdefghijklmnop@github.com/org/repo.git', /access token/],
  ['https://a@b@github.com/org/repo.git', /more than one '@'/],
  ['https://169.254.169.254/latest/meta-data', /link-local/],
  ['git@169.254.169.254:repo.git', /link-local/],
  ['https://0xa9fea9fe/repo', /\(169\.254\.169\.254\) is link-local/],
  ['ssh://2852039166/repo', /link-local/],
  ['https://0251.0376.0251.0376/repo', /link-local/],
  ['https://169.254.43518/repo', /link-local/],
  ['https://[fe80::1]/repo', /link-local \(fe80::\/10\)/],
  ['https://[FEBF::1]/repo', /link-local/],
  ['https://[fe80::1%25eth0]/repo', /zone id/],
  ['https://[::ffff:169.254.169.254]/repo', /link-local/],
  ['https://[::ffff:a9fe:a9fe]/repo', /link-local/],
  ['https://[fd00:ec2::254]/repo', /metadata/],
  ['https://100.100.100.200/repo', /metadata/],
  ['https://metadata.google.internal/computeMetadata/v1', /metadata/],
  ['https://METADATA.google.internal./computeMetadata/v1', /metadata/],
  ['git@metadata:repo.git', /metadata/],
  ['https://github.com/org/repo.git\n--upload-pack=x', /control character/],
  ['https://github.com/org/repo.git\u0000', /control character/],
  ['https://github.com/org/repo\u2028', /control character/],
  [' https://github.com/org/repo.git', /whitespace/],
  ['https://github.com/org/my repo.git', /whitespace/],
  ['https://github.com\\@169.254.169.254/repo', /backslash/],
  ['https://github.com/../../etc', /'\.\.'/],
  ['git@github.com:../etc/passwd', /'\.\.'/],
  ['https://github.com', /no repository path/],
  ['https://github.com:99999/repo', /port/],
  ['https:///repo', /no host/],
  ['https://exa%6dple.com/repo', /not a valid host name/],
  ['repo.git', /relative path/],
  ['./repo.git', /relative path/],
  ['../other/repo.git', /relative path/],
  ['~/repo.git', /relative path/],
];

describe('checkRepoSource', () => {
  for (const [source, kind] of ALLOWED) {
    test(`allows ${source}`, () => {
      assert.deepEqual(checkRepoSource(source, { allowLocalPaths: false }), {
        ok: true,
        kind,
        value: source,
      });
    });
  }

  for (const [source, reason] of REFUSED) {
    test(`refuses ${JSON.stringify(source)}`, () => {
      for (const allowLocalPaths of [false, true]) {
        const result = checkRepoSource(source, { allowLocalPaths });
        assert.equal(result.ok, false, `${source} was allowed`);
        if (!result.ok) assert.match(result.reason, reason);
      }
    });
  }

  test('allows absolute local paths only when an admin registered them', () => {
    assert.deepEqual(checkRepoSource('/srv/git/project.git', { allowLocalPaths: true }), {
      ok: true,
      kind: 'path',
      value: '/srv/git/project.git',
    });
    assert.deepEqual(checkRepoSource('/srv//git/./project.git/', { allowLocalPaths: true }), {
      ok: true,
      kind: 'path',
      value: '/srv/git/project.git/',
    });
    const refused = checkRepoSource('/srv/git/project.git', { allowLocalPaths: false });
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.match(refused.reason, /only an admin/);
  });

  test("refuses local paths with '..' even for admins", () => {
    const result = checkRepoSource('/srv/git/../../etc', { allowLocalPaths: true });
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.reason, /'\.\.'/);
  });

  test('refuses very long sources', () => {
    const result = checkRepoSource(`https://github.com/${'a'.repeat(5000)}`, { allowLocalPaths: false });
    assert.equal(result.ok, false);
  });
});

describe('IP literal parsing', () => {
  test('reads every inet_aton spelling of an IPv4 address', () => {
    const expected = 169 * 2 ** 24 + 254 * 2 ** 16 + 169 * 256 + 254;
    for (const spelling of [
      '169.254.169.254',
      '0xa9fea9fe',
      '2852039166',
      '0251.0376.0251.0376',
      '169.254.43518',
      '169.16689662',
    ]) {
      assert.equal(parseIPv4(spelling), expected, spelling);
    }
    for (const notAnAddress of [
      '169.254.169.254.1',
      '256.1.1.1',
      '1.2.3.99999',
      'example.com',
      '08.1.1.1',
      '',
    ]) {
      assert.equal(parseIPv4(notAnAddress), undefined, notAnAddress);
    }
  });

  test('expands IPv6 addresses', () => {
    assert.deepEqual(parseIPv6('fe80::1'), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIPv6('::ffff:169.254.1.2'), [0, 0, 0, 0, 0, 0xffff, 0xa9fe, 0x0102]);
    assert.deepEqual(parseIPv6('2001:db8:0:0:0:0:0:1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7', ':::', 'g::1'])
      assert.equal(parseIPv6(bad), undefined, bad);
  });
});
