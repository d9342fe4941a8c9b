// Generates static protobufjs code (JS + .d.ts) from proto/*.proto into src/gen/.
// Runs as part of `npm run build`; the output is never committed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pbjs = join(dirname(require.resolve('protobufjs-cli/package.json')), 'bin', 'pbjs');
const protos = readdirSync(join(root, 'proto')).filter((f) => f.endsWith('.proto')).sort();
if (protos.length === 0) {
  console.error('gen-proto: no .proto files in proto/');
  process.exit(1);
}
mkdirSync(join(root, 'src', 'gen'), { recursive: true });
execFileSync(
  process.execPath,
  [pbjs, '-t', 'static-module', '-w', 'es6', '--force-number', '--no-verify', '--no-delimited',
    '--keep-case', '-d', '-o', join(root, 'src', 'gen', 'proto.js'), '-p', join(root, 'proto'),
    ...protos.map((p) => join(root, 'proto', p))],
  { stdio: 'inherit' },
);
