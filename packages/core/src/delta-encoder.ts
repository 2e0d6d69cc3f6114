/**
 * DeltaEncoder: target chunks in, delta bytes out, against a basis signature. Finds block matches at every
 * byte offset with the rolling weak sum, merges adjacent copies, and emits literals in bounded chunks.
 * With the basis bytes at hand (byte-exact mode) it also extends every match byte by byte, forwards and
 * backwards, so literals shrink to the bytes that changed; identical runs then cost one memcmp, not a hash
 * per block. It does no I/O of its own: the basis is reached only through the injected SyncBasisReader.
 */
import { DEFAULT_LITERAL_CHUNK } from './constants.js';
import { UsageError } from './errors.js';
import { commonPrefixLength, commonSuffixLength } from './platform/bytes.js';
import { createSha256, type Sha256 } from './platform/sha256.js';
import { createRoller, RK_MULT, weakSum } from './rolling.js';
import { BlockTable, type Signature } from './signature.js';
import { MAX_CHAIN, SignatureIndex } from './signature-index.js';
import { candidateScanner, type CandidateScanner } from './roll-scanner.js';
import { splitStrong, strongHash64, strongParts } from './strong-hash.js';
import { DeltaWriter } from './wire/delta-writer.js';
import { SegmentWriter, type OpWriter } from './wire/segment-writer.js';
import { GapMatcher, type GapSink } from './gap-matcher.js';
import { toHex } from './hex.js';

/** Random access to the basis, synchronously (e.g. positional reads of a local file). */
export interface SyncBasisReader {
  /** Basis length in bytes; must equal the signature's basisLength. */
  readonly length: number;
  /** Exactly `length` bytes at `byteOffset` (callers stay within the basis). */
  read(byteOffset: number, length: number): Uint8Array;
}

export interface DeltaOptions {
  /** The basis bytes: enables byte-exact matching (literals shrink to the changed bytes). */
  basis?: SyncBasisReader;
  /** Compress literals and op streams when that makes them smaller (default true). */
  compress?: boolean;
  /** Bytes per literal op, at most (default 256 KiB); also the size of the pieces the gap matcher searches. */
  literalChunk?: number;
  /**
   * Delta format version to write (default 2: Brotli-compressed op streams, and in byte-exact mode a string
   * matcher between block matches). 1 writes the previous format, for readers that know only it.
   */
  formatVersion?: 1 | 2;
  /**
   * Byte-exact version-2 mode: gap bytes after which the encoder indexes the whole basis (at most 256 MiB) to
   * find short matches anywhere in it, for dense edits (default 256 KiB; Infinity: never), provided the gaps so
   * far were dense in matches (gap-matcher.ts FINE_MIN_DENSITY). See fine-index.ts.
   */
  fineIndexTrigger?: number;
  /**
   * Target bytes after which push() hands over every op decided so far, complete (the pending copy up to where
   * matching has reached, the writer's open segment closed), so a consumer that applies the delta as it
   * arrives — a server patching a streamed upload — works while the encoder still reads. Costs a copy op and a
   * segment header per flush (a few bytes). Default: never (ops go out when the writer's buffers fill).
   */
  flushEvery?: number;
  /**
   * Also build the target's signature (DeltaEncoder.targetSignature() after finish()), with the basis
   * signature's block length, strong length and seed: a target block matched whole to a basis block at a
   * block boundary takes that block's entry, so an in-place edit of a large file hashes only the blocks it
   * touched, not the whole file again. Default false.
   */
  targetSignature?: boolean;
}

/** What a finished delta contains. */
export interface DeltaStats {
  targetLength: number;
  copyOps: number;
  copyBytes: number;
  literalOps: number;
  /** Target bytes sent as literals (before compression). */
  literalBytes: number;
  /** Encoded delta size. */
  deltaBytes: number;
  /** SHA-256 hex of the target (also in the delta's trailer). */
  targetHash: string;
}

/**
 * Bytes compared with the basis per read while extending a match forwards (or backwards): the first read after
 * a match is EXTEND_FIRST (BACK_FIRST backwards), each next one twice as long up to EXTEND_CHUNK. Between dense
 * edits most matches end within a few KiB: with 64 KiB from the first read the minor-release pair read 57 MB
 * of basis to extend copies of ~16 MB.
 */
