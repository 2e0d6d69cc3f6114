#!/usr/bin/env node
/*
 * The `deltabox` launcher, CommonJS on purpose (bin/package.json): `--version` and `--help` (also
 * `help CMD`, `CMD --help`) are answered here from package.json and static-help.json without starting the
 * ES module loader or loading commander or any command, so they cost about what `node -e 0` costs.
 * `signature`, `delta` and `patch` load one CommonJS bundle (dist/core-commands.bundle.cjs, made by
 * `pnpm build`, compiled with V8's code cache), which runs their plain forms without commander or the ES
 * module loader; it answers undefined for anything else (help, a usage error), and so does a missing bundle.
 * Everything else loads the compiled CLI (dist/main.js), which exists once `pnpm build` has run.
 */
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const bundleFile = join(root, 'dist', 'core-commands.bundle.cjs');
const codeCacheFile = join(root, 'dist', 'core-commands.bundle.code-cache');

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
 * True when the bundle is older than the compiled sources it was made from (a bare `tsc -b` after a change
 * rebuilds dist/ but not the bundle): main.js then runs, so a stale bundle never answers. A missing file
 * counts as not stale here; loadBundle() handles a missing bundle.
 */
function bundleIsStale() {
  try {
    const bundle = statSync(bundleFile).mtimeMs;
    return bundle < statSync(join(root, 'dist', 'core-commands', 'run.js')).mtimeMs;
  } catch {
    return false;
  }
}

/** V8's code cache of the bundle when it is newer than the bundle (V8 itself checks the Node version and flags). */
function readCodeCache() {
  try {
    if (statSync(codeCacheFile).mtimeMs < statSync(bundleFile).mtimeMs) return undefined;
    return readFileSync(codeCacheFile);
  } catch {
    return undefined;
  }
}

/**
 * Loads the bundle as require() would, but compiled with V8's code cache (Node 20 has no
 * module.enableCompileCache): compiling its ~100 KB costs ~3 ms of a small command. A missing, stale or
 * rejected cache is written anew after the command, with what it compiled, by a rename so that concurrent
 * runs never read half a file; a read-only install just goes without. Undefined when there is no bundle.
 */
function loadBundle() {
  let source;
  try {
    source = readFileSync(bundleFile, 'utf8');
  } catch (err) {
    if (err && err.code === 'ENOENT') return undefined;
    throw err;
  }
  const { Script } = require('node:vm');
  const { wrap } = require('node:module');
  const cachedData = readCodeCache();
  const script = new Script(wrap(source), { filename: bundleFile, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, bundleFile, join(root, 'dist'));
  const writeCache = cachedData === undefined || script.cachedDataRejected === true;
  return { runCoreCommand: module.exports.runCoreCommand, saveCodeCache: () => writeCache && saveCodeCache(script) };
}

function saveCodeCache(script) {
  const temp = `${codeCacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, codeCacheFile);
  } catch {
    // Read-only or full: start-up is a little slower, nothing else changes.
  }
}

/** The exit code of a plain `signature | delta | patch` run by the bundle, or undefined when main.js must run. */
async function coreCommand() {
  if (args[0] !== 'signature' && args[0] !== 'delta' && args[0] !== 'patch') return undefined;
  if (bundleIsStale()) return undefined;
  const bundle = loadBundle();
  if (bundle === undefined) return undefined;
  const code = await bundle.runCoreCommand(process.argv);
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
  coreCommand()
    .then((code) => code ?? import('../dist/main.js').then(({ main }) => main(process.argv)))
    .then((code) => {
      process.exitCode = code;
    });
}
