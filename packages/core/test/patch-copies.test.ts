/**
 * How the patch applier reads copies: adjacent copy ops become one run read in large pieces (4 MiB), other
 * copies stay apart, and a hostile copy still fails with its typed error. Deltas are written by hand (version 1
 * ops) so that the copy layout is exactly the one under test.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { PatchApplier, type BasisReader } from '../src/index.js';
import { ByteWriter } from '../src/wire/byte-writer.js';
import { concat, equalBytes, seededBytes } from './helpers/bytes.js';

const MiB = 1 << 20;
const HEADER = Uint8Array.of(0x44, 0x42, 0x58, 0x44, 1, 0);

type Op = { copy: [offset: number, length: number] } | { literal: Uint8Array };

/** A version-1 delta of `ops` against `basis`, with the END op for the target they produce. */
function deltaOfOps(basis: Uint8Array, ops: Op[], end = true): { delta: Uint8Array; target: Uint8Array } {
  const w = new ByteWriter().bytes(HEADER).varint(basis.length);
  const parts: Uint8Array[] = [];
  let expected = 0;
  for (const op of ops) {
    if ('copy' in op) {
      const [offset, length] = op.copy;
      w.u8(0x01).zigzag(offset - expected).varint(length);
      expected = offset + length;
      parts.push(basis.subarray(offset, offset + length));
    } else {
      w.u8(0x02).varint(op.literal.length).bytes(op.literal);
      parts.push(op.literal);
    }
  }
  const target = concat(parts);
  if (end) w.u8(0x00).varint(target.length).u8(1).bytes(new Uint8Array(createHash('sha256').update(target).digest()));
  return { delta: w.take(), target };
}

/** A basis over `bytes` that records each read as [offset, length]. */
function recordingBasis(bytes: Uint8Array): BasisReader & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return { length: bytes.length, reads, read: (o, n) => (reads.push([o, n]), bytes.subarray(o, o + n)) };
}

async function patch(basis: BasisReader, delta: Iterable<Uint8Array>): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for await (const piece of new PatchApplier(basis).apply(delta)) out.push(piece.slice());
  return concat(out);
}

function* bytesOneByOne(delta: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < delta.length; i++) yield delta.subarray(i, i + 1);
}

const basisBytes = seededBytes(9 * MiB, 7);
const layout: Op[] = [
  { copy: [0, 3 * MiB] },
  { copy: [3 * MiB, 3 * MiB] }, // adjacent: one 6 MiB run
  { literal: seededBytes(10, 8) },
  { copy: [MiB, 5 * MiB] }, // after a literal: a new run, larger than one piece
  { copy: [8 * MiB, MiB] }, // not adjacent (the previous copy ended at 6 MiB)
  { copy: [2 * MiB, 1000] }, // backwards
  { copy: [2 * MiB + 1000, 24] }, // adjacent again, small
];
const expectedReads: [number, number][] = [
  [0, 4 * MiB], [4 * MiB, 2 * MiB],
  [MiB, 4 * MiB], [5 * MiB, MiB],
  [8 * MiB, MiB],
  [2 * MiB, 1024],
];

t.test('adjacent copies are read as one run in pieces of at most 4 MiB; other copies stay apart', async (t) => {
  const { delta, target } = deltaOfOps(basisBytes, layout);
  const basis = recordingBasis(basisBytes);
  t.ok(equalBytes(await patch(basis, [delta]), target), 'the target, verified');
  t.same(basis.reads, expectedReads);
});

t.test('copies are merged the same when the delta arrives one byte at a time', async (t) => {
  const { delta, target } = deltaOfOps(basisBytes, layout);
  const basis = recordingBasis(basisBytes);
  t.ok(equalBytes(await patch(basis, bytesOneByOne(delta)), target));
  t.same(basis.reads, expectedReads);
});

t.test('rejects a copy past the basis that follows an adjacent copy, before reading the run', async (t) => {
  // No END: the decoder would reject its length first; the applier must reject the copy itself.
  const { delta } = deltaOfOps(basisBytes, [{ copy: [0, MiB] }, { copy: [MiB, 8 * MiB + 1] }], false);
  const basis = recordingBasis(basisBytes);
  await t.rejects(patch(basis, [delta]), { code: 'DELTA_BASIS_MISMATCH' });
  t.same(basis.reads, [], 'nothing was read');
});

