import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIgnoreRules, loadIgnoreRules } from '../src/ignore-rules.js';
import { walkTree } from '../src/tree-walk.js';

t.test('built-in ignores cover the state folder and common temp files', async (t) => {
  const rules = buildIgnoreRules();
  for (const p of ['.deltabox', 'a/.notes.swp', 'x~', 'a/.#lock', '~$doc.docx', '.DS_Store', 'dl.tmp']) {
    t.ok(rules.ignores(p, p === '.deltabox'), p);
  }
  for (const p of ['notes.txt', 'a/b/c.md', 'tmp/file', 'deltabox']) t.notOk(rules.ignores(p, false), p);
});

t.test('the walk lists files and folders, skips symlinks and ignored paths, NFC-normalises names', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dbx-walk-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'a/b'), { recursive: true });
  writeFileSync(join(root, 'a/b/file.txt'), 'x');
  writeFileSync(join(root, 'e\u0301.txt'), 'nfd');
  writeFileSync(join(root, 'skip.log'), 'log');
  writeFileSync(join(root, '.deltaboxignore'), '*.log\n');
  mkdirSync(join(root, '.deltabox'));
  writeFileSync(join(root, '.deltabox/state'), 's');
  symlinkSync(join(root, 'a'), join(root, 'link'));
  const warnings: string[] = [];
  const walk = walkTree(root, loadIgnoreRules(root), (m, d) => warnings.push(`${m} ${String(d.path)}`));
  t.same([...walk.entries.keys()].sort(), ['.deltaboxignore', 'a', 'a/b', 'a/b/file.txt', '\u00e9.txt']);
  t.equal(walk.entries.get('\u00e9.txt')!.diskPath, 'e\u0301.txt', 'the disk name is kept for reading');
  t.match(warnings, [/symlink skipped.*link/]);
});

t.test('a folder that cannot be listed is reported, not treated as empty', { skip: process.getuid?.() === 0 ? 'root reads everything' : false }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dbx-walk-'));
  t.teardown(() => {
    chmodSync(join(root, 'locked'), 0o755);
    rmSync(root, { recursive: true, force: true });
  });
  mkdirSync(join(root, 'locked'));
  writeFileSync(join(root, 'locked/f'), 'x');
  chmodSync(join(root, 'locked'), 0o000);
  const walk = walkTree(root, buildIgnoreRules(), () => {});
  t.ok(walk.unreadableDirs.has('locked'));
});
