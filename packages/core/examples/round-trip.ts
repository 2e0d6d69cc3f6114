// Signature -> delta -> patch on in-memory buffers. Run: node --import=tsx examples/round-trip.ts
import { computeSignature, encodeSignature, decodeSignature, DeltaEncoder, PatchApplier } from '@deltabox/core';

const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`);
const basis = new TextEncoder().encode(lines.join(''));
lines[1000] = 'line 1000: the quick brown cat jumps over the lazy dog\n';
const target = new TextEncoder().encode(lines.join(''));

// 1. Whoever holds the basis computes its signature (in practice: streamed from a file, any chunk sizes).
const signatureBytes = encodeSignature(await computeSignature([basis], { basisLength: basis.length }));

// 2. Whoever holds the target encodes a delta against the signature. Passing `basis` as well (a random-access
//    reader over the old bytes) turns on byte-exact matching: literals shrink to the changed bytes.
const encoder = new DeltaEncoder(decodeSignature(signatureBytes), {
  basis: { length: basis.length, read: (offset, length) => basis.subarray(offset, offset + length) },
});
const delta = [...encoder.push(target), ...encoder.finish()];
console.log(`target ${target.length} bytes -> delta ${encoder.stats.deltaBytes} bytes (${encoder.stats.literalBytes} literal)`);

// 3. The basis holder patches. The result streams out; it is verified against the delta's SHA-256 at the end,
//    so write it to a temp file and publish it only when apply() completes.
const applier = new PatchApplier({ length: basis.length, read: (offset, length) => basis.subarray(offset, offset + length) });
const parts: Uint8Array[] = [];
for await (const piece of applier.apply(delta)) parts.push(piece);
console.log(`patched ${applier.result!.targetLength} bytes, sha256 ${applier.result!.targetHash}`);
console.log(Buffer.concat(parts).equals(Buffer.from(target)) ? 'round trip ok' : 'MISMATCH');
