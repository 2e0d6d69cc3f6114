import t from 'tap';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utimesArg } from '../src/index.js';

t.test('a whole-millisecond mtime set through utimesArg reads back as that millisecond', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-mtime-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  writeFileSync(file, 'x');
  // 1796215581495: a Date (seconds as a double) lands at …494.999 and reads back as …494.
  for (const ms of [1796215581495, 1796215581409, 1_700_000_000_001, 1, 0, -1, -1500, Date.UTC(1950, 0, 1, 0, 0, 0, 7)]) {
    utimesSync(file, new Date(), utimesArg(ms));
    t.equal(Math.trunc(statSync(file).mtimeMs) + 0, ms, `${ms} reads back as ${ms}`);
  }
  utimesSync(file, new Date(), utimesArg(-1.5));
  t.ok(Math.abs(statSync(file).mtimeMs - -1.5) < 0.01, 'a fractional time is kept to the microsecond');
});
