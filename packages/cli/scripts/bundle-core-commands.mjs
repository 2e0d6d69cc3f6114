/**
 * Bundles the fast path of `deltabox signature | delta | patch` (dist/core-commands/run.js with @deltabox/core
 * and xxhash-wasm, about 110 KB) into one CommonJS file, dist/core-commands.bundle.cjs, that bin/deltabox.js
 * requires. Run after `tsc -b` (the package's build script does). Why CommonJS: Node 20's ES module loader, and
 * the ES module facades it builds for node:fs and node:crypto (every lazy getter evaluated, node:fs's promises
 * API and readline with it), cost ~20 ms of a small command's start-up; commander ~15 ms more
 * (benchmarks/README.md, CLI start-up). Plain JavaScript so that it runs with node alone, before anything is
 * compiled.
 *
 * CommonJS has no top-level await, and the core has one: strong-hash.ts awaits xxhash-wasm's loader. The
 * plugin below rewrites exactly those two places so that the wasm module (3 KB) is compiled and instantiated
 * synchronously; the build fails if either text is not found, rather than bundle something different.
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The wasm bytes as base64: V8 parses one string much faster than a 3,105-number array literal. */
function wasmAsBase64(arrayLiteral) {
  const bytes = Buffer.from(arrayLiteral.slice('new Uint8Array(['.length, -2).split(',').map(Number));
  return `Buffer.from('${bytes.toString('base64')}', 'base64')`;
}

/** [file name ending, text or pattern to find, replacement]: each must match exactly once in its file. */
const rewrites = [
  ['/core/dist/strong-hash.js', 'await xxhash()', () => 'xxhash()'],
  ['/xxhash-wasm/esm/xxhash-wasm.js', 'async function e()', () => 'function e()'],
  [
    '/xxhash-wasm/esm/xxhash-wasm.js',
    '(await WebAssembly.instantiate(t)).instance',
    () => 'new WebAssembly.Instance(new WebAssembly.Module(t))',
  ],
  ['/xxhash-wasm/esm/xxhash-wasm.js', /new Uint8Array\(\[[0-9,]+\]\)/g, wasmAsBase64],
];

const synchronousWasm = {
  name: 'synchronous-xxhash-wasm',
  setup(b) {
    b.onLoad({ filter: /(strong-hash|xxhash-wasm)\.js$/ }, async ({ path }) => {
      let text = await readFile(path, 'utf8');
      const mine = rewrites.filter(([end]) => path.replaceAll('\\', '/').endsWith(end));
      if (mine.length === 0) return undefined;
      for (const [, find, replace] of mine) {
        const found = typeof find === 'string' ? text.split(find).length - 1 : (text.match(find) ?? []).length;
        if (found !== 1) throw new Error(`${path}: expected ${find} once, found it ${found} times`);
        text = text.replace(find, replace);
      }
      return { contents: text, loader: 'js' };
    });
  },
};

const root = fileURLToPath(new URL('..', import.meta.url));
const result = await build({
  absWorkingDir: root,
  entryPoints: ['dist/core-commands/run.js'],
  outfile: 'dist/core-commands.bundle.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  define: {
    // The core's createRequire(import.meta.url) (platform/builtin.ts): any URL of this file does.
    'import.meta.url': 'importMetaUrl',
    // The same random bytes without Web Crypto's modules (~1 ms): strong-hash.ts seeds signatures with them.
    'globalThis.crypto.getRandomValues': 'randomFillSync',
  },
  banner: {
    // Strict like the ES modules it was made from: esbuild's own "use strict" comes after the banner.
    js: "'use strict';\nconst importMetaUrl = require('node:url').pathToFileURL(__filename).href;\nconst { randomFillSync } = require('node:crypto');",
  },
  plugins: [synchronousWasm],
  // Readable stack traces and no renaming: this is a load-time optimisation, not minification.
  sourcemap: 'linked',
  logLevel: "warning",
  metafile: process.argv.includes('--sizes'),
});
// `node scripts/bundle-core-commands.mjs --sizes`: what each input adds to the bundle, largest first.
if (result.metafile) for (const [k, v] of Object.entries(result.metafile.outputs["dist/core-commands.bundle.cjs"].inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)) console.log(v.bytesInOutput, k);
