/**
 * The fine index (src/fine-index.ts): dense edits, SQLite-like (every page changed a little, rows moved to far
 * pages), shrink to the changed bytes once the gaps pass the trigger; sparse edits never build it.
 */
import t from 'tap';
import fc from 'fast-check';
import { FineIndex, FineProbe } from '../src/fine-index.js';
import { GapMatcher } from '../src/gap-matcher.js';
import { applyDeltaToBuffer, deltaOf, equalBytes, seededBytes, signatureOf } from './helpers/bytes.js';

const PAGE = 4096;

/** A database-like file: pages of rows; the target changes 8 bytes in every page and copies rows between far pages. */
function densePair(pages: number): { basis: Uint8Array; target: Uint8Array } {
  const basis = seededBytes(pages * PAGE, 3);
  const target = Uint8Array.from(basis);
  for (let p = 0; p < pages; p++) {
    for (let k = 0; k < 8; k++) target[p * PAGE + ((p * 997 + k * 1361) % PAGE)] ^= 0x20;
    // A 200-byte row from a page far away replaces 200 bytes of this one.
    const from = ((p * 37 + pages / 2) % pages) * PAGE + 1000;
    target.set(basis.subarray(from, from + 200), p * PAGE + 2000);
  }
  return { basis, target };
}

t.test('dense page edits: the fine index finds the moved rows and the pages around the changed bytes', async (t) => {
  const { basis, target } = densePair(400); // 1.6 MiB: gaps pass the default 256 KiB trigger
  const sig = await signatureOf(basis);
  const without = deltaOf(sig, target, { basis, fineIndexTrigger: Infinity });
  const withFine = deltaOf(sig, target, { basis });
  t.ok(equalBytes(await applyDeltaToBuffer(basis, withFine.delta), target), 'round trip');
  t.ok(equalBytes(await applyDeltaToBuffer(basis, without.delta), target), 'round trip without the index');
  // 400 pages x (8 changed bytes + 2 far copies): a few KB. Without the index the moved rows go as literals.
  t.ok(withFine.delta.length * 3 < without.delta.length, `with ${withFine.delta.length} B, without ${without.delta.length} B`);
  t.ok(withFine.delta.length < 35_000, `delta ${withFine.delta.length} B`);
});

t.test('sparse edits never build the index', async (t) => {
  const basis = seededBytes(1 << 20, 4);
  const m = new GapMatcher({ length: basis.length, read: (o, n) => basis.subarray(o, o + n) });
  const out: number[] = [];
  const sink = { literal: (b: Uint8Array) => out.push(b.length), copy: () => out.push(-1) };
  m.encode(seededBytes(4096, 9), 0, 4096, 0, -1, sink);
  t.notOk(m.fineBuilt, 'a 4 KiB gap stays under the trigger');
  const big = new GapMatcher({ length: basis.length, read: (o, n) => basis.subarray(o, o + n) }, { fineTrigger: 4096 });
  big.encode(seededBytes(4096, 9), 0, 4096, 0, -1, sink);
  big.encode(seededBytes(4096, 10), 0, 4096, 0, -1, sink);
  t.notOk(big.fineBuilt, 'past the trigger, but gaps with no matches (new data) never pay for it');
  // The basis with one byte in 100 changed: most of these gap bytes are copies the window finds.
  const edited = Uint8Array.from(basis.subarray(0, 64 * 1024));
  for (let k = 50; k < edited.length; k += 100) edited[k]! ^= 1;
  big.encode(edited, 0, edited.length, 0, -1, sink);
  big.encode(seededBytes(4096, 11), 0, 4096, 0, -1, sink);
  t.ok(big.fineBuilt, 'built once the gaps reach the trigger and are dense in matches');
  const huge = new GapMatcher({ length: 2 ** 31, read: (_o, n) => { if (n > 1 << 20) throw new Error('read the whole basis'); return new Uint8Array(n); } }, { fineTrigger: 0 });
  huge.encode(seededBytes(4096, 9), 0, 4096, 0, -1, sink);
  t.notOk(huge.fineBuilt, 'never for a basis past FINE_MAX_BASIS');
});

t.test('lookup returns only offsets whose key matches (property)', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 3000 }), fc.nat(), fc.boolean(), (basis, at, fromBasis) => {
        const idx = new FineIndex({ length: basis.length, read: (o, n) => basis.subarray(o, o + n) });
        const probe = fromBasis ? basis : seededBytes(basis.length, at);
        const i = at % (probe.length - 7);
        const lo = (probe[i]! | (probe[i + 1]! << 8) | (probe[i + 2]! << 16) | (probe[i + 3]! << 24)) | 0;
        const b = idx.lookup(lo, probe, i);
        if (b >= 0 && !equalBytes(basis.subarray(b, b + 8), probe.subarray(i, i + 8))) throw new Error('unverified hit');
        if (fromBasis && i % idx.stride === 0 && b < 0) throw new Error('an indexed key was not found');
        return true;
      }),
      { numRuns: 300 },
    ),
  );
});

t.test('the probe knows the sampled keys of the basis and not new bytes', async (t) => {
  const basis = seededBytes(3 << 20, 40);
  const probe = new FineProbe({ length: basis.length, read: (o, n) => basis.subarray(o, o + n) });
  const lo = (a: Uint8Array, i: number): number => (a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24)) | 0;
  let known = 0;
  for (let at = 0; at < basis.length; at += 1024) if (probe.has(lo(basis, at), basis, at)) known++;
  t.ok(known > 0.8 * 3072, `most sampled keys are known (one-slot table): ${known} of 3072`);
  const fresh = seededBytes(256 * 1024, 41);
  t.equal(probe.count(fresh, 0, fresh.length), 0, 'no key of 256 KiB of new bytes');
  const hits = probe.count(basis, 4096, 4096 + 100 * 1024);
  t.ok(hits > 80 && hits <= 100, `about one key per 1 KiB of basis bytes: ${hits} in 100 KiB`);
});

t.test('a gap reshuffled in short pieces builds the fine index through the probe', async (t) => {
  const basis = seededBytes(1 << 20, 42);
  const reader = { length: basis.length, read: (o: number, n: number) => basis.subarray(o, o + n) };
  const sink = { literal: () => {}, copy: () => {} };
  // 64 pieces of 128 bytes from all over the basis: too far for the window, found by the probe's first scan.
  const shuffled = new Uint8Array(64 * 128);
  for (let k = 0; k < 64; k++) shuffled.set(basis.subarray(((k * 37) % 64) * 16384, ((k * 37) % 64) * 16384 + 128), k * 128);
  const m = new GapMatcher(reader, { fineTrigger: 4096 });
  m.encode(shuffled, 0, shuffled.length, 500_000, -1, sink);
  t.ok(m.fineBuilt, 'built at once: the probe counted the pieces on the first scan');
  // New bytes first (the probe's first scan finds nothing), then sampled keys seen by the parse itself.
  const later = new GapMatcher(reader, { fineTrigger: 4096 });
  later.encode(seededBytes(4096, 43), 0, 4096, 500_000, -1, sink);
  t.notOk(later.fineBuilt, 'not for new bytes');
  const keys = seededBytes(4096, 44);
  for (let k = 0; k < 8; k++) keys.set(basis.subarray(k * 65536, k * 65536 + 16), 64 + k * 100);
  later.encode(keys, 0, keys.length, 500_000, -1, sink);
  t.notOk(later.fineBuilt, 'decided at the start of a piece');
  later.encode(seededBytes(64, 45), 0, 64, 500_000, -1, sink);
  t.ok(later.fineBuilt, 'built once the parse has seen basis keys');
});
