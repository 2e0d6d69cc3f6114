import t from 'tap';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFileStable, takeSnapshot, discardSnapshot } from '../src/file-reader.js';
import { ScannerError } from '../src/errors.js';

function temp(t: Tap.Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-reader-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('a file that changes while it is being hashed is reported, not hashed torn', async (t) => {
  const dir = temp(t);
  const file = join(dir, 'growing.bin');
  writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 1));
  let writes = 0;
  const err = await hashFileStable(file, {
    afterRead: () => {
      if (writes++ === 0) appendFileSync(file, 'more');
    },
  }).catch((e: unknown) => e);
  t.type(err, ScannerError);
  t.equal((err as ScannerError).code, 'FILE_CHANGED');
  const ok = await hashFileStable(file);
  t.equal(ok.hash, sha(Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 1), Buffer.from('more')])), 'the retry hashes the new version');
});

t.test('snapshots: small in memory, medium as a private copy, and a change while copying is caught', async (t) => {
  const dir = temp(t);
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  writeFileSync(join(dir, 'small'), 'tiny');
  const small = await takeSnapshot(join(dir, 'small'), tmp);
  t.equal(small.kind, 'inline');
  t.equal(small.hash, sha(Buffer.from('tiny')));

  const bytes = Buffer.alloc(200_000, 9);
  writeFileSync(join(dir, 'medium'), bytes);
  const medium = await takeSnapshot(join(dir, 'medium'), tmp);
  t.equal(medium.kind, 'copy');
  t.equal(medium.hash, sha(bytes));
  writeFileSync(join(dir, 'medium'), 'changed after the snapshot');
  t.equal(sha(readFileSync(medium.filePath!)), sha(bytes), 'the snapshot keeps the version it took');
  discardSnapshot(medium);
  t.same(readdirSync(tmp), [], 'discarded');

  writeFileSync(join(dir, 'medium'), bytes);
  const err = await takeSnapshot(join(dir, 'medium'), tmp, { afterRead: () => appendFileSync(join(dir, 'medium'), 'x') }).catch((e: unknown) => e);
  t.equal((err as ScannerError).code, 'FILE_CHANGED');
  t.same(readdirSync(tmp), [], 'a failed snapshot leaves no temp file');

  const smallErr = await takeSnapshot(join(dir, 'small'), tmp, { afterRead: () => appendFileSync(join(dir, 'small'), 'x') }).catch((e: unknown) => e);
  t.equal((smallErr as ScannerError).code, 'FILE_CHANGED', 'small files too');
});

t.test('one scanner per folder: a live owner blocks, a dead one is taken over', async (t) => {
  const { lockFolder } = await import('../src/folder-lock.js');
  const dir = temp(t);
  const release = lockFolder(dir);
  writeFileSync(join(dir, 'scanner.lock'), '1'); // pid 1 is always alive
  t.throws(() => lockFolder(dir), { code: 'BAD_CONFIG' });
  writeFileSync(join(dir, 'scanner.lock'), '999999999');
  const again = lockFolder(dir);
  again();
  release();
  t.same(readdirSync(dir), []);
});
