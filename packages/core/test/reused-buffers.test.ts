/**
 * Inputs read into one reused buffer: a delta (PatchOptions.reusedDeltaChunks, DeltaDecoderOptions.borrowedChunks)
 * and an encoder's target. The source scribbles over its buffer each time the next chunk is asked for, so any view
 * core kept past that point shows up as a wrong result or a refused delta. The buffer is a Node Buffer, as callers
 * pass: its slice() is a view, not a copy.
 */
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDeltaToBuffer, DeltaDecoder, DeltaEncoder, DeltaError, PatchApplier, type BasisReader, type DeltaOp } from '../src/index.js';
import { copyBytes } from '../src/platform/bytes.js';
import { ByteReader } from '../src/wire/byte-reader.js';
import { concat, deltaOf, equalBytes, seededBytes, signatureOf, wordsText } from './helpers/bytes.js';
import { applyEdits, editArb } from './helpers/edits.js';
import { mutate, prng } from './helpers/fuzz.js';

const SCRIBBLE = 0xee;
const SPLITS = [1, 2, 3, 7, 15, 100, 64 * 1024];

/** The bytes in `size`-byte chunks, all in one Buffer that is scribbled over when the next chunk is asked for. */
function* reusedChunks(delta: Uint8Array, size: number): Generator<Uint8Array> {
  const buffer = Buffer.alloc(size);
  for (let at = 0; at < delta.length; at += size) {
    buffer.fill(SCRIBBLE);
    const n = Math.min(size, delta.length - at);
    buffer.set(delta.subarray(at, at + n));
    yield buffer.subarray(0, n);
  }
  buffer.fill(SCRIBBLE);
}

function basisOf(bytes: Uint8Array): BasisReader {
  return { length: bytes.length, read: (o, n) => bytes.subarray(o, o + n) };
}

/**
 * Patches with reusedDeltaChunks. A transient consumer copies each piece before asking for the next; the other
 * keeps every piece as yielded and reads them only at the end (literal pieces must then be the applier's copies).
 */
async function patchReused(basis: Uint8Array, chunks: Iterable<Uint8Array>, transientPieces: boolean): Promise<Uint8Array> {
  const applier = new PatchApplier(basisOf(basis), {}, { reusedDeltaChunks: true, transientPieces });
  const pieces: Uint8Array[] = [];
  for await (const piece of applier.apply(chunks)) pieces.push(transientPieces ? copyBytes(piece) : piece);
  return concat(pieces);
}

const basis = wordsText(40_000, 3);
const deltaKinds = [
  { name: 'version 1, deflated literals', formatVersion: 1 as const, compress: true, exact: false },
  { name: 'version 1, stored literals', formatVersion: 1 as const, compress: false, exact: false },
  { name: 'version 2, Brotli streams', formatVersion: 2 as const, compress: true, exact: false },
  { name: 'version 2, stored streams', formatVersion: 2 as const, compress: false, exact: false },
  { name: 'version 2 byte-exact, stored streams', formatVersion: 2 as const, compress: false, exact: true },
];

t.test('a delta read into one reused buffer patches to the target at every split, both consumers', async (t) => {
  const sig = await signatureOf(basis, { blockLength: 256 });
  const target = applyEdits(basis, [
    { kind: 'insert', at: 0.3, bytes: seededBytes(3000, 1) },
    { kind: 'move', from: 0.1, length: 1500, to: 0.8 },
    { kind: 'append', bytes: seededBytes(70_000, 2) },
  ]).target;
  for (const kind of deltaKinds) {
    const { delta } = deltaOf(sig, target, { formatVersion: kind.formatVersion, compress: kind.compress, basis: kind.exact ? basis : undefined, literalChunk: 4096 });
    for (const size of SPLITS) {
      for (const transient of [true, false]) {
        t.ok(equalBytes(await patchReused(basis, reusedChunks(delta, size), transient), target), `${kind.name}, ${size}-byte chunks, transient ${transient}`);
      }
    }
  }
});

