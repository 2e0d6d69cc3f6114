import t from 'tap';
import type { LocalEntry } from '../src/detect/change-detector.js';
import type { RemoteEntry } from '../src/state/state-store.js';
import { planStep, inSync } from '../src/transfer/transfer-plan.js';
import { diffForQueue } from '../src/queue/reconcile-plan.js';

const lf = (path: string, hash: string, mtimeMs = 1000, mode = 0o644): LocalEntry => ({ path, diskPath: path, type: 'file', size: 5, mtimeMs, ino: 1, mode, hash, racy: false });
const ld = (path: string): LocalEntry => ({ path, diskPath: path, type: 'dir', size: 0, mtimeMs: 1, ino: 2, mode: 0o755, racy: false });
const rf = (path: string, hash: string, mtimeMs = 1000, executable = false): RemoteEntry => ({ path, type: 'file', size: 5, mtimeMs, hash, executable });
const rd = (path: string): RemoteEntry => ({ path, type: 'dir', size: 0, mtimeMs: 0, executable: false });
const ctx = (local: LocalEntry[], remote: RemoteEntry[], moveSources: string[] = [], base: RemoteEntry[] = []) => ({
  local: new Map(local.map((e) => [e.path, e])),
  remote: new Map(remote.map((e) => [e.path, e])),
  base: new Map(base.map((e) => [e.path, e])),
  hasMoveFrom: (p: string, below: boolean) => moveSources.some((s) => s === p || (below && s.startsWith(`${p}/`))),
  hasMoveAbove: (p: string) => moveTargets.some((m) => p.startsWith(`${m}/`)),
  hasMoveInto: (p: string) => moveTargets.some((m) => m.startsWith(`${p}/`)),
});
let moveTargets: string[] = [];

t.test('inSync compares content, type, executable bit and whole-ms mtime', async (t) => {
  t.ok(inSync(lf('a', 'h', 1000.7), rf('a', 'h', 1000)));
  t.notOk(inSync(lf('a', 'h', 1001), rf('a', 'h', 1000)));
  t.notOk(inSync(lf('a', 'h', 1000, 0o755), rf('a', 'h', 1000)));
  t.notOk(inSync(lf('a', 'h'), rf('a', 'g')));
  t.ok(inSync(ld('d'), rd('d')));
  t.ok(inSync(undefined, undefined));
});

t.test('planStep picks the one next step for each situation', async (t) => {
  const sync = (path: string) => ({ path, kind: 'sync' as const });
  t.same(planStep(sync('a'), ctx([lf('a', 'h')], [])), { type: 'upload', path: 'a', local: lf('a', 'h') });
  t.same(planStep(sync('a'), ctx([lf('a', 'h')], [rf('a', 'g')])).type, 'upload');
  t.same(planStep(sync('a'), ctx([], [rf('a', 'g')])), { type: 'delete', path: 'a', ifMatch: 'g' });
  t.same(planStep(sync('a'), ctx([], [rf('a', 'g')], ['a'])), { type: 'blocked' }, 'a move source is not deleted first');
  t.same(planStep(sync('d'), ctx([], [rd('d')])), { type: 'rmdir', path: 'd' });
  t.same(planStep(sync('d'), ctx([], [rd('d')], ['d/x'])), { type: 'blocked' });
  t.same(planStep(sync('d'), ctx([ld('d')], [])), { type: 'mkdir', path: 'd' });
  t.same(planStep(sync('d'), ctx([ld('d')], [rf('d', 'h')])), { type: 'delete', path: 'd', ifMatch: 'h' });
  t.same(planStep(sync('a'), ctx([lf('a', 'h')], [rd('a')])), { type: 'rmdir', path: 'a' });
  t.same(planStep({ path: 'b', kind: 'move', from: 'a' }, ctx([lf('b', 'h')], [rf('a', 'h')])), { type: 'move', path: 'b', from: 'a', hash: 'h' });
  t.same(planStep({ path: 'b', kind: 'move', from: 'a' }, ctx([lf('b', 'h'), lf('a', 'h')], [rf('a', 'h')])).type, 'upload', 'no move when the source still exists locally');
  t.same(planStep({ path: 'b', kind: 'move', from: 'a' }, ctx([lf('b', 'h')], [rf('a', 'other')])).type, 'upload', 'no move when the source changed');
  t.same(planStep(sync('a'), ctx([lf('a', 'h')], [rf('a', 'h')])), { type: 'noop' });
  const moved = { path: 'b', kind: 'move' as const, from: 'a' };
  t.same(planStep(moved, ctx([lf('b', 'h')], [], [], [rf('a', 'h')])), { type: 'move', path: 'b', from: 'a', hash: 'h', revive: true }, 'the source deleted on the server since the base: a revive');
  t.same(planStep(moved, ctx([lf('b', 'h')], [], [], [rf('a', 'other')])).type, 'upload', 'edited here before the move: no revive');
  t.same(planStep(moved, ctx([lf('b', 'h')], [], [], [])).type, 'upload', 'no base for the source: no revive');
  t.same(planStep(moved, ctx([lf('b', 'h'), lf('a', 'h')], [], [], [rf('a', 'h')])).type, 'upload', 'the source still here: no revive');
  t.same(planStep(moved, ctx([lf('b', 'h')], [rf('b', 'g')], [], [rf('a', 'h')])).type, 'upload', 'the server holds something at the target: no revive');
});

