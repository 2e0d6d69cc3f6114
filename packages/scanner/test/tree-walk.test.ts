import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIgnoreRules, loadIgnoreRules } from '../src/detect/ignore-rules.js';
import { walkListing, walkTree } from '../src/detect/tree-walk.js';
import { ListingWorker } from '../src/detect/tree-listing.js';

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

/** A folder with every kind of entry the walk treats specially. */
function awkwardTree(t: { teardown(fn: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'dbx-listing-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const dir of ['a/b/c', 'a/d', 'ignored/deep', 'x.tmp', 'caf\u00e9', 'cafe\u0301', '.deltabox/cache']) mkdirSync(join(root, dir), { recursive: true });
  for (const file of ['a/b/c/f.txt', 'a/d/g.txt', 'ignored/deep/h.txt', 'x.tmp/inside.txt', 'caf\u00e9/one', 'cafe\u0301/two', '.deltabox/state', 'top.swp', 'n\u00e9.txt', 'ne\u0301.txt', 'e\u0301-only.txt', 'bad\\name']) {
    writeFileSync(join(root, file), file);
  }
  writeFileSync(join(root, '.deltaboxignore'), 'ignored/\n');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x6c, 0xff, 0x2e, 0x74])]), 'latin1 name');
  mkdirSync(Buffer.concat([Buffer.from(`${root}/a/`), Buffer.from([0xfe, 0x64])]));
  symlinkSync(join(root, 'a'), join(root, 'a/link'));
  execFileSync('mkfifo', [join(root, 'a/d/pipe')]);
  return root;
}

t.test('a listing from the worker thread gives the walk the same entries, warnings and counts as walking the folder', async (t) => {
  const root = awkwardTree(t);
  const rules = loadIgnoreRules(root);
  const walked: string[] = [];
  const expected = walkTree(root, rules, (m, d) => walked.push(`${m} ${JSON.stringify(d)}`));
  const worker = new ListingWorker(root);
  const listing = worker.take();
  t.ok(listing, 'the worker listed the folder');
  t.ok(listing!.startedMs <= Date.now());
  const replayed: string[] = [];
  const got = walkListing(listing!, root, rules, (m, d) => replayed.push(`${m} ${JSON.stringify(d)}`))!;
  t.same([...got.entries], [...expected.entries], 'the same entries in the same order');
  t.same(got.unreadableDirs, expected.unreadableDirs);
  t.equal(got.skipped, expected.skipped);
  t.same(replayed, walked, 'the same warnings in the same order');
  t.ok(expected.entries.has('a/b/c/f.txt') && !expected.entries.has('ignored/deep/h.txt') && expected.skipped >= 5, 'the tree has what the test is about');
});

t.test('a listing misses nothing a change made: each kind of change found by the quick check is found from a listing', async (t) => {
  const { planScan } = await import('../src/detect/change-detector.js');
  const root = awkwardTree(t);
  const rules = loadIgnoreRules(root);
  const before = walkTree(root, rules, () => {});
  const rows = new Map([...before.entries].map(([p, e]) => [p, { ...e, racy: false, ...(e.type === 'file' ? { hash: 'h' } : {}) }]));
  writeFileSync(join(root, 'a/b/c/f.txt'), 'same size?'); // content and size
  utimesSync(join(root, 'a/d/g.txt'), new Date(1_000_000), new Date(1_000_000)); // mtime only
  chmodSync(join(root, 'top.swp'), 0o755); // ignored: no change
  chmodSync(join(root, 'n\u00e9.txt'), 0o700); // mode only
  rmSync(join(root, 'caf\u00e9'), { recursive: true }); // a folder gone (its NFD twin, if it was the one synced, stays)
  rmSync(join(root, 'cafe\u0301'), { recursive: true });
  writeFileSync(join(root, 'a/new.txt'), 'new');
  const listing = new ListingWorker(root).take()!;
  const expected = planScan(rows, walkTree(root, rules, () => {}));
  const got = planScan(rows, walkListing(listing, root, rules, () => {})!);
  const names = (plan: typeof got) => ({ changed: plan.changed.map((e) => e.path).sort(), removed: plan.removed.map((e) => e.path).sort() });
  t.same(names(got), names(expected));
  for (const path of ['a/b/c/f.txt', 'a/d/g.txt', 'a/new.txt', 'n\u00e9.txt']) t.ok(names(got).changed.includes(path), `${path} changed`);
  t.notOk(names(got).changed.includes('top.swp'), 'an ignored file is no change');
  t.ok(names(got).changed.length + names(got).removed.length >= 5, 'the folder that went is seen too');
});

t.test('the worker gives up past its entry limit, and a listing that lacks a folder the walk enters is not used', async (t) => {
  const root = awkwardTree(t);
  t.equal(new ListingWorker(root, 3).take(), undefined, 'too many entries: the caller walks');
  const listing = new ListingWorker(root).take()!;
  // An ignore file that no longer ignores the state folder's name at the root cannot happen (built in), so
  // make the pruned record stand for a folder the rules enter.
  const pruned = listing.names.indexOf('.deltabox');
  listing.names[pruned] = 'a-pruned';
  t.equal(walkListing(listing, root, loadIgnoreRules(root), () => {}), undefined);
  const worker = new ListingWorker(root);
  worker.close();
  t.equal(worker.take(), undefined, 'closed: nothing to take');
});
