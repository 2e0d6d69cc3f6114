/**
 * Weak sum -> candidate blocks, built once per delta. Three typed arrays, no Map: a bitset that rejects
 * most offsets with one load, an open-addressing table of distinct weak sums, and a chain of blocks per
 * weak sum. Strong hashes are unpacked into two Uint32Arrays so a check is two integer compares.
 */
import type { Signature } from './signature.js';

/** Fibonacci hashing constants: the top bits of weak * K index the bitset and the table. */
export const BITSET_MIX = 0x9e3779b1 | 0;
export const TABLE_MIX = 0x85ebca6b | 0;
/**
 * Candidates examined per weak sum. Caps crafted inputs (a basis of many weak-colliding blocks) at a
 * constant factor instead of quadratic time; honest data has chains of 1.
 */
export const MAX_CHAIN = 32;

/** Splits each block's little-endian strong hash (s bytes) into its low and high 32 bits. */
function unpackStrong(strong: Uint8Array, s: number, n: number, lo: Uint32Array, hi: Uint32Array): void {
  for (let j = 0, at = 0; j < n; j++, at += s) {
    let l = 0;
    let h = 0;
    for (let k = 0; k < s && k < 4; k++) l |= strong[at + k]! << (8 * k);
    for (let k = 4; k < s; k++) h |= strong[at + k]! << (8 * (k - 4));
    lo[j] = l >>> 0;
    hi[j] = h >>> 0;
  }
}

export class SignatureIndex {
  readonly signature: Signature;
  /** One bit per bucket: set when some block's weak sum maps there. */
  readonly bits: Int32Array;
  /** 32 - log2(bit count): `Math.imul(weak, BITSET_MIX) >>> bitShift` is the bit index. */
  readonly bitShift: number;
  /** Open-addressing table of distinct weak sums (linear probing from `Math.imul(weak, TABLE_MIX) >>> tableShift`). */
  readonly tableKeys: Int32Array;
  /** First block index + 1 for the weak sum in the same slot; 0 = empty slot. */
  readonly tableHeads: Int32Array;
  readonly tableShift: number;
  readonly #next: Int32Array; // block index + 1 of the next block with the same weak sum
  readonly strongLo: Uint32Array;
  readonly strongHi: Uint32Array;
  readonly strongMaskLo: number;
  readonly strongMaskHi: number;

  constructor(sig: Signature) {
    this.signature = sig;
    const n = sig.blockCount;
    // ~32 bits per block keeps the bitset's false-positive rate near 3% while staying cache-resident.
    let bitLog = 16;
    while (bitLog < 30 && 1 << bitLog < n * 32) bitLog++;
    this.bits = new Int32Array(1 << (bitLog - 5));
    this.bitShift = 32 - bitLog;
    let tableLog = 4;
    while (1 << tableLog < n * 2) tableLog++;
    this.tableKeys = new Int32Array(1 << tableLog);
    this.tableHeads = new Int32Array(1 << tableLog);
    this.tableShift = 32 - tableLog;
    this.#next = new Int32Array(n);
    const s = sig.strongLength;
    this.strongLo = new Uint32Array(n);
    this.strongHi = new Uint32Array(n);
    this.strongMaskLo = s >= 4 ? 0xffffffff : 2 ** (8 * s) - 1;
    this.strongMaskHi = s >= 8 ? 0xffffffff : s <= 4 ? 0 : 2 ** (8 * (s - 4)) - 1;
    const mask = (1 << tableLog) - 1;
    // Insert in reverse so each chain lists blocks in ascending order (earliest basis block first).
    for (let j = n - 1; j >= 0; j--) {
      const w = sig.weakSums[j]! | 0;
      const b = Math.imul(w, BITSET_MIX) >>> this.bitShift;
      this.bits[b >>> 5]! |= 1 << (b & 31);
      let slot = Math.imul(w, TABLE_MIX) >>> this.tableShift;
      while (this.tableHeads[slot] !== 0 && this.tableKeys[slot] !== w) slot = (slot + 1) & mask;
      this.#next[j] = this.tableHeads[slot]!;
      this.tableKeys[slot] = w;
      this.tableHeads[slot] = j + 1;
    }
    unpackStrong(sig.strongHashes, s, n, this.strongLo, this.strongHi);
  }

  /** First block (index) with weak sum `weak`, or -1. */
  first(weak: number): number {
    const w = weak | 0;
    const mask = this.tableHeads.length - 1;
    let slot = Math.imul(w, TABLE_MIX) >>> this.tableShift;
    for (;;) {
      const head = this.tableHeads[slot]!;
      if (head === 0) return -1;
      if (this.tableKeys[slot] === w) return head - 1;
      slot = (slot + 1) & mask;
    }
  }

  /** Next block after `block` with the same weak sum, or -1. */
  next(block: number): number {
    return this.#next[block]! - 1;
  }

  /** True when block j's stored (truncated) strong hash equals the given full xxh64 halves. */
  strongEquals(j: number, lo: number, hi: number): boolean {
    return this.strongLo[j] === ((lo & this.strongMaskLo) >>> 0) && this.strongHi[j] === ((hi & this.strongMaskHi) >>> 0);
  }
}
