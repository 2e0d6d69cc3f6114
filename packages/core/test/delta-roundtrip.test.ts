import t from 'tap';
import fc from 'fast-check';
import { DeltaDecoder, applyDeltaToBuffer, chooseBlockLength } from '../src/index.js';
import { concat, deltaOf, equalBytes, seededBytes, signatureOf, wordsText } from './helpers/bytes.js';
import { applyEdits, editArb } from './helpers/edits.js';

const NUM_RUNS = Number(process.env.DELTABOX_PROPERTY_RUNS ?? 150);

/** Basis sizes around interesting boundaries, for a block length of 64 (small so files span many blocks). */
const basisArb = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.integer({ min: 1, max: 63 }).map((n) => seededBytes(n, n)),
  fc.constantFrom(63, 64, 65, 127, 128, 129).map((n) => seededBytes(n, n + 7)),
  fc.integer({ min: 130, max: 6000 }).chain((n) => fc.integer({ min: 1, max: 1 << 30 }).map((s) => seededBytes(n, s))),
  fc.integer({ min: 1, max: 3000 }).map((n) => new Uint8Array(n)), // all zeros: every block identical
);

t.test('patch(basis, delta(signature(basis), target)) == target, with literals bounded by the edits', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.asyncProperty(basisArb, fc.array(editArb, { maxLength: 6 }), fc.boolean(), fc.constantFrom(1, 7, 100, 65536), fc.constantFrom(1, 2), fc.constantFrom(0, Infinity), async (basis, edits, exact, chunk, formatVersion, fineIndexTrigger) => {
        const { target, editBytes } = applyEdits(basis, edits as never);
        const sig = await signatureOf(basis, { blockLength: 64 });
        const { delta, stats } = deltaOf(sig, target, { basis: exact ? basis : undefined, chunk, formatVersion: formatVersion as 1 | 2, fineIndexTrigger });
        const patched = await applyDeltaToBuffer(basis, delta);
        if (!equalBytes(patched, target)) throw new Error('patched result differs from the target');
        // Bounds (docs/FORMAT.md §Delta quality): each edit costs at most its own bytes plus two blocks in
        // signature mode, one block in byte-exact mode; a basis shorter than a block can only be literal.
        const perEdit = exact ? 64 : 128;
        const bound = editBytes + (edits.length + 1) * perEdit + (basis.length < 64 ? basis.length : 0);
        if (stats.literalBytes > Math.max(bound, 0) && stats.literalBytes > 64) {
          throw new Error(`literal bytes ${stats.literalBytes} exceed the bound ${bound}`);
        }
        return true;
      }),
      { numRuns: NUM_RUNS },
    ),
  );
});

t.test('the delta is the same bytes however the target is split into chunks', async (t) => {
  // Larger than the encoder's 256 KiB buffer, so chunking decides when the buffer is compacted and literals
  // are flushed; mostly text-like, so the gap matcher finds short matches in every mode.
  const basis = wordsText(400_000, 11);
  const { target } = applyEdits(basis, [
    { kind: 'insert', at: 0.3, bytes: Uint8Array.of(1, 2, 3) },
    { kind: 'overwrite', at: 0.7, bytes: seededBytes(40, 3) },
    { kind: 'delete', at: 0.1, length: 17 },
    { kind: 'insert', at: 0.5, bytes: wordsText(200_000, 12) },
    { kind: 'overwrite', at: 0.9, bytes: wordsText(2000, 13) },
    // New bytes over many literal pieces: the gap matcher's skipping carries from piece to piece.
    { kind: 'insert', at: 0.8, bytes: seededBytes(150_000, 14) },
  ]);
  t.ok(target.length > 2 * 256 * 1024, 'the target spans several encoder buffers');
  for (const formatVersion of [1, 2] as const) {
    for (const exact of [false, true]) {
      const sig = await signatureOf(basis, { blockLength: 256 });
      // Small literal ops: long literal runs are flushed while the target is still arriving.
      const opts = { basis: exact ? basis : undefined, formatVersion, literalChunk: 10_000 };
      const reference = deltaOf(sig, target, { ...opts, chunk: 65536 }).delta;
      t.ok(equalBytes(await applyDeltaToBuffer(basis, reference), target), `v${formatVersion} ${exact ? 'byte-exact' : 'signature'} round trip`);
      for (const chunk of [3, 4096, 100_003, 1 << 20]) {
        const { delta } = deltaOf(sig, target, { ...opts, chunk });
        t.ok(equalBytes(delta, reference), `v${formatVersion} ${exact ? 'byte-exact' : 'signature'} mode, chunks of ${chunk}`);
      }
    }
  }
});

