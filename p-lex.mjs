import { readFileSync } from 'node:fs';
import { Lexer } from 'yaml';
const text = readFileSync(process.argv[2], 'utf8');
let t = performance.now(); let n = 0;
for (const tok of new Lexer().lex(text)) n++;
console.log('lex', Math.round(performance.now() - t), 'ms', n, 'tokens');
