/**
 * Implements FORMAT.md §Delta version 2, reading side: the segments between the header and END. Reads each
 * segment's head and its three streams (lengths, addresses, literals), decompresses each within its declared
 * length (never more: no decompression bomb), checks every length against its limit before allocating, then
 * turns the sequences into copy and literal ops. Every stream must be used up exactly: all sequences are
 * checked before the first op is emitted. A stored literals stream is not gathered: its bytes become literal
 * ops as they arrive (one copy each, as version 1's literals), which spares a pass over the target's bytes.
 */
import { SEGMENT_MARK, STREAM_BROTLI, STREAM_STORED, type ResolvedDecodeLimits } from '../constants.js';
import { CorruptDataError, LimitExceededError } from '../errors.js';
import { brotliDecompressExact } from '../platform/brotli.js';
import { Cursor, isNeedMore, type ByteReader } from './byte-reader.js';
import type { DeltaOp } from './delta-decoder.js';
import { copyBytes } from '../platform/bytes.js';

const STREAM_NAMES = ['lengths', 'addresses', 'literals'] as const;

interface StreamHead {
  codec: number;
  raw: number;
  packed: number;
  at: number;
}

/** Result of one step: progressed, needs more input, or met END (the caller parses the trailer). */
export type SegmentStep = 'progress' | 'more' | 'end';

export class SegmentReader {
  readonly #limits: ResolvedDecodeLimits;
  /** Adds target bytes to the decoder's running total (checks maxTargetLength). */
  readonly #addTarget: (length: number, at: number) => void;
  #sequences = 0;
  #targetBytes = 0;
  #segmentAt = 0;
  #streams: Uint8Array[] = [];
  #head: StreamHead | undefined;
  /** End of the previous copy, across segments: addresses are relative to it. */
  #expected = 0;
  #inSegment = false;
  /** Set once the segment's sequences are checked: its ops are being emitted. */
  #emitting: Emitting | undefined;

  /** With `borrowedChunks` (DeltaDecoderOptions), stored literals are emitted as views of the input. */
  readonly #borrowedChunks: boolean;

  constructor(limits: ResolvedDecodeLimits, addTarget: (length: number, at: number) => void, borrowedChunks = false) {
    this.#limits = limits;
    this.#addTarget = addTarget;
    this.#borrowedChunks = borrowedChunks;
  }

