import t from 'tap';
import fc from 'fast-check';
import {
  classifyChanges,
  planScan,
  type HashedEntry,
  type LocalEntry,
} from '../src/detect/change-detector.js';
import type { WalkedEntry } from '../src/detect/tree-walk.js';

const OLD = 1_000_000;
const NOW = 2_000_000;

function file(path: string, hash: string, extra: Partial<LocalEntry> = {}): LocalEntry {
  return { path, diskPath: path, type: 'file', size: hash.length, mtimeMs: OLD, ino: 1, mode: 0o644, hash, racy: false, ...extra };
}
function dir(path: string): LocalEntry {
  return { path, diskPath: path, type: 'dir', size: 0, mtimeMs: OLD, ino: 2, mode: 0o755, racy: false };
}
function walk(entries: LocalEntry[]) {
  return { entries: new Map(entries.map((e) => { const { hash: _h, racy: _r, ...w } = e; return [e.path, w as WalkedEntry]; })), unreadableDirs: new Set<string>(), skipped: 0 };
}
/** Runs both steps with a hasher that knows every walked file's content. */
function detect(prev: LocalEntry[], now: LocalEntry[]) {
  const prevMap = new Map(prev.map((e) => [e.path, e]));
  const plan = planScan(prevMap, walk(now));
  const byPath = new Map(now.map((e) => [e.path, e]));
  const hashed: HashedEntry[] = plan.changed.map((w) => ({ ...w, ...(w.type === 'file' ? { hash: byPath.get(w.path)!.hash! } : {}) }));
  return { plan, outcome: classifyChanges(prevMap, hashed, plan.removed, NOW) };
}

t.test('a scan with nothing changed hashes nothing and queues nothing', async (t) => {
  const tree = [dir('a'), file('a/x', 'h1'), file('y', 'h2')];
  const { plan, outcome } = detect(tree, tree);
  t.same(plan.changed, []);
  t.same(outcome.changes, []);
});

t.test('the hashed entries become the rows themselves, racy set, not copies', async (t) => {
  const a: HashedEntry = { path: 'a', diskPath: 'a', type: 'file', size: 1, mtimeMs: NOW - 10, ino: 1, mode: 0o644, hash: 'h1' };
  const d: HashedEntry = { path: 'd', diskPath: 'd', type: 'dir', size: 0, mtimeMs: NOW - 10, ino: 2, mode: 0o755 };
  const outcome = classifyChanges(new Map(), [a, d], [], NOW);
  t.equal(outcome.upserts[0], a, 'the file');
  t.equal(outcome.upserts[1], d, 'the folder');
  t.equal(a.racy, true, 'written just before the scan started');
  t.equal(d.racy, false, 'a folder is never racy');
});

t.test('size, mtime, inode and mode changes each trigger hashing', async (t) => {
  const base = file('f', 'h1');
  for (const change of [{ size: 99 }, { mtimeMs: OLD + 1 }, { ino: 7 }, { mode: 0o755 }]) {
    const { plan } = detect([base], [{ ...base, ...change }]);
    t.equal(plan.changed.length, 1, JSON.stringify(change));
  }
});

t.test('a racily clean file is hashed again on the next scan', async (t) => {
  const { outcome } = detect([], [file('f', 'h1', { mtimeMs: NOW - 10 })]);
  t.equal(outcome.upserts[0]!.racy, true);
  const again = detect(outcome.upserts, [file('f', 'h1', { mtimeMs: NOW - 10 })]);
  t.equal(again.plan.changed.length, 1);
});

t.test('a touched file with the same content still reports its new mtime', async (t) => {
  const { outcome } = detect([file('f', 'h1')], [file('f', 'h1', { mtimeMs: OLD + 5000 })]);
  t.same(outcome.changes, [{ kind: 'modified', path: 'f' }]);
});

t.test('a new inode with the same content and mtime is not a change for the server', async (t) => {
  const { outcome } = detect([file('f', 'h1')], [file('f', 'h1', { ino: 99 })]);
  t.same(outcome.changes, []);
  t.equal(outcome.upserts.length, 1, 'the row still records the new inode');
});

