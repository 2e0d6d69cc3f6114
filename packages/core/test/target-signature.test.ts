import t from 'tap';
import fc from 'fast-check';
import { DeltaEncoder, SignatureBuilder, applyDeltaToBuffer, type Signature } from '../src/index.js';
import { chunked, concat, equalBytes, seededBytes, signatureOf, wordsText } from './helpers/bytes.js';
import { applyEdits, editArb } from './helpers/edits.js';

const NUM_RUNS = Number(process.env.DELTABOX_PROPERTY_RUNS ?? 150);

/** Delta of `target` against `sig` with the target signature kept; also checks the delta applies. */
async function encodeWithTarget(sig: Signature, basis: Uint8Array, target: Uint8Array, opts: { exact: boolean; chunk: number; formatVersion?: 1 | 2 }): Promise<Signature> {
  const enc = new DeltaEncoder(sig, {
    basis: opts.exact ? { length: basis.length, read: (o, n) => basis.subarray(o, o + n) } : undefined,
    formatVersion: opts.formatVersion ?? 2,
    targetSignature: true,
  });
  const parts: Uint8Array[] = [];
  for (const c of chunked(target, opts.chunk)) parts.push(...enc.push(c));
  parts.push(...enc.finish());
  const patched = await applyDeltaToBuffer(basis, concat(parts));
  if (!equalBytes(patched, target)) throw new Error('patched result differs from the target');
  return enc.targetSignature();
}

/** The signature a SignatureBuilder makes of `target` with `sig`'s parameters. */
function builtLike(sig: Signature, target: Uint8Array): Signature {
  const b = new SignatureBuilder({ blockLength: sig.blockLength, strongLength: sig.strongLength, seed: sig.seed });
  for (const c of chunked(target, 1000)) b.push(c);
  return b.finish();
}

function sameSignature(a: Signature, b: Signature): boolean {
  return (
    a.blockLength === b.blockLength && a.strongLength === b.strongLength && a.seed === b.seed && a.basisLength === b.basisLength &&
    a.blockCount === b.blockCount && equalBytes(new Uint8Array(a.weakSums.buffer, a.weakSums.byteOffset, a.weakSums.byteLength), new Uint8Array(b.weakSums.buffer, b.weakSums.byteOffset, b.weakSums.byteLength)) &&
    equalBytes(a.strongHashes, b.strongHashes)
  );
}

t.test('the target signature equals a SignatureBuilder of the target with the same parameters, for any edits', async (t) => {
  const basisArb = fc.oneof(
    fc.constant(new Uint8Array(0)),
    fc.integer({ min: 1, max: 200 }).map((n) => seededBytes(n, n)),
    fc.integer({ min: 200, max: 6000 }).chain((n) => fc.integer({ min: 1, max: 1 << 30 }).map((s) => seededBytes(n, s))),
    fc.integer({ min: 1, max: 3000 }).map((n) => new Uint8Array(n)),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.asyncProperty(basisArb, fc.array(editArb, { maxLength: 6 }), fc.boolean(), fc.constantFrom(1, 7, 100, 65536), fc.constantFrom(1, 2), fc.constantFrom(1, 4, 8), async (basis, edits, exact, chunk, formatVersion, strongLength) => {
        const { target } = applyEdits(basis, edits as never);
        const sig = await signatureOf(basis, { blockLength: 64, strongLength });
        const got = await encodeWithTarget(sig, basis, target, { exact, chunk, formatVersion: formatVersion as 1 | 2 });
        if (!sameSignature(got, builtLike(sig, target))) throw new Error('target signature differs from the built one');
        return true;
      }),
      { numRuns: NUM_RUNS },
    ),
  );
});

t.test('across many encoder buffers (compaction keeps the bytes of a block not yet in the signature)', async (t) => {
  // Larger than the encoder's 256 KiB buffer; an insertion shifts the rest off the block grid, so most
  // blocks after it must be hashed from bytes that compaction would otherwise drop.
  const basis = wordsText(900_000, 21);
  const { target } = applyEdits(basis, [
    { kind: 'overwrite', at: 0.2, bytes: seededBytes(300, 1) },
    { kind: 'insert', at: 0.45, bytes: seededBytes(77, 2) },
    { kind: 'delete', at: 0.7, length: 5000 },
    { kind: 'insert', at: 0.9, bytes: seededBytes(400_000, 3) },
  ]);
  for (const exact of [false, true]) {
    for (const chunk of [4096, 65536, 1 << 20]) {
      const sig = await signatureOf(basis, { blockLength: 1024 });
      const got = await encodeWithTarget(sig, basis, target, { exact, chunk });
      t.ok(sameSignature(got, builtLike(sig, target)), `exact ${exact}, chunks of ${chunk}`);
    }
  }
});

t.test('an unchanged block aligned with the basis takes the basis entry instead of being hashed again', async (t) => {
  const basis = seededBytes(64 * 1024, 5);
  const target = basis.slice();
  target[100] ^= 1; // block 0 changes; blocks 1.. are unchanged and on the grid
  const sig = await signatureOf(basis, { blockLength: 1024 });
  // Block 3's weak sum is made wrong in the basis signature: a block that follows a match is checked by its
  // strong hash alone, so block 3 still matches, and its entry (wrong weak sum included) is what the target
  // signature gets if the encoder reused it; hashing the bytes would give the true sum.
  const trueWeak = sig.weakSums[3]!;
  const weakSums = sig.weakSums.slice();
  weakSums[3] = (trueWeak + 1) >>> 0;
  const tampered: Signature = { ...sig, weakSums };
  const got = await encodeWithTarget(tampered, basis, target, { exact: false, chunk: 65536 });
  t.equal(got.weakSums[3], weakSums[3], 'block 3 carries the basis entry');
  const built = builtLike(sig, target);
  t.equal(built.weakSums[3], trueWeak, 'hashing block 3 gives the true sum');
  t.not(got.weakSums[0], sig.weakSums[0], 'the edited block 0 was hashed');
  t.equal(got.weakSums[0], built.weakSums[0]);
});

t.test('targetSignature() is refused without the option or before finish()', async (t) => {
  const sig = await signatureOf(seededBytes(100, 1), { blockLength: 64 });
  t.throws(() => new DeltaEncoder(sig).targetSignature(), { code: 'DELTA_USAGE' });
  const enc = new DeltaEncoder(sig, { targetSignature: true });
  enc.push(seededBytes(10, 2));
  t.throws(() => enc.targetSignature(), { code: 'DELTA_USAGE' });
  enc.finish();
  t.equal(enc.targetSignature().basisLength, 10);
});