t.test('a delta cut after its copies fails as truncated, even with a run still unread', async (t) => {
  const { delta } = deltaOfOps(basisBytes, [{ copy: [0, MiB] }, { copy: [MiB, MiB] }], false);
  await t.rejects(patch(recordingBasis(basisBytes), [delta]), { code: 'FORMAT_TRUNCATED' });
  const cut = deltaOfOps(basisBytes, layout).delta;
  await t.rejects(patch(recordingBasis(basisBytes), [cut.subarray(0, cut.length - 10)]), { code: 'FORMAT_TRUNCATED' });
});

t.test('a basis whose read comes back short inside a run fails with the basis error', async (t) => {
  const { delta } = deltaOfOps(basisBytes, [{ copy: [0, 3 * MiB] }, { copy: [3 * MiB, 3 * MiB] }]);
  const short: BasisReader = { length: basisBytes.length, read: (o, n) => basisBytes.subarray(o, o + Math.min(n, 3 * MiB)) };
  await t.rejects(patch(short, [delta]), { code: 'DELTA_BASIS_MISMATCH' });
});

t.test('consumerSha256: the consumer hashes what it took, and the applier checks that hash instead of its own', async (t) => {
  const basis = seededBytes(3 * MiB, 7);
  const { delta, target } = deltaOfOps(basis, [{ copy: [MiB, MiB] }, { literal: seededBytes(1000, 8) }, { copy: [0, 5000] }]);
  /** Patches, hashing each piece as a consumer would (before asking for the next); `tamper` changes the last one. */
  async function patchHashingPieces(tamper: boolean): Promise<{ hashAtEnd: string[] }> {
    const hash = createHash('sha256');
    const hashAtEnd: string[] = [];
    const applier = new PatchApplier(recordingBasis(basis), {}, {
      consumerSha256: () => {
        const hex = hash.copy().digest('hex');
        hashAtEnd.push(hex);
        return hex;
      },
    });
    const pieces: Uint8Array[] = [];
    for await (const piece of applier.apply([delta])) {
      pieces.push(piece);
      hash.update(tamper && pieces.length === 3 ? Uint8Array.of(1) : piece);
    }
    t.ok(equalBytes(concat(pieces), target), 'the applier produced the target');
    return { hashAtEnd };
  }
  const good = await patchHashingPieces(false);
  t.same(good.hashAtEnd, [createHash('sha256').update(target).digest('hex')], 'asked once, after every piece was hashed');
  await t.rejects(patchHashingPieces(true), { name: 'ChecksumMismatchError' }, "a consumer's hash that differs fails the patch: the applier used it");
});

t.test('transientPieces with readInto() and no worker: copies are read into one buffer the applier reuses, still verified', async (t) => {
  const basis = seededBytes(9 * MiB + 100, 11);
  const ops: Op[] = [{ copy: [0, 9 * MiB] }, { literal: seededBytes(500, 12) }, { copy: [100, 3000] }];
  const { delta, target } = deltaOfOps(basis, ops);
  let reads = 0;
  const reader = (cut = 0): BasisReader => ({
    length: basis.length,
    read: () => {
      throw new Error('read() must not be used when readInto() is there');
    },
    readInto: (o: number, into: Uint8Array) => {
      reads++;
      const n = Math.min(into.length, basis.length - o) - cut;
      into.set(basis.subarray(o, o + n));
      return n;
    },
  });
  const buffers = new Set<ArrayBufferLike>();
  const parts: Uint8Array[] = [];
  for await (const piece of new PatchApplier(reader(), {}, { transientPieces: true }).apply([delta])) {
    if (piece.length !== 500) buffers.add(piece.buffer);
    parts.push(piece.slice()); // overwritten by the next copy: the consumer is done with it before asking
  }
  t.ok(equalBytes(concat(parts), target), 'round trip');
  t.equal(reads, 4, 'the 9 MiB run in three reads, then the short copy');
  t.equal(buffers.size, 1, 'every copy piece is a view of one buffer');
  const drain = async (basisReader: BasisReader, d: Uint8Array) => {
    for await (const _ of new PatchApplier(basisReader, {}, { transientPieces: true }).apply([d])) void _;
  };
  const bad = Uint8Array.from(delta);
  bad[bad.length - 1] ^= 1; // the END op's SHA-256
  await t.rejects(drain(reader(), bad), { code: 'DELTA_CHECKSUM_MISMATCH' }, 'the hash of what was read is checked');
  await t.rejects(drain(reader(1), delta), { code: 'DELTA_BASIS_MISMATCH' }, 'a short readInto fails with the basis error');
});
