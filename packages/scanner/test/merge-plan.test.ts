import t from 'tap';
import type { LocalEntry } from '../src/detect/change-detector.js';
import { movedTo, planMerge, type MergeAction } from '../src/pull/merge-plan.js';
import type { RemoteEntry } from '../src/state/state-store.js';

const file = (path: string, hash: string): LocalEntry => ({ path, diskPath: path, type: 'file', size: 1, mtimeMs: 1, ino: 1, mode: 0o644, hash, racy: false });
const dir = (path: string): LocalEntry => ({ path, diskPath: path, type: 'dir', size: 0, mtimeMs: 1, ino: 1, mode: 0o755, racy: false });
const rfile = (path: string, hash: string, mtimeMs = 5): RemoteEntry => ({ path, type: 'file', size: 1, mtimeMs, hash, executable: false });
const rdir = (path: string): RemoteEntry => ({ path, type: 'dir', size: 0, mtimeMs: 0, executable: false });

function plan(local: LocalEntry[], remote: RemoteEntry[], base: RemoteEntry[], opts: { union?: boolean; moves?: Array<{ from: string; to: string }> } = {}): Array<[string, string]> {
  const map = <T extends { path: string }>(rows: T[]) => new Map(rows.map((r) => [r.path, r]));
  return planMerge({ local: map(local), remote: map(remote), base: map(base), moves: opts.moves ?? [], union: opts.union ?? false }).map((a: MergeAction) => [a.kind, a.path]);
}

t.test('one side changed: push or pull; both changed alike: settle; neither: nothing', async (t) => {
  t.same(plan([file('a', 'h1')], [rfile('a', 'h0')], [rfile('a', 'h0')]), [['push', 'a']]);
  t.same(plan([file('a', 'h0')], [rfile('a', 'h1')], [rfile('a', 'h0')]), [['download', 'a']]);
  t.same(plan([file('a', 'h1')], [rfile('a', 'h1')], [rfile('a', 'h0')]), [['settle', 'a']]);
  t.same(plan([file('a', 'h0')], [rfile('a', 'h0', 999)], [rfile('a', 'h0')]), [], 'an mtime alone is no change');
});

t.test('both changed to different content: a conflict', async (t) => {
  t.same(plan([file('a', 'h1')], [rfile('a', 'h2')], [rfile('a', 'h0')]), [['conflict', 'a']]);
});

t.test('edit beats delete, both ways', async (t) => {
  t.same(plan([], [rfile('a', 'h1')], [rfile('a', 'h0')]), [['download', 'a']], 'deleted here, edited there: pulled back');
  t.same(plan([file('a', 'h1')], [], [rfile('a', 'h0')]), [['recreate', 'a']], 'edited here, deleted there: sent again');
  t.same(plan([], [], [rfile('a', 'h0')]), [['forget', 'a']], 'deleted on both sides');
});

t.test('remote deletes apply to unchanged entries only, files before folders, deepest first', async (t) => {
  t.same(plan([dir('d'), dir('d/e'), file('d/e/x', 'h')], [], [rdir('d'), rdir('d/e'), rfile('d/e/x', 'h')]), [
    ['delete', 'd/e/x'],
    ['rmdir', 'd/e'],
    ['rmdir', 'd'],
  ]);
});

t.test('a union merge (joining, expired cursor) deletes nothing on either side', async (t) => {
  const actions = plan([file('only-here', 'h1'), file('same', 's'), file('differs', 'x')], [rfile('only-there', 'h2'), rfile('same', 's'), rfile('differs', 'y')], [rfile('only-here', 'h1'), rfile('only-there', 'h2')], { union: true });
  t.same(actions.sort(), [['conflict', 'differs'], ['download', 'only-there'], ['push', 'only-here'], ['settle', 'same']].sort());
});

