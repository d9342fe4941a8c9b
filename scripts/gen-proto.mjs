// Generates static protobufjs code (JS + .d.ts) from proto/*.proto into src/gen/proto.{js,d.ts}.
// Runs as part of `npm run build`; the output is never committed.
//
// Flags: --no-convert leaves out fromObject/toObject/toJSON, which nothing here uses (the
// module shrinks from 1.3 MB to 0.8 MB, which every CLI call loads); --keep-case keeps the
// .proto field names (snake_case) in JS; --force-number types
// 64-bit integers as `number`; --alt-comment carries the .proto `//` comments into the .d.ts.
//
// --force-number only changes the generated types. At run time protobufjs still decodes 64-bit
// integers into Long objects whenever the `long` package is installed (it is a dependency of
// protobufjs), and even the prototype defaults become Long zeros, so `msg.term === 0` would be
// false. We therefore patch the generated module to switch Long support off before any
// generated code runs: decoded uint64 fields are then plain numbers, exact up to 2^53 - 1.
// (A custom pbjs wrapper cannot do this: pbjs refuses -d with any wrapper but its own.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pbjs = join(dirname(require.resolve('protobufjs-cli/package.json')), 'bin', 'pbjs');
const protoDir = join(root, 'proto');
const outDir = join(root, 'src', 'gen');
const outJs = join(outDir, 'proto.js');

const protos = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort();
if (protos.length === 0) {
  console.error('gen-proto: no .proto files in proto/');
  process.exit(1);
}
mkdirSync(outDir, { recursive: true }); // pbjs does not create the output folder

try {
  execFileSync(
    process.execPath,
    [pbjs, '-t', 'static-module', '-w', 'es6', '--force-number', '--no-verify', '--no-convert', '--no-delimited',
      '--keep-case', '--alt-comment', '-d', '-o', outJs, '-p', protoDir,
      ...protos.map((p) => join(protoDir, p))],
    { stdio: 'inherit' },
  );
} catch {
  console.error('gen-proto: pbjs failed (see above)');
  process.exit(1);
}

const IMPORT = 'import $protobuf from "protobufjs/minimal.js";\n';
const js = readFileSync(outJs, 'utf8');
const at = js.indexOf(IMPORT);
if (at < 0) {
  console.error(`gen-proto: ${outJs} does not contain the expected line ${JSON.stringify(IMPORT.trim())};` +
    ' cannot switch off Long decoding (has the pbjs output format changed?)');
  process.exit(1);
}
const PATCH =
  '\n// Added by scripts/gen-proto.mjs: decode 64-bit integers as plain numbers, not Long objects.\n' +
  '$protobuf.util.Long = null;\n$protobuf.configure();\n';
writeFileSync(outJs, js.slice(0, at + IMPORT.length) + PATCH + js.slice(at + IMPORT.length));
console.log(`gen-proto: ${protos.length} files -> src/gen/proto.js, src/gen/proto.d.ts`);
