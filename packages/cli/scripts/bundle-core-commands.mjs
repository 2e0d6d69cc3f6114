/**
 * Bundles the fast path of `deltabox signature | delta | patch` (dist/core-commands/run.js with @deltabox/core
 * and xxhash-wasm, about 30 KB) into one ES module, dist/core-commands.bundle.mjs, that bin/deltabox.js loads.
 * Run after `tsc -b` (the package's build script does). Why: loading ~50 modules one by one through Node's ES
 * module loader cost ~40 ms of a small command's start-up, commander ~15 ms more (docs/CORE-API.md, CLI start-up).
 * Plain JavaScript so that it runs with node alone, before anything is compiled.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['dist/core-commands/run.js'],
  outfile: 'dist/core-commands.bundle.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Readable stack traces and no renaming: this is a load-time optimisation, not minification.
  sourcemap: 'linked',
  logLevel: 'warning',
});
