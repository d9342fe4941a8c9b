// Keys and values are bytes; a terminal and argv are text. This file is the one place
// that converts between them, so that nothing is silently altered on the way in or out:
//
// - In: an argument is taken as UTF-8 text, or as hex / base64 with --hex / --base64. Node
//   decodes argv as UTF-8 and replaces bytes that are not UTF-8 with U+FFFD, so two
//   different binary keys could become the same key: such an argument is detected (from
//   the raw bytes in /proc/self/cmdline where there is one) and refused.
// - Out, plain: printable text as it is; a backslash as \\, tab \t, newline \n, carriage
//   return \r, other control characters and bytes that are not UTF-8 as \xNN. Unambiguous:
//   every output line maps back to exactly one byte string.
// - Out, JSON: strings when the bytes are valid UTF-8 (JSON escapes control characters),
//   otherwise base64, with an "encoding" field saying which.

import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export type ArgEncoding = 'utf8' | 'hex' | 'base64';

/** The encoding chosen by --hex / --base64 (refused together). */
export function argEncoding(o: { hex?: boolean; base64?: boolean }): ArgEncoding {
  if (o.hex && o.base64) throw new UsageError('--hex and --base64 cannot be used together');
  return o.hex ? 'hex' : o.base64 ? 'base64' : 'utf8';
}

/** The bytes an argument stands for; `what` names it in errors ("key", "value"...). */
export function argBytes(text: string, enc: ArgEncoding, what: string): Buffer {
  if (enc === 'hex') {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new UsageError(`${what} is not hex (pairs of 0-9a-f): ${JSON.stringify(short(text))}`);
    return Buffer.from(text, 'hex');
  }
  if (enc === 'base64') {
    // Canonical only (standard or URL-safe alphabet, not mixed; padding optional but right;
    // no stray bits): Node would otherwise decode malformed input to some bytes silently.
    const url = /[-_]/.test(text);
    const bytes = Buffer.from(text, url ? 'base64url' : 'base64');
    const again = bytes.toString(url ? 'base64url' : 'base64');
    const bare = (x: string) => x.replace(/=+$/, '');
    const padded = text.endsWith('=') ? text === (url ? `${again}${'='.repeat((4 - (again.length % 4)) % 4)}` : again) : true;
    if (bare(text) !== bare(again) || !padded) throw new UsageError(`${what} is not base64: ${JSON.stringify(short(text))}`);
    return bytes;
  }
  return Buffer.from(text, 'utf8');
}

/** Whether `b` is valid UTF-8. */
export function isUtf8(b: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Plain-output form of bytes (see the top of this file). */
export function escapeBytes(b: Uint8Array): string {
  let out = '';
  let i = 0;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  while (i < buf.length) {
    const c = buf[i]!;
    if (c === 0x5c) { out += '\\\\'; i++; continue; }
    if (c === 0x09) { out += '\\t'; i++; continue; }
    if (c === 0x0a) { out += '\\n'; i++; continue; }
    if (c === 0x0d) { out += '\\r'; i++; continue; }
    if (c < 0x20 || c === 0x7f) { out += hexByte(c); i++; continue; }
    if (c < 0x80) { out += String.fromCharCode(c); i++; continue; }
    const n = utf8SequenceLength(buf, i);
    if (n === 0) { out += hexByte(c); i++; continue; }
    const ch = buf.toString('utf8', i, i + n);
    const cp = ch.codePointAt(0)!;
    // C1 controls, and invisible format characters (bidi marks and overrides, zero-width
    // spaces, soft hyphens...) and line/paragraph separators that could disguise the output.
    out += (cp >= 0x80 && cp < 0xa0) || /[\p{Cf}\p{Zl}\p{Zp}]/u.test(ch) ? [...buf.subarray(i, i + n)].map(hexByte).join('') : ch;
    i += n;
  }
  return out;
}

const hexByte = (c: number) => `\\x${c.toString(16).padStart(2, '0')}`;

/** Length of the valid UTF-8 sequence starting at `i` (2-4), or 0 if there is none. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  const c1 = b[i + 1]!;
  if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
  if (c === 0xed && c1 > 0x9f) return 0; // surrogates
  if (c === 0xf0 && c1 < 0x90) return 0; // overlong
  if (c === 0xf4 && c1 > 0x8f) return 0; // beyond U+10FFFF
  return n;
}

/** Bytes in the output encoding chosen by --hex / --base64, or escaped text. */
export function showBytes(b: Uint8Array, enc: ArgEncoding): string {
  if (enc === 'hex') return Buffer.from(b).toString('hex');
  if (enc === 'base64') return Buffer.from(b).toString('base64');
  return escapeBytes(b);
}

/** JSON fields for a key (and value): UTF-8 strings when both are valid UTF-8, else base64. */
export function jsonPair(key: Uint8Array, value?: Uint8Array): Record<string, string> {
  const text = isUtf8(key) && (value === undefined || isUtf8(value));
  const enc = (b: Uint8Array) => (text ? Buffer.from(b).toString('utf8') : Buffer.from(b).toString('base64'));
  return { key: enc(key), ...(value !== undefined ? { value: enc(value) } : {}), encoding: text ? 'utf8' : 'base64' };
}

/**
 * Refuses argv that Node altered: an argument holding U+FFFD whose raw bytes (from
 * /proc/self/cmdline) are not valid UTF-8. Without /proc any U+FFFD is refused, since it
 * cannot be told apart.
 */
export function checkArgvIsUtf8(argv: readonly string[], cmdline: () => Buffer | undefined = readCmdline): void {
  const suspect = argv.map((a, i) => [a, i] as const).filter(([a]) => a.includes('\uFFFD'));
  if (suspect.length === 0) return;
  const raw = cmdline();
  const rawArgs = raw ? splitCmdline(raw) : undefined;
  for (const [arg, i] of suspect) {
    // argv and the raw list end with the same arguments (node's own flags come first).
    const rawArg = rawArgs ? rawArgs[rawArgs.length - (argv.length - i)] : undefined;
    if (rawArg && isUtf8(rawArg)) continue;
    const shown = rawArg ? escapeBytes(rawArg) : arg;
    throw new UsageError(`argument '${shown}' is not valid UTF-8 and would be altered; give binary keys and values with --hex or --base64`);
  }
}

function readCmdline(): Buffer | undefined {
  try {
    return readFileSync('/proc/self/cmdline');
  } catch {
    return undefined;
  }
}

function splitCmdline(raw: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      parts.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < raw.length) parts.push(raw.subarray(start));
  return parts;
}

const short = (s: string) => (s.length > 40 ? `${s.slice(0, 37)}...` : s);
