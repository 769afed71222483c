// Step output reaches the user's terminal: colours pass, nothing else that a terminal acts on.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { painter } from '../../engine/cli/reporters/format.ts';
import { liveReporter } from '../../engine/cli/reporters/live.ts';
import { plainReporter } from '../../engine/cli/reporters/plain.ts';
import { terminalText } from '../../engine/cli/reporters/terminal-text.ts';
import type { RunEvent } from '../../engine/events.ts';
import { fakeTerminal } from '../helpers/screen.ts';

const T = '2026-01-02T03:04:05.000Z';

/** C0 but tab, DEL and C1: what a terminal acts on. */
function controlCharacters(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && c !== '\t') || (code >= 0x7f && code <= 0x9f);
  });
}

const ESC = String.fromCharCode(0x1b);

/** Drops well-formed colour sequences (ESC [ digits ; : m), which are allowed through. */
function withoutColours(text: string): string {
  return text.replaceAll(new RegExp(`${ESC}\\[[0-9;:]*m`, 'g'), '');
}

/** Sequences a hostile step prints: each would act on the terminal if it got through. */
const ATTACKS = {
  'cursor up and erase (overwrites the status block)': '\x1b[3A\x1b[2K',
  'cursor position': '\x1b[1;1H',
  'alternate screen': '\x1b[?1049h',
  'clipboard write (OSC 52), BEL-terminated': '\x1b]52;c;ZXZpbA==\x07',
  'window title (OSC 0), ST-terminated': '\x1b]0;pwned\x1b\\',
  'window title (OSC 2), unterminated': '\x1b]2;pwned',
  'device control string': '\x1bPq#0;2;0;0;0\x1b\\',
  'C1 CSI (8-bit)': '\x9b2J',
  backspace: 'abc\x08\x08\x08xyz',
  'reset (RIS)': '\x1bc',
  bell: '\x07',
};

const tty = fakeTerminal;

const logEvent = (text: string): RunEvent => ({
  type: 'log',
  step: 'build',
  line: { seq: 1, time: T, stream: 'stdout', text },
});

describe('terminal text', () => {
  test('colours (SGR) pass unchanged; plain text is returned as it is', () => {
    const red = '\x1b[31mred\x1b[0m and \x1b[1;38;5;208mbold orange\x1b[m';
    assert.equal(terminalText(red), red);
    assert.equal(terminalText('plain\ttext ✓'), 'plain\ttext ✓');
  });

  for (const [what, attack] of Object.entries(ATTACKS)) {
    test(`${what} is shown, not obeyed`, () => {
      const shown = terminalText(`before ${attack} after`);
      assert.deepEqual(controlCharacters(shown), [], JSON.stringify(shown));
      assert.ok(shown.startsWith('before ') && shown.endsWith(' after'), shown);
    });
  }

  test('a progress bar redrawn with carriage returns shows its last state', () => {
    assert.equal(terminalText('10%\r50%\r100%'), '100%');
    assert.equal(terminalText('done\r'), 'done');
  });

  test('for any input, what comes out holds no control character but SGR sequences', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom(...Object.values(ATTACKS), '\x1b[31m', '\x1b', '\r'))),
        (parts) => {
          const shown = terminalText(parts.join(''));
          assert.deepEqual(controlCharacters(withoutColours(shown)), []);
        },
      ),
    );
  });
});

describe('reporters on a terminal', () => {
  test('the live view draws step output without its control sequences, colours kept', () => {
    const { out, text } = tty();
    const reporter = liveReporter(out, painter(false));
    const attacks = Object.values(ATTACKS);
    for (const attack of attacks) reporter.onEvent(logEvent(`x${attack}y`));
    reporter.onEvent(logEvent('\x1b[32mgreen\x1b[0m'));
    const shown = text();
    reporter.close();
    for (const attack of attacks) assert.ok(!shown.includes(attack), JSON.stringify(attack));
    assert.ok(shown.includes('build | \x1b[32mgreen\x1b[0m'));
    assert.ok(shown.includes('build | x␛]52;c;ZXZpbA==␇y'));
  });

  test('the plain reporter neutralises on a terminal and keeps the bytes in a pipe', () => {
    const attack = ATTACKS['clipboard write (OSC 52), BEL-terminated'];
    const terminal = tty();
    plainReporter(terminal.out, painter(false)).onEvent(logEvent(attack));
    assert.equal(terminal.text(), 'build | ␛]52;c;ZXZpbA==␇\n');

    const chunks: string[] = [];
    const pipe = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    plainReporter(pipe, painter(false)).onEvent(logEvent(attack));
    assert.equal(chunks.join(''), `build | ${attack}\n`);
  });
});
