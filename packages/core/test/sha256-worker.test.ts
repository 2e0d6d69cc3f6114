/**
 * SHA-256 on a worker thread (src/platform/sha256-worker.ts) gives the same digest as the in-thread hash for
 * any chunking, including more bytes than its ring holds at once; the patch applier verifies with it.
 */
import t from 'tap';
import fc from 'fast-check';
import { createSha256 } from '../src/platform/sha256.js';
import { createWorkerSha256 } from '../src/platform/sha256-worker.js';
import { BasisMismatchError, ChecksumMismatchError, PatchApplier } from '../src/index.js';
import { concat, deltaOf, equalBytes, seededBytes, signatureOf } from './helpers/bytes.js';

t.test('same digest as node:crypto in the thread, for random chunkings', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 12 }), (chunks) => {
        const a = createSha256();
        const b = createWorkerSha256();
        for (const c of chunks) {
          a.update(c);
          b.update(c);
        }
        if (!equalBytes(a.digest(), b.digest())) throw new Error('digests differ');
        return true;
      }),
      { numRuns: 8 },
    ),
  );
});

t.test('more bytes than the ring holds (8 slots of 1 MiB): the writer waits for the worker', async (t) => {
  const big = seededBytes(11 * 1024 * 1024 + 5, 6);
  const a = createSha256();
  a.update(big);
  const b = createWorkerSha256();
  b.update(big.subarray(0, 3 * 1024 * 1024 + 1));
  b.update(big.subarray(3 * 1024 * 1024 + 1));
  t.ok(equalBytes(a.digest(), b.digest()));
  const c = createWorkerSha256();
  c.update(big.subarray(0, 100));
  c.close(); // abandoned: the worker ends without a digest
});

t.test('the patch applier verifies with the worker hash, and still refuses a wrong result', async (t) => {
  const basis = seededBytes(300_000, 2);
  const target = Uint8Array.from(basis);
  target[1234] ^= 1;
  const sig = await signatureOf(basis);
  const { delta } = deltaOf(sig, target, { basis });
  const reader = { length: basis.length, read: (o: number, n: number) => basis.subarray(o, o + n) };
  const parts: Uint8Array[] = [];
  const applier = new PatchApplier(reader, {}, { hashOnWorker: true });
  for await (const p of applier.apply([delta])) parts.push(p);
  t.ok(equalBytes(concat(parts), target), 'round trip');
  t.equal(applier.result?.targetLength, target.length);
  const bad = Uint8Array.from(delta);
  bad[bad.length - 1] ^= 1; // the trailer's SHA-256
  const refusing = new PatchApplier(reader, {}, { hashOnWorker: true });
  await t.rejects(async () => {
    for await (const _ of refusing.apply([bad])) void _;
  }, ChecksumMismatchError);
});

t.test('lend() and hashLent() hash bytes written straight into the ring, mixed with update()', async (t) => {
  const big = seededBytes(10 * 1024 * 1024 + 17, 7);
  const a = createSha256();
  a.update(big);
  const b = createWorkerSha256();
  b.update(big.subarray(0, 5));
  for (let at = 5; at < big.length; ) {
    const into = b.lend!(big.length - at);
    t.ok(into.length <= 1024 * 1024, 'at most one slot');
    into.set(big.subarray(at, at + into.length));
    b.hashLent!(into.length);
    at += into.length;
  }
  t.ok(equalBytes(a.digest(), b.digest()));
});

t.test('with transientPieces and readInto(), copies are read into the worker ring and still verified', async (t) => {
  const basis = seededBytes(3 * 1024 * 1024 + 300, 8);
  const target = concat([basis.subarray(1000), Uint8Array.of(1, 2, 3), basis.subarray(0, 2 * 1024 * 1024 + 7)]);
  const sig = await signatureOf(basis);
  const { delta } = deltaOf(sig, target, { basis });
  let readIntoCalls = 0;
  const reader = {
    length: basis.length,
    read: (o: number, n: number) => basis.subarray(o, o + n),
    readInto: (o: number, into: Uint8Array) => {
      readIntoCalls++;
      const src = basis.subarray(o, o + into.length);
      into.set(src);
      return src.length;
    },
  };
  const parts: Uint8Array[] = [];
  const applier = new PatchApplier(reader, {}, { hashOnWorker: true, transientPieces: true });
  // Pieces are views of the ring that later copies overwrite: copy each before asking for the next.
  for await (const p of applier.apply([delta])) parts.push(p.slice());
  t.ok(equalBytes(concat(parts), target), 'round trip');
  t.ok(readIntoCalls > 0, 'copies went through readInto');
  const bad = Uint8Array.from(delta);
  bad[bad.length - 1] ^= 1; // the trailer's SHA-256
  await t.rejects(async () => {
    for await (const _ of new PatchApplier(reader, {}, { hashOnWorker: true, transientPieces: true }).apply([bad])) void _;
  }, ChecksumMismatchError);
  const short = { ...reader, readInto: (o: number, into: Uint8Array) => reader.readInto(o, into.subarray(0, into.length - 1)) };
  await t.rejects(async () => {
    for await (const _ of new PatchApplier(short, {}, { hashOnWorker: true, transientPieces: true }).apply([delta])) void _;
  }, BasisMismatchError);
});