t.test('a union merge still trusts the base where the server holds what this device last agreed', async (t) => {
  // An expired cursor (or a merge racing this device's own acknowledged write): the server's copy is the
  // agreed one, so the local edit is an ordinary push, not a conflict copy of this device's own work.
  t.same(plan([file('a', 'h2')], [rfile('a', 'h1')], [rfile('a', 'h1')], { union: true }), [['push', 'a']]);
  t.same(plan([file('a', 'h2')], [rfile('a', 'h1')], [rfile('a', 'h0')], { union: true }), [['conflict', 'a']], 'the server moved on: still a conflict');
  t.same(plan([file('a', 'h2')], [rfile('a', 'h1')], [], { union: true }), [['conflict', 'a']], 'joining, no base: a conflict');
  t.same(plan([file('a', 'h1')], [rfile('a', 'h2')], [rfile('a', 'h1')], { union: true }), [['conflict', 'a']], 'the base is trusted for pushes only, never to overwrite this folder');
  t.same(plan([], [rfile('a', 'h1')], [rfile('a', 'h1')], { union: true }), [['download', 'a']], 'nor to delete');
});

t.test('moves: an edit follows its file, an added file follows its folder', async (t) => {
  t.equal(movedTo('f/a', [{ from: 'f', to: 'g' }, { from: 'g/a', to: 'h' }]), 'h');
  t.equal(movedTo('x', [{ from: 'f', to: 'g' }]), undefined);
  t.same(plan([file('old', 'h1')], [rfile('new', 'h0')], [rfile('old', 'h0')], { moves: [{ from: 'old', to: 'new' }] }), [['relocate', 'old']]);
  t.same(plan([dir('f'), file('f/one', 'o'), file('f/two', 't')], [rdir('g'), rfile('g/one', 'o')], [rdir('f'), rfile('f/one', 'o')], { moves: [{ from: 'f', to: 'g' }] }), [
    ['relocate', 'f/two'],
    ['mkdir', 'g'],
    ['rename', 'g/one'],
    ['rmdir', 'f'],
  ]);
});

t.test('a remote rename of a file held unchanged here is a local rename, not a download and a delete', async (t) => {
  const raw = (local: LocalEntry[], remote: RemoteEntry[], base: RemoteEntry[], moves: Array<{ from: string; to: string }> = []) => {
    const map = <T extends { path: string }>(rows: T[]) => new Map(rows.map((r) => [r.path, r]));
    return planMerge({ local: map(local), remote: map(remote), base: map(base), moves, union: false });
  };
  t.same(raw([file('a', 'h')], [rfile('b', 'h')], [rfile('a', 'h')]).map((a) => [a.kind, a.path, (a as { from?: string }).from]), [['rename', 'b', 'a']], 'paired by content, with or without the journal move');
  // Two deleted files with the same bytes: the journal's move says which one went where.
  const two = raw([file('x', 'h'), file('y', 'h')], [rfile('p', 'h'), rfile('q', 'h')], [rfile('x', 'h'), rfile('y', 'h')], [{ from: 'y', to: 'p' }, { from: 'x', to: 'q' }]);
  t.same(two.map((a) => [a.kind, a.path, (a as { from?: string }).from]), [['rename', 'p', 'y'], ['rename', 'q', 'x']]);
  t.same(plan([file('a', 'h2')], [rfile('b', 'h')], [rfile('a', 'h')]), [['recreate', 'a'], ['download', 'b']], 'edited here: no rename (edit beats delete: the edit is sent again, the moved copy pulled)');
  t.same(plan([file('a', 'h'), file('c', 'h')], [rfile('b', 'h'), rfile('c', 'h')], [rfile('a', 'h'), rfile('c', 'h')]), [['rename', 'b']], 'only a file that would be deleted is renamed, never one that stays');
  t.same(plan([file('a', 'h1'), file('b', 'h0')], [rfile('b', 'h1')], [rfile('a', 'h1'), rfile('b', 'h0')]), [['download', 'b'], ['delete', 'a']], 'a move over an existing file stays a download (the rename would find its target taken)');
});

