/**
 * GapMatcher: the byte-exact mode's string matcher. Block matching (delta-encoder.ts) finds the long matches;
 * what it leaves between them (a gap: bytes no block matched) is searched here for short matches, down to
 * MIN_MATCH bytes, in a window of the basis around where the gap's bytes most likely came from: just after
 * the previous copy and just before the next one. The window is hashed into a chained table (4-byte keys),
 * and the gap is parsed greedily with a repeat-offset check first. Cost stays proportional to what changed:
 * the window is a small multiple of the gap, never the whole basis.
 */
import type { SyncBasisReader } from './delta-encoder.js';
import { FINE_KEY, FINE_MAX_BASIS, FineIndex } from './fine-index.js';

/** Where the matcher's output goes (the encoder's op writer, with its statistics). */
export interface GapSink {
  literal(bytes: Uint8Array): void;
  copy(basisOffset: number, length: number): void;
}

/** A copy at a new address must be at least this long: shorter ones cost more in the streams than they save. */
export const MIN_MATCH = 6;
/** A copy that continues at the expected address (no address bytes to speak of) pays from this length. */
const MIN_REP_MATCH = 4;
/** Gaps shorter than this go out as literals: no match of MIN_MATCH bytes would leave room to save anything. */
const MIN_GAP = 8;
/**
 * Basis bytes searched either side of the expected region: at least this much... (4 KiB and 256 B gave the
 * same delta size within 0.2% on two TypeScript releases; the window is hashed per gap, so smaller is cheaper.)
 */
const MIN_MARGIN = 1024;
/** ... at most this much, and the gap's own length in between. */
const MAX_MARGIN = 1024 * 1024;
/** Candidates examined per position: bounds the work on repetitive data (all zeros, one byte repeated). */
const MAX_CHAIN_DEPTH = 16;
/** Hash table size bounds (log2): the table is about as large as the window. */
const MIN_TABLE_LOG = 10;
const MAX_TABLE_LOG = 22;
const HASH_MUL = 0x9e3779b1 | 0;
/**
 * Gap bytes seen before the fine index (fine-index.ts) is built: sparse edits never reach it, so they never pay
 * for reading the whole basis. (The 22 MB patch-release pair has ~10 KB of gaps; the SQLite pair, megabytes.)
 */
export const DEFAULT_FINE_TRIGGER = 256 * 1024;
/** The fine index is consulted while the best local match is shorter than this. */
const FINE_WANTED = 32;

/** GapMatcher tuning (tests lower the trigger to reach the fine index with small inputs). */
export interface GapMatcherOptions {
  /** Gap bytes after which the fine index is built (default DEFAULT_FINE_TRIGGER; Infinity: never). */
  fineTrigger?: number;
}

/**
 * Extra copy length asked for each address byte past the first. Literals compress (Brotli finds their repeats
 * itself, ~5:1 on text) while an address of a far copy barely does, so a far copy of a few bytes costs more than
 * its literal. Measured on two TypeScript releases (tar, 22 MB): 3 gave 222 KB, 8 183 KB, 16 ~171 KB, 20 170 KB.
 */
const ADDRESS_BYTE_COST = 16;

/** The shortest copy worth taking `delta` bytes away from the expected address. */
function minMatchAt(delta: number): number {
  const z = delta >= 0 ? delta * 2 : -delta * 2 - 1;
  const extraBytes = z < 0x80 ? 0 : z < 0x4000 ? 1 : z < 0x200000 ? 2 : 3;
  return MIN_MATCH + extraBytes * ADDRESS_BYTE_COST;
}

export class GapMatcher {
  readonly #basis: SyncBasisReader;
  #win = new Uint8Array(0);
  #head = new Int32Array(0);
  #chain = new Int32Array(0);
  /** Loaded ranges: [window start, window end) holding basis bytes from rangeBasis. At most two. */
  #rangeStart = [0, 0];
  #rangeEnd = [0, 0];
  #rangeBasis = [0, 0];
  #ranges = 0;
  readonly #fineTrigger: number;
  #gapBytes = 0;
  #fine: FineIndex | undefined;

  constructor(basis: SyncBasisReader, options: GapMatcherOptions = {}) {
    this.#basis = basis;
    this.#fineTrigger = basis.length <= FINE_MAX_BASIS ? options.fineTrigger ?? DEFAULT_FINE_TRIGGER : Infinity;
  }

