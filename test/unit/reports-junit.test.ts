import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeEntities, type JunitTests, parseJunit } from '../../engine/reports/junit.ts';

function fixture(name: string): JunitTests {
  const result = parseJunit(readFileSync(new URL(`../fixtures/junit/${name}`, import.meta.url), 'utf8'));
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.tests;
}

function counts(tests: JunitTests) {
  const { failed: _failed, ...rest } = tests;
  return rest;
}

function refusal(xml: string, limits = {}): string {
  const result = parseJunit(xml, limits);
  assert.equal(result.ok, false);
  return result.ok ? '' : result.error;
}

describe('JUnit reports from real tools', () => {
  test('pytest 9 (testsuites > testsuite, failure and error with text, system-out per case)', () => {
    const tests = fixture('pytest.xml');
    assert.deepEqual(counts(tests), { tests: 7, failures: 2, errors: 1, skipped: 1, duration_ms: 22 });
    assert.deepEqual(
      tests.failed.map((f) => [f.suite, f.classname, f.name, f.message.split('\n')[0]]),
      [
        ['ml-tests', 'test_sample', 'test_division_rounds', 'assert (7 / 2) == 3'],
        [
          'ml-tests',
          'test_sample',
          'test_uses_database',
          'failed on setup with "RuntimeError: database is not reachable"',
        ],
        [
          'ml-tests',
          'test_sample.TestParser',
          'test_escapes[a<b]',
          "AssertionError: assert '<' not in 'a<b'",
        ],
      ],
    );
    const division = tests.failed[0]!;
    assert.match(division.output ?? '', />\s+assert 7 \/ 2 == 3/);
    assert.match(division.output ?? '', /Captured Out[\s\S]*computing 7 \/ 2/);
  });

  test('pytest before 5.1 (a bare testsuite)', () => {
    const tests = fixture('pytest-legacy.xml');
    assert.deepEqual(counts(tests), { tests: 4, failures: 1, errors: 0, skipped: 1, duration_ms: 61 });
    assert.deepEqual(tests.failed, [
      {
        suite: 'pytest',
        name: 'test_create_user',
        classname: 'tests.test_api',
        message: "KeyError: 'id'",
        output: tests.failed[0]?.output,
      },
    ]);
    assert.match(tests.failed[0]?.output ?? '', /response\.json\["id"\] == 1/);
  });

  test('Maven Surefire (error, skipped, system-out, a flaky failure that passed)', () => {
    const tests = fixture('surefire.xml');
    assert.deepEqual(counts(tests), { tests: 6, failures: 1, errors: 1, skipped: 1, duration_ms: 184 });
    const [failure, error] = tests.failed;
    assert.equal(failure?.name, 'appliesDiscount');
    assert.equal(failure?.suite, 'com.example.billing.InvoiceServiceTest');
    assert.equal(failure?.message, 'expected: <90.00> but was: <100.00>');
    assert.match(failure?.output ?? '', /^org\.opentest4j\.AssertionFailedError: expected: <90\.00>/);
    assert.match(failure?.output ?? '', /applying discount code SPRING10/);
    assert.equal(error?.name, 'rejectsNegativeQuantity');
    assert.equal(
      error?.message,
      'Cannot invoke "com.example.billing.Customer.getTier()" because "customer" is null',
    );
    assert.match(error?.output ?? '', /customer lookup returned no row/);
  });

  test('jest-junit (failures as text only)', () => {
    const tests = fixture('jest-junit.xml');
    assert.deepEqual(counts(tests), { tests: 6, failures: 2, errors: 0, skipped: 1, duration_ms: 2318 });
    assert.deepEqual(
      tests.failed.map((f) => [f.suite, f.name, f.message]),
      [
        ['cart', 'cart applies a coupon', 'Error: expect(received).toBe(expected) // Object.is equality'],
        ['checkout', 'checkout charges the card', 'Error: thrown: "Exceeded timeout of 500 ms for a test.'],
      ],
    );
    assert.match(tests.failed[0]?.output ?? '', /Expected: 45\nReceived: 50/);
    assert.match(tests.failed[0]?.output ?? '', /new Promise \(<anonymous>\)/);
  });

  test('jest-junit, real output of jest 30 with jest-junit', () => {
    const tests = fixture('jest-junit-real.xml');
    assert.equal(tests.tests, 4);
    assert.equal(tests.failures, 1);
    assert.equal(tests.skipped, 1);
    assert.deepEqual(
      tests.failed.map((f) => [f.suite, f.name, f.message]),
      [['math', 'math divides', 'Error: expect(received).toBe(expected) // Object.is equality']],
    );
    assert.match(tests.failed[0]?.output ?? '', /Expected: 0.25\nReceived: 0.5/);
  });

  test("Node's --test-reporter=junit (nested suites, cases at the top, skip and todo)", () => {
    const tests = fixture('node-test.xml');
    assert.deepEqual(counts(tests), { tests: 6, failures: 2, errors: 0, skipped: 2, duration_ms: 3 });
    const byName = new Map(tests.failed.map((f) => [f.name, f]));
    assert.equal(byName.get('subtracts')?.suite, 'math');
    assert.equal(byName.get('subtracts')?.message, 'Expected values to be strictly equal:2 !== 1');
    assert.match(byName.get('subtracts')?.output ?? '', /TestContext\.<anonymous>/);
    assert.equal(byName.get('top-level throws')?.suite, '');
    assert.equal(byName.get('top-level throws')?.message, 'cannot read properties of undefined');
  });
});