t.test('move against move: the server\'s move wins, the local copy is renamed there, nothing is duplicated', async (t) => {
  const base = [rdir('d3'), rfile('d3/a', 'h1'), rfile('d3/b', 'h2')];
  const remote = [rdir('x'), rfile('x/a', 'h1'), rfile('x/b', 'h2')];
  const moves = [{ from: 'd3', to: 'x' }];
  const sorted = (rows: Array<[string, string]>) => rows.sort((p, q) => (p.join() < q.join() ? -1 : 1));
  t.same(sorted(plan([dir('y'), file('y/a', 'h1'), file('y/b', 'h2')], remote, base, { moves })), sorted([
    ['rename', 'x/a'], ['rename', 'x/b'], ['rmdir', 'y'], ['forget', 'd3'], ['forget', 'd3/a'], ['forget', 'd3/b'], ['mkdir', 'x'],
  ]));
  t.same(sorted(plan([dir('y'), file('y/a', 'h1'), file('y/b', 'h2'), file('y/new', 'h3')], remote, base, { moves })), sorted([
    ['rename', 'x/a'], ['rename', 'x/b'], ['push', 'y'], ['push', 'y/new'], ['forget', 'd3'], ['forget', 'd3/a'], ['forget', 'd3/b'], ['mkdir', 'x'],
  ]), 'a file added here to the moved folder keeps that folder');
  t.same(sorted(plan([dir('y'), file('y/a', 'h9'), file('y/b', 'h2')], remote, base, { moves })), sorted([
    ['rename', 'x/b'], ['push', 'y'], ['push', 'y/a'], ['download', 'x/a'], ['forget', 'd3'], ['forget', 'd3/a'], ['forget', 'd3/b'], ['mkdir', 'x'],
  ]), 'a file edited after the move is not taken for the moved one');
  t.same(sorted(plan([dir('y'), file('y/a', 'h1'), file('y/b', 'h2')], remote, base)), sorted([
    ['rename', 'x/a'], ['rename', 'x/b'], ['rmdir', 'y'], ['forget', 'd3'], ['forget', 'd3/a'], ['forget', 'd3/b'], ['mkdir', 'x'],
  ]), 'the other move reached the server as deletes and new files (no move in the journal): found by content and name (before: both folders kept, the files twice on every device; shared-load seed 1205)');
  t.same(sorted(plan([dir('y'), file('y/a2', 'h1'), file('y/b', 'h2')], remote, base)), sorted([
    ['rename', 'x/b'], ['push', 'y'], ['push', 'y/a2'], ['download', 'x/a'], ['forget', 'd3'], ['forget', 'd3/a'], ['forget', 'd3/b'], ['mkdir', 'x'],
  ]), 'without the journal\'s move, a file renamed here is not inferred (both kept)');
  t.same(plan([dir('empty')], [], []), [['push', 'empty']], 'an empty folder made here is never removed');
});

t.test('move against move, then edited at the winning path: the edit is pulled there, nothing is duplicated', async (t) => {
  // Shared-load seed 1204: a folder moved on two devices at once keeps receiving edits at the server's path;
  // the losing device's moved copy went up as new files (the folder twice, a conflict copy in both).
  const base = [rdir('d1'), rfile('d1/a', 'h1'), rfile('d1/b', 'h2')];
  const remote = [rdir('x'), rfile('x/a', 'h1-edited'), rfile('x/b', 'h2')];
  const moves = [{ from: 'd1', to: 'x' }];
  const map = <T extends { path: string }>(rows: T[]) => new Map(rows.map((r) => [r.path, r]));
  const actions = planMerge({ local: map([dir('y'), file('y/a', 'h1'), file('y/b', 'h2')]), remote: map(remote), base: map(base), moves, union: false });
  const rows = actions.map((a) => [a.kind, a.path, (a as { from?: string }).from ?? '']).sort((p, q) => (p.join() < q.join() ? -1 : 1));
  t.same(rows, [
    ['adopt', 'x/a', 'y/a'], ['forget', 'd1', ''], ['forget', 'd1/a', ''], ['forget', 'd1/b', ''], ['mkdir', 'x', ''], ['rename', 'x/b', 'y/b'], ['rmdir', 'y', ''],
  ]);
  t.notOk(actions.some((a) => a.kind === 'push'), 'nothing of the losing move is sent');
  t.same(plan([dir('y'), file('y/a', 'h9'), file('y/b', 'h2')], remote, base, { moves }).filter(([k]) => k === 'push' || k === 'download').sort(), [['download', 'x/a'], ['push', 'y'], ['push', 'y/a']], 'edited on both sides: both kept (edit beats move)');
});

