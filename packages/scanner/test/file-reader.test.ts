import t from 'tap';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFileStable, nextReadLength, readChunks, takeSnapshot, discardSnapshot } from '../src/transfer/file-reader.js';
import { COPY_MAX_BYTES, READ_CHUNK_BYTES } from '../src/constants.js';
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

t.test('a small file (read in one call) that changes while it is being hashed is reported too', async (t) => {
  const dir = temp(t);
  const file = join(dir, 'small.txt');
  writeFileSync(file, 'small');
  const err = await hashFileStable(file, { afterRead: (n) => appendFileSync(file, `+${n}`) }).catch((e: unknown) => e);
  t.equal((err as ScannerError).code, 'FILE_CHANGED');
  const ok = await hashFileStable(file);
  t.equal(ok.hash, sha(Buffer.from('small+5')), 'the retry hashes the new version');
  t.equal(ok.stat.size, 7);
  writeFileSync(join(dir, 'empty'), '');
  t.equal((await hashFileStable(join(dir, 'empty'))).hash, sha(Buffer.alloc(0)), 'an empty file');
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
  const { lockFolder } = await import('../src/state/folder-lock.js');
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

t.test('reads are sized from the file: a small file costs one small buffer and one read', async (t) => {
  const dir = temp(t);
  const file = join(dir, 'small.bin');
  writeFileSync(file, Buffer.alloc(100_000, 3));
  const chunks: Uint8Array[] = [];
  for await (const chunk of readChunks(file)) chunks.push(chunk);
  t.equal(chunks.length, 1, 'one read, no extra read to see the end');
  t.equal(chunks[0]!.length, 100_000);
  t.ok(chunks[0]!.buffer.byteLength <= 100_001, `buffer of ${chunks[0]!.buffer.byteLength} bytes, not 1 MiB`);
  t.same(
    [nextReadLength(0, 0), nextReadLength(100, 0), nextReadLength(100, 100), nextReadLength(100, 101), nextReadLength(3 * READ_CHUNK_BYTES, 0)],
    [1, 101, 1, READ_CHUNK_BYTES, READ_CHUNK_BYTES],
    'what is left plus one, one byte to confirm the end, whole chunks past it',
  );
});

t.test('with reuseBuffer the chunks are views of two buffers taking turns (one is read while the other is used), and the bytes are the same', async (t) => {
  const dir = temp(t);
  const file = join(dir, 'big.bin');
  const bytes = Buffer.alloc(2 * READ_CHUNK_BYTES + 5);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  writeFileSync(file, bytes);
  const reused: ArrayBufferLike[] = [];
  const hasher = createHash('sha256');
  for await (const chunk of readChunks(file, {}, { reuseBuffer: true })) {
    reused.push(chunk.buffer);
    hasher.update(chunk);
  }
  t.equal(reused.length, 3);
  t.equal(new Set(reused).size, 2, 'two buffers for all reads');
  t.equal(reused[0], reused[2], 'the first buffer again for the third chunk');
  t.equal(hasher.digest('hex'), sha(bytes));
  const fresh: Uint8Array[] = [];
  for await (const chunk of readChunks(file)) fresh.push(chunk);
  t.equal(new Set(fresh.map((c) => c.buffer)).size, fresh.length, 'without it, chunks may be kept: each its own buffer');
  t.equal(sha(Buffer.concat(fresh)), sha(bytes));
});

t.test('a consumer that stops after the first chunk leaves no read behind: the file closes', async (t) => {
  const dir = temp(t);
  const file = join(dir, 'big.bin');
  writeFileSync(file, Buffer.alloc(3 * READ_CHUNK_BYTES, 7));
  for (const reuseBuffer of [false, true]) {
    let chunks = 0;
    for await (const chunk of readChunks(file, {}, { reuseBuffer })) {
      chunks++;
      t.equal(chunk.length, READ_CHUNK_BYTES);
      break;
    }
    t.equal(chunks, 1);
  }
  // Every handle was closed: the descriptors readChunks opened are gone from this process.
  const open = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
  t.notOk(open.includes(file), 'no descriptor left on the file');
});

t.test('a large file the scan just hashed under the same stat, even racily clean, is not read again; another stat is', async (t) => {
  const dir = temp(t);
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const file = join(dir, 'large');
  writeFileSync(file, Buffer.alloc(COPY_MAX_BYTES + 1, 3)); // past the copy limit: read in place
  const stat = statSync(file);
  let reads = 0;
  const hooks = { afterRead: () => void reads++ };
  for (const racy of [false, true]) {
    const known = { hash: 'f'.repeat(64), size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, racy };
    const snap = await takeSnapshot(file, tmp, hooks, known);
    t.same([snap.kind, snap.hash, reads], ['live', known.hash, 0], `racy ${racy}: the scan's hash, no read (a stale one is refused when the bytes are sent)`);
  }
  const moved = { hash: 'f'.repeat(64), size: stat.size, mtimeMs: stat.mtimeMs - 1, ino: stat.ino, racy: false };
  const snap = await takeSnapshot(file, tmp, hooks, moved);
  t.not(snap.hash, moved.hash, 'another mtime: hashed again');
  t.ok(reads > 0);
});
