/**
 * Bundles what bin/deltabox.js runs into CommonJS files beside dist/main.js, one per command group, each with
 * the ES modules it imports from the workspace and node_modules (better-sqlite3 excepted: a native addon, it
 * stays a require()):
 *   - dist/core-commands.bundle.cjs: the fast path of `deltabox signature | delta | patch` (core-commands/run.js
 *     with @deltabox/core and xxhash-wasm, about 110 KB);
 *   - dist/{scan,serve,token,run,history}.bundle.cjs: program.js (commander) and that command's module
 *     (history.bundle.cjs also answers `restore` and `trash`), e.g. scan with the scanner and undici, serve with
 *     the server and Fastify. `deltabox scan --once` so starts in ~0.2 s instead of ~0.4 s: the ES module
 *     loader resolving and evaluating some 400 files costs more than reading one file compiled from V8's code
 *     cache (benchmarks/README.md, CLI start-up).
 * It also writes dist/bundles.json: for each bundle, the compiled workspace files it was made from, so that the
 * launcher runs dist/main.js instead of a bundle older than any of them (a bare `tsc -b` after a change).
 * Run after `tsc -b` (the package's build script and the root's do).
 *
 * Why CommonJS: Node 20's ES module loader, and the ES module facades it builds for node:fs and node:crypto
 * (every lazy getter evaluated, node:fs's promises API and readline with it), cost ~20 ms of a small command's
 * start-up; commander ~15 ms more. Plain JavaScript so that it runs with node alone, before anything is
 * compiled.
 *
 * CommonJS has no top-level await, and the core has one: strong-hash.ts awaits xxhash-wasm's loader. The
 * plugin below rewrites exactly those two places so that the wasm module (3 KB) is compiled and instantiated
 * synchronously; the build fails if either text is not found, rather than bundle something different.
 */
import { build } from 'esbuild';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** Bundle name -> the entry module's text (resolved from the package root). Each exports runCommand(argv). */
const entries = {
  'core-commands': "export { runCoreCommand as runCommand } from './dist/core-commands/run.js';",
  ...Object.fromEntries(
    [
      ['scan', 'scan', ['registerScan']],
      ['serve', 'serve', ['registerServe']],
      ['token', 'token', ['registerToken']],
      ['run', 'run', ['registerRun']],
      ['history', 'history', ['registerHistory', 'registerRestore', 'registerTrash']],
    ].map(([name, module, registers]) => [
      name,
      `import { runProgram } from './dist/program.js';
import { ${registers.join(', ')} } from './dist/commands/${module}.js';
const registers = { ${registers.map((r) => `${r.slice('register'.length).toLowerCase()}: ${r}`).join(', ')} };
/** Runs \`deltabox ${name}\` (argv as process.argv) with only the command it names registered, as main.js does. */
export function runCommand(argv) {
  return runProgram(argv, [registers[argv[2]]]);
}`,
    ]),
  ),
};

/**
 * charset 'ascii' escapes every non-ASCII character in strings, templates and regular expressions, but
 * esbuild keeps the comments inside functions as written (undici's say "response’s"); those are escaped here
 * (in a comment \u2019 is as inert as ’). Throws if anything non-ASCII is left.
 */
function asciiOnly(text, outfile) {
  const out = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (!/^[\x00-\x7f]*$/.test(out)) throw new Error(`${outfile}: non-ASCII text left in the bundle`);
  return out;
}

const manifest = {};
for (const [name, contents] of Object.entries(entries)) {
  const outfile = `dist/${name}.bundle.cjs`;
  const result = await build({
    absWorkingDir: root,
    stdin: { contents, resolveDir: root, sourcefile: `${name}-entry.js`, loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['better-sqlite3'],
    define: {
      // import.meta.url: the core's createRequire (platform/builtin.ts, built-ins only) and program.js's
      // '../package.json', which the bundles in dist/ resolve as dist/main.js does.
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
    // Pure ASCII (see asciiOnly): V8 keeps the source a one-byte string, and the launcher reads it as latin1,
    // ~1 ms for 2 MB where UTF-8 decoding of a file with a few non-ASCII bytes took ~30 ms here.
    charset: 'ascii',
    logLevel: 'warning',
    metafile: true,
    write: false,
  });
  for (const file of result.outputFiles) {
    await writeFile(file.path, file.path.endsWith('.cjs') ? asciiOnly(file.text, outfile) : file.contents);
  }
  const inputs = Object.entries(result.metafile.outputs[outfile].inputs);
  // The workspace's compiled files (../scanner/dist/…, dist/…), not node_modules: `pnpm install` rebuilds.
  manifest[`${name}.bundle.cjs`] = inputs
    .map(([path]) => path)
    .filter((path) => !path.includes('node_modules/') && path.endsWith('.js') && !path.includes('-entry.js'))
    .sort();
  // `node scripts/bundle-commands.mjs --sizes`: what each input adds to each bundle, largest first.
  if (process.argv.includes('--sizes')) {
    console.log(`${outfile}: ${result.metafile.outputs[outfile].bytes} B`);
    for (const [k, v] of inputs.sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput).slice(0, 15)) console.log(`  ${v.bytesInOutput} ${k}`);
  }
}
// Written last, by a rename: the launcher trusts a bundle only when the manifest names its inputs.
const manifestFile = join(root, 'dist', 'bundles.json');
await writeFile(`${manifestFile}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
await rename(`${manifestFile}.tmp`, manifestFile);
