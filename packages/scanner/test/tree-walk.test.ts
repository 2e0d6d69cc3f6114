import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIgnoreRules, loadIgnoreRules } from '../src/detect/ignore-rules.js';
import { walkTree } from '../src/detect/tree-walk.js';

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

t.test('a no-change scan of 5,000 files hashes nothing and stays near the quick-check budget', async (t) => {
  const { planScan, classifyChanges } = await import('../src/detect/change-detector.js');
  const root = mkdtempSync(join(tmpdir(), 'dbx-speed-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (let d = 0; d < 25; d++) {
    mkdirSync(join(root, `d${d}`));
    for (let f = 0; f < 200; f++) writeFileSync(join(root, `d${d}/f${f}.txt`), `${d}/${f}`);
  }
  const rules = buildIgnoreRules();
  const first = walkTree(root, rules, () => {});
  const hashed = planScan(new Map(), first).changed.map((e) => ({ ...e, ...(e.type === 'file' ? { hash: 'h' } : {}) }));
  const rows = new Map(classifyChanges(new Map(), hashed, [], Date.now() + 60_000).upserts.map((e) => [e.path, e]));
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = process.hrtime.bigint();
    const plan = planScan(rows, walkTree(root, rules, () => {}));
    const perFile = Number(process.hrtime.bigint() - started) / 1000 / rows.size;
    best = Math.min(best, perFile);
    t.equal(plan.changed.length, 0);
  }
  t.comment(`no-change scan: ${best.toFixed(1)} µs per entry`);
  // rsync's quick check costs ~13 µs per file here; the bound is loose because CI machines are shared.
  t.ok(best < 150, `${best.toFixed(1)} µs per entry`);
});

t.test('names that are not valid UTF-8 are warned about and counted, never skipped silently', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dbx-walk-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]), 'latin-1 name');
  const dir = Buffer.concat([Buffer.from(`${root}/d`), Buffer.from([0xff])]);
  mkdirSync(dir);
  writeFileSync(Buffer.concat([dir, Buffer.from('/inner.txt')]), 'under a bad folder');
  writeFileSync(join(root, 'ok.txt'), 'fine');
  const warnings: string[] = [];
  const walk = walkTree(root, buildIgnoreRules(), (m, d) => warnings.push(`${m} ${String(d.path)}`));
  t.same([...walk.entries.keys()], ['ok.txt']);
  t.equal(walk.skipped, 2);
  t.same(warnings.sort(), ['folder name is not valid UTF-8; skipped with everything under it d\\xff', 'name is not valid UTF-8; skipped caf\\xe9.txt']);
});

t.test('ignoresIn answers as ignores on the full path for every entry whose folders are not ignored', async (t) => {
  const fc = (await import('fast-check')).default;
  // Lines of every kind: by name, anchored to the root, with a middle slash or '**', negated, folder-only, odd.
  const lines = ['*.log', '!keep.log', 'build/', '/top.txt', '!/top-keep', '/only/', 'a/b', '**/deep', 'x/**', '#c', '', '/', 'n?me', '[ab]*.md', '\\!bang', 'a*', '!a1', 'Doc'];
  const names = ['a', 'b', 'a1', 'x.log', 'keep.log', 'build', 'top.txt', 'top-keep', 'only', 'deep', 'x', 'name', 'nome', 'a.md', 'c.md', '!bang', 'doc', 'DOC.log', 'f'];
  await fc.assert(
    fc.property(fc.subarray(lines), fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 4 }), fc.boolean(), (chosen, segments, isDir) => {
      const rules = buildIgnoreRules(chosen.join('\n'));
      // The walk asks only about entries whose folders it walked: skip paths with an ignored folder above.
      for (let i = 1; i < segments.length; i++) if (rules.ignores(segments.slice(0, i).join('/'), true)) return;
      const parent = segments.slice(0, -1).join('/');
      const name = segments[segments.length - 1]!;
      const path = segments.join('/');
      if (rules.ignoresIn(parent, name, isDir) !== rules.ignores(path, isDir)) {
        throw new Error(`rules ${JSON.stringify(chosen)}: ${path}${isDir ? '/' : ''}: ignoresIn ${rules.ignoresIn(parent, name, isDir)}, ignores ${rules.ignores(path, isDir)}`);
      }
    }),
    { numRuns: 3000, seed: 21 },
  );
});

t.test('the walk skips by name below the root and by anchored rule at the root only', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dbx-walk-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'sub/top.txt'), { recursive: true });
  writeFileSync(join(root, 'top.txt'), 'root one');
  writeFileSync(join(root, 'sub/top.txt/inner.log'), 'log');
  writeFileSync(join(root, 'sub/keep.log'), 'kept');
  writeFileSync(join(root, 'sub/a.md'), 'md');
  writeFileSync(join(root, '.deltaboxignore'), '/top.txt\n*.log\n!keep.log\n');
  const walk = walkTree(root, loadIgnoreRules(root), () => {});
  t.same([...walk.entries.keys()].sort(), ['.deltaboxignore', 'sub', 'sub/a.md', 'sub/keep.log', 'sub/top.txt']);
});

t.test('the plain-name matcher answers as the ignore package on the full path (lines with * ? . $ + ~ # and folder-only)', async (t) => {
  const fc = (await import('fast-check')).default;
  const lines = ['*.log', 'build/', 'n?me', 'a*', 'Doc', '#c', '', '~$*', '.#*', 'x+y', 'a$b', '*~', 'v1.2', '?', 'dir?/', '*.LOG', 'b*c', 'q=r,s@t%u'];
  const names = ['a', 'b', 'a1', 'x.log', 'X.LOG', 'build', 'name', 'nome', 'doc', 'DOC', '~$x', '.#lock', 'x+y', 'xxy', 'a$b', 'ab', 'f~', 'v1.2', 'v1x2', 'z', 'dir1', 'bac', 'bc', 'q=r,s@t%u', 'é'];
  await fc.assert(
    fc.property(fc.subarray(lines), fc.array(fc.constantFrom(...names), { minLength: 2, maxLength: 4 }), fc.boolean(), (chosen, segments, isDir) => {
      const rules = buildIgnoreRules(chosen.join('\n'));
      for (let i = 1; i < segments.length; i++) if (rules.ignores(segments.slice(0, i).join('/'), true)) return;
      const path = segments.join('/');
      const got = rules.ignoresIn(segments.slice(0, -1).join('/'), segments[segments.length - 1]!, isDir);
      if (got !== rules.ignores(path, isDir)) throw new Error(`rules ${JSON.stringify(chosen)}: ${path}${isDir ? '/' : ''}: ignoresIn ${got}, ignores ${!got}`);
    }),
    { numRuns: 3000, seed: 22 },
  );
});