const EXTEND_CHUNK = 64 * 1024;
const EXTEND_FIRST = 4 * 1024;
const BACK_FIRST = 256;
/** A suffix copy at the end must save at least this many literal bytes to be worth an op. */
const MIN_SUFFIX_COPY = 8;

/**
 * Offsets rolled per scanner call, at most. Rolling past a match is wasted (the search restarts after the
 * block), so after each match the span starts at MIN_SCAN_SPAN and doubles with every call that finds none:
 * a dense edit's next match is usually within a block or two, while a long unmatched run still rolls in 64 KiB
 * calls. Measured on the five real pairs: with a fixed 64 KiB span the minor-release pair rolled 56 MB for a
 * 22.5 MB target (the text pair 33 MB for 4.8 MB).
 */
const SCAN_SPAN = 64 * 1024;
const MIN_SCAN_SPAN = 1024;
/** Candidate capacity per call; honest data has ~3% of offsets as candidates, so this rarely binds. */
const CANDIDATE_CAP = 4096;

export class DeltaEncoder {
  readonly #sig: Signature;
  readonly #index: SignatureIndex;
  readonly #L: number;
  readonly #basis: SyncBasisReader | undefined;
  readonly #writer: OpWriter;
  readonly #gaps: GapMatcher | undefined;
  readonly #sha: Sha256 = createSha256();
  readonly #literalChunk: number;
  readonly #outFactor: number;
  readonly #adjust: number;
  /** Number of blocks that are a full blockLength long (the last one may be short). */
  readonly #fullBlocks: number;

  #buf: Uint8Array;
  /** Start of the pending literal in #buf: everything before it has been emitted. */
  #lit = 0;
  /** Scan position: the start of the window whose weak sum is #h (when #hValid). */
  #pos = 0;
  #end = 0;
  #h = 0;
  #hValid = false;
  readonly #scanner: CandidateScanner;
  readonly #candPos = new Int32Array(CANDIDATE_CAP);
  readonly #candWeak = new Int32Array(CANDIDATE_CAP + 1);
  /** Pending copy (not yet emitted, so a following adjacent match can merge into it). */
  #copyStart = 0;
  #copyLength = 0;
  /** Basis offset after the last emitted copy: copies are encoded relative to it. */
  #lastCopyEnd = 0;
  /** Byte-exact version-2 mode: target bytes sent as literals since the last copy (the gap matcher skips on from there). */
  #unmatched = 0;
  /** Byte-exact mode: the pending copy is being extended byte by byte, reading this many basis bytes next. */
  #extending = false;
  #extendChunk = EXTEND_FIRST;
  #finished = false;
  /** Target offset of #buf[0]. */
  #base = 0;
  /**
   * The target's signature as it is made (DeltaOptions.targetSignature): the basis signature's strong length and
   * seed; block k starts at target offset k * blockLength.
   */
  readonly #target: BlockTable | undefined;
  readonly #flushEvery: number;
  /** Target length at the last flushEvery flush. */
  #flushedAt = 0;
  #stats: DeltaStats = { targetLength: 0, copyOps: 0, copyBytes: 0, literalOps: 0, literalBytes: 0, deltaBytes: 0, targetHash: '' };

