import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDeltaToBuffer, computeSignature, decodeSignature } from '@deltabox/core';
import { writeDeltaFile, localBlockLength } from '../src/transfer/delta-file.js';
import { takeSnapshot, discardSnapshot } from '../src/transfer/file-reader.js';
import { buildMultipartBody } from '../src/transfer/batch-body.js';

function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

t.test('a delta against the cached copy is byte-exact and patches back to the target', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-delta-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const basis = bytes(1, 1_000_000);
  const target = Buffer.from(basis);
  target.write('a small edit', 400_000);
  writeFileSync(join(dir, 'basis'), basis);
  writeFileSync(join(dir, 'target'), target);
  const snap = await takeSnapshot(join(dir, 'target'), tmp);
  const copy = await writeDeltaFile(snap, { kind: 'copy', filePath: join(dir, 'basis'), size: basis.length }, tmp);
  t.ok(copy.stats.literalBytes <= 12, `byte-exact: ${copy.stats.literalBytes} literal bytes`);
  t.equal(copy.stats.targetHash, snap.hash);
  const patched = await applyDeltaToBuffer(basis, readFileSync(copy.filePath));
  t.ok(Buffer.from(patched).equals(target), 'patch(basis, delta) == target');

  const signature = await computeSignature([basis], { basisLength: basis.length, blockLength: 2048 });
  const sigOnly = await writeDeltaFile(snap, { kind: 'signature', signature }, tmp, { withSignature: true });
  t.ok(sigOnly.stats.literalBytes <= 2 * 2048, `signature mode: ${sigOnly.stats.literalBytes} literal bytes`);
  t.ok(Buffer.from(await applyDeltaToBuffer(basis, readFileSync(sigOnly.filePath))).equals(target));
  const newSig = decodeSignature(sigOnly.newSignature!);
  t.equal(newSig.basisLength, target.length, 'the new version\'s signature was built in the same pass');
  t.equal(newSig.blockLength, localBlockLength(target.length));
  discardSnapshot(snap);
});

t.test('local signatures use small blocks: 1 KiB, or more when the file has over 2^20 of them', async (t) => {
  const MiB = 1024 * 1024;
  t.equal(localBlockLength(1024), 1024);
  t.equal(localBlockLength(65 * MiB), 1024);
  t.equal(localBlockLength(256 * MiB), 1024, '256 MiB: 262,144 blocks, a 3 MiB signature');
  t.equal(localBlockLength(1024 * MiB), 1024, '1 GiB: exactly 2^20 blocks');
  t.equal(localBlockLength(1024 * MiB + 1), 1088, 'past 2^20 blocks: the next multiple of 64');
  t.equal(localBlockLength(4096 * MiB), 4096);
  for (const size of [65 * MiB, 1024 * MiB + 1, 3 * 1024 ** 3 + 12345, 16 * 1024 ** 3, 2 ** 41]) {
    const L = localBlockLength(size);
    t.ok(L % 64 === 0 && L <= MiB && Math.ceil(size / L) <= 2 ** 22, `${size}: ${L}-byte blocks, ${Math.ceil(size / L)} blocks`);
    if (size <= 2 ** 40) t.ok(Math.ceil(size / L) <= 2 ** 20, `${size}: at most 2^20 blocks`);
  }
});

t.test('a batch body puts a meta part before each file part', async (t) => {
  const body = buildMultipartBody([
    { meta: { path: 'a.txt', size: 1, mtimeMs: 5, hash: 'h1' }, bytes: Buffer.from('A') },
    { meta: { path: 'dir/b c.txt', size: 2, mtimeMs: 6, executable: true, hash: 'h2' }, bytes: Buffer.from('BB') },
  ]);
  const text = Buffer.concat(body.chunks).toString('utf8');
  const boundary = /boundary=(.*)$/.exec(body.contentType)![1]!;
  const parts = text.split(`--${boundary}`);
  t.equal(parts.length, 6, 'preamble, 4 parts, epilogue');
  t.match(parts[1], /name="meta"[\s\S]*"path":"a\.txt"/);
  t.match(parts[2], /name="file"[\s\S]*\r\n\r\nA\r\n$/);
  t.match(parts[3], /"path":"dir\/b c\.txt".*"executable":true/);
  t.equal(parts[5], '--\r\n');
});
