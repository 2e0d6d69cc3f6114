/**
 * The CommonJS launcher (bin/deltabox.js) answers signature/delta/patch from the core-commands bundle only
 * while the bundle is at least as new as the compiled sources it was made from: after a bare `tsc -b` the
 * bundle is stale and the compiled CLI (dist/main.js) must answer instead. Runs the real launcher file in a
 * throwaway package layout whose bundle and main.js report which of them ran. The launcher keeps V8 code cache
 * of the bundle beside it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const here = dirname(fileURLToPath(import.meta.url));

function layout(t: Tap.Test): string {
  const root = mkdtempSync(join(tmpdir(), 'dbx-launcher-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist', 'core-commands'), { recursive: true });
  copyFileSync(join(here, '..', 'bin', 'deltabox.js'), join(root, 'bin', 'deltabox.js'));
  copyFileSync(join(here, '..', 'bin', 'package.json'), join(root, 'bin', 'package.json'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ version: '0.0.0', type: 'module' }));
  writeFileSync(join(root, 'static-help.json'), '{}');
  writeFileSync(join(root, 'dist', 'core-commands.bundle.cjs'), 'exports.runCoreCommand = () => 41;\n');
  writeFileSync(join(root, 'dist', 'core-commands', 'run.js'), '// compiled source the bundle was made from\n');
  writeFileSync(join(root, 'dist', 'main.js'), 'export async function main() { return 42; }\n');
  return root;
}

function setMtime(path: string, seconds: number): void {
  utimesSync(path, seconds, seconds);
}

function exitOf(root: string): number | null {
  return spawnSync(process.execPath, [join(root, 'bin', 'deltabox.js'), 'signature', 'in', 'out'], { encoding: 'utf8' }).status;
}

t.test('a bundle as new as its sources answers the core commands', async (t) => {
  const root = layout(t);
  setMtime(join(root, 'dist', 'core-commands', 'run.js'), 1_000_000);
  setMtime(join(root, 'dist', 'core-commands.bundle.cjs'), 1_000_100);
  t.equal(exitOf(root), 41, 'the bundle ran');
});

t.test('a bundle older than the compiled sources is ignored: the compiled CLI answers', async (t) => {
  const root = layout(t);
  setMtime(join(root, 'dist', 'core-commands.bundle.cjs'), 1_000_000);
  setMtime(join(root, 'dist', 'core-commands', 'run.js'), 1_000_100);
  t.equal(exitOf(root), 42, 'main.js ran, not the stale bundle');
});

t.test('a missing bundle falls back to the compiled CLI', async (t) => {
  const root = layout(t);
  rmSync(join(root, 'dist', 'core-commands.bundle.cjs'));
  t.equal(exitOf(root), 42);
});

t.test('the first run writes V8 code cache for the bundle; a cache older than the bundle is written anew', async (t) => {
  const root = layout(t);
  const cache = join(root, 'dist', 'core-commands.bundle.code-cache');
  setMtime(join(root, 'dist', 'core-commands', 'run.js'), 1_000_000);
  setMtime(join(root, 'dist', 'core-commands.bundle.cjs'), 1_000_100);
  t.equal(exitOf(root), 41);
  t.ok(statSync(cache).size > 0, 'the cache was written');
  t.equal(exitOf(root), 41, 'and the bundle runs with it');
  setMtime(cache, 1_000_050);
  t.equal(exitOf(root), 41, 'a stale cache is not used');
  t.ok(statSync(cache).mtimeMs > 1_000_100_000, 'and is replaced');
});
