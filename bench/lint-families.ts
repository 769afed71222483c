// Families of hostile pipeline text, each grown to a given size: the shapes that make a YAML
// parser do the most work per byte (an error per token, a node per byte, a document per line).
// `bench/lint-worst.ts` times them at the 1 MiB limit; `bench/fuzz-loader.ts` mixes them in.

export interface Family {
  name: string;
  text: string;
}

/** `head`, then `unit` repeated until the text is about `size` characters, then `tail`. */
function flood(size: number, unit: string, head = '', tail = ''): string {
  const count = Math.max(0, Math.floor((size - head.length - tail.length) / unit.length));
  return head + unit.repeat(count) + tail;
}

/** Lines `make(i)` for i = 0, 1, ... until the text is about `size` characters or one is empty. */
function numbered(size: number, make: (i: number) => string, head = ''): string {
  const parts = [head];
  let length = head.length;
  for (let i = 0; length < size; i++) {
    const line = make(i);
    if (line === '' || length + line.length > size) break;
    parts.push(line);
    length += line.length;
  }
  return parts.join('');
}

/** An honest pipeline of about `size` characters: the baseline hostile input is compared to. */
export function honestPipeline(size: number): string {
  const head = 'version: 1\nenvironments:\n  node: {image: "node:20"}\nsteps:\n';
  const command = (i: number, j: number) =>
    `      - npm run task-${i}-${j} -- --flag=value --other=${'x'.repeat(40)}\n`;
  // 1000 steps is the most a file may hold: more commands per step fill the rest.
  const commands = Math.max(1, Math.floor(size / 1000 / command(999, 99).length) - 1);
  const step = (i: number) =>
    `  step-${i}:\n    environment: node\n    commands:\n${Array.from({ length: commands }, (_, j) => command(i, j)).join('')}    env: {A_${i}: "1", B_${i}: "two"}\n`;
  return numbered(size, (i) => (i < 1000 ? step(i) : ''), head);
}

/** Each family's generator, by name: text of about the size asked for. */
export const FAMILIES: ReadonlyArray<readonly [string, (size: number) => string]> = [
  ['flow-seq-commas', (size) => flood(size, ',\n', 'a: [')],
  ['flow-seq-commas-inline', (size) => flood(size, ',', 'a: [')],
  ['flow-map-commas', (size) => flood(size, ',\n', 'a: {')],
  ['flow-seq-colons', (size) => flood(size, ': ', 'a: [')],
  ['flow-seq-items', (size) => flood(size, 'x,', 'a: [', ']\n')],
  ['flow-map-items', (size) => flood(size, 'k: v, ', 'a: {', '}\n')],
  ['flow-closers', (size) => flood(size, ']')],
  ['flow-closers-braces', (size) => flood(size, '}\n')],
  ['flow-pairs', (size) => flood(size, '[a: b], ', 'a: [', ']\n')],
  ['question-marks', (size) => flood(size, '? ')],
  ['question-lines', (size) => flood(size, '? \n')],
  ['question-keys', (size) => numbered(size, (i) => `? k${i}\n: v\n`)],
  ['colons', (size) => flood(size, ': ')],
  ['colon-lines', (size) => flood(size, ':\n')],
  ['dash-lines', (size) => flood(size, '- \n')],
  ['dash-items', (size) => flood(size, '- x\n', 'a:\n')],
  ['anchors', (size) => flood(size, '&a ')],
  ['anchor-lines', (size) => numbered(size, (i) => `k${i}: &a${i} v\n`)],
  ['aliases', (size) => flood(size, '*a, ', 'a: &a x\nb: [', ']\n')],
  ['alias-lines', (size) => flood(size, '- *a\n', 'a: &a x\nb:\n')],
  ['tags', (size) => flood(size, '!t ')],
  ['tag-lines', (size) => flood(size, '- !!str x\n', 'a:\n')],
  ['documents', (size) => flood(size, '---\n')],
  ['document-ends', (size) => flood(size, '...\n')],
  ['documents-with-content', (size) => flood(size, '---\na: 1\n')],
  ['directives', (size) => flood(size, '%YAML 1.2\n')],
  ['deep-allowed-flow', (size) => flood(size, `${'['.repeat(60)}${']'.repeat(60)}\n`, 'a:\n- ')],
  ['deep-allowed-block', (size) => numbered(size, (i) => `${'- '.repeat(60)}x${i}\n`)],
  ['deep-allowed-maps', (size) => numbered(size, (i) => `k${i}: {${'a: {'.repeat(58)}${'}'.repeat(59)}\n`)],
  ['long-plain-scalar', (size) => flood(size, 'x', 'a: ')],
  ['long-quoted-scalar', (size) => flood(size, 'x', 'a: "', '"\n')],
  ['long-folded-lines', (size) => flood(size, ' x\n', 'a: >\n')],
  ['many-keys', (size) => numbered(size, (i) => `k${i}: v\n`)],
  ['many-flow-keys', (size) => numbered(size, (i) => `k${i}: v, `, 'a: {')],
  ['duplicate-keys', (size) => flood(size, 'a: 1\n')],
  ['duplicate-flow-keys', (size) => flood(size, 'a: 1, ', 'x: {', '}\n')],
  ['tabs', (size) => flood(size, '\t')],
  ['tab-indents', (size) => flood(size, '\ta: 1\n')],
  ['tab-values', (size) => flood(size, '\t', 'a:')],
  ['unterminated-double', (size) => flood(size, 'x\n', 'a: "')],
  ['unterminated-single', (size) => flood(size, "x'' ", "a: '")],
  ['double-quotes', (size) => flood(size, '"')],
  ['single-quotes', (size) => flood(size, "'")],
  ['quote-lines', (size) => flood(size, '"\n')],
  ['comments', (size) => flood(size, '# comment\n')],
  ['comment-after-flow', (size) => flood(size, '[ #\n', 'a: ')],
  ['block-scalars', (size) => flood(size, '|\n')],
  ['block-scalar-keys', (size) => numbered(size, (i) => `k${i}: |\n  x\n`)],
  ['bad-indents', (size) => numbered(size, (i) => `${' '.repeat(i % 7)}k${i}: v\n`)],
  ['empty-keys', (size) => flood(size, ': v\n')],
  ['json-keys', (size) => flood(size, '"a":1,', '{', '}\n')],
  ['escapes', (size) => flood(size, '\\x', 'a: "', '"\n')],
  ['bad-escapes', (size) => flood(size, '\\q', 'a: "', '"\n')],
  ['crlf', (size) => flood(size, 'a: 1\r\n')],
  ['mixed-noise', (size) => flood(size, '[{? : - &a *a !t "\' | > # ,\n')],
];

/** The honest baseline first, then every hostile family, each of about `size` characters. */
export function pathologicalFamilies(size: number): Family[] {
  const hostile = FAMILIES.map(([name, make]) => ({ name, text: make(size) }));
  return [{ name: 'honest', text: honestPipeline(size) }, ...hostile];
}
