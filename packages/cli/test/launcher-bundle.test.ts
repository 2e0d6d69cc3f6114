/**
 * The CommonJS launcher (bin/deltabox.js) answers each command from its bundle (core-commands for
 * signature/delta/patch, scan, history for history/restore/trash, …) only while dist/bundles.json names the
 * compiled files the bundle was made from and none is newer: after a bare `tsc -b` the bundle is stale and the
 * compiled CLI (dist/main.js) must answer instead. Runs the real launcher file in a throwaway package layout
 * whose bundles and main.js report which of them ran. The launcher keeps V8 code cache of each bundle beside it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const here = dirname(fileURLToPath(import.meta.url));

/** Bundle name -> exit code its fake bundle answers with. */
const ANSWERS = { 'core-commands': 41, scan: 43, history: 44 };

/**
 * A throwaway package: bin/ as shipped, fake bundles that answer with ANSWERS, a fake main.js that answers 42,
 * and dist/bundles.json naming one compiled input per bundle (dist/<name>-input.js), all dated 1,000,000 s
 * for the inputs and 1,000,100 s for the bundles (current).
 */
function layout(t: Tap.Test): string {
  const root = mkdtempSync(join(tmpdir(), 'dbx-launcher-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist'), { recursive: true });
  copyFileSync(join(here, '..', 'bin', 'deltabox.js'), join(root, 'bin', 'deltabox.js'));
  copyFileSync(join(here, '..', 'bin', 'package.json'), join(root, 'bin', 'package.json'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ version: '0.0.0', type: 'module' }));
  writeFileSync(join(root, 'static-help.json'), '{}');
  const manifest: Record<string, string[]> = {};
  for (const [name, code] of Object.entries(ANSWERS)) {
    writeFileSync(join(root, 'dist', `${name}.bundle.cjs`), `exports.runCommand = async () => ${code};\n`);
    writeFileSync(join(root, 'dist', `${name}-input.js`), '// a compiled file the bundle was made from\n');
    manifest[`${name}.bundle.cjs`] = [`dist/${name}-input.js`];
    setMtime(join(root, 'dist', `${name}-input.js`), 1_000_000);
    setMtime(join(root, 'dist', `${name}.bundle.cjs`), 1_000_100);
  }
  writeFileSync(join(root, 'dist', 'bundles.json'), JSON.stringify(manifest));
  writeFileSync(join(root, 'dist', 'main.js'), 'export async function main() { return 42; }\n');
  return root;
}

function setMtime(path: string, seconds: number): void {
  utimesSync(path, seconds, seconds);
}

function exitOf(root: string, args: string[] = ['signature', 'in', 'out']): number | null {
  return spawnSync(process.execPath, [join(root, 'bin', 'deltabox.js'), ...args], { encoding: 'utf8' }).status;
}

t.test('a bundle as new as its sources answers its commands', async (t) => {
  const root = layout(t);
  t.equal(exitOf(root), 41, 'signature: the core bundle ran');
  t.equal(exitOf(root, ['scan', '--cdir', 'x']), 43, 'scan: the scan bundle ran');
  t.equal(exitOf(root, ['restore', 'a']), 44, 'restore: the history bundle ran');
  t.equal(exitOf(root, ['history', 'a']), 44, 'history: the history bundle ran');
});

t.test('a command without a bundle, and a name that is no command, run the compiled CLI', async (t) => {
  const root = layout(t);
  t.equal(exitOf(root, ['serve']), 42, 'serve has no bundle in this layout: main.js ran');
  t.equal(exitOf(root, ['scna']), 42, 'a typo: main.js ran (commander suggests the name)');
  t.equal(exitOf(root, ['constructor']), 42, 'not a bundle for an Object.prototype name');
});

t.test('a bundle older than any compiled file it was made from is ignored: the compiled CLI answers', async (t) => {
  const root = layout(t);
  setMtime(join(root, 'dist', 'scan-input.js'), 1_000_200);
  t.equal(exitOf(root, ['scan']), 42, 'main.js ran, not the stale scan bundle');
  t.equal(exitOf(root), 41, 'the core bundle, still current, answers');
});

t.test('a bundle whose input is gone, or that the manifest does not name, is ignored', async (t) => {
  const root = layout(t);
  rmSync(join(root, 'dist', 'scan-input.js'));
  t.equal(exitOf(root, ['scan']), 42, 'an input gone: main.js ran');
  writeFileSync(join(root, 'dist', 'bundles.json'), JSON.stringify({ 'core-commands.bundle.cjs': ['dist/core-commands-input.js'] }));
  t.equal(exitOf(root, ['history']), 42, 'not in the manifest: main.js ran');
  t.equal(exitOf(root), 41);
  writeFileSync(join(root, 'dist', 'bundles.json'), '{ torn');
  t.equal(exitOf(root), 42, 'an unreadable manifest: main.js ran');
  rmSync(join(root, 'dist', 'bundles.json'));
  t.equal(exitOf(root), 42, 'no manifest: main.js ran');
});

t.test('a bundle that throws as it loads falls back to the compiled CLI, which reports the failure its way', async (t) => {
  const root = layout(t);
  writeFileSync(join(root, 'dist', 'scan.bundle.cjs'), "throw new Error('a native addon built for another Node');\n");
  setMtime(join(root, 'dist', 'scan.bundle.cjs'), 1_000_100);
  t.equal(exitOf(root, ['scan']), 42);
});

t.test('a missing bundle falls back to the compiled CLI', async (t) => {
  const root = layout(t);
  rmSync(join(root, 'dist', 'core-commands.bundle.cjs'));
  t.equal(exitOf(root), 42);
});

t.test('the first run writes V8 code cache for the bundle; a cache older than the bundle is written anew', async (t) => {
  const root = layout(t);
  const cache = join(root, 'dist', 'core-commands.bundle.code-cache');
  t.equal(exitOf(root), 41);
  t.ok(statSync(cache).size > 0, 'the cache was written');
  t.equal(exitOf(root), 41, 'and the bundle runs with it');
  setMtime(cache, 1_000_050);
  t.equal(exitOf(root), 41, 'a stale cache is not used');
  t.ok(statSync(cache).mtimeMs > 1_000_100_000, 'and is replaced');
  t.equal(exitOf(root, ['scan']), 43);
  t.ok(statSync(join(root, 'dist', 'scan.bundle.code-cache')).size > 0, 'each bundle has its own cache');
});
