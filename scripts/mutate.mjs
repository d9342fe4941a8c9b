#!/usr/bin/env node
// `npm run mutate [-- <module>...]`: mutation testing of the safety modules with StrykerJS.
// Each listed module (scripts/mutation-modules.mjs) is mutated and run against its own
// tests only, one module after another; with no name, every module. Writes the HTML report
// of each module to reports/mutation/<module>.html and prints a table: killed, survived,
// timed out, equivalent (a `// Stryker disable` comment with its reason), untyped (rejected
// by the TypeScript checker, never run), and the score killed ÷ (killed + survived),
// timeouts counted as killed as Stryker does.
//
//   npm run mutate -- session-table        one module, while working on it
//   npm run mutate -- --list               the module names and their tests
//   npm run mutate -- --equivalents        every mutant marked equivalent, with its reason
//
// Not part of `npm test`: docs/testing.md gives the time a full run takes.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULES } from './mutation-modules.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npm run mutate -- [<module>...] [--list] [--equivalents] [--scores] [--concurrency n] [--no-typecheck]');
  console.log('  --no-typecheck  skip the TypeScript checker (quicker on a small module; mutants tsc would reject then run, and most are killed)');
  process.exit(0);
}
if (args.includes('--list')) {
  for (const [name, m] of Object.entries(MODULES)) console.log(`${name}\n  mutates ${m.mutate.flatMap(resolveMethods).join(', ')}\n  tests   ${m.tests.join(', ')}`);
  process.exit(0);
}
if (args.includes('--scores')) {
  printScoresFromReports();
  process.exit(0);
}
if (args.includes('--equivalents')) {
  printEquivalents();
  process.exit(0);
}

let concurrency = 2;
let typecheck = true;
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--concurrency') concurrency = Number(args[++i]);
  else if (args[i] === '--no-typecheck') typecheck = false;
  else if (args[i].startsWith('-')) fail(`unknown option ${args[i]}`);
  else names.push(args[i]);
}
if (!Number.isInteger(concurrency) || concurrency < 1) fail('--concurrency takes a positive whole number');
for (const n of names) if (!MODULES[n]) fail(`unknown module ${JSON.stringify(n)} (known: ${Object.keys(MODULES).join(', ')})`);
const chosen = names.length > 0 ? names : Object.keys(MODULES);

// The generated protobuf code must exist: the tests import it from src/gen.
if (!existsSync(join(root, 'src/gen/proto.js'))) execFileSync('npm', ['run', 'gen'], { stdio: 'inherit' });

/** Source lines by file, for printing what a mutant replaced. */
const sources = new Map();
const { Stryker } = await import('@stryker-mutator/core');
const rows = [];
const started = Date.now();
for (const name of chosen) {
  const m = MODULES[name];
  const t0 = Date.now();
  const results = await runModule(name, m);
  rows.push({ name, ms: Date.now() - t0, ...count(results) });
  printUndetected(results);
}
printTable(rows, Date.now() - started);
process.exitCode = rows.some((r) => r.errors > 0) ? 1 : 0;

async function runModule(name, m) {
  console.error(`mutate: ${name} (${m.mutate.join(', ')}) against ${m.tests.length} test file(s)`);
  const stryker = new Stryker({
    packageManager: 'npm',
    testRunner: 'tap',
    plugins: ['@stryker-mutator/tap-runner', '@stryker-mutator/typescript-checker'],
    // A mutant that does not type-check is a bug tsc would catch before any test: it is
    // counted apart (not a verdict of the tests) and never run.
    checkers: typecheck ? ['typescript'] : [],
    tsconfigFile: 'tsconfig.json',
    mutate: m.mutate.flatMap(resolveMethods),
    // Once the mutants are in the sandbox's sources, they are transpiled to JavaScript in
    // one go, and plain node runs each test file's .js: loading TypeScript through tap's
    // loader cost ~10 s of every test run, the tests themselves ~1-2 s.
    buildCommand: 'node scripts/mutation-build.mjs',
    tap: {
      testFiles: m.tests.map((f) => f.replace(/\.ts$/, '.js')),
      nodeArgs: [],
      forceBail: true,
    },
    coverageAnalysis: 'perTest',
    concurrency,
    // A mutant that makes a test hang is killed by the timeout (Stryker counts it as detected).
    timeoutMS: 30_000,
    timeoutFactor: 2,
    reporters: ['html', 'json', 'progress'],
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    // One sandbox folder per module, so that runs of two modules can go on side by side.
    tempDirName: `.stryker-tmp/${name}`,
    cleanTempDir: 'always',
    // .stryker-tmp: the sandboxes of other modules' runs going on side by side.
    ignorePatterns: ['dist', 'data', '.tap', 'reports', 'bench-results', '*.log', '.stryker-tmp'],
    logLevel: 'warn',
    fileLogLevel: 'off',
    thresholds: { high: 90, low: 80, break: null },
  });
  return stryker.runMutationTest();
}

