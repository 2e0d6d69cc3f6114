#!/usr/bin/env node
/*
 * The `deltabox` launcher, CommonJS on purpose (bin/package.json): `--version` and `--help` (also
 * `help CMD`, `CMD --help`) are answered here from package.json and static-help.json without starting the
 * ES module loader or loading commander or any command, so they cost about what `node -e 0` costs.
 * Every command loads one CommonJS bundle made by `pnpm build` (scripts/bundle-commands.mjs) and compiles it
 * with V8's code cache: `signature`, `delta` and `patch` dist/core-commands.bundle.cjs, which runs their plain
 * forms without commander and answers undefined for anything else (help, a usage error); `scan`, `serve`,
 * `token`, `run`, `history`, `restore` and `trash` their group's bundle (commander and that command only, so
 * `scan` never reads Fastify). Neither starts the ES module loader. A missing bundle, one older than the
 * compiled files it was made from, anything else (a typo) and the core bundle's undefined load the compiled
 * CLI (dist/main.js), which exists once `pnpm build` (or a bare `tsc -b`) has run.
 */
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const args = process.argv.slice(2);
/** Subcommand -> the bundle in dist/ that runs it (scripts/bundle-commands.mjs). */
const BUNDLES = {
  signature: 'core-commands',
  delta: 'core-commands',
  patch: 'core-commands',
  scan: 'scan',
  serve: 'serve',
  token: 'token',
  run: 'run',
  history: 'history',
  restore: 'history',
  trash: 'history',
};

/** The command path whose help `args` ask for and nothing else ('' for the program), or undefined. */
function helpPath() {
  const last = args[args.length - 1];
  if (args[0] === 'help' && args.length <= 2) return args.slice(1).join(' ');
  if (last !== '--help' && last !== '-h') return undefined;
  return args.slice(0, -1).join(' ');
}

function fastAnswer() {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    return `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`;
  }
  const path = helpPath();
  if (path === undefined) return undefined;
  return JSON.parse(readFileSync(join(root, 'static-help.json'), 'utf8'))[path];
}

/**
 * True when dist/bundles.json (written by the bundling script after every bundle) names the workspace files
 * `name` was made from and none of them is newer than it. A bare `tsc -b` after a change rewrites some of
 * them and leaves the bundle stale: dist/main.js then runs, so a stale bundle never answers. Some 30 to 150
 * stat calls, well under a millisecond.
 */
function bundleIsCurrent(name, bundleFile) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, 'dist', 'bundles.json'), 'utf8'));
  } catch {
    return false;
  }
  const inputs = manifest[`${name}.bundle.cjs`];
  if (!Array.isArray(inputs)) return false;
  try {
    const made = statSync(bundleFile).mtimeMs;
    return inputs.every((input) => statSync(join(root, input)).mtimeMs <= made);
  } catch {
    return false;
  }
}

/** V8's code cache of the bundle when it is newer than the bundle (V8 itself checks the Node version and flags). */
function readCodeCache(bundleFile, codeCacheFile) {
  try {
    if (statSync(codeCacheFile).mtimeMs < statSync(bundleFile).mtimeMs) return undefined;
    return readFileSync(codeCacheFile);
  } catch {
    return undefined;
  }
}

/**
 * Loads bundle `name` as require() would, but compiled with V8's code cache (Node 20 has no
 * module.enableCompileCache): compiling the 0.1 MB core bundle costs ~3 ms of a small command, the 2 MB
 * scan bundle ~40 ms. A missing, stale or rejected cache is written anew, with what has been compiled by then,
 * by a rename so that concurrent runs never read half a file; a read-only install just goes without.
 * Undefined when the bundle is missing or older than its sources.
 */
