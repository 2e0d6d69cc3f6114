/**
 * What the launcher (bin/deltabox.js) loads, so that start-up stays near `node`'s own: `--version` and help
 * load no file but the launcher and no Node built-in that an empty script does not; the plain core commands
 * require no file but the launcher (it compiles the bundle itself, with V8's code cache). Neither starts the
 * ES module loader, so neither can reach commander, Fastify, undici, the scanner or the server (dist/main.js). Counts modules rather than milliseconds: a timing
 * test would fail on a loaded machine and pass a slow change on an idle one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { bundleIsCurrent } from './helpers/bundles.js';

const launcher = fileURLToPath(new URL('../bin/deltabox.js', import.meta.url));
const bundle = fileURLToPath(new URL('../dist/core-commands.bundle.cjs', import.meta.url));
const bundleSource = fileURLToPath(new URL('../dist/core-commands/run.js', import.meta.url));

/** Preloaded into the child: at exit, writes the built-ins and the files it loaded to $LOADS_OUT. */
const RECORDER = `process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADS_OUT, JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  files: Object.keys(require.cache).filter((f) => f !== __filename),
})));\n`;

interface Loads {
  status: number | null;
  builtins: string[];
  files: string[];
}

function loadsOf(t: Tap.Test, argv: string[], cwd?: string): Loads {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-loads-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'recorder.cjs'), RECORDER);
  // Through env(1) without NODE_OPTIONS: tap puts its coverage hooks (an ES module) into every child it sees
  // spawned, and would so start the ES module loader in the child.
  const run = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, '-r', join(dir, 'recorder.cjs'), ...argv], {
    cwd: cwd ?? dir,
    env: { ...process.env, LOADS_OUT: join(dir, 'loads.json') },
    encoding: 'utf8',
  });
  return { status: run.status, ...(JSON.parse(readFileSync(join(dir, 'loads.json'), 'utf8')) as Omit<Loads, 'status'>) };
}

/** What `node empty.cjs` loads: the launcher is not to blame for these. */
function emptyScriptLoads(t: Tap.Test): { builtins: Set<string>; files: Set<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-empty-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'empty.cjs'), '');
  const loads = loadsOf(t, [join(dir, 'empty.cjs')]);
  return { builtins: new Set(loads.builtins), files: new Set(loads.files.filter((f) => f !== join(dir, 'empty.cjs'))) };
}

/** An ES module loaded (even one) brings module_job; running CommonJS files never does. */
const ES_MODULE_RAN = 'internal/modules/esm/module_job';

t.test('--version and every help form load only the launcher and what an empty script loads', async (t) => {
  const baseline = emptyScriptLoads(t);
  for (const args of [['--version'], ['-V'], ['--help'], ['help'], ['help', 'scan'], ['scan', '--help'], ['serve', '--help'], ['token', 'create', '--help'], ['patch', '-h']]) {
    const loads = loadsOf(t, [launcher, ...args]);
    t.equal(loads.status, 0, `deltabox ${args.join(' ')} exits 0`);
    t.same(loads.files.filter((f) => !baseline.files.has(f)), [launcher], `deltabox ${args.join(' ')} loads no file but the launcher (no commander, Fastify, undici)`);
    t.same(loads.builtins.filter((m) => !baseline.builtins.has(m)), [], `deltabox ${args.join(' ')} loads no built-in an empty script does not (process.stdout's streams included)`);
  }
});

t.test('signature, delta and patch load the launcher and the CommonJS bundle, no ES module', async (t) => {
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < statSync(bundleSource).mtimeMs) {
    t.skip('no up-to-date dist/core-commands.bundle.cjs: run `pnpm build`');
    return;
  }
  const baseline = emptyScriptLoads(t);
  const dir = mkdtempSync(join(tmpdir(), 'dbx-core-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'new'), 'a small target\n');
  for (const args of [['signature', 'empty', 'empty.sig'], ['delta', 'empty.sig', 'new', 'new.delta'], ['patch', 'empty', 'new.delta', 'new.out']]) {
    const loads = loadsOf(t, [launcher, ...args], dir);
    t.equal(loads.status, 0, `deltabox ${args.join(' ')} exits 0`);
    t.same(loads.files.filter((f) => !baseline.files.has(f)), [launcher], `deltabox ${args.join(' ')} requires no other file`);
    t.notOk(loads.builtins.includes(ES_MODULE_RAN), `deltabox ${args.join(' ')} runs no ES module`);
  }
  t.equal(readFileSync(join(dir, 'new.out'), 'utf8'), 'a small target\n', 'and the round trip holds');
});

t.test('scan, serve, token, run and history run from their bundles: no ES module, no file of dist/', async (t) => {
  const names = ['scan', 'serve', 'token', 'run', 'history'];
  if (!names.every(bundleIsCurrent)) {
    t.skip('no up-to-date command bundles in dist/: run `pnpm build`');
    return;
  }
  const baseline = emptyScriptLoads(t);
  // Each a usage error (a required option missing) that commander reports after the bundle has loaded the
  // command's whole module graph; main.js would be an ES module and load dist/*.js files.
  for (const args of [['scan'], ['serve', '--port', 'x'], ['token', 'create'], ['run', '--interval', 'x'], ['history'], ['restore'], ['trash', '--bogus']]) {
    const loads = loadsOf(t, [launcher, ...args]);
    t.not(loads.status, 0, `deltabox ${args.join(' ')} is a usage error`);
    t.same(
      loads.files.filter((f) => !baseline.files.has(f) && !f.includes(`${join('node_modules', 'better-sqlite3')}`)),
      [launcher],
      `deltabox ${args.join(' ')} requires no file but the launcher (and better-sqlite3, a native addon kept out of the bundles)`,
    );
    t.notOk(loads.builtins.includes(ES_MODULE_RAN), `deltabox ${args.join(' ')} runs no ES module`);
  }
});
