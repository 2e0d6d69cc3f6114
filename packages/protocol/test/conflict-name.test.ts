import t from 'tap';
import { conflictCopyName, isConflictCopy } from '../src/conflict-name.js';

const at = new Date(2026, 11, 1, 9, 5, 7); // local time 2026-12-01 09:05:07

t.test('names a conflict copy after the device and the local time, keeping the extension', async (t) => {
  t.equal(conflictCopyName('notes/plan.txt', 'laptop', at), 'notes/plan (conflicted copy laptop 2026-12-01 090507).txt');
  t.equal(conflictCopyName('a.tar.gz', 'pc', at), 'a.tar (conflicted copy pc 2026-12-01 090507).gz');
  t.equal(conflictCopyName('.bashrc', 'pc', at), '.bashrc (conflicted copy pc 2026-12-01 090507)');
  t.equal(conflictCopyName('Makefile', 'pc', at), 'Makefile (conflicted copy pc 2026-12-01 090507)');
});

t.test('keeps a device name from breaking the path or the pattern', async (t) => {
  t.equal(conflictCopyName('a.txt', 'x/y(z)\n', at), 'a (conflicted copy x-y-z-- 2026-12-01 090507).txt');
  t.equal(conflictCopyName('a.txt', '', at), 'a (conflicted copy device 2026-12-01 090507).txt');
});

t.test('never makes a conflict copy of a conflict copy: it numbers it instead', async (t) => {
  const first = conflictCopyName('d/a.txt', 'pc', at);
  t.ok(isConflictCopy(first));
  const second = conflictCopyName(first, 'other', new Date(2030, 0, 1));
  t.equal(second, 'd/a (conflicted copy pc 2026-12-01 090507 2).txt');
  t.equal(conflictCopyName(second, 'pc', at), 'd/a (conflicted copy pc 2026-12-01 090507 3).txt');
  t.ok(isConflictCopy(second));
  t.equal(conflictCopyName(first, 'pc', at, 5), 'd/a (conflicted copy pc 2026-12-01 090507 6).txt');
});

t.test('numbers a plain copy whose name is taken', async (t) => {
  t.equal(conflictCopyName('a.txt', 'pc', at, 2), 'a (conflicted copy pc 2026-12-01 090507 2).txt');
});

t.test('tells conflict copies from ordinary names', async (t) => {
  t.notOk(isConflictCopy('a.txt'));
  t.notOk(isConflictCopy('a (conflicted copy).txt'));
  t.notOk(isConflictCopy('dir (conflicted copy pc 2026-12-01 090507)/a.txt'));
  t.ok(isConflictCopy('dir/a (conflicted copy pc 2026-12-01 090507)'));
});
