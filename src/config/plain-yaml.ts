// A reader for the plain subset of YAML that cluster files are written in: block mappings
// and block sequences by indentation, `#` comments, and plain scalars that are decimal
// integers, true/false, or simple unquoted strings (addresses, paths, ids). It returns
// undefined for anything outside that subset — quotes, flow collections, anchors, tags,
// multi-line scalars, floats, tabs, duplicate keys — and the caller then uses the `yaml`
// library, which also reports malformed files. Where it returns a value, it is the value
// the library gives (plain-yaml.test.ts checks this on many generated files).
//
// Why: a key command reads the cluster file on every call, and the library's first parse
// in a fresh process costs ~4 ms of a `tinykv get` whose whole budget is ~30 ms on top of
// Node's own start-up; this reader takes well under 1 ms.

interface Line {
  readonly indent: number;
  /** The line without its indentation and comment, trailing spaces removed. */
  readonly text: string;
}

/** Outside the subset: the caller falls back to the full parser. */
class NotPlain extends Error {}

export interface PlainYamlOptions {
  /**
   * Tests only: read scalars the library types as null, booleans or floats as strings,
   * which plain-yaml.test.ts must catch.
   */
  readonly deliberateBug?: 'typedScalarsAsStrings';
}

export function parsePlainYaml(text: string, o: PlainYamlOptions = {}): unknown {
  try {
    const lines = splitLines(text);
    if (lines.length === 0) return undefined;
    const reader: Reader = { lines, at: 0, bug: o.deliberateBug !== undefined };
    const value = parseBlock(reader, lines[0]!.indent);
    if (reader.at !== lines.length) throw new NotPlain();
    return value;
  } catch (err) {
    if (err instanceof NotPlain) return undefined;
    throw err;
  }
}

function splitLines(text: string): Line[] {
  // Printable ASCII and newlines only: YAML's whitespace is the space (and the tab, left
  // to the library), so JavaScript's wider idea of whitespace (NBSP, \v, U+2028…) must
  // never be trimmed here; anything else (tabs, CR, a BOM, non-ASCII) goes to the library.
  if (/[^\n\x20-\x7e]/.test(text)) throw new NotPlain();
  const out: Line[] = [];
  for (const raw of text.split('\n')) {
    const indent = /^ */.exec(raw)![0].length;
    let body = raw.slice(indent);
    // A comment starts at a '#' that begins the content or follows a space; any other '#'
    // would belong to a scalar, which this reader leaves to the library.
    const hash = body.startsWith('#') ? 0 : body.indexOf(' #');
    if (hash >= 0) body = body.slice(0, hash);
    body = body.replace(/ +$/, '');
    if (body === '') continue;
    if (body.includes('#')) throw new NotPlain();
    // Directives and document markers.
    if (indent === 0 && (body.startsWith('%') || body.startsWith('---') || body.startsWith('...'))) throw new NotPlain();
    out.push({ indent, text: body });
  }
  return out;
}

interface Reader {
  readonly lines: readonly Line[];
  at: number;
  readonly bug: boolean;
}

function isSequenceEntry(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** A mapping or a sequence whose entries start at column `indent`. */
function parseBlock(r: Reader, indent: number): unknown {
  const first = r.lines[r.at]!;
  if (first.indent !== indent) throw new NotPlain();
  return isSequenceEntry(first.text) ? parseSequence(r, indent) : parseMapping(r, indent, first.text);
}

function parseSequence(r: Reader, indent: number): unknown[] {
  const items: unknown[] = [];
  while (r.at < r.lines.length) {
    const line = r.lines[r.at]!;
    if (line.indent < indent) break;
    if (line.indent > indent || !isSequenceEntry(line.text)) throw new NotPlain();
    if (line.text === '-') throw new NotPlain(); // an entry on the following lines
    const rest = line.text.slice(2);
    const content = rest.replace(/^ +/, '');
    const column = indent + 2 + (rest.length - content.length);
    if (isSequenceEntry(content)) throw new NotPlain(); // a sequence in a sequence
    if (splitKey(content) !== undefined) {
      // "- key: value": a mapping whose keys line up with this first one.
      items.push(parseMapping(r, column, content));
    } else {
      items.push(scalar(content, r.bug));
      r.at++;
    }
  }
  return items;
}

/**
 * A mapping at column `indent`. Its first line may be the rest of a sequence entry
 * ("- id: 1"), given as `firstText`; every other key stands on a line of its own.
 */
function parseMapping(r: Reader, indent: number, firstText: string): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  let text = firstText;
  for (;;) {
    const entry = splitKey(text);
    if (!entry) throw new NotPlain();
    const [key, valueText] = entry;
    if (Object.prototype.hasOwnProperty.call(map, key)) throw new NotPlain(); // the library refuses it
    r.at++;
    if (valueText !== '') {
      map[key] = scalar(valueText, r.bug);
    } else {
      const next = r.lines[r.at];
      if (next && next.indent > indent) map[key] = parseBlock(r, next.indent);
      // A sequence may sit at its key's own indentation ("stores:" then "- id: 1").
      else if (next && next.indent === indent && isSequenceEntry(next.text)) map[key] = parseSequence(r, indent);
      else map[key] = null;
    }
    const next = r.lines[r.at];
    if (!next || next.indent < indent) return map;
    if (next.indent > indent || isSequenceEntry(next.text)) throw new NotPlain();
    text = next.text;
  }
}

/**
 * "key: value" or "key:" with a simple key; undefined when the text is not one. A key the
 * library reads as another type (`null:`, `True:`) is outside the subset, and so is
 * `__proto__`, which a plain object cannot hold as a key.
 */
function splitKey(text: string): [string, string] | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?$/.exec(text);
  if (!m) return undefined;
  if (NOT_A_STRING.test(m[1]!) || m[1] === '__proto__') throw new NotPlain();
  return [m[1]!, m[2] ?? ''];
}

// Plain scalars the library would read as something other than a string (YAML 1.2 core
// schema): null, booleans, numbers in any notation, infinities and NaN.
const NOT_A_STRING = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function scalar(text: string, bug: boolean): unknown {
  if (/^(?:0|-?[1-9][0-9]{0,14})$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  // Strings: no spaces, no quotes or other indicators, nothing typed otherwise.
  if (!/^[A-Za-z0-9_./][A-Za-z0-9_./:@+-]*$/.test(text) || (NOT_A_STRING.test(text) && !bug)) throw new NotPlain();
  if (text.endsWith(':')) throw new NotPlain();
  return text;
}
