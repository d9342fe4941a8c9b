// parsePlainYaml must never disagree with the yaml library: wherever it returns a value,
// that is the library's value for the same text. Checked on the project's own cluster
// file, on hand-picked edge cases, and on thousands of generated documents mixing the
// subset with what lies outside it. The planted bug (typed scalars read as strings) must
// be caught by the same generated documents.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse as yamlParse } from 'yaml';
import { seededRng, type Rng } from '../util/rng.js';
import { parsePlainYaml, type PlainYamlOptions } from './plain-yaml.js';

/** The library's reading, as load.ts asks for it (duplicate keys are an error); undefined on an error. */
function library(text: string): unknown {
  try {
    return yamlParse(text, { uniqueKeys: true });
  } catch {
    return undefined;
  }
}

/** undefined when they agree (or plain declined), else a description of the disagreement. */
function disagreement(text: string, o: PlainYamlOptions = {}): string | undefined {
  const plain = parsePlainYaml(text, o);
  if (plain === undefined) return undefined;
  const lib = library(text);
  if (JSON.stringify(plain) === JSON.stringify(lib)) return undefined;
  return `plain ${JSON.stringify(plain)} vs library ${JSON.stringify(lib)} for:\n${text}`;
}

t.test('the project cluster file takes the plain path and reads as the library reads it', async (t) => {
  const text = readFileSync(new URL('../../config/cluster.yaml', import.meta.url), 'utf8');
  const plain = parsePlainYaml(text);
  t.not(plain, undefined, 'inside the subset: a key command does not load the library');
  t.same(plain, library(text));
});

t.test('the subset', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['a: 1', { a: 1 }],
    ['a: -12\nb: 0', { a: -12, b: 0 }],
    ['a: true\nb: false', { a: true, b: false }],
    ['a:\nb: x', { a: null, b: 'x' }],
    ['data_dir: ../data  # where\n# comment\n\nx: 127.0.0.1:20161', { data_dir: '../data', x: '127.0.0.1:20161' }],
    ['s:\n- id: 1\n  addr: h:1\n- id: 2\n  addr: h:2', { s: [{ id: 1, addr: 'h:1' }, { id: 2, addr: 'h:2' }] }],
    ['s:\n    -   id: 1\n        addr: h:1\n    - 7\n', { s: [{ id: 1, addr: 'h:1' }, 7] }],
    ['r:\n  tick_ms: 100\n  deep:\n    x: y\nz: 1', { r: { tick_ms: 100, deep: { x: 'y' } }, z: 1 }],
    ['  a: 1\n  b: 2', { a: 1, b: 2 }],
    ['k: v:1', { k: 'v:1' }],
    ['k: 12:30', { k: '12:30' }],
    ['k: 1_000', { k: '1_000' }],
  ];
  for (const [text, want] of cases) {
    t.same(parsePlainYaml(text), want, JSON.stringify(text));
    t.same(library(text), want, `the library agrees: ${JSON.stringify(text)}`);
  }
});

t.test('outside the subset: left to the library', async (t) => {
  const outside = [
    '', '# only a comment', 'a: "quoted"', "a: 'quoted'", 'a: [1, 2]', 'a: {b: 1}', 'a: &x 1\nb: *x', 'a: !!str 1',
    'a: |\n  text', 'a: >\n  text', 'a: 1.5', 'a: 1e3', 'a: 012', 'a: 0x1F', 'a: 0o17', 'a: .inf', 'a: -.inf', 'a: .nan',
    'a: null', 'a: ~', 'a: Null', 'a: True', 'a: FALSE', 'a: +1', 'a: two words', 'a: x#y', 'a:b', 'a: x:',
    'a: 1\na: 2', '---\na: 1', 'a: 1\n...', '%YAML 1.2\n---\na: 1', 'a:\tb', 'a: 1\r\nb: 2', '\uFEFFa: 1',
    '- 1\n- - 2', 'a:\n  - 1\n   - 2', 'a:\n  b: 1\n c: 2', 'a: 1\n  b: 2', '-', 'a:\n-\n  b: 1', 'a: -x', 'a: @x',
    'a: 1234567890123456', 'just a scalar', '? complex key\n: v', '"q": 1', 'a b: 1',
    // Found in review: keys the library types, a key a plain object cannot hold, and
    // whitespace that JavaScript trims but YAML keeps.
    'TRUE: 1', 'True: 1', 'true: 1\nTrue: 2', 'null: 1', 'Null: x', 'NULL:', '__proto__: x', '__proto__:\n  max_key_bytes: 7',
    '- null: 1', '\u00a0a: 1', 'a: 1\u00a0', 'a: 1\u000b', 'a: 1\u000c', 'a: x\u2028', '\u2028a: 1',
  ];
  for (const text of outside) t.equal(parsePlainYaml(text), undefined, shown(text));
});