t.test('with flushEvery, every push hands over complete ops: the delta applies whatever is cut after any push', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.asyncProperty(basisArb, fc.array(editArb, { maxLength: 6 }), fc.boolean(), fc.constantFrom(7, 100, 4096), fc.constantFrom(1, 2), fc.constantFrom(1, 64, 1000), async (basis, edits, exact, chunk, formatVersion, flushEvery) => {
        const { target } = applyEdits(basis, edits as never);
        const sig = await signatureOf(basis, { blockLength: 64 });
        const { delta, parts } = deltaOf(sig, target, { basis: exact ? basis : undefined, chunk, formatVersion: formatVersion as 1 | 2, flushEvery });
        if (!equalBytes(await applyDeltaToBuffer(basis, delta), target)) throw new Error('patched result differs from the target');
        // A streaming decoder holds no op back: every push's bytes end on an op (or segment) boundary, so the
        // ops before it decode alone. Checked by decoding each prefix that ends after a push.
        let prefix = 0;
        for (const returned of parts.slice(0, -1)) {
          prefix += returned.reduce((n, p) => n + p.length, 0);
          if (prefix > 0) completeOps(delta.subarray(0, prefix));
        }
        return true;
      }),
      { numRuns: NUM_RUNS },
    ),
  );
});

t.test('with flushEvery a long unchanged run goes out as it is read, not at the end', async (t) => {
  const basis = seededBytes(4 << 20, 9);
  const target = concat([basis.subarray(0, 3 << 20), Uint8Array.of(1, 2, 3), basis.subarray(3 << 20)]);
  const sig = await signatureOf(basis, { blockLength: 1024 });
  for (const exact of [false, true]) {
    const without = deltaOf(sig, target, { basis: exact ? basis : undefined, chunk: 1 << 20 });
    const flushed = deltaOf(sig, target, { basis: exact ? basis : undefined, chunk: 1 << 20, flushEvery: 1 << 20 });
    // Target bytes that the ops handed over before finish() produce, decoded on their own.
    const before = (r: { parts: Uint8Array[][] }) => {
      const ops = new DeltaDecoder().push(concat(r.parts.slice(0, -1).flat()));
      return ops.reduce((n, op) => n + (op.type === 'copy' ? op.length : op.type === 'literal' ? op.bytes.length : 0), 0);
    };
    const mode = exact ? 'byte-exact' : 'signature';
    t.equal(before(without), 0, `${mode}: without it, no op before finish()`);
    t.ok(before(flushed) >= 3 << 20, `${mode}: with it, ops for ${before(flushed)} target bytes before finish()`);
    t.ok(equalBytes(await applyDeltaToBuffer(basis, flushed.delta), target));
    t.ok(flushed.delta.length <= without.delta.length + 4 * 24, `${flushed.delta.length} B against ${without.delta.length}: a few bytes per flush`);
  }
});

t.test('an unchanged file is one copy op', async (t) => {
  const basis = seededBytes(100_000, 5);
  const sig = await signatureOf(basis);
  for (const exact of [false, true]) {
    const { stats } = deltaOf(sig, basis, { basis: exact ? basis : undefined });
    t.equal(stats.copyOps, 1);
    t.equal(stats.literalBytes, 0);
    t.equal(stats.copyBytes, basis.length);
  }
});

t.test('reordered blocks are found as copies, not literals', async (t) => {
  const L = 1024;
  const basis = seededBytes(16 * L, 21);
  const blocks = Array.from({ length: 16 }, (_, i) => basis.subarray(i * L, (i + 1) * L));
  const target = concat([...blocks.slice(8), ...blocks.slice(0, 8)]);
  const sig = await signatureOf(basis, { blockLength: L });
  const { delta, stats } = deltaOf(sig, target);
  t.equal(stats.literalBytes, 0);
  t.equal(stats.copyOps, 2, 'adjacent block copies are merged into runs');
  t.ok(equalBytes(await applyDeltaToBuffer(basis, delta), target));
});

t.test('byte-exact mode reduces a scattered edit to the changed bytes', async (t) => {
  const basis = seededBytes(1 << 20, 77);
  const target = Buffer.from(basis);
  for (let i = 0; i < 10; i++) target[50_000 + i * 99_991] ^= 0xff;
  const inserted = concat([target.subarray(0, 500_000), new TextEncoder().encode('twelve bytes'), target.subarray(500_000)]);
  const sig = await signatureOf(basis);
  const exact = deltaOf(sig, inserted, { basis });
  const plain = deltaOf(sig, inserted);
  t.equal(exact.stats.literalBytes, 22, '10 flipped bytes + 12 inserted bytes');
  t.ok(plain.stats.literalBytes >= 10 * sig.blockLength, 'signature mode sends whole blocks');
  t.ok(exact.delta.length < 400, `byte-exact delta is small (${exact.delta.length} bytes)`);
  t.ok(equalBytes(await applyDeltaToBuffer(basis, exact.delta), inserted));
});