/**
 * `file#a,b` -> the line ranges of methods a and b of the file's class (`file:start-end`,
 * which Stryker takes): from the line that declares the method to the closing brace at the
 * declaration's indentation. Fails loudly on a name it cannot find.
 */
function resolveMethods(spec) {
  const hash = spec.indexOf('#');
  if (hash < 0) return [spec];
  const file = spec.slice(0, hash);
  const lines = readFileSync(file, 'utf8').split('\n');
  return spec.slice(hash + 1).split(',').map((name) => {
    const decl = new RegExp(`^(\\s+)(?:(?:private|protected|public|static|async|override)\\s+)*${name}\\s*[(<]`);
    const start = lines.findIndex((l) => decl.test(l));
    if (start < 0) fail(`${file}: no method ${name}`);
    const close = `${decl.exec(lines[start])[1]}}`;
    const end = lines.findIndex((l, i) => i > start && l === close);
    if (end < 0) fail(`${file}: method ${name} has no closing brace at its indentation`);
    return `${file}:${start + 1}-${end + 1}`;
  });
}

function count(results) {
  const c = { killed: 0, survived: 0, timeout: 0, noCoverage: 0, equivalent: 0, untyped: 0, errors: 0 };
  for (const r of results) {
    switch (r.status) {
      case 'Killed': c.killed++; break;
      case 'Timeout': c.timeout++; break;
      case 'Survived': c.survived++; break;
      case 'NoCoverage': c.noCoverage++; break;
      case 'Ignored': c.equivalent++; break;
      case 'CompileError': c.untyped++; break; // rejected by the TypeScript checker
      default: c.errors++; // RuntimeError: a broken run, not a verdict
    }
  }
  return c;
}

/** Each surviving or uncovered mutant as `file:line:col Mutator: original -> replacement`. */
function printUndetected(results) {
  const left = results.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage');
  if (left.length === 0) return;
  console.log(`\n${left.length} mutant(s) not detected:`);
  for (const r of left) {
    const { line, column } = r.location.start;
    const file = r.fileName.startsWith(root) ? r.fileName.slice(root.length + 1) : r.fileName;
    const original = originalText(r.fileName, r.location).replace(/\s+/g, ' ');
    const replacement = String(r.replacement ?? '').replace(/\s+/g, ' ');
    console.log(`  ${r.status === 'NoCoverage' ? 'no cover' : 'survived'} ${file}:${line}:${column} ${r.mutatorName}: ${clip(original)} -> ${clip(replacement)}`);
  }
}

function originalText(file, loc) {
  if (!sources.has(file)) sources.set(file, readFileSync(file, 'utf8').split('\n'));
  const lines = sources.get(file);
  // Report locations are 1-based, lines and columns.
  if (loc.start.line === loc.end.line) return lines[loc.start.line - 1].slice(loc.start.column - 1, loc.end.column - 1);
  return `${lines[loc.start.line - 1].slice(loc.start.column - 1)} ...`;
}

function clip(s) {
  return s.length > 70 ? `${s.slice(0, 67)}...` : s;
}

function printTable(rows, totalMs) {
  const line = (cols) => console.log(cols.map((c, i) => String(c)[i === 0 ? 'padEnd' : 'padStart'](i === 0 ? 20 : 9)).join(' '));
  console.log('');
  line(['module', 'killed', 'timeout', 'survived', 'no cover', 'equiv.', 'untyped', 'errors', 'score', 'time']);
  for (const r of rows) {
    const detected = r.killed + r.timeout;
    const undetected = r.survived + r.noCoverage;
    const score = detected + undetected === 0 ? 'n/a' : `${((100 * detected) / (detected + undetected)).toFixed(1)}%`;
    line([r.name, r.killed, r.timeout, r.survived, r.noCoverage, r.equivalent, r.untyped, r.errors, score, r.when ?? `${Math.round(r.ms / 1000)}s`]);
  }
  console.log(`\nreports in reports/mutation/${totalMs > 0 ? `; total ${Math.round(totalMs / 1000)} s` : ' (time: when each report was written, UTC)'}`);
}

function printScoresFromReports() {
  const rows = [];
  for (const name of Object.keys(MODULES)) {
    const file = join(root, 'reports/mutation', `${name}.json`);
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8'));
    const results = Object.values(report.files).flatMap((f) => f.mutants);
    const { mtimeMs } = statSync(file);
    rows.push({ name, ms: 0, ...count(results), when: new Date(mtimeMs).toISOString().slice(0, 16) });
  }
  printTable(rows, 0);
}

function printEquivalents() {
  // An entry may name a line range (file.ts:10-20): the marks of the whole file are listed.
  const files = [...new Set(Object.values(MODULES).flatMap((m) => m.mutate.map((f) => f.replace(/(:\d+-\d+|#.*)$/, ''))))];
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((text, i) => {
      const at = text.indexOf('Stryker disable');
      if (at >= 0) console.log(`${f}:${i + 1}: ${text.slice(at + 'Stryker disable'.length).trim()}`);
    });
  }
}

function fail(msg) {
  console.error(`mutate: ${msg}`);
  process.exit(2);
}
