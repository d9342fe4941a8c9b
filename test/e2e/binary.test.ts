// Keys and values are bytes, and the CLI must never alter them (src/cli/bytes.ts): argv
// that is not UTF-8 is refused (it used to be silently turned into U+FFFD, so two
// different keys collided), binary keys and values go in as hex or base64 and come back
// byte for byte in every output format, plain output escapes tabs, newlines and terminal
// escapes so that each pair stays one parseable line, and a 2 MB value from stdin
// round-trips.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { bin, makeCluster } from './helpers.js';

/** Undoes the plain output's escapes (\\, \t, \n, \r, \xNN); throws on anything else after a backslash. */
function unescape(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = String.fromCodePoint(s.codePointAt(i)!);
    if (ch !== '\\') {
      out.push(...Buffer.from(ch, 'utf8'));
      i += ch.length - 1; // a surrogate pair is one character
      continue;
    }
    const n = s[++i];
    if (n === '\\') out.push(0x5c);
    else if (n === 't') out.push(0x09);
    else if (n === 'n') out.push(0x0a);
    else if (n === 'r') out.push(0x0d);
    else if (n === 'x') {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`bad escape \\${n} in ${JSON.stringify(s)}`);
  }
  return Buffer.from(out);
}

const PAIRS: [Buffer, Buffer][] = [
  [Buffer.from('x\xfe', 'latin1'), Buffer.from('A')],
  [Buffer.from('x\xff', 'latin1'), Buffer.from('B')],
  [Buffer.from('tab\there\nnewline'), Buffer.from('v\twith\ttabs\r\n')],
  [Buffer.from('esc\x1b[31mred'), Buffer.from([0, 1, 2, 0x7f, 0x80, 0xc3])],
  [Buffer.from('back\\slash'), Buffer.from('héllo wörld ✓ 𝄞')],
  [Buffer.from([0xe2, 0x80, 0xae, 0x61]), Buffer.from('right-to-left override')],
];