describe('JUnit reports: tolerance and refusals', () => {
  test('a nested suite path is kept, and counts ignore what the suites claim', () => {
    const result = parseJunit(
      '<testsuites><testsuite name="a" tests="99" failures="0"><testsuite name="b"><testcase name="t" classname="c" time="0.25"><error/></testcase></testsuite></testsuite></testsuites>',
    );
    assert.deepEqual(result, {
      ok: true,
      tests: {
        tests: 1,
        failures: 0,
        errors: 1,
        skipped: 0,
        duration_ms: 250,
        failed: [{ suite: 'a > b', name: 't', classname: 'c', message: 'error' }],
      },
    });
  });

  test('a DOCTYPE is refused before any entity can expand', () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><testsuite><testcase name="&lol2;"/></testsuite>`;
    assert.match(refusal(lol), /DOCTYPE or entities/);
    assert.match(refusal('<!DOCTYPE x SYSTEM "file:///etc/passwd"><testsuite/>'), /DOCTYPE/);
  });

  test('size: over the cap is refused', () => {
    assert.match(
      refusal(`<testsuite>${' '.repeat(100)}</testsuite>`, { maxBytes: 64 }),
      /larger than 64 bytes/,
    );
    const huge = `<testsuite>${' '.repeat(32 * 1024 * 1024)}</testsuite>`;
    assert.match(refusal(huge), /larger than 33554432 bytes/);
  });

  test('not XML, or not JUnit, is refused with a reason', () => {
    assert.match(refusal('<testsuite><testcase></testsuite>'), /not well-formed XML/);
    assert.match(refusal('just text'), /not well-formed XML|no <testsuites>/);
    assert.match(refusal('<results><test/></results>'), /no <testsuites> or <testsuite>/);
  });

  test('deep nesting is refused, not walked', () => {
    const depth = 500;
    const xml = `<testsuites>${'<testsuite name="s">'.repeat(depth)}${'</testsuite>'.repeat(depth)}</testsuites>`;
    assert.match(refusal(xml), /nest|tag/i);
  });

  test('the failed list and outputs are capped, the counts are not', () => {
    const cases = Array.from(
      { length: 20 },
      (_, i) => `<testcase name="t${i}"><failure message="m${i}">${'x'.repeat(100)}</failure></testcase>`,
    );
    const result = parseJunit(`<testsuite name="s">${cases.join('')}</testsuite>`, {
      failedTests: 5,
      outputChars: 10,
    });
    assert.ok(result.ok);
    assert.equal(result.tests.failures, 20);
    assert.equal(result.tests.failed.length, 5);
    assert.match(result.tests.failed[0]?.output ?? '', /^x{10}\n\.\.\. \(cut at 10 characters\)$/);
  });

  test('entities are decoded once: &amp;lt; stays &lt;', () => {
    assert.equal(
      decodeEntities('a &lt;b&gt; &amp;lt; &#65;&#x42; &quot;&apos; &bogus; &#0;'),
      'a <b> &lt; AB "\' &bogus; &#0;',
    );
  });
});