t.test('the search finds the block after new data of any length, however far the scanner rolled ahead', async (t) => {
  // New random runs from 100 B to 200 KB between unchanged stretches: the scanner's span starts small after
  // each match and doubles while none is found (delta-encoder.ts SCAN_SPAN), so these gaps end inside the
  // first call, after a few doublings and after many full spans. A block missed there would go out as literal.
  const basis = seededBytes(1_500_000, 21);
  const lengths = [100, 1500, 3000, 9000, 40_000, 70_000, 200_000];
  const edits = lengths.map((n, k) => ({ kind: 'insert', at: (k + 1) / (lengths.length + 1), bytes: seededBytes(n, 30 + k) }));
  const { target, editBytes } = applyEdits(basis, edits);
  const sig = await signatureOf(basis, { blockLength: 256 });
  for (const exact of [false, true]) {
    const reference = deltaOf(sig, target, { basis: exact ? basis : undefined, chunk: 1 << 20 });
    const bound = editBytes + lengths.length * (exact ? 0 : 2 * sig.blockLength);
    t.ok(reference.stats.literalBytes <= bound, `${exact ? 'byte-exact' : 'signature'}: literal ${reference.stats.literalBytes} bytes (at most ${bound})`);
    t.ok(equalBytes(await applyDeltaToBuffer(basis, reference.delta), target), 'round trip');
    for (const chunk of [999, 65_536]) {
      t.ok(equalBytes(deltaOf(sig, target, { basis: exact ? basis : undefined, chunk }).delta, reference.delta), `same delta from chunks of ${chunk}`);
    }
  }
});

t.test('byte-exact matches extend over whole blocks and long runs, read in growing pieces', async (t) => {
  // One flipped byte every ~10-70 KB with 4 KiB blocks: each match grows back up to a block (BACK_FIRST bytes
  // first, then doubling) and forward over tens of KiB (EXTEND_FIRST, doubling to EXTEND_CHUNK). Any piece
  // compared at the wrong offset would stop a match early and cost literal bytes beyond the flips.
  const basis = seededBytes(3 << 20, 22);
  const target = Uint8Array.from(basis);
  let flips = 0;
  for (let at = 5000, k = 0; at < target.length; at += 10_000 + ((k * 7919) % 60_000), k++, flips++) target[at]! ^= 0x20;
  const sig = await signatureOf(basis, { blockLength: 4096 });
  for (const formatVersion of [1, 2] as const) {
    const { delta, stats } = deltaOf(sig, target, { basis, formatVersion, chunk: 100_000 });
    t.equal(stats.literalBytes, flips, `v${formatVersion}: ${flips} flipped bytes are the only literals`);
    t.ok(equalBytes(await applyDeltaToBuffer(basis, delta), target), 'round trip');
  }
});

t.test('appended data costs only the appended bytes', async (t) => {
  const basis = seededBytes(300_000, 8);
  const extra = seededBytes(5000, 9);
  const target = concat([basis, extra]);
  const sig = await signatureOf(basis);
  for (const exact of [false, true]) {
    const { stats } = deltaOf(sig, target, { basis: exact ? basis : undefined });
    t.ok(stats.literalBytes <= extra.length + (exact ? 0 : sig.blockLength), `literal ${stats.literalBytes} bytes`);
  }
});

t.test('compressible literals are deflated when that is smaller', async (t) => {
  const basis = seededBytes(10_000, 1);
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(400));
  const sig = await signatureOf(basis);
  const packed = deltaOf(sig, text);
  const raw = deltaOf(sig, text, { compress: false });
  t.ok(packed.delta.length < raw.delta.length / 5, `compressed ${packed.delta.length} vs raw ${raw.delta.length}`);
  t.ok(equalBytes(await applyDeltaToBuffer(basis, packed.delta), text));
});

t.test('the block length follows the square-root rule, clamped', async (t) => {
  t.equal(chooseBlockLength(0), 256, 'empty: the minimum');
  t.equal(chooseBlockLength(1000), 256, 'small: the minimum');
  t.equal(chooseBlockLength(1 << 20), 768, '3/4 of sqrt(1 MiB) = 768');
  t.equal(chooseBlockLength(256 << 20), 12288, '3/4 of sqrt(256 MiB) = 12 KiB');
  t.equal(chooseBlockLength(1e6), 768, '3/4 of sqrt(1e6) = 750 rounds up to 768');
  t.equal(chooseBlockLength(2 ** 40), 128 * 1024, 'clamped at 128 KiB');
});

t.test('data appended after a basis whose last block is short costs only the appended bytes', async (t) => {
  const basis = seededBytes(10 * 1024 + 300, 12); // last block: 300 bytes
  const extra = seededBytes(50_000, 13);
  const target = concat([basis, extra]);
  const sig = await signatureOf(basis, { blockLength: 1024 });
  for (const chunk of [1, 777, 65536]) {
    const { delta, stats } = deltaOf(sig, target, { chunk, compress: false });
    t.equal(stats.literalBytes, extra.length, `chunks of ${chunk}: the short block is a copy`);
    t.equal(stats.copyOps, 1, 'one merged copy of the whole basis');
    t.ok(equalBytes(await applyDeltaToBuffer(basis, delta), target));
  }
});

/** Decodes `bytes`, a cut delta: every op in it must be complete (no partial op or segment pending at the cut). */
function completeOps(bytes: Uint8Array): void {
  const decoder = new DeltaDecoder();
  decoder.push(bytes);
  if (decoder.bufferedBytes !== 0) throw new Error(`a cut after a push leaves ${decoder.bufferedBytes} bytes of an unfinished op`);
}