t.test('binary keys and values through put, get and scan, in every output format', async (t) => {
  const c = await makeCluster(t, { maxValueBytes: 4 * 1024 * 1024 });
  await c.ok('cluster', 'up');

  // argv that is not UTF-8: refused, not altered (run through a shell to pass raw bytes).
  const { TINYKV_CONFIG: _ignored, NODE_OPTIONS: _no, ...env } = process.env;
  const raw = await execa('bash', ['-c', `"${process.execPath}" "${bin}" -c "${c.file}" put $'x\\xfe' A`], { reject: false, env, extendEnv: false });
  t.equal(raw.exitCode, 2, 'a key that is not UTF-8 on the command line: exit 2');
  t.match(raw.stderr, /^tinykv: argument 'x\\xfe' is not valid UTF-8 and would be altered; give binary keys and values with --hex or --base64$/);

  for (const [k, v] of PAIRS) await c.ok('put', '--hex', k.toString('hex'), v.toString('hex'));
  const byKey = new Map(PAIRS.map(([k, v]) => [k.toString('hex'), v.toString('hex')]));
  for (const [k, v] of PAIRS) {
    t.equal((await c.ok('get', '--hex', k.toString('hex'))).stdout, `${v.toString('hex')}\n`, `get --hex ${k.toString('hex')}`);
    t.equal((await c.ok('get', '--base64', k.toString('base64'))).stdout, `${v.toString('base64')}\n`, 'get --base64');
    const plain = (await c.ok('get', '--hex', k.toString('hex'), '-w', 'simple')).stdout;
    t.equal(plain, `${v.toString('hex')}\n`, 'with --hex the plain output is hex too');
  }
  t.not(byKey.get('78fe'), byKey.get('78ff'), 'x\\xfe and x\\xff are two keys (they used to collide)');

  // Plain scan: one line per pair, every byte recoverable, no raw control characters.
  const simple = (await c.ok('scan', '')).stdout;
  const lines = simple.split('\n').slice(0, -1);
  t.equal(lines.length, PAIRS.length, 'one line per pair, whatever the bytes');
  t.notMatch(simple, /[\x00-\x08\x0b-\x1f\x7f\u202e]/, 'no control characters or bidi overrides reach the terminal');
  const fromPlain = new Map(lines.map((l) => {
    const [k, v, extra] = l.split('\t');
    t.equal(extra, undefined, `exactly one tab in ${JSON.stringify(l)}`);
    return [unescape(k!).toString('hex'), unescape(v!).toString('hex')];
  }));
  t.same(fromPlain, byKey, 'plain output maps back to the exact bytes');

  const table = (await c.ok('scan', '', '-w', 'table')).stdout.split('\n');
  t.match(table[0], /^KEY +VALUE$/, 'table header');
  t.equal(table.length - 2, PAIRS.length, 'table: one row per pair');

  const json = (await c.ok('scan', '', '-w', 'json')).stdout.split('\n').slice(0, -1)
    .map((l) => JSON.parse(l) as { key: string; value: string; encoding: 'utf8' | 'base64' });
  const fromJson = new Map(json.map((o) => [Buffer.from(o.key, o.encoding).toString('hex'), Buffer.from(o.value, o.encoding).toString('hex')]));
  t.same(fromJson, byKey, 'JSON output carries the exact bytes (UTF-8 strings, or base64 with encoding "base64")');
  t.ok(json.some((o) => o.encoding === 'utf8') && json.some((o) => o.encoding === 'base64'), 'both encodings occur');
  t.same(JSON.parse((await c.ok('scan', '', '--json', '--count-only')).stdout), { count: PAIRS.length }, '--count-only');
  const b64 = (await c.ok('scan', '', '--base64')).stdout.split('\n').slice(0, -1).map((l) => l.split('\t'));
  t.same(new Map(b64.map(([k, v]) => [Buffer.from(k!, 'base64').toString('hex'), Buffer.from(v!, 'base64').toString('hex')])), byKey, '--base64 output');
  const prefixed = (await c.ok('scan', '--hex', '78', '--prefix', '--keys-only')).stdout;
  t.equal(prefixed, '78fe\n78ff\n', '--prefix with --keys-only');

  // --raw: the exact bytes; a 2 MB value from stdin, and from a file.
  const big = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919 + (i >> 11)) & 0xff;
  const file = join(c.dir, 'big.bin');
  writeFileSync(file, big);
  const put = await execa('bash', ['-c', `"${process.execPath}" "${bin}" -c "${c.file}" put big - < "${file}"`], { reject: false, env, extendEnv: false });
  t.equal(put.exitCode, 0, `put big - < 2 MB file (${put.stderr.trim()})`);
  const out = join(c.dir, 'out.bin');
  const got = await execa('bash', ['-c', `"${process.execPath}" "${bin}" -c "${c.file}" get big --raw > "${out}"`], { reject: false, env, extendEnv: false });
  t.equal(got.exitCode, 0, 'get --raw');
  t.ok(readFileSync(out).equals(big), 'the 2 MB value round-trips byte for byte through stdin and --raw');
  await c.ok('put', 'fromfile', '--file', file);
  t.ok(Buffer.from((await c.ok('get', '--base64', Buffer.from('fromfile').toString('base64'))).stdout.trim(), 'base64').equals(big), 'and through --file and --base64');

  const missing = await c.cli('put', 'k', '--file', join(c.dir, 'nope'));
  t.equal(missing.code, 2, '--file that does not exist: exit 2');
  t.match(missing.stderr, /--file .*nope: no such file/);
  const both = await c.cli('put', 'k', 'v', '--file', file);
  t.equal(both.code, 2, 'a value and --file: exit 2');
  const badHex = await c.cli('get', '--hex', 'zz');
  t.equal(badHex.code, 2, 'a key that is not hex: exit 2');
  await c.ok('cluster', 'down');
});
