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

/** Writes the low `strongLength` bytes of `value` little-endian into out[at..]. */
export function writeStrong(value: bigint, strongLength: number, out: Uint8Array, at: number): void {
  let lo = Number(value & 0xffffffffn);
  let hi = Number(value >> 32n);
  for (let i = 0; i < strongLength; i++) {
    if (i < 4) {
      out[at + i] = lo & 0xff;
      lo >>>= 8;
    } else {
      out[at + i] = hi & 0xff;
      hi >>>= 8;
    }
  }
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