t.test('property: patch through a reused buffer == target, whatever the edits and the split', async () => {
  const sig = await signatureOf(basis, { blockLength: 128 });
  await fc.assert(
    fc.asyncProperty(
      fc.array(editArb, { maxLength: 8 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.constantFrom(1 as const, 2 as const),
      fc.boolean(),
      fc.boolean(),
      async (edits, size, formatVersion, compress, transient) => {
        const { target } = applyEdits(basis, edits as unknown as Array<Record<string, unknown>>);
        const { delta } = deltaOf(sig, target, { formatVersion, compress, literalChunk: 1024 });
        return equalBytes(await patchReused(basis, reusedChunks(delta, size), transient), target);
      },
    ),
    { numRuns: 60, seed: 1010 },
  );
});

t.test('a lying delta read through a reused buffer is still refused with its typed error', async (t) => {
  const sig = await signatureOf(basis, { blockLength: 256 });
  const target = applyEdits(basis, [{ kind: 'overwrite', at: 0.5, bytes: seededBytes(64, 4) }]).target;
  for (const formatVersion of [1, 2] as const) {
    const { delta } = deltaOf(sig, target, { formatVersion, compress: false });
    const wrongHash = delta.slice();
    wrongHash[wrongHash.length - 1]! ^= 1; // the trailer's SHA-256 ends the delta
    for (const size of [1, 7, 4096]) {
      await t.rejects(patchReused(basis, reusedChunks(wrongHash, size), true), { code: 'DELTA_CHECKSUM_MISMATCH' }, `v${formatVersion}, wrong hash, ${size}-byte chunks`);
      await t.rejects(patchReused(basis, reusedChunks(delta.subarray(0, delta.length - 5), size), false), { code: 'FORMAT_TRUNCATED' }, `v${formatVersion}, cut, ${size}-byte chunks`);
    }
  }
});

t.test('a borrowing decoder gives the same ops as a copying one; its literal ops are views of the chunk', async (t) => {
  const sig = await signatureOf(basis, { blockLength: 256 });
  const target = applyEdits(basis, [{ kind: 'insert', at: 0.5, bytes: seededBytes(5000, 5) }]).target;
  const { delta } = deltaOf(sig, target, { formatVersion: 1, compress: false });
  /** Ops with their literal bytes copied at once (a borrowed chunk's views die at the next chunk). */
  const opsOf = (decoder: DeltaDecoder, chunks: Iterable<Uint8Array>): DeltaOp[] => {
    const all: DeltaOp[] = [];
    for (const chunk of chunks) {
      for (const op of decoder.push(chunk)) {
        if (op.type === 'literal') t.equal(op.bytes.buffer === chunk.buffer, decoder === borrowing, 'a view exactly when borrowing');
        all.push(op.type === 'literal' ? { type: 'literal', bytes: copyBytes(op.bytes) } : op);
      }
    }
    decoder.finish();
    return all;
  };
  /** Adjacent literal ops as one (the split into ops follows the chunks). */
  const merged = (ops: DeltaOp[]): DeltaOp[] => ops.reduce<DeltaOp[]>((out, op) => {
    const last = out.at(-1);
    if (op.type === 'literal' && last?.type === 'literal') out[out.length - 1] = { type: 'literal', bytes: concat([last.bytes, op.bytes]) };
    else out.push(op);
    return out;
  }, []);
  const borrowing = new DeltaDecoder({}, { borrowedChunks: true });
  t.same(merged(opsOf(borrowing, reusedChunks(delta, 333))), merged(opsOf(new DeltaDecoder(), [delta.slice()])));
});

t.test('the byte reader copies a borrowed chunk once, however many pushes it waits through', async (t) => {
  const r = new ByteReader();
  const chunk = Uint8Array.of(1, 2, 3, 4);
  r.push(chunk);
  t.equal(r.tryRead((c) => c.u8()), 1);
  r.keepCopies();
  chunk.fill(SCRIBBLE);
  const first = r.tryBytes(1)!;
  t.same([...first], [2], 'the unread bytes survived the scribble');
  t.not(first.buffer, chunk.buffer, 'a copy');
  r.keepCopies();
  t.equal(r.tryBytes(1)!.buffer, first.buffer, 'not copied again');
  const next = Uint8Array.of(5, 6);
  r.push(next);
  r.keepCopies();
  next.fill(SCRIBBLE);
  t.same([...r.tryBytes(3)!], [4, 5, 6]);
  t.equal(r.available, 0);
});

t.test('mutated deltas through a reused buffer end as through fresh chunks: the same bytes or the same error code', async (t) => {
  const dir = join(import.meta.dirname, 'fixtures');
  const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
  const pairs = ['tiny.delta', 'tiny-exact-v2.delta', 'medium.delta', 'medium-v2.delta', 'medium-exact-v2.delta'].map((name) => ({
    basis: read(name.startsWith('tiny') ? 'tiny-basis.bin' : 'medium-basis.bin'),
    delta: read(name),
  }));
  const limits = { maxLiteralChunk: 1 << 16, maxTargetLength: 1 << 24, maxStreamLength: 1 << 16, maxSegmentSequences: 1 << 12 };
  /** The patched bytes as hex, or the DeltaError's code (anything else fails the test). */
  const outcome = async (run: () => Promise<Uint8Array>): Promise<string> => {
    try {
      return Buffer.from(await run()).toString('hex');
    } catch (err) {
      if (!(err instanceof DeltaError)) throw err;
      return err.code;
    }
  };
  const rnd = prng(20261203);
  const codes = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const { basis: b, delta } = pairs[Math.floor(rnd() * pairs.length)]!;
    const mutated = mutate(delta, rnd);
    const size = 1 + Math.floor(rnd() * 300);
    const transient = rnd() < 0.5;
    const fresh = await outcome(() => applyDeltaToBuffer(b, mutated, limits));
    const reused = await outcome(async () => {
      const pieces: Uint8Array[] = [];
      const applier = new PatchApplier(basisOf(b), limits, { reusedDeltaChunks: true, transientPieces: transient });
      for await (const piece of applier.apply(reusedChunks(mutated, size))) pieces.push(transient ? copyBytes(piece) : piece);
      return concat(pieces);
    });
    if (fresh !== reused) t.fail(`case ${i}: ${size}-byte chunks gave ${reused.slice(0, 40)}, fresh chunks ${fresh.slice(0, 40)}`);
    codes.add(fresh.length > 40 ? 'bytes' : fresh);
  }
  t.ok(codes.size >= 4, `several outcomes seen: ${[...codes].join(', ')}`);
});

t.test('copyBytes copies a Buffer (whose slice() is a view)', async (t) => {
  const buffer = Buffer.from([1, 2, 3, 4]);
  const copy = copyBytes(buffer, 1, 3);
  buffer.fill(SCRIBBLE);
  t.same([...copy], [2, 3]);
  t.same([...copyBytes(Uint8Array.of(5, 6))], [5, 6]);
});

t.test('an encoder fed through one reused buffer gives chunks that survive the reuse', async (t) => {
  const sig = await signatureOf(basis, { blockLength: 256 });
  const target = concat([seededBytes(20_000, 6), basis.subarray(0, 20_000), seededBytes(30_000, 7)]);
  for (const formatVersion of [1, 2] as const) {
    const expected = deltaOf(sig, target, { formatVersion, compress: false }).delta;
    const encoder = new DeltaEncoder(sig, { formatVersion, compress: false });
    const kept: Uint8Array[] = []; // not copied: each must be the encoder's own memory
    for (const chunk of reusedChunks(target, 8192)) kept.push(...encoder.push(chunk));
    kept.push(...encoder.finish());
    t.ok(equalBytes(concat(kept), expected), `version ${formatVersion}`);
  }
});