// Documents built from pieces inside and outside the subset, in random shapes.
const SCALARS = [
  '0', '1', '7', '-3', '42', '100', '012', '1.5', '.5', '1e3', '0x1F', '0o7', '+1', '-0', '1_000', '12:30', 'true', 'false', 'True',
  'FALSE', 'null', 'Null', '~', 'yes', 'no', 'on', 'off', 'y', 'n', '.inf', '-.inf', '.nan', '.NaN', 'x', 'abc', 'store-1', '../data',
  './d', '/var/lib/tinykv', '127.0.0.1:20161', 'localhost:1', '[::1]:5', 'a:b', 'a:', ':a', 'a@b', 'a+b', 'a.b.c', '1.2.3', '1.2.3.4',
  '"q"', "'q'", '[1]', '{a: 1}', '&a x', '*a', '!t x', 'a #c', 'a#c', 'two words', '-', '- x', '?', '%', '`x`', 'é',
  '1\u00a0', '\u00a0x', 'x\u000b', 'x\u000cy', 'x\u2028', 'x\u0085',
];
const KEYS = ['id', 'addr', 'data_dir', 'stores', 'raft', 'tick_ms', 'x', 'y', 'join', 'a_b', 'K9'];
/** Keys the library types, or that an object holds specially: now and then. */
const ODD_KEYS = ['true', 'True', 'TRUE', 'null', 'Null', 'NULL', 'on', '__proto__', 'constructor', 'toString', 'Inf'];

/** A test name for `text`, with the line separators JSON.stringify leaves raw escaped. */
function shown(text: string): string {
  return JSON.stringify(text).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.intBetween(0, xs.length)]!;
}

function genMapping(rng: Rng, indent: number, depth: number, out: string[]): void {
  const used = new Set<string>();
  const n = rng.intBetween(1, 4);
  for (let i = 0; i < n; i++) {
    let key = rng.next() < 0.04 ? pick(rng, ODD_KEYS) : pick(rng, KEYS);
    if (used.has(key) && rng.next() < 0.9) continue; // sometimes a duplicate key
    used.add(key);
    if (rng.next() < 0.03) key = `${key} ${key}`;
    const pad = ' '.repeat(indent);
    const r = rng.next();
    if (depth < 3 && r < 0.2) {
      out.push(`${pad}${key}:`);
      genMapping(rng, indent + pick(rng, [2, 4, 1]), depth + 1, out);
    } else if (depth < 3 && r < 0.4) {
      out.push(`${pad}${key}:`);
      genSequence(rng, indent + pick(rng, [0, 2, 4]), depth + 1, out);
    } else {
      const comment = rng.next() < 0.2 ? '  # note' : '';
      out.push(`${pad}${key}: ${pick(rng, SCALARS)}${comment}`);
    }
    if (rng.next() < 0.1) out.push(rng.next() < 0.5 ? '' : `${pad}# a comment`);
  }
}

function genSequence(rng: Rng, indent: number, depth: number, out: string[]): void {
  const n = rng.intBetween(1, 4);
  const pad = ' '.repeat(indent);
  for (let i = 0; i < n; i++) {
    if (depth < 3 && rng.next() < 0.6) {
      const sub: string[] = [];
      const gap = pick(rng, [1, 1, 1, 3]);
      genMapping(rng, indent + 1 + gap, depth + 1, sub);
      // The first key goes on the dash line.
      sub[0] = `${pad}-${' '.repeat(gap)}${sub[0]!.trimStart()}`;
      out.push(...sub);
    } else {
      out.push(`${pad}- ${pick(rng, SCALARS)}`);
    }
  }
}

function genDocument(rng: Rng): string {
  const lines: string[] = [];
  genMapping(rng, rng.next() < 0.1 ? 2 : 0, 0, lines);
  return lines.join('\n') + (rng.next() < 0.5 ? '\n' : '');
}

t.test('generated documents: the plain reader never disagrees with the library', async (t) => {
  const rng = seededRng(20261206);
  let plainTaken = 0;
  const N = 4000;
  for (let i = 0; i < N; i++) {
    const text = genDocument(rng);
    const d = disagreement(text);
    if (d !== undefined) {
      t.fail(d);
      return;
    }
    if (parsePlainYaml(text) !== undefined) plainTaken++;
  }
  t.pass(`${N} documents agree`);
  // Both paths must be well exercised for the check to mean something.
  t.ok(plainTaken > N * 0.1, `the plain reader took ${plainTaken} of ${N}`);
  t.ok(plainTaken < N * 0.9, `and left ${N - plainTaken} to the library`);
});

t.test('the planted bug (typed scalars read as strings) is caught by the generated documents', async (t) => {
  const rng = seededRng(20261206);
  let caught: string | undefined;
  for (let i = 0; i < 4000 && caught === undefined; i++) caught = disagreement(genDocument(rng), { deliberateBug: 'typedScalarsAsStrings' });
  t.not(caught, undefined, 'a disagreement is found');
});