  /** @throws UsageError when the basis length differs from the signature's. */
  constructor(signature: Signature, options: DeltaOptions = {}) {
    this.#sig = signature;
    this.#index = new SignatureIndex(signature);
    this.#L = signature.blockLength;
    this.#basis = options.basis;
    if (this.#basis && this.#basis.length !== signature.basisLength) {
      throw new UsageError(`basis is ${this.#basis.length} bytes but the signature was made from ${signature.basisLength}`);
    }
    this.#literalChunk = options.literalChunk ?? DEFAULT_LITERAL_CHUNK;
    this.#flushEvery = options.flushEvery ?? Infinity;
    if (!(this.#flushEvery > 0)) throw new UsageError('flushEvery must be a positive number of bytes');
    if (!Number.isInteger(this.#literalChunk) || this.#literalChunk < 1) throw new UsageError('literalChunk must be a positive integer');
    const version = options.formatVersion ?? 2;
    if (version !== 1 && version !== 2) throw new UsageError(`formatVersion must be 1 or 2, got ${String(version)}`);
    this.#writer = version === 1
      ? new DeltaWriter(signature.basisLength, options.compress ?? true)
      : new SegmentWriter(signature.basisLength, { compress: options.compress ?? true, maxSequenceLiteral: this.#literalChunk });
    this.#gaps = version === 2 && this.#basis ? new GapMatcher(this.#basis, { fineTrigger: options.fineIndexTrigger }) : undefined;
    const roller = createRoller(this.#L);
    this.#outFactor = roller.outFactor;
    this.#adjust = roller.adjust;
    this.#scanner = candidateScanner(this.#L, this.#index.bitShift);
    this.#fullBlocks = signature.basisLength % this.#L === 0 ? signature.blockCount : signature.blockCount - 1;
    this.#buf = new Uint8Array(Math.max(4 * this.#L, 256 * 1024));
    this.#target = options.targetSignature ? new BlockTable(signature.blockCount, signature.strongLength, signature.seed) : undefined;
  }

  /**
   * The target's signature (DeltaOptions.targetSignature), after finish().
   * @throws UsageError when not asked for, or before finish()
   */
  targetSignature(): Signature {
    if (this.#target === undefined) throw new UsageError('targetSignature() needs DeltaOptions.targetSignature');
    if (!this.#finished) throw new UsageError('targetSignature() before finish()');
    return this.#target.signature(this.#L, this.#stats.targetLength);
  }

  /** Statistics; complete after finish(). */
  get stats(): DeltaStats {
    return { ...this.#stats, deltaBytes: this.#writer.bytesWritten };
  }

  /** Feeds target bytes; returns the encoded delta bytes that are ready. @throws UsageError after finish(). */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#finished) throw new UsageError('push() after finish()');
    if (chunk.length === 0) return [];
    this.#sha.update(chunk);
    this.#stats.targetLength += chunk.length;
    this.#append(chunk);
    this.#scan();
    this.#flushOldLiteral();
    if (this.#stats.targetLength - this.#flushedAt >= this.#flushEvery) {
      this.#flushedAt = this.#stats.targetLength;
      this.#emitCopySoFar();
      return this.#writer.drain(true);
    }
    return this.#writer.drain();
  }

  /** Ends the target: matches the tail, emits the rest and the trailer. @throws UsageError when called twice. */
  finish(): Uint8Array[] {
    if (this.#finished) throw new UsageError('finish() called twice');
    this.#finished = true;
    this.#scan(true);
    this.#matchTail();
    this.#emitLiteral(this.#lit, this.#end);
    this.#emitPendingCopy();
    if (this.#target) {
      this.#hashTargetBlocks(this.#base + this.#end);
      const at = this.#target.count * this.#L - this.#base;
      if (at < this.#end) this.#target.hash(this.#buf, at, this.#end - at);
    }
    const digest = this.#sha.digest();
    this.#stats.targetHash = toHex(digest);
    this.#writer.end(this.#stats.targetLength, digest);
    return this.#writer.drain(true);
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      // Bytes before the literal are settled; those of a target block not yet in the target signature stay.
      let from = this.#lit;
      if (this.#target) {
        this.#hashTargetBlocks(this.#base + this.#lit);
        from = Math.min(from, this.#target.count * this.#L - this.#base);
      }
      const keep = this.#end - from;
      let buf = this.#buf;
      if (keep + chunk.length > buf.length) {
        let cap = buf.length * 2;
        while (cap < keep + chunk.length) cap *= 2;
        buf = new Uint8Array(cap);
      }
      buf.set(this.#buf.subarray(from, this.#end), 0);
      this.#pos -= from;
      this.#end = keep;
      this.#lit -= from;
      this.#base += from;
      this.#buf = buf;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The search: take the expected next block if it matches, else roll to the next match; repeat. */
  #scan(final = false): void {
    const L = this.#L;
    const buf = this.#buf;
    const end = this.#end;
    const bits = this.#index.bits;
    const candPos = this.#candPos;
    const candWeak = this.#candWeak;
    const scanner = this.#scanner;
    let p = this.#pos;
    let span = MIN_SCAN_SPAN;
    outer: for (;;) {
      if (this.#extending) {
        p = this.#extendForward(p);
        this.#lit = p;
        if (this.#extending) break;
      }
      if (!this.#hValid) {
        // Signature mode, right after a match: the next basis block is the likeliest, and checking its
        // strong hash alone (no weak sum) is the fast path through unchanged runs. The next block may be the
        // basis's short last block, followed in the target by appended data: checked here, or appends would
        // cost that block as a literal.
        const e = this.#expectedBlock();
        if (e >= 0) {
          const length = this.#blockLengthOf(e);
          if (end - p < length) {
            if (!final) break;
          } else if (this.#strongMatches(p, e, length)) {
            this.#onMatch(p, e, length);
            p += length;
            this.#lit = p;
            continue;
          }
        }
      }
      if (end - p < L) {
        this.#hValid = false;
        break;
      }
      if (!this.#hValid) {
        this.#h = weakSum(buf, p, L) | 0;
        this.#hValid = true;
      }
      const limit = end - L;
      for (;;) {
        const spanEnd = Math.min(limit, p + span);
        if (span < SCAN_SPAN) span *= 2;
        const n = scanner(buf, p, spanEnd, this.#h, bits, candPos, candWeak, CANDIDATE_CAP);
        for (let i = 0; i < n; i++) {
          const q = candPos[i]!;
          const j = this.#findBlock(q, candWeak[i]!);
          if (j >= 0) {
            this.#onMatch(q, j);
            p = q + L;
            this.#lit = p;
            this.#hValid = false;
            span = MIN_SCAN_SPAN;
            continue outer;
          }
        }
        // No match up to `stop`; the weak sum there is known.
        const stop = n === CANDIDATE_CAP ? candPos[n - 1]! : spanEnd;
        const hStop = n === CANDIDATE_CAP ? candWeak[n - 1]! : candWeak[n]!;
        if (stop === limit) {
          p = limit;
          this.#h = hStop;
          break outer;
        }
        this.#h = (Math.imul(hStop, RK_MULT) + buf[stop + L]! - Math.imul(buf[stop]!, this.#outFactor) + this.#adjust) | 0;
        p = stop + 1;
      }
    }
    this.#pos = p;
  }

  /** The block that would continue the pending copy (signature mode), or -1. */
  #expectedBlock(): number {
    if (this.#basis || this.#copyLength === 0) return -1;
    const next = this.#copyStart + this.#copyLength;
    if (next % this.#L !== 0) return -1;
    const e = next / this.#L;
    return e < this.#sig.blockCount ? e : -1;
  }

  /** Length of block j: blockLength, or less for the last block. */
  #blockLengthOf(j: number): number {
    return j < this.#fullBlocks ? this.#L : this.#sig.basisLength - this.#fullBlocks * this.#L;
  }

  #strongMatches(p: number, j: number, length: number): boolean {
    splitStrong(strongHash64(this.#buf, p, length, this.#sig.seed));
    return this.#index.strongEquals(j, strongParts.lo, strongParts.hi);
  }

  /** A full-length block whose weak and strong hashes equal the window at p, preferring the one that continues the pending copy; -1 if none. */
  #findBlock(p: number, h: number): number {
    const idx = this.#index;
    const w = h >>> 0;
    let j = idx.first(w);
    if (j < 0) return -1;
    splitStrong(strongHash64(this.#buf, p, this.#L, this.#sig.seed));
    const { lo, hi } = strongParts;
    const nextStart = this.#copyStart + this.#copyLength;
    if (this.#copyLength > 0 && nextStart % this.#L === 0) {
      const e = nextStart / this.#L;
      if (e < this.#fullBlocks && this.#sig.weakSums[e] === w && idx.strongEquals(e, lo, hi)) return e;
    }
    for (let n = 0; j >= 0 && n < MAX_CHAIN; j = idx.next(j), n++) {
      if (j < this.#fullBlocks && idx.strongEquals(j, lo, hi)) return j;
    }
    return -1;
  }

  /** Block j matched the window at p: settle the literal before it and open or extend a copy. */
  #onMatch(p: number, j: number, blockLength = this.#L): void {
    if (this.#target) {
      const at = this.#base + p;
      this.#hashTargetBlocks(at);
      if (at === this.#target.count * this.#L && blockLength === this.#L && j < this.#fullBlocks) this.#target.entryOf(this.#sig, j);
    }
    let start = p;
    let basisStart = j * this.#L;
    if (this.#basis) {
      const k = this.#matchBackward(p, basisStart, Math.min(p - this.#lit, basisStart));
      start -= k;
      basisStart -= k;
    }
    const length = p + blockLength - start;
    if (start > this.#lit) this.#emitLiteral(this.#lit, start, basisStart);
    if (start === this.#lit && this.#copyLength > 0 && this.#copyStart + this.#copyLength === basisStart) {
      this.#copyLength += length;
    } else {
      this.#emitPendingCopy();
      this.#copyStart = basisStart;
      this.#copyLength = length;
    }
    if (this.#basis) {
      this.#extending = true;
      this.#extendChunk = EXTEND_FIRST;
    }
  }

  /** Adds to the target signature, from their bytes, the target blocks that end at or before target offset `upTo`. */
  #hashTargetBlocks(upTo: number): void {
    const target = this.#target!;
    const L = this.#L;
    while ((target.count + 1) * L <= upTo) target.hash(this.#buf, target.count * L - this.#base, L);
  }

  /** Byte-exact mode: how many of the `back` target bytes before p equal the basis bytes before basisStart. */
  #matchBackward(p: number, basisStart: number, back: number): number {
    let k = 0;
    for (let step = BACK_FIRST; k < back; step = Math.min(2 * step, EXTEND_CHUNK)) {
      const n = Math.min(step, back - k);
      const m = commonSuffixLength(this.#buf, p - k, this.#readBasis(basisStart - k - n, n), n, n);
      k += m;
      if (m < n) break;
    }
    return k;
  }

  /** Basis bytes: from the gap matcher's copy of the whole basis once it holds one (no read), else read. */
  #readBasis(byteOffset: number, length: number): Uint8Array {
    const inMemory = this.#gaps?.basisBytes;
    return inMemory ? inMemory.subarray(byteOffset, byteOffset + length) : this.#basis!.read(byteOffset, length);
  }

  /** Byte-exact mode: grows the pending copy while target and basis agree; returns the new position. */
  #extendForward(p: number): number {
    const basis = this.#basis!;
    for (;;) {
      const b = this.#copyStart + this.#copyLength;
      const n = Math.min(this.#end - p, basis.length - b, this.#extendChunk);
      if (basis.length - b <= 0) {
        this.#extending = false;
        return p;
      }
      if (n === 0) return p;
      const m = commonPrefixLength(this.#buf, p, this.#readBasis(b, n), 0, n);
      this.#extendChunk = Math.min(2 * this.#extendChunk, EXTEND_CHUNK);
      this.#copyLength += m;
      p += m;
      if (m < n) {
        this.#extending = false;
        return p;
      }
    }
  }

  /** At the end: the last short block (signature mode) or the longest common suffix (byte-exact mode). */
  #matchTail(): void {
    const pending = this.#end - this.#lit;
    if (pending === 0 || this.#sig.blockCount === 0) return;
    const sig = this.#sig;
    if (this.#basis) {
      const n = Math.min(pending, this.#basis.length);
      if (n === 0) return;
      const tail = this.#readBasis(this.#basis.length - n, n);
      const k = commonSuffixLength(this.#buf, this.#end, tail, n, n);
      if (k < MIN_SUFFIX_COPY) return;
      this.#emitLiteral(this.#lit, this.#end - k, this.#basis.length - k);
      this.#emitPendingCopy();
      this.#copyStart = this.#basis.length - k;
      this.#copyLength = k;
      this.#lit = this.#end;
      return;
    }
    const last = sig.blockCount - 1;
    const tailLength = sig.basisLength - last * this.#L;
    if (tailLength >= this.#L || pending < tailLength) return;
    const at = this.#end - tailLength;
    if (weakSum(this.#buf, at, tailLength) !== sig.weakSums[last]) return;
    splitStrong(strongHash64(this.#buf, at, tailLength, sig.seed));
    if (!this.#index.strongEquals(last, strongParts.lo, strongParts.hi)) return;
    this.#emitLiteral(this.#lit, at);
    const basisStart = last * this.#L;
    if (at === this.#lit && this.#copyLength > 0 && this.#copyStart + this.#copyLength === basisStart) {
      this.#copyLength += tailLength;
    } else {
      this.#emitPendingCopy();
      this.#copyStart = basisStart;
      this.#copyLength = tailLength;
    }
    this.#lit = this.#end;
  }

  /** Emits literal bytes no later match can reclaim (byte-exact mode keeps one block for backward extension). */
  #flushOldLiteral(): void {
    const keep = this.#basis ? this.#L : 0;
    const ready = this.#pos - this.#lit - keep;
    if (ready >= this.#literalChunk) {
      const n = ready - (ready % this.#literalChunk);
      this.#emitLiteral(this.#lit, this.#lit + n);
      this.#lit += n;
    }
  }

  /**
   * Target bytes no block matched, before a copy from basis offset `next` (-1: unknown). In byte-exact version-2
   * mode the gap matcher looks for short matches in them; otherwise they go out as literals.
   */
  #emitLiteral(from: number, to: number, next = -1): void {
    if (to <= from) return;
    this.#emitPendingCopy();
    if (this.#gaps) {
      // Pieces of literalChunk bytes from `from`, the hint on a short last piece only: the same pieces and
      // hints whether or not #flushOldLiteral sent the full ones already, so the delta does not depend on how
      // the target arrives.
      for (let at = from; at < to; at += this.#literalChunk) {
        const end = Math.min(to, at + this.#literalChunk);
        this.#unmatched = this.#gaps.encode(this.#buf, at, end, this.#lastCopyEnd, end - at < this.#literalChunk ? next : -1, this.#sink, this.#unmatched);
      }
      return;
    }
    this.#literal(this.#buf.subarray(from, to));
  }

  /** Where the gap matcher's ops go. */
  readonly #sink: GapSink = { literal: (bytes) => this.#literal(bytes), copy: (offset, length) => this.#gapCopy(offset, length) };

  /** Literal bytes, in ops of at most literalChunk bytes. */
  #literal(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += this.#literalChunk) {
      const n = Math.min(this.#literalChunk, bytes.length - at);
      this.#writer.literal(bytes.subarray(at, at + n));
      this.#stats.literalOps++;
      this.#stats.literalBytes += n;
    }
  }

  /** A copy found by the gap matcher. */
  #gapCopy(basisOffset: number, length: number): void {
    this.#unmatched = 0;
    this.#writer.copy(basisOffset, length);
    this.#lastCopyEnd = basisOffset + length;
    this.#stats.copyOps++;
    this.#stats.copyBytes += length;
  }

  /**
   * Writes the pending copy as far as it reaches and keeps extending it from there (flushEvery): the next
   * adjacent match or extension starts a new copy op where this one ended.
   */
  #emitCopySoFar(): void {
    if (this.#copyLength === 0) return;
    this.#writer.copy(this.#copyStart, this.#copyLength);
    this.#lastCopyEnd = this.#copyStart + this.#copyLength;
    this.#stats.copyOps++;
    this.#stats.copyBytes += this.#copyLength;
    this.#copyStart += this.#copyLength;
    this.#copyLength = 0;
  }

  #emitPendingCopy(): void {
    if (this.#copyLength === 0) return;
    this.#unmatched = 0;
    this.#writer.copy(this.#copyStart, this.#copyLength);
    this.#lastCopyEnd = this.#copyStart + this.#copyLength;
    this.#stats.copyOps++;
    this.#stats.copyBytes += this.#copyLength;
    this.#copyLength = 0;
    this.#extending = false;
  }
}

/**
 * Delta of a whole target stream against `signature`; yields encoded chunks and returns the stats.
 * @throws UsageError on bad options.
 */
export async function* encodeDelta(
  signature: Signature,
  target: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: DeltaOptions = {},
): AsyncGenerator<Uint8Array, DeltaStats> {
  const enc = new DeltaEncoder(signature, options);
  for await (const chunk of target) yield* enc.push(chunk);
  yield* enc.finish();
  return enc.stats;
}