  /**
   * Encodes target bytes t[from..to) as literals and basis copies into `sink`. `expected` is where the previous
   * copy ended in the basis; `next` is where the following copy starts (-1 when unknown).
   */
  encode(t: Uint8Array, from: number, to: number, expected: number, next: number, sink: GapSink): void {
    const g = to - from;
    if (g < MIN_GAP || this.#basis.length < MIN_MATCH) {
      sink.literal(t.subarray(from, to));
      return;
    }
    this.#gapBytes += g;
    if (!this.#fine && this.#gapBytes >= this.#fineTrigger) this.#fine = new FineIndex(this.#basis);
    const fine = this.#fine;
    const full = fine?.bytes;
    this.#load(g, expected, next);
    const tableShift = this.#index();
    const win = this.#win;
    const head = this.#head;
    const chain = this.#chain;
    let lit = from;
    let rep = expected;
    let i = from;
    const last = to - MIN_REP_MATCH;
    while (i <= last) {
      let bestLen = 0;
      let bestAt = -1;
      /** Basis offset of the best match when it lies outside the window (found through the fine index). */
      let bestFar = -1;
      // The expected addresses first: right after the last copy (the pending literal was inserted), and as
      // far past it as the pending literal is long (the literal replaced as many bytes: a changed digit).
      for (let k = 0; k < 2; k++) {
        if (k === 1 && i === lit) break;
        const b = k === 0 ? rep : rep + (i - lit);
        const w = this.#windowIndex(b);
        if (w < 0) {
          if (full && b < full.length) {
            const n = farMatchLength(full, b, t, i, to);
            if (n >= MIN_REP_MATCH && n > bestLen) {
              bestLen = n;
              bestFar = b;
              bestAt = -1;
            }
          }
          continue;
        }
        const n = this.#matchLength(t, i, to, w);
        if (n >= MIN_REP_MATCH && n > bestLen) {
          bestLen = n;
          bestAt = w;
          bestFar = -1;
        }
      }
      if (i + 4 <= to) {
        const key = (t[i]! | (t[i + 1]! << 8) | (t[i + 2]! << 16) | (t[i + 3]! << 24)) | 0;
        let c = head[Math.imul(key, HASH_MUL) >>> tableShift]! - 1;
        let bestGain = bestAt >= 0 || bestFar >= 0 ? bestLen - MIN_REP_MATCH : 0;
        for (let depth = 0; c >= 0 && depth < MAX_CHAIN_DEPTH; depth++, c = chain[c]! - 1) {
          if (c === bestAt || (bestLen > 0 && (i + bestLen >= to || win[c + bestLen] !== t[i + bestLen]))) continue;
          const n = this.#matchLength(t, i, to, c);
          const gain = n - minMatchAt(this.#basisOffset(c) - rep);
          if (gain > bestGain || (gain === bestGain && bestAt < 0 && bestFar < 0 && gain >= 0)) {
            bestGain = gain;
            bestLen = n;
            bestAt = c;
            bestFar = -1;
          }
        }
        if (fine && bestLen < FINE_WANTED && i + FINE_KEY <= to) {
          const b = fine.lookup(key, t, i);
          if (b >= 0) {
            const n = farMatchLength(full!, b, t, i, to);
            if (n - minMatchAt(b - rep) > bestGain) {
              bestLen = n;
              bestFar = b;
              bestAt = -1;
            }
          }
        }
      }
      let basisAt: number;
      if (bestFar >= 0) {
        // Grow the match backwards into the pending literal (in the whole basis).
        while (i > lit && bestFar > 0 && t[i - 1] === full![bestFar - 1]) {
          i--;
          bestFar--;
          bestLen++;
        }
        basisAt = bestFar;
      } else if (bestAt >= 0) {
        // Grow the match backwards into the pending literal (within the window's range).
        const floor = this.#rangeStart[this.#rangeOf(bestAt)]!;
        while (i > lit && bestAt > floor && t[i - 1] === win[bestAt - 1]) {
          i--;
          bestAt--;
          bestLen++;
        }
        basisAt = this.#basisOffset(bestAt);
      } else {
        i++;
        continue;
      }
      if (i > lit) sink.literal(t.subarray(lit, i));
      sink.copy(basisAt, bestLen);
      i += bestLen;
      lit = i;
      rep = basisAt + bestLen;
    }
    if (to > lit) sink.literal(t.subarray(lit, to));
  }

  /** Reads the basis ranges around `expected` (and before `next`) into the window. */
  #load(g: number, expected: number, next: number): void {
    const L = this.#basis.length;
    // With the fine index, matches of 23 bytes and more are its job anywhere: the window only covers the
    // short ones next to the expected addresses. Measured (CPU s, same run): SQLite pair 393 KB / 1.9 s with the
    // full window, 420 KB / 1.5 s without; minor release 183 KB / 1.7 s against 203 KB / 1.35 s (xdelta3 -9: 1.4 s).
    if (this.#fine) g = 0;
    const margin = this.#fine ? MIN_MARGIN : Math.min(MAX_MARGIN, Math.max(MIN_MARGIN, g));
    const spans: [number, number][] = [[Math.max(0, expected - margin), Math.min(L, expected + g + margin)]];
    if (next >= 0) {
      const b: [number, number] = [Math.max(0, next - g - margin), Math.min(L, next + margin)];
      const a = spans[0]!;
      if (b[0] <= a[1] && a[0] <= b[1]) spans[0] = [Math.min(a[0], b[0]), Math.max(a[1], b[1])];
      else spans.push(b);
    }
    let total = 0;
    for (const [s, e] of spans) total += Math.max(0, e - s);
    if (this.#win.length < total) this.#win = new Uint8Array(Math.max(total, this.#win.length * 2));
    let at = 0;
    this.#ranges = 0;
    for (const [s, e] of spans) {
      if (e <= s) continue;
      this.#win.set(this.#basis.read(s, e - s), at);
      this.#rangeStart[this.#ranges] = at;
      this.#rangeEnd[this.#ranges] = at + (e - s);
      this.#rangeBasis[this.#ranges] = s;
      this.#ranges++;
      at += e - s;
    }
  }

  /** Hashes every 4-byte key of the window into head/chain; returns the table's shift. */
  #index(): number {
    const n = this.#rangeEnd[this.#ranges - 1] ?? 0;
    let log = MIN_TABLE_LOG;
    while (log < MAX_TABLE_LOG && 1 << log < n) log++;
    const size = 1 << log;
    if (this.#head.length !== size) this.#head = new Int32Array(size);
    else this.#head.fill(0);
    if (this.#chain.length < n) this.#chain = new Int32Array(Math.max(n, this.#chain.length * 2));
    const shift = 32 - log;
    const win = this.#win;
    const head = this.#head;
    const chain = this.#chain;
    for (let r = 0; r < this.#ranges; r++) {
      const end = this.#rangeEnd[r]! - 4;
      for (let p = this.#rangeStart[r]!; p <= end; p++) {
        const key = (win[p]! | (win[p + 1]! << 8) | (win[p + 2]! << 16) | (win[p + 3]! << 24)) | 0;
        const h = Math.imul(key, HASH_MUL) >>> shift;
        chain[p] = head[h]!;
        head[h] = p + 1;
      }
    }
    return shift;
  }

  /** Bytes from t[i] that equal the window from w, within the gap and w's range. */
  #matchLength(t: Uint8Array, i: number, to: number, w: number): number {
    const win = this.#win;
    const limit = Math.min(to - i, this.#rangeEnd[this.#rangeOf(w)]! - w);
    let n = 0;
    while (n < limit && t[i + n] === win[w + n]) n++;
    return n;
  }

  /** @internal Whether the fine index has been built (for tests). */
  get fineBuilt(): boolean {
    return this.#fine !== undefined;
  }

  #rangeOf(w: number): number {
    return this.#ranges > 1 && w >= this.#rangeStart[1]! ? 1 : 0;
  }

  #basisOffset(w: number): number {
    const r = this.#rangeOf(w);
    return this.#rangeBasis[r]! + (w - this.#rangeStart[r]!);
  }

  /** Window index of basis offset b, or -1 when it is not loaded. */
  #windowIndex(b: number): number {
    for (let r = 0; r < this.#ranges; r++) {
      const s = this.#rangeBasis[r]!;
      const len = this.#rangeEnd[r]! - this.#rangeStart[r]!;
      if (b >= s && b < s + len) return this.#rangeStart[r]! + (b - s);
    }
    return -1;
  }
}

/** Bytes from t[i] (up to `to`) that equal basis[b..]. */
function farMatchLength(basis: Uint8Array, b: number, t: Uint8Array, i: number, to: number): number {
  const limit = Math.min(to - i, basis.length - b);
  let n = 0;
  while (n < limit && t[i + n] === basis[b + n]) n++;
  return n;
}