function loadBundle(name) {
  const bundleFile = join(root, 'dist', `${name}.bundle.cjs`);
  const codeCacheFile = join(root, 'dist', `${name}.bundle.code-cache`);
  if (!bundleIsCurrent(name, bundleFile)) return undefined;
  // latin1: the bundling script makes every bundle pure ASCII and checks it (UTF-8 decoding is ~30x slower). A
  // bundle gone since bundleIsCurrent (a rebuild) throws here, and bundledCommand falls back to dist/main.js.
  const source = readFileSync(bundleFile, 'latin1');
  const { Script } = require('node:vm');
  const { wrap } = require('node:module');
  const cachedData = readCodeCache(bundleFile, codeCacheFile);
  const script = new Script(wrap(source), { filename: bundleFile, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, bundleFile, join(root, 'dist'));
  let writeCache = cachedData === undefined || script.cachedDataRejected === true;
  const saveCodeCache = () => {
    if (!writeCache) return;
    writeCache = false;
    const temp = `${codeCacheFile}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, script.createCachedData());
      renameSync(temp, codeCacheFile);
    } catch {
      // Read-only or full: start-up is a little slower, nothing else changes.
    }
  };
  return { runCommand: module.exports.runCommand, saveCodeCache };
}

/**
 * The exit code of `args` run by its command's bundle, or undefined when dist/main.js must run: no bundle for
 * the command (a typo, top-level forms), a missing or stale bundle, or the core bundle declining (its commands'
 * help and usage errors go through commander). A long-running command (serve, scan without --once) saves the
 * code cache after 3 s rather than at its end, which a second Ctrl-C may never reach.
 */
async function bundledCommand() {
  const name = Object.hasOwn(BUNDLES, args[0]) ? BUNDLES[args[0]] : undefined;
  if (name === undefined) return undefined;
  let bundle;
  try {
    bundle = loadBundle(name);
  } catch {
    // A bundle that fails as it loads (better-sqlite3 built for another Node, say): dist/main.js loads the
    // same modules and reports the failure as every other error, a one-line message and an exit code.
    return undefined;
  }
  if (bundle === undefined) return undefined;
  const early = setTimeout(bundle.saveCodeCache, 3000);
  early.unref();
  const code = await bundle.runCommand(process.argv);
  clearTimeout(early);
  if (code !== undefined) bundle.saveCodeCache();
  return code;
}

/**
 * Writes `text` to fd 1 directly: the first use of process.stdout loads Node's whole stream stack (~2 ms, as
 * much as the rest of `--version`). Whatever writeSync cannot take (a full non-blocking pipe: EAGAIN, or
 * any other error) goes through process.stdout as before, which reports it the usual way.
 */
function writeOut(text) {
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch {
    process.stdout.write(rest);
  }
}

const answer = fastAnswer();
if (answer !== undefined) {
  writeOut(answer);
} else {
  // The commands that talk to a server through undici, which parses HTTP with llhttp compiled to WebAssembly.
  // After ~1.8 MB of wasm executed, V8 re-compiles a hot function with TurboFan on a background thread; for
  // llhttp's 34 KB state-machine function that takes ~160 ms here, and every process waits for it at exit:
  // `scan --once` of an unchanged folder took 0.45 s instead of 0.30 s. A budget 100x larger keeps short runs
  // on the baseline code (Liftoff); a long run still reaches it. Not for the other commands: changing a V8 flag
  // makes Node compile its own built-in modules without their code cache, ~12 ms of `deltabox signature`.
  // Set before anything compiles, so the bundles' code cache always sees the same flags.
  if (['scan', 'run', 'history', 'restore', 'trash'].includes(args[0])) {
    require('node:v8').setFlagsFromString('--wasm-tiering-budget=180000000');
  }
  // The scanner: after each full garbage collection V8 lets the heap grow to up to 4x what survived before
  // collecting again; 2x here. A first sync of 100,000 tiny files peaked at 315-342 MB RSS, most of it garbage
  // the upload phase had promoted (batches live until answered) under a limit set at 4x; with 2x, 266-268 MB,
  // for no measurable client CPU. Not a cap: the heap still grows as far as the tree needs (docs/SCANNER.md).
  if (args[0] === 'scan' || args[0] === 'run') require('node:v8').setFlagsFromString('--heap-growing-percent=100');
  bundledCommand()
    .then((code) => code ?? import('../dist/main.js').then(({ main }) => main(process.argv)))
    .then((code) => {
      process.exitCode = code;
    });
}
