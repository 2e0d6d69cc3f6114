/**
 * The hot loop of the delta search, compiled per (block length, bitset size): roll the weak sum one byte at
 * a time and record every offset whose weak sum passes the bitset filter. The constants are baked into
 * generated source on purpose: with them as immediates V8 runs this loop at ~300 MB/s here, twice the speed
 * of the same loop taking them as parameters (measured; see docs/DESIGN.md §Hot loop). The source is
 * built only from integers computed here, never from input bytes. Table lookups happen outside the loop.
 */
import { RK_MULT, rkPow } from './rolling.js';
import { BITSET_MIX } from './signature-index.js';

/**
 * Rolls from `start` (whose weak sum is `weak`) to `limit` inclusive. Writes candidate offsets and their weak
 * sums into candPos/candWeak and returns their count n. If n reaches `cap` the scan stopped at candPos[n-1];
 * otherwise it reached `limit` and candWeak[n] holds the weak sum at `limit`.
 */
export type CandidateScanner = (
  buf: Uint8Array, start: number, limit: number, weak: number,
  bits: Int32Array, candPos: Int32Array, candWeak: Int32Array, cap: number,
) => number;

const cache = new Map<string, CandidateScanner>();

/** Returns the scanner for this block length and bitset shift, compiling it on first use. */
export function candidateScanner(blockLength: number, bitShift: number): CandidateScanner {
  if (!Number.isInteger(blockLength) || blockLength < 1 || !Number.isInteger(bitShift) || bitShift < 0 || bitShift > 31) {
    throw new RangeError('candidateScanner: bad parameters');
  }
  const key = `${blockLength}:${bitShift}`;
  let scanner = cache.get(key);
  if (!scanner) {
    const outFactor = rkPow(blockLength);
    const adjust = (1 - outFactor) | 0;
    const source = `return function scanCandidates(buf, start, limit, weak, bits, candPos, candWeak, cap) {
  let h = weak | 0;
  let p = start;
  let n = 0;
  for (;;) {
    const b = Math.imul(h, ${BITSET_MIX}) >>> ${bitShift};
    if ((bits[b >>> 5] & (1 << (b & 31))) !== 0) {
      candPos[n] = p;
      candWeak[n] = h;
      if (++n === cap) return n;
    }
    if (p === limit) break;
    h = (Math.imul(h, ${RK_MULT}) + buf[p + ${blockLength}] - Math.imul(buf[p], ${outFactor}) + ${adjust}) | 0;
    p++;
  }
  candWeak[n] = h;
  return n;
};`;
    scanner = new Function(source)() as CandidateScanner;
    cache.set(key, scanner);
  }
  return scanner;
}
