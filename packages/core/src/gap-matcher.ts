/**
 * GapMatcher: the byte-exact mode's string matcher. Block matching (delta-encoder.ts) finds the long matches;
 * what it leaves between them (a gap: bytes no block matched) is searched here for short matches, down to
 * MIN_MATCH bytes, in a window of the basis around where the gap's bytes most likely came from: just after
 * the previous copy and just before the next one. The window is hashed into a chained table (4-byte keys),
 * and the gap is parsed greedily with a repeat-offset check first. Cost stays proportional to what changed:
 * the window is a small multiple of the gap, never the whole basis, and a run of bytes with no match is
 * searched ever more sparsely (new data, an unrelated file).
 */
import type { SyncBasisReader } from './delta-encoder.js';
import { FINE_KEY, FINE_MAX_BASIS, FineIndex, FineProbe } from './fine-index.js';

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
/**
 * The parse's step over unmatched bytes is 1 + (bytes since the last match >> SKIP_LOG): every position for the
 * first 1 KiB, then every other one, every third, ... Measured on the five real pairs (bytes of all deltas, CPU
 * of a 16 MiB unrelated gap): no skipping 658,877 B / 2.2 MB/s; 12: 658,877 B / 29 MB/s; 10: 659,285 B (+0.06%)
 * / 85 MB/s; 8: 666,638 B (+1.2%) / 98 MB/s.
 */
const SKIP_LOG = 10;
/**
 * The fine index is built only once the gaps' bytes are at least this dense in matches the windows found
 * (1/FINE_MIN_DENSITY of them copied): an unrelated file or an append of new data never pays for reading and
 * holding the whole basis. At the trigger the three real pairs that reach it had 73-96% of their gap bytes
 * copied; random data has none.
 */
const FINE_MIN_DENSITY = 8;
/**
 * ... or once the probe (fine-index.ts FineProbe) has seen this many gap keys that occur in the basis: a file
 * reshuffled in pieces too short for blocks and too far for the window. (Pieces of 128 bytes of an 8 MiB
 * random file, shuffled: 372 KB with the index, 985 KB when only the density decided, 7.4 MB without it.)
 */