t.test('a rename is detected by content hash and sent as a move', async (t) => {
  const { outcome } = detect([file('old name', 'h1'), file('keep', 'h2')], [file('new/name', 'h1'), file('keep', 'h2'), dir('new')]);
  t.same(outcome.changes, [
    { kind: 'added', path: 'new' },
    { kind: 'moved', path: 'new/name', from: 'old name' },
  ]);
  t.same(outcome.deletes, ['old name']);
});

t.test('empty files are never matched as renames', async (t) => {
  const { outcome } = detect([file('a', '', { size: 0 })], [file('b', '', { size: 0 })]);
  t.same(outcome.changes, [{ kind: 'added', path: 'b' }, { kind: 'removed', path: 'a' }]);
});

t.test('a deleted folder is one removal, deepest folders last', async (t) => {
  const prev = [dir('d'), dir('d/e'), file('d/e/f', 'h1'), file('d/g', 'h2'), dir('z')];
  const { outcome } = detect(prev, [dir('z')]);
  t.same(outcome.changes, [{ kind: 'removed', path: 'd' }]);
  t.same(outcome.deletes.sort(), ['d', 'd/e', 'd/e/f', 'd/g']);
});

t.test('a folder copied and deleted (new inode) becomes a new folder, moves of its files and one removal', async (t) => {
  const prev = [dir('src'), file('src/a', 'ha'), file('src/b', 'hb')];
  const { outcome } = detect(prev, [{ ...dir('dst'), ino: 77 }, file('dst/a', 'ha'), file('dst/b', 'hb')]);
  t.same(outcome.changes, [
    { kind: 'added', path: 'dst' },
    { kind: 'moved', path: 'dst/a', from: 'src/a' },
    { kind: 'moved', path: 'dst/b', from: 'src/b' },
    { kind: 'removed', path: 'src' },
  ]);
});

t.test('a renamed folder (same inode) is one server-side move of the whole tree', async (t) => {
  const prev = [dir('src'), dir('src/sub'), file('src/sub/a', 'ha'), file('src/b', 'hb')];
  const { outcome } = detect(prev, [dir('dst'), dir('dst/sub'), file('dst/sub/a', 'ha'), file('dst/b', 'hb')]);
  t.same(outcome.changes, [{ kind: 'moved', path: 'dst', from: 'src' }]);
});

t.test('a renamed folder with edits inside: the move, then the edits, then what was left behind', async (t) => {
  const prev = [dir('src'), file('src/a', 'ha'), file('src/b', 'hb'), file('src/c', 'hc'), file('src/out', 'ho')];
  const now = [dir('dst'), file('dst/a', 'ha'), file('dst/b', 'CHANGED'), file('dst/new', 'hn'), file('moved out', 'ho')];
  const { outcome } = detect(prev, now);
  t.same(outcome.changes, [
    { kind: 'moved', path: 'dst', from: 'src' },
    { kind: 'moved', path: 'moved out', from: 'src/out' },
    { kind: 'added', path: 'dst/b' },
    { kind: 'added', path: 'dst/new' },
    { kind: 'removed', path: 'dst/c' },
    { kind: 'removed', path: 'dst/out' },
  ]);
});

t.test('entries under a folder that could not be listed are kept', async (t) => {
  const prevMap = new Map([dir('locked'), file('locked/a', 'h')].map((e) => [e.path, e]));
  const w = walk([dir('locked')]);
  w.unreadableDirs.add('locked');
  t.same(planScan(prevMap, w).removed, []);
});

t.test('a file that could not be hashed keeps its old row and queues nothing', async (t) => {
  const prevMap = new Map([file('f', 'h1')].map((e) => [e.path, e]));
  const plan = planScan(prevMap, walk([file('f', 'h2', { size: 5 })]));
  const outcome = classifyChanges(prevMap, [], plan.removed, NOW);
  t.same(outcome.changes, []);
  t.same(outcome.upserts, []);
});