  /** Stored literal bytes from the input, as far as it goes: a copy, or a view when the caller allows it. */
  #takeLiteral(r: ByteReader, n: number): Uint8Array | undefined {
    const view = r.takeUpTo(n);
    return view && !this.#borrowedChunks ? copyBytes(view) : view;
  }

  /** One transition. At a segment boundary a 0x00 byte is END: left unread for the caller. */
  step(r: ByteReader, ops: DeltaOp[]): SegmentStep {
    if (this.#emitting) return this.#emit(r, this.#emitting, ops);
    if (!this.#inSegment) return this.#readSegmentHead(r);
    if (!this.#head) {
      const head = r.tryRead((c) => this.#parseStreamHead(c));
      if (!head) return 'more';
      this.#head = head;
      return 'progress';
    }
    const h = this.#head;
    const isLiterals = this.#streams.length === STREAM_NAMES.length - 1;
    if (isLiterals && h.codec === STREAM_STORED) {
      // Streamed: the literal bytes are taken from the input as the ops are emitted.
      this.#startEmitting(h.raw, undefined);
      return 'progress';
    }
    // Lengths and addresses outlive this chunk (ops are emitted over later pushes): a stored body is owned.
    const body = h.codec === STREAM_STORED ? r.tryBytes(h.raw, true) : r.tryBytes(h.packed);
    if (!body) return 'more';
    const stream = this.#unpack(h, body);
    this.#head = undefined;
    if (isLiterals) this.#startEmitting(stream.length, stream);
    else this.#streams.push(stream);
    return 'progress';
  }

  #readSegmentHead(r: ByteReader): SegmentStep {
    const head = r.tryRead((c) => {
      const at = c.offset;
      const mark = c.u8();
      if (mark === 0x00) return 'end' as const;
      if (mark !== SEGMENT_MARK) throw new CorruptDataError(`expected a segment (0x10) or END (0x00), got 0x${mark.toString(16).padStart(2, '0')}`, at);
      const sequences = c.varint();
      const targetAt = c.offset;
      const targetBytes = c.varint();
      if (sequences === 0 || targetBytes === 0) throw new CorruptDataError('empty segment', at + 1);
      if (sequences > this.#limits.maxSegmentSequences) throw new LimitExceededError('segment sequence count', sequences, this.#limits.maxSegmentSequences, at + 1);
      if (sequences > targetBytes) throw new CorruptDataError(`segment declares ${sequences} sequences for ${targetBytes} target bytes`, at + 1);
      this.#addTarget(targetBytes, targetAt);
      return { at, sequences, targetBytes };
    });
    if (!head) return 'more';
    if (head === 'end') return 'end';
    this.#segmentAt = head.at;
    this.#sequences = head.sequences;
    this.#targetBytes = head.targetBytes;
    this.#inSegment = true;
    return 'progress';
  }

  #parseStreamHead(c: Cursor): StreamHead {
    const at = c.offset;
    const name = STREAM_NAMES[this.#streams.length]!;
    const codec = c.u8();
    if (codec !== STREAM_STORED && codec !== STREAM_BROTLI) throw new CorruptDataError(`unknown codec ${codec} for the ${name} stream`, at);
    const raw = c.varint();
    if (raw > this.#limits.maxStreamLength) throw new LimitExceededError(`${name} stream length`, raw, this.#limits.maxStreamLength, at + 1);
    let packed = 0;
    if (codec === STREAM_BROTLI) {
      const packedAt = c.offset;
      packed = c.varint();
      if (packed === 0 || raw === 0) throw new CorruptDataError(`compressed ${name} stream of length 0`, packedAt);
      if (packed >= raw) throw new LimitExceededError(`compressed ${name} stream length`, packed, raw - 1, packedAt);
    }
    return { codec, raw, packed, at };
  }

  #unpack(h: StreamHead, body: Uint8Array): Uint8Array {
    if (h.codec === STREAM_STORED) return body;
    const raw = brotliDecompressExact(body, h.raw);
    if (!raw) throw new CorruptDataError(`the ${STREAM_NAMES[this.#streams.length]} stream does not decompress to ${h.raw} bytes`, h.at);
    return raw;
  }

  /** Checks every sequence against the streams (`literalsLength` bytes of literals), then starts emitting. */
  #startEmitting(literalsLength: number, literals: Uint8Array | undefined): void {
    const [lengths, addresses] = this.#streams as [Uint8Array, Uint8Array];
    const start = this.#expected;
    this.#expected = this.#walk(lengths, addresses, literalsLength, start);
    this.#emitting = { lc: new Cursor([lengths], 0, 0), ac: new Cursor([addresses], 0, 0), expected: start, left: this.#sequences, literals, litAt: 0, litLeft: 0, copyLength: 0 };
  }

  /**
   * Walks the sequences from copy base `expected`, checking each one and every stream's exact use, without
   * emitting anything. Returns the end of the last copy; #emit then decodes the same values unchecked.
   */
  #walk(lengths: Uint8Array, addresses: Uint8Array, literalsLength: number, expected: number): number {
    const at = this.#segmentAt;
    const lc = new Cursor([lengths], 0, 0);
    const ac = new Cursor([addresses], 0, 0);
    const maxLiteral = this.#limits.maxLiteralChunk;
    let litAt = 0;
    let produced = 0;
    try {
      for (let s = 0; s < this.#sequences; s++) {
        const litLength = lc.varint();
        const copyLength = lc.varint();
        if (litLength === 0 && copyLength === 0) throw new CorruptDataError(`sequence ${s} is empty`, at);
        if (litLength > maxLiteral) throw new LimitExceededError(`sequence ${s} literal length`, litLength, maxLiteral, at);
        if (litLength > literalsLength - litAt) throw new CorruptDataError(`sequence ${s} takes ${litLength} literal bytes, ${literalsLength - litAt} remain`, at);
        produced += litLength + copyLength;
        if (produced > this.#targetBytes) throw new CorruptDataError(`sequences produce more than the segment's ${this.#targetBytes} bytes`, at);
        litAt += litLength;
        if (copyLength > 0) {
          const offset = expected + ac.zigzag();
          if (offset < 0 || !Number.isSafeInteger(offset)) throw new CorruptDataError(`copy offset ${offset} is negative`, at);
          expected = offset + copyLength;
        }
      }
    } catch (err) {
      if (isNeedMore(err)) throw new CorruptDataError('a stream of the segment ends early', at);
      throw err;
    }
    if (lc.consumed !== lengths.length || ac.consumed !== addresses.length || litAt !== literalsLength) {
      throw new CorruptDataError('a stream of the segment has bytes left over', at);
    }
    if (produced !== this.#targetBytes) throw new CorruptDataError(`sequences produce ${produced} bytes, the segment declares ${this.#targetBytes}`, at);
    return expected;
  }

  /**
   * Emits the checked segment's ops: literal bytes from the decompressed stream (views of it) or, for a stored
   * stream, from the input as far as it goes (copies, since the caller may reuse its chunk; see #takeLiteral). 'more' when the input
   * runs out inside a literal.
   */
  #emit(r: ByteReader, e: Emitting, ops: DeltaOp[]): SegmentStep {
    let progressed = false;
    for (;;) {
      if (e.litLeft > 0) {
        const bytes = e.literals ? e.literals.subarray(e.litAt, e.litAt + e.litLeft) : this.#takeLiteral(r, e.litLeft);
        if (!bytes) return progressed ? 'progress' : 'more';
        ops.push({ type: 'literal', bytes });
        e.litAt += bytes.length;
        e.litLeft -= bytes.length;
        progressed = true;
        continue;
      }
      if (e.copyLength > 0) {
        const offset = e.expected + e.ac.zigzag();
        ops.push({ type: 'copy', offset, length: e.copyLength });
        e.expected = offset + e.copyLength;
        e.copyLength = 0;
      }
      if (e.left === 0) break;
      e.left--;
      e.litLeft = e.lc.varint();
      e.copyLength = e.lc.varint();
    }
    this.#emitting = undefined;
    this.#streams = [];
    this.#head = undefined;
    this.#inSegment = false;
    return 'progress';
  }
}

/** A checked segment whose ops are being emitted: the streams' cursors and where the emission stands. */
interface Emitting {
  lc: Cursor;
  ac: Cursor;
  /** Copy base for the next address. */
  expected: number;
  /** Sequences not yet started. */
  left: number;
  /** The decompressed literals stream, or undefined when the stored stream is read from the input. */
  literals: Uint8Array | undefined;
  litAt: number;
  /** Literal bytes of the current sequence still to emit, then its copy's length (0: none). */
  litLeft: number;
  copyLength: number;
}