const PROBE_HITS = 4;
const NO_BYTES = new Uint8Array(0);
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
  /** Loaded ranges, at most two: [window start, window end, basis offset] each. */
  readonly #ranges = new Float64Array(6);
  #rangeCount = 0;
  #tableShift = 0;
  readonly #fineTrigger: number;
  #gapBytes = 0;
  #gapCopied = 0;
  /** Asked while the gaps are poor in local matches: whether they have far ones (fine-index.ts). */
  #probe: FineProbe | undefined;
  #probeHits = 0;
  #fine: FineIndex | undefined;

  constructor(basis: SyncBasisReader, options: GapMatcherOptions = {}) {
    this.#basis = basis;
    this.#fineTrigger = basis.length <= FINE_MAX_BASIS ? options.fineTrigger ?? DEFAULT_FINE_TRIGGER : Infinity;
  }

  /**
   * Encodes target bytes t[from..to) as literals and basis copies into `sink`. `expected` is where the previous
   * copy ended in the basis; `next` is where the following copy starts (-1 when unknown). `unmatchedBefore`:
   * bytes just before `from` that went out as literals with no copy since (the earlier pieces of the same gap),
   * so the parse goes on skipping where it left off. Returns the same count for the end of this piece.
   */
  encode(t: Uint8Array, from: number, to: number, expected: number, next: number, sink: GapSink, unmatchedBefore = 0): number {
    const g = to - from;
    if (g < MIN_GAP || this.#basis.length < MIN_MATCH) {
      sink.literal(t.subarray(from, to));
      return unmatchedBefore + g;
    }
    this.#gapBytes += g;
    if (!this.#fine && this.#gapBytes >= this.#fineTrigger) {
      if (!this.#probe && this.#gapCopied * FINE_MIN_DENSITY < this.#gapBytes) {
        // Poor in local matches: probe this whole piece once, then the positions the parses examine.
        this.#probe = new FineProbe(this.#basis);
        this.#probeHits = this.#probe.count(t, from, to);
      }
      if (this.#gapCopied * FINE_MIN_DENSITY >= this.#gapBytes || this.#probeHits >= PROBE_HITS) {
        this.#fine = new FineIndex(this.#basis);
        this.#probe = undefined;
      }
    }
    if (this.#load(g, expected, next)) this.#tableShift = this.#index();
    return this.#parse(t, from, to, expected, sink, unmatchedBefore);
  }

  /**
   * The greedy parse of one gap. One long function on purpose: it runs per gap byte, so it keeps the window's
   * ranges in locals and calls only one small helper. Each position it examines costs a few cache misses (hash
   * head, chain, window, fine index: ~250 ns on random data, measured), which no rewrite of the loop removes;
   * so after 2^SKIP_LOG bytes without a match it looks at fewer and fewer positions (zstd's fast levels do the
   * same): data with no matches costs little, and a match found late still grows backwards over the bytes
   * skipped.
   */
  #parse(t: Uint8Array, from: number, to: number, expected: number, sink: GapSink, unmatchedBefore: number): number {
    const fine = this.#fine;
    const probe = this.#probe;
    const full = fine ? fine.bytes : NO_BYTES;
    const fullLength = full.length;
    const win = this.#win;
    const head = this.#head;
    const chain = this.#chain;
    const tableShift = this.#tableShift;
    const ranges = this.#ranges;
    // Range 0 is [s0, e0) in the window holding basis bytes from b0; range 1 likewise, or empty at e0.
    const s0 = ranges[0]!;
    const e0 = ranges[1]!;
    const b0 = ranges[2]!;
    const s1 = this.#rangeCount > 1 ? ranges[3]! : e0;
    const e1 = this.#rangeCount > 1 ? ranges[4]! : e0;
    const b1 = this.#rangeCount > 1 ? ranges[5]! : 0;
    let lit = from;
    /** Unmatched bytes before `lit` (earlier pieces of this gap, until the first match). */
    let run = unmatchedBefore;
    let rep = expected;
    let i = from;
    const last = to - MIN_REP_MATCH;
    while (i <= last) {
      let bestLen = 0;
      let bestAt = -1;
      /** Basis offset of the best match when it lies outside the window (found through the fine index). */
      let bestFar = -1;
      // The fine index's entry for this position and its first basis byte, read before the local search that
      // decides whether they are needed: both are cache misses (a table and a basis of megabytes), and read
      // here they arrive while the search runs instead of stalling it afterwards.
      let fineAt = -1;
      let fineFirst = -1;
      if (fine && i + FINE_KEY <= to) {
        fineAt = fine.entry((t[i]! | (t[i + 1]! << 8) | (t[i + 2]! << 16) | (t[i + 3]! << 24)) | 0, t, i);
        if (fineAt >= 0) fineFirst = full[fineAt]!;
      }
      // The expected addresses first: right after the last copy (the pending literal was inserted), and as
      // far past it as the pending literal is long (the literal replaced as many bytes: a changed digit).
      for (let k = 0; k < 2; k++) {
        if (k === 1 && i === lit) break;
        const b = k === 0 ? rep : rep + (i - lit);
        const w = b >= b0 && b < b0 + (e0 - s0) ? s0 + (b - b0) : b >= b1 && b < b1 + (e1 - s1) ? s1 + (b - b1) : -1;
        if (w < 0) {
          if (b < fullLength) {
            const n = matchLength(full, b, fullLength, t, i, to);
            if (n >= MIN_REP_MATCH && n > bestLen) {
              bestLen = n;
              bestFar = b;
              bestAt = -1;
            }
          }
          continue;
        }
        const n = matchLength(win, w, w >= s1 ? e1 : e0, t, i, to);
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
          const n = matchLength(win, c, c >= s1 ? e1 : e0, t, i, to);
          const gain = n - minMatchAt((c >= s1 ? b1 + (c - s1) : b0 + (c - s0)) - rep);
          if (gain > bestGain || (gain === bestGain && bestAt < 0 && bestFar < 0 && gain >= 0)) {
            bestGain = gain;
            bestLen = n;
            bestAt = c;
            bestFar = -1;
          }
        }
        if (probe && bestLen === 0 && i + FINE_KEY <= to && probe.has(key, t, i)) this.#probeHits++;
        if (fineFirst === t[i] && bestLen < FINE_WANTED && fine!.verify(fineAt, t, i)) {
          const n = matchLength(full, fineAt, fullLength, t, i, to);
          if (n - minMatchAt(fineAt - rep) > bestGain) {
            bestLen = n;
            bestFar = fineAt;
            bestAt = -1;
          }
        }
      }
      let basisAt: number;
      if (bestFar >= 0) {
        // Grow the match backwards into the pending literal (in the whole basis).
        while (i > lit && bestFar > 0 && t[i - 1] === full[bestFar - 1]) {
          i--;
          bestFar--;
          bestLen++;
        }
        basisAt = bestFar;
      } else if (bestAt >= 0) {
        // Grow the match backwards into the pending literal (within the window's range).
        const floor = bestAt >= s1 ? s1 : s0;
        while (i > lit && bestAt > floor && t[i - 1] === win[bestAt - 1]) {
          i--;
          bestAt--;
          bestLen++;
        }
        basisAt = bestAt >= s1 ? b1 + (bestAt - s1) : b0 + (bestAt - s0);
      } else {
        i += 1 + ((run + i - lit) >>> SKIP_LOG);
        continue;
      }
      if (i > lit) sink.literal(t.subarray(lit, i));
      sink.copy(basisAt, bestLen);
      this.#gapCopied += bestLen;
      i += bestLen;
      lit = i;
      run = 0;
      rep = basisAt + bestLen;
    }
    if (to > lit) sink.literal(t.subarray(lit, to));
    return run + to - lit;
  }

  /**
   * Reads the basis ranges around `expected` (and before `next`) into the window; false when they are the ones
   * already loaded (the pieces of one long unmatched gap), whose table then stands.
   */
  #load(g: number, expected: number, next: number): boolean {
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
    // Both spans are non-empty: margin >= 1 KiB and expected, next <= the basis length.
    const r = this.#ranges;
    if (spans.length === this.#rangeCount && spans.every(([s, e], k) => r[3 * k + 2] === s && r[3 * k + 1]! - r[3 * k]! === e - s)) return false;
    let total = 0;
    for (const [s, e] of spans) total += e - s;
    if (this.#win.length < total) this.#win = new Uint8Array(Math.max(total, this.#win.length * 2));
    let at = 0;
    this.#rangeCount = spans.length;
    // With the fine index the basis is in memory: a copy, not a read.
    const full = this.#fine?.bytes;
    spans.forEach(([s, e], k) => {
      this.#win.set(full ? full.subarray(s, e) : this.#basis.read(s, e - s), at);
      r[3 * k] = at;
      r[3 * k + 1] = at + (e - s);
      r[3 * k + 2] = s;
      at += e - s;
    });
    return true;
  }

  /** Hashes every 4-byte key of the window into head/chain; returns the table's shift. */
  #index(): number {
    const r = this.#ranges;
    const n = r[3 * this.#rangeCount - 2]!;
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
    for (let k = 0; k < this.#rangeCount; k++) {
      const end = r[3 * k + 1]! - 4;
      for (let p = r[3 * k]!; p <= end; p++) {
        const key = (win[p]! | (win[p + 1]! << 8) | (win[p + 2]! << 16) | (win[p + 3]! << 24)) | 0;
        const h = Math.imul(key, HASH_MUL) >>> shift;
        chain[p] = head[h]!;
        head[h] = p + 1;
      }
    }
    return shift;
  }

  /** The whole basis once the fine index holds it in memory, else undefined: the encoder reads it from here. */
  get basisBytes(): Uint8Array | undefined {
    return this.#fine?.bytes;
  }

  /** @internal Whether the fine index has been built (for tests). */
  get fineBuilt(): boolean {
    return this.#fine !== undefined;
  }
}

/** Bytes from t[i] (up to `to`) that equal a[b..] (up to `aEnd`). */
function matchLength(a: Uint8Array, b: number, aEnd: number, t: Uint8Array, i: number, to: number): number {
  const limit = Math.min(to - i, aEnd - b);
  let n = 0;
  while (n < limit && t[i + n] === a[b + n]) n++;
  return n;
}
