/**
 * The strong per-block hash: xxh64 (xxhash-wasm) under the signature's random seed, truncatable to
 * 1..8 bytes little-endian (like `rdiff -S`). The wasm module is loaded once, by top-level await.
 */
import xxhash from 'xxhash-wasm';

const api = await xxhash();

/** xxh64 of bytes[start..start+length) with `seed`, as a bigint. */
export function strongHash64(bytes: Uint8Array, start: number, length: number, seed: bigint): bigint {
  return api.h64Raw(bytes.subarray(start, start + length), seed);
}

const STRONG_SCRATCH = new Uint8Array(8);
const strongScratchView = new DataView(STRONG_SCRATCH.buffer);

/** Writes the low `strongLength` bytes of `value` little-endian into out[at..]. */
export function writeStrong(value: bigint, strongLength: number, out: Uint8Array, at: number): void {
  // One conversion through a DataView: splitting the bigint with & and >> made two more bigints per block.
  strongScratchView.setBigUint64(0, value, true);
  for (let i = 0; i < strongLength; i++) out[at + i] = STRONG_SCRATCH[i]!;
}

/** The two 32-bit halves of the last hash given to splitStrong (read them before the next call). */
export const strongParts = { lo: 0, hi: 0 };

/** Splits a strong hash into strongParts.lo and .hi without making intermediate bigints. */
export function splitStrong(value: bigint): void {
  strongScratchView.setBigUint64(0, value, true);
  strongParts.lo = strongScratchView.getUint32(0, true);
  strongParts.hi = strongScratchView.getUint32(4, true);
}

/**
 * A plain Uint8Array over the same bytes: subarray() of a Node Buffer builds a Buffer each call, several times
 * the cost of a typed array's, and the strong hash takes one subarray per block.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A fresh random 64-bit seed (crypto-quality): crafted strong collisions must be guessed per signature. */
export function randomSeed(): bigint {
  // Drawn from a pool refilled 4 KiB at a time: one getRandomValues call costs ~40 us, as much as building
  // a small file's signature (a first sync of many small files makes thousands).
  if (seedPoolAt === SEED_POOL.length) {
    globalThis.crypto.getRandomValues(SEED_POOL);
    seedPoolAt = 0;
  }
  const seed = seedView.getBigUint64(seedPoolAt, true);
  seedPoolAt += 8;
  return seed;
}

const SEED_POOL = new Uint8Array(4096);
const seedView = new DataView(SEED_POOL.buffer);
let seedPoolAt = SEED_POOL.length;