t.test('a folder move goes first, after moves out of it; what it carries waits for it', async (t) => {
  const move = { path: 'dst', kind: 'move' as const, from: 'src' };
  t.same(planStep(move, ctx([ld('dst')], [rd('src')])), { type: 'move', path: 'dst', from: 'src' });
  t.same(planStep(move, ctx([ld('dst')], [rd('src')], ['src/x'])), { type: 'blocked' }, 'a file move out of src goes first');
  t.same(planStep(move, ctx([ld('dst')], [rd('src'), rd('dst')])), { type: 'noop' }, 'already there');
  t.same(planStep(move, ctx([ld('dst'), ld('src')], [rd('src')])), { type: 'mkdir', path: 'dst' }, 'no move when src still exists');
  moveTargets = ['dst'];
  t.same(planStep({ path: 'dst/b', kind: 'sync' }, ctx([lf('dst/b', 'h')], [])), { type: 'blocked' });
  moveTargets = ['y/a'];
  t.same(planStep({ path: 'y', kind: 'sync' }, ctx([ld('y'), lf('y/a', 'h')], [])), { type: 'blocked' }, 'a new folder that a file move fills waits: the server makes it for the move');
  t.same(planStep({ path: 'y', kind: 'move', from: 'gone' }, ctx([ld('y'), lf('y/a', 'h')], [])), { type: 'mkdir', path: 'y' }, 'never a folder\'s own move (the moves below it wait for it)');
  t.same(planStep({ path: 'y', kind: 'sync' }, ctx([ld('y')], [rd('y')])), { type: 'noop' });
  moveTargets = [];
});

t.test('reconciliation queues every difference, moves by hash, removes only topmost extras', async (t) => {
  const local = [ld('keep'), lf('keep/a', 'ha'), lf('renamed', 'hb'), lf('new', 'hn')];
  const remote = [rd('keep'), rf('keep/a', 'ha'), rf('old', 'hb'), rd('gone'), rd('gone/sub'), rf('gone/sub/x', 'hx'), rf('stray', 'hs')];
  const c = ctx(local, remote);
  t.same(diffForQueue(c.local, c.remote), [
    { path: 'renamed', kind: 'move', from: 'old' },
    { path: 'new', kind: 'sync' },
    { path: 'stray', kind: 'sync' },
    { path: 'gone', kind: 'sync' },
  ]);
});
