import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { visibleText } from '../../engine/logs/control-sequences.ts';
import { createMasker, maskSecrets, PatternFinder, secretForms } from '../../engine/logs/masker.ts';

describe('maskSecrets', () => {
  test('replaces every occurrence of every secret', () => {
    assert.equal(
      maskSecrets('user=admin pass=hunter22 again hunter22, tok_1234', ['hunter22', 'tok_1234']),
      'user=admin pass=*** again ***, ***',
    );
  });

  test('ignores values of 3 characters or fewer', () => {
    assert.equal(maskSecrets('a abc b', ['abc', 'ab', '']), 'a abc b');
    assert.deepEqual(secretForms('abc'), []);
  });

  test('a secret containing another is masked whole', () => {
    assert.equal(maskSecrets('x password123 y', ['pass', 'password123']), 'x *** y');
  });

  test('regular-expression characters in secrets are literal', () => {
    const secret = 'a.b*c(d)[e]$^|\\/{2}+?';
    assert.equal(maskSecrets(`<${secret}>`, [secret]), '<***>');
    assert.equal(maskSecrets('aXbbbc', ['a.b*c']), 'aXbbbc');
  });

  test('base64 forms: standard, url-safe, with and without padding', () => {
    const secret = 'p>?~secret>>?';
    const standard = Buffer.from(secret).toString('base64');
    const url = Buffer.from(secret).toString('base64url');
    assert.match(standard, /[+/=]/, 'the fixture exercises the alphabet differences');
    for (const form of [standard, standard.replace(/=+$/, ''), url, `${url}==`]) {
      assert.equal(maskSecrets(`auth: ${form} end`, [secret]), 'auth: *** end', form);
    }
  });

  test('base64 of the secret embedded in a longer base64 string, at every alignment', () => {
    const secret = 'correct horse battery staple';
    for (let before = 0; before < 6; before++) {
      for (let after = 0; after < 4; after++) {
        const bytes = Buffer.concat([randomBytes(before), Buffer.from(secret), randomBytes(after)]);
        for (const encoding of ['base64', 'base64url'] as const) {
          const encoded = bytes.toString(encoding);
          const masked = maskSecrets(encoded, [secret]);
          assert.ok(masked.includes('***'), `${encoding} ${before}/${after}: ${masked}`);
          // What is left must be too short to carry the secret.
          assert.ok(masked.length <= encoded.length - 30, `${encoding} ${before}/${after}: ${masked}`);
        }
      }
    }
  });

  test('URL-encoded forms', () => {
    const secret = 'p@ss w/rd&x=1';
    const encoded = encodeURIComponent(secret);
    assert.equal(maskSecrets(`https://h/?token=${encoded}`, [secret]), 'https://h/?token=***');
    assert.equal(maskSecrets(`?t=${encoded.toLowerCase()}`, [secret]), '?t=***');
    assert.equal(maskSecrets(`?t=${encoded.replace(/%20/g, '+')}`, [secret]), '?t=***');
  });

  test('multiline secrets: each line longer than 3 characters', () => {
    const secret = '-----BEGIN KEY-----\nMIIEvQIBADANBgkq\nab\nhkiG9w0BAQEFAASC\n-----END KEY-----\n';
    const log = ['-----BEGIN KEY-----', 'MIIEvQIBADANBgkq', 'ab', 'hkiG9w0BAQEFAASC', '-----END KEY-----'];
    const masker = createMasker([secret]);
    assert.deepEqual(
      log.map((line) => masker.mask(line)),
      ['***', '***', 'ab', '***', '***'],
    );
    // The whole value still has its base64 form.
    assert.equal(masker.mask(Buffer.from(secret).toString('base64')), '***');
  });
});

describe('Masker.safeCut', () => {
  const masker = createMasker(['hunter2-secret']);

  test('holds back a tail that may start a secret', () => {
    assert.equal(masker.safeCut('key=hunter'), 'key='.length);
    assert.equal(masker.safeCut('key=h'), 'key='.length);
    assert.equal(masker.safeCut('key='), 'key='.length);
    assert.equal(masker.safeCut('no secret here'), 'no secret here'.length);
  });

  test('holds back the start of an encoded form too', () => {
    const b64 = Buffer.from('hunter2-secret').toString('base64');
    assert.equal(masker.safeCut(`x ${b64.slice(0, 6)}`), 2);
  });

  test('never cuts a match in two', () => {
    const overlapping = createMasker(['abcd1234', 'cd1234zz']);
    // "cd1234" could start the second secret, but it is inside a match of the first.
    const text = 'x abcd1234';
    const cut = overlapping.safeCut(text);
    assert.equal(cut, text.length);
    assert.equal(overlapping.mask(text.slice(0, cut)), 'x ***');
  });

  test('without secrets everything can go', () => {
    assert.equal(createMasker([]).safeCut('anything'), 8);
    assert.equal(createMasker([]).active, false);
  });
});

