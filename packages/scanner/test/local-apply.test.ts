/**
 * A pulled file gets the server's mtime to the whole millisecond, or the device would see its own download as
 * a change of date and send it back (shared-load seed 1204, full size: sixteen devices re-sent one file three
 * times, its date one millisecond earlier each time, and one device never agreed with the server again).
 */
import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stageFile } from '../src/pull/local-apply.js';

async function* bytes(): AsyncIterable<Uint8Array> {
  yield Buffer.from('pulled');
}

t.test('a staged download reads back with the server mtime in whole milliseconds, before 1970 too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-stage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Set as a Date, 1796215581495 lands as …494.999 ms; -1500 was not set at all (the file kept "now").
  for (const mtimeMs of [1796215581495, 1796215581409, -1500]) {
    const staged = await stageFile(dir, bytes(), mtimeMs, false);
    t.equal(Math.trunc(statSync(staged.tmpPath).mtimeMs), mtimeMs, `${mtimeMs}`);
  }
});