// Model: a random sequence of tree edits; after each scan, applying the outcome to the recorded rows must
// give exactly the tree on disk, and every path whose server view differs must have a change queued (or
// be covered by a removed ancestor or a move).
t.test('model: recorded rows always equal the tree and every difference is queued', async (t) => {
  const names = ['a', 'b', 'c', 'd/a', 'd/b', 'e/f/g'];
  const contents = ['h1', 'h2', 'h3', ''];
  const edit = fc.record({
    op: fc.constantFrom('write', 'delete', 'rename', 'touch', 'chmod'),
    name: fc.constantFrom(...names),
    to: fc.constantFrom(...names),
    content: fc.constantFrom(...contents),
  });
  fc.assert(
    fc.property(fc.array(fc.array(edit, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), (rounds) => {
      const disk = new Map<string, LocalEntry>();
      let rows = new Map<string, LocalEntry>();
      let clock = OLD;
      const ensureParents = (p: string) => {
        const parts = p.split('/');
        for (let i = 1; i < parts.length; i++) {
          const d = parts.slice(0, i).join('/');
          if (disk.get(d)?.type !== 'dir') disk.set(d, dir(d));
        }
      };
      const clash = (p: string) => [...disk.keys()].some((k) => k.startsWith(`${p}/`)) || p.split('/').slice(1).some((_, i) => disk.get(p.split('/').slice(0, i + 1).join('/'))?.type === 'file');
      for (const round of rounds) {
        for (const e of round) {
          clock += 10_000;
          const cur = disk.get(e.name);
          if (e.op === 'write' && !clash(e.name)) {
            ensureParents(e.name);
            disk.set(e.name, file(e.name, e.content, { mtimeMs: clock, ino: clock }));
          } else if (e.op === 'delete' && cur?.type === 'file') disk.delete(e.name);
          else if (e.op === 'touch' && cur?.type === 'file') disk.set(e.name, { ...cur, mtimeMs: clock });
          else if (e.op === 'chmod' && cur?.type === 'file') disk.set(e.name, { ...cur, mode: cur.mode ^ 0o111 });
          else if (e.op === 'rename' && cur?.type === 'file' && !disk.has(e.to) && !clash(e.to)) {
            disk.delete(e.name);
            ensureParents(e.to);
            disk.set(e.to, { ...cur, path: e.to, diskPath: e.to });
          }
        }
        const plan = planScan(rows, walk([...disk.values()]));
        const hashed = plan.changed.map((w) => ({ ...w, ...(w.type === 'file' ? { hash: disk.get(w.path)!.hash! } : {}) }));
        const outcome = classifyChanges(rows, hashed, plan.removed, clock + 100_000);
        const next = new Map(rows);
        for (const d of outcome.deletes) next.delete(d);
        for (const u of outcome.upserts) next.set(u.path, u);
        const strip = (m: Map<string, LocalEntry>) => [...m.values()].map(({ racy: _r, ...rest }) => rest).sort((a, b) => a.path.localeCompare(b.path));
        if (JSON.stringify(strip(next)) !== JSON.stringify(strip(disk))) return false;
        const queued = new Set(outcome.changes.map((c) => c.path));
        const moved = new Set(outcome.changes.flatMap((c) => (c.from ? [c.from] : [])));
        for (const p of new Set([...rows.keys(), ...disk.keys()])) {
          const a = rows.get(p);
          const b = disk.get(p);
          const same = a && b && a.type === b.type && a.hash === b.hash && a.mode === b.mode && a.mtimeMs === b.mtimeMs;
          if (same) continue;
          const coveredByAncestor = p.split('/').some((_, i, parts) => i > 0 && queued.has(parts.slice(0, i).join('/')) && !disk.has(parts.slice(0, i).join('/')));
          if (!queued.has(p) && !moved.has(p) && !coveredByAncestor && !(a && b && a.type === 'dir')) {
            if (!(a && b && a.hash === b.hash && a.mtimeMs === b.mtimeMs && (a.mode & 0o111) === (b.mode & 0o111))) return false;
          }
        }
        rows = next;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('property held');
});

t.test('a move between two files inside a renamed folder becomes an in-place sync, not a deadlock', async (t) => {
  const prev = [dir('src'), file('src/a', 'same'), file('src/b', 'other')];
  const now = [dir('dst'), file('dst/b', 'same'), file('dst/a', 'same')];
  const { outcome } = detect(prev, now);
  t.same(outcome.changes, [
    { kind: 'moved', path: 'dst', from: 'src' },
    { kind: 'added', path: 'dst/b' },
    { kind: 'added', path: 'dst/a' }, // compared in place after the move (a no-op when it came along)
  ]);
});

t.test('a file with an mtime far in the future is not re-hashed on every scan', async (t) => {
  const { outcome } = detect([], [file('f', 'h1', { mtimeMs: NOW + 86_400_000 })]);
  t.equal(outcome.upserts[0]!.racy, false);
});