describe('PatternFinder', () => {
  const naiveFirst = (text: string, patterns: string[]) => {
    const found = patterns.map((p) => text.indexOf(p)).filter((i) => i !== -1);
    return found.length === 0 ? -1 : Math.min(...found);
  };

  test('finds an occurrence exactly when one exists (property, small alphabet to force overlaps)', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '€'), minLength: 2, maxLength: 8 });
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 5 }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'x', '€'), maxLength: 200 }),
        (patterns, text) => {
          const found = new PatternFinder(patterns).find(text);
          const first = naiveFirst(text, patterns);
          assert.equal(found === -1, first === -1);
          if (found !== -1) assert.ok(patterns.some((p) => text.startsWith(p, found)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('patterns at the very start and end, characters beyond one byte', () => {
    const finder = new PatternFinder(['token', 'ключ-42']);
    assert.equal(finder.find('token and more'), 0);
    assert.equal(finder.find('ends with token'), 10);
    assert.equal(finder.find('unicode ключ-42!'), 8);
    assert.equal(finder.find('tokeN ключ-4'), -1);
    assert.equal(finder.find(''), -1);
  });

  test('masking with the prefilter equals a plain RegExp replace (property)', () => {
    const secretsArb = fc.array(
      fc.string({ unit: fc.constantFrom('p', 'q', '=', '+', '/', 'Z'), minLength: 4, maxLength: 9 }),
      {
        minLength: 1,
        maxLength: 3,
      },
    );
    fc.assert(
      fc.property(secretsArb, fc.array(fc.string({ maxLength: 12 }), { maxLength: 8 }), (list, filler) => {
        const forms = [...new Set(list.flatMap(secretForms))].sort((a, b) => b.length - a.length);
        const text = filler.map((f, i) => f + (forms[i % Math.max(forms.length, 1)] ?? '')).join(' ');
        const plain =
          forms.length === 0
            ? text
            : text.replace(
                new RegExp(forms.map((f) => f.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|'), 'g'),
                '***',
              );
        assert.equal(createMasker(list).mask(text), plain);
      }),
      { numRuns: 500 },
    );
  });
});

describe('secrets hidden behind escapes', () => {
  const secret = 'hunter2-secret';
  const ESC = '\u001b';
  const cases: Record<string, string> = {
    'colours between the characters': `hun${ESC}[31mter2-se${ESC}[0mcret`,
    'a cursor move of no width': `hunter2${ESC}[0K-secret`,
    'a title sequence': `hunter2${ESC}]0;x${ESC}\\-secret`,
    'backspaces over decoys': 'huX\bnter2-sZZ\b\becret',
    'a backspace right after the first character': 'hQ\bunter2-secret',
  };
  for (const [what, printed] of Object.entries(cases)) {
    test(`${what}: masked, with everything between its first and last byte`, () => {
      assert.equal(maskSecrets(`token=${printed}; done`, [secret]), 'token=***; done');
    });
  }

  test('escapes around a secret stay; text without a hidden secret is not touched', () => {
    assert.equal(maskSecrets(`${ESC}[32m${secret}${ESC}[0m`, [secret]), `${ESC}[32m***${ESC}[0m`);
    const harmless = `${ESC}[31mhunter2${ESC}[0m and a\bb`;
    assert.equal(maskSecrets(harmless, [secret]), harmless);
  });

  test('a backspace never reaches back into the line before', () => {
    assert.equal(maskSecrets(`hunter2-secre\n\bt`, [secret]), `hunter2-secre\n\bt`);
  });

  test('for random noise spliced into a secret, the masked text shows no secret', () => {
    const noise = fc.constantFrom(`${ESC}[0m`, `${ESC}[1;31m`, `${ESC}[2K`, `${ESC}]0;t${ESC}\\`, 'x\b', '');
    fc.assert(
      fc.property(fc.array(noise, { minLength: secret.length + 1, maxLength: secret.length + 1 }), (gaps) => {
        let printed = gaps[0] ?? '';
        for (let i = 0; i < secret.length; i++) printed += (secret[i] ?? '') + (gaps[i + 1] ?? '');
        const masked = maskSecrets(`a ${printed} b`, [secret]);
        assert.ok(!visibleText(masked).visible.includes(secret), JSON.stringify(masked));
      }),
    );
  });
});