t.test('move here, edit there (the edit reached the server first): the edit follows the move', async (t) => {
  t.same(plan([file('new', 'h0')], [rfile('old', 'h1')], [rfile('old', 'h0')]), [['follow', 'new']], 'pulled into the new name, then the move is sent');
  t.same(plan([file('new', 'h0')], [rfile('old', 'h0')], [rfile('old', 'h0')]), [['move', 'new']], 'no edit there: an ordinary local move, sent as a move (not a delete and a new file)');
  t.same(plan([dir('y'), file('y/a', 'h0')], [rdir('d'), rfile('d/a', 'h0')], [rdir('d'), rfile('d/a', 'h0')]).sort(), [['move', 'y/a'], ['push', 'd'], ['push', 'y']], 'a folder moved here: its files go as moves');
  t.same(plan([file('new', 'h2')], [rfile('old', 'h1')], [rfile('old', 'h0')]).sort(), [['download', 'old'], ['push', 'new']], 'moved and edited here too: no follow (edit beats delete keeps both)');
  t.same(plan([file('new', 'h0')], [rfile('old', 'h1')], [rfile('old', 'h0')], { union: true }).sort(), [['download', 'old'], ['push', 'new']], 'a union merge infers no move');
});

t.test('move here, delete there: sent as a move (a revive), the source\'s base kept until it is done', async (t) => {
  const base = [rdir('d'), rfile('d/a', 'h0'), rfile('d/b', 'h1')];
  t.same(plan([dir('y'), file('y/a', 'h0'), file('y/b', 'h1')], [], base).sort(), [['forget', 'd'], ['move', 'y/a'], ['move', 'y/b']], 'a folder moved here and deleted there: each file a move, none pushed as new, the folder not sent on its own (the revives make it)');
  t.same(plan([dir('y'), file('y/a', 'h0'), file('y/new', 'h5')], [], base).sort(), [['forget', 'd'], ['forget', 'd/b'], ['move', 'y/a'], ['push', 'y'], ['push', 'y/new']], 'a folder that also holds a new file is sent');
  t.same(plan([file('y/renamed', 'h0')], [], [rfile('d/a', 'h0')]).sort(), [['forget', 'd/a'], ['push', 'y/renamed']], 'another name: not taken for a move (pushed as new, as before)');
  t.same(plan([file('y/a', 'h9')], [], [rfile('d/a', 'h0')]).sort(), [['forget', 'd/a'], ['push', 'y/a']], 'other bytes: not a move');
  t.same(plan([file('y/a', 'h0')], [], [rfile('d/a', 'h0')], { union: true }), [['push', 'y/a']], 'a union merge infers no move');
  t.same(plan([file('y/a', 'h0')], [], [rfile('d/a', 'h0')], { moves: [{ from: 'd/a', to: 'x/a' }] }), [['move', 'y/a']], 'moved away there and gone since: the server decides (a revive it cannot make goes up as new content)');
  t.same(plan([file('y/a', 'h0')], [rfile('x/a', 'h0')], [rfile('d/a', 'h0')], { moves: [{ from: 'd/a', to: 'x/a' }] }).sort(), [['forget', 'd/a'], ['rename', 'x/a']], 'the server said another device brought it back at x/a: renamed there');
  t.same(plan([file('y/a', 'h0'), file('x/a', 'h0')], [rfile('x/a', 'h0')], [rfile('d/a', 'h0'), rfile('x/a', 'h0')], { moves: [{ from: 'd/a', to: 'x/a' }] }).sort(), [['discard', 'y/a'], ['forget', 'd/a']], 'and this device has pulled it there already: its own copy is dropped (before: revived again and again, refused each time)');
  t.same(plan([file('y/a', 'h0'), file('x/a', 'h7')], [rfile('x/a', 'h7')], [rfile('d/a', 'h0'), rfile('x/a', 'h7')], { moves: [{ from: 'd/a', to: 'x/a' }] }), [['move', 'y/a']], 'other bytes there: nothing dropped (a revive, which the server decides)');
  const relocated = planMerge({
    local: new Map([['d0/x/a', file('d0/x/a', 'h0')]]),
    remote: new Map([['e', rdir('e')]]),
    base: new Map([['shared/a', rfile('shared/a', 'h0')], ['d0', rdir('d0')]]),
    moves: [{ from: 'd0', to: 'e' }],
    union: false,
  });
  t.same(relocated.filter((a) => a.kind === 'relocate'), [{ kind: 'relocate', path: 'd0/x/a', to: 'e/x/a', from: 'shared/a' }], 'moved here into a folder another device moved, its source deleted there: it follows the folder and still goes as a revive');
  // The same, its source still on the server unchanged: a plain move from there (before: sent as new content and
  // the source deleted apart, a new file, and another device's revive of the source brought it back a second time).
  const kept = planMerge({
    local: new Map([['d0/x/a', file('d0/x/a', 'h0')]]),
    remote: new Map([['e', rdir('e')], ['shared/a', rfile('shared/a', 'h0')]]),
    base: new Map([['shared/a', rfile('shared/a', 'h0')], ['d0', rdir('d0')]]),
    moves: [{ from: 'd0', to: 'e' }],
    union: false,
  });
  t.same(kept.filter((a) => a.kind === 'relocate'), [{ kind: 'relocate', path: 'd0/x/a', to: 'e/x/a', from: 'shared/a' }], 'moved here into a folder another device moved, its source still there: it follows the folder as a move');
  t.notOk(kept.some((a) => a.path === 'shared/a'), 'the source is not deleted apart');
  const refused = new Map([['d/a', rfile('d/a', 'h0')]]);
  t.same(planMerge({ local: new Map([['y/a', file('y/a', 'h0')]]), remote: new Map(), base: refused, moves: [], union: false, refusedRevives: new Set(['d/a']) }).map((a) => [a.kind, a.path]).sort(), [['forget', 'd/a'], ['push', 'y/a']], 'a source whose revive was refused is not revived again: sent as new content (no loop)');
});

t.test('a file never read yet is left for the next scan', async (t) => {
  const unread = { ...file('a', 'h'), hash: undefined } as LocalEntry;
  delete (unread as { hash?: string }).hash;
  t.same(plan([unread], [rfile('a', 'h1')], [rfile('a', 'h0')]), []);
});

t.test('a file gone from here waits while a new file of its name and size is not read yet', async (t) => {
  const unread = (path: string): LocalEntry => ({ ...file(path, 'x'), hash: undefined });
  const base = [rdir('d'), rfile('d/a', 'h0'), rfile('d/b', 'h1')];
  t.same(plan([dir('y'), unread('y/a'), file('y/b', 'h1')], base, base).sort(), [['move', 'y/b'], ['push', 'y'], ['wait', 'd'], ['wait', 'd/a']],
    'the folder just moved and y/a not hashed yet: d/a is not sent as a delete (before: a delete, then y/a as a new file), nor is d removed');
  t.same(plan([dir('y'), unread('y/c'), file('y/b', 'h1')], base, base).sort(), [['move', 'y/b'], ['push', 'd'], ['push', 'd/a'], ['push', 'y']],
    'an unread file of another name holds nothing up');
});
