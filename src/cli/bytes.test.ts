// bytes.ts: every byte string survives the plain escapes and the JSON encoding, and hex /
// base64 arguments are taken only in their canonical form.

import t from 'tap';
import { argBytes, checkArgvIsUtf8, escapeBytes, jsonPair } from './bytes.js';
import { prefixEnd } from '../api/key-range.js';

function unescape(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      out.push(...Buffer.from(ch, 'utf8'));
      i += ch.length - 1;
      continue;
    }
    const n = s[++i];
    if (n === 'x') {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push({ '\\': 0x5c, t: 0x09, n: 0x0a, r: 0x0d }[n as '\\']);
  }
  return Buffer.from(out);
}

t.test('plain escapes are reversible and hide nothing', async (t) => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(Array.from({ length: Math.floor(rnd() * 12) }, () => (rnd() < 0.5 ? Math.floor(rnd() * 256) : 0x20 + Math.floor(rnd() * 95))));
    const e = escapeBytes(b);
    if (!unescape(e).equals(b)) t.fail(`${b.toString('hex')} -> ${e}`);
    if (/[\x00-\x1f\x7f]/.test(e)) t.fail(`a control character got through: ${JSON.stringify(e)}`);
  }
  t.equal(escapeBytes(Buffer.from('a\u200fb\u202ec\u00add')), 'a\\xe2\\x80\\x8fb\\xe2\\x80\\xaec\\xc2\\xadd', 'invisible format characters are escaped');
  t.equal(escapeBytes(Buffer.from('héllo ✓ 𝄞')), 'héllo ✓ 𝄞', 'printable text stays as it is');
  const j = jsonPair(Buffer.from([0xff]), Buffer.from('v'));
  t.same(j, { key: '/w==', value: 'dg==', encoding: 'base64' }, 'JSON falls back to base64 for both when either is not UTF-8');
});

t.test('hex and base64 arguments: canonical only', async (t) => {
  t.same(argBytes('00ff', 'hex', 'k'), Buffer.from([0, 255]));
  t.throws(() => argBytes('0', 'hex', 'k'), { code: 'USAGE' });
  t.same(argBytes('QQ==', 'base64', 'k'), Buffer.from('A'));
  t.same(argBytes('QQ', 'base64', 'k'), Buffer.from('A'), 'padding may be left out');
  t.same(argBytes('_w', 'base64', 'k'), Buffer.from([0xff]), 'URL-safe alphabet');
  for (const bad of ['QR==', 'QQ=', 'QUJD==', 'a+_b', 'Q', '!!!!']) t.throws(() => argBytes(bad, 'base64', 'k'), { code: 'USAGE' }, `refused: ${bad}`);
});

t.test('argv altered by Node is refused, a real U+FFFD is not', async (t) => {
  const raw = (...args: Buffer[]) => () => Buffer.concat([Buffer.from('node\0/x/bin/tinykv\0'), ...args.flatMap((a) => [a, Buffer.of(0)])]);
  t.throws(() => checkArgvIsUtf8(['put', 'x\uFFFD', 'A'], raw(Buffer.from('put'), Buffer.from([0x78, 0xfe]), Buffer.from('A'))), { code: 'USAGE', message: /argument 'x\\xfe' is not valid UTF-8/ });
  t.doesNotThrow(() => checkArgvIsUtf8(['put', 'x\uFFFD', 'A'], raw(Buffer.from('put'), Buffer.from('x\uFFFD'), Buffer.from('A'))));
  t.throws(() => checkArgvIsUtf8(['get', '\uFFFD'], () => undefined), { code: 'USAGE' }, 'without /proc any U+FFFD is refused');
});

t.test('prefix ends', async (t) => {
  t.same(prefixEnd(Buffer.from('ab')), Buffer.from('ac'));
  t.same(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from('b'));
  t.same(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.alloc(0), 'all 0xff: to the end');
});
