/**
 * Implements FORMAT.md §Delta, reading side: a state machine fed chunks of any size that yields ops.
 * Each state reads one structure; every length is checked against its limit before anything is
 * allocated, and nothing may follow the END op.
 */
import { DEFAULT_DECODE_LIMITS, DELTA_MAGIC, DELTA_VERSION_SEGMENTED, FORMAT_VERSION, OP_COPY, OP_END, OP_LITERAL, OP_LITERAL_DEFLATE, SHA256_LENGTH, TARGET_HASH_SHA256, type DecodeLimits, type ResolvedDecodeLimits } from '../constants.js';
import { BadMagicError, CorruptDataError, LimitExceededError, TruncatedInputError, UnsupportedVersionError } from '../errors.js';
import { inflateRawExact } from '../platform/deflate.js';
import { ByteReader, type Cursor } from './byte-reader.js';
import { SegmentReader } from './segment-decoder.js';
import { toHex } from '../hex.js';
import { copyBytes } from '../platform/bytes.js';

/** A decoded op. Copy offsets are absolute basis offsets (the wire carries them relative). */
export type DeltaOp =
  | { type: 'copy'; offset: number; length: number }
  | { type: 'literal'; bytes: Uint8Array }
  | { type: 'end'; targetLength: number; sha256: Uint8Array };

export interface DeltaHeader {
  /** Length of the basis the delta was computed against. */
  basisLength: number;
  /** Format version: 1 (single ops) or 2 (segments of compressed streams). */
  version: number;
}

/** How a DeltaDecoder may treat the chunks it is pushed. */
export interface DeltaDecoderOptions {
  /**
   * The caller overwrites a chunk's memory after push() returns and it is done with the literal ops push()
   * returned (e.g. it reads a file into one reused buffer). The decoder then copies whatever input it keeps
   * for a later push (an incomplete field, a stream still arriving), and literal ops read straight from the
   * input are views of the chunk, not copies: valid only until the caller overwrites it. Default false: the
   * decoder may keep views of chunks across pushes, and every literal op owns its bytes.
   */
  borrowedChunks?: boolean;
}

type State = 'header' | 'opcode' | 'literal' | 'deflate' | 'segments' | 'trailer' | 'done';

/** Deflate's worst case for n raw bytes (zlib's deflateBound for raw streams, rounded up). */
export function deflateBound(n: number): number {
  return n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 64;
}

/** Streaming delta decoder: push(chunk) -> ops; finish() checks the END op was seen. */
export class DeltaDecoder {
  #r = new ByteReader();
  #state: State = 'header';
  #limits: ResolvedDecodeLimits;
  #header: DeltaHeader | undefined;
  #literalLeft = 0;
  #deflateRaw = 0;
  #deflatePacked = 0;
  #deflateAt = 0;
  /** Where the next copy is expected to start: the end of the previous copy. */
  #copyExpected = 0;
  #targetLength = 0;
  readonly #segments: SegmentReader;
  readonly #borrowed: boolean;

  constructor(limits: Partial<DecodeLimits> = {}, options: DeltaDecoderOptions = {}) {
    this.#limits = { ...DEFAULT_DECODE_LIMITS, ...limits };
    this.#borrowed = options.borrowedChunks ?? false;
    this.#segments = new SegmentReader(this.#limits, (length, at) => this.#addTarget(length, at), this.#borrowed);
  }

  /** The header, once decoded. */
  get header(): DeltaHeader | undefined {
    return this.#header;
  }

  /** Bytes pushed that do not form a complete op yet (held until more arrive). */
  get bufferedBytes(): number {
    return this.#r.available;
  }

  /** True once the END op has been read. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /** Feeds delta bytes; returns the ops complete so far. @throws FormatError */
  push(chunk: Uint8Array): DeltaOp[] {
    if (this.#state === 'done') {
      if (chunk.length > 0) throw new CorruptDataError('bytes after the END op', this.#r.offset);
      return [];
    }
    this.#r.push(chunk);
    const ops: DeltaOp[] = [];
    for (;;) {
      const progressed = this.#step(ops);
      if ((this.#state as State) === 'done') {
        if (this.#r.available > 0) throw new CorruptDataError('bytes after the END op', this.#r.offset);
        return ops;
      }
      if (!progressed) {
        if (this.#borrowed) this.#r.keepCopies();
        return ops;
      }
    }
  }

  /** Declares the input complete. @throws TruncatedInputError when the END op has not been read. */
  finish(): void {
    if (this.#state !== 'done') throw new TruncatedInputError(`the delta (expected ${this.#state === 'header' ? 'a header' : 'more ops and END'})`, this.#r.offset + this.#r.available);
  }

  /** One state transition; false when it needs more input. */
  #step(ops: DeltaOp[]): boolean {
    switch (this.#state) {
      case 'header':
        return this.#readHeader();
      case 'opcode':
        return this.#readOp(ops);
      case 'literal':
        return this.#readLiteral(ops);
      case 'deflate':
        return this.#readDeflate(ops);
      case 'segments': {
        const step = this.#segments.step(this.#r, ops);
        if (step === 'end') this.#state = 'trailer';
        return step !== 'more';
      }
      case 'trailer': {
        const end = this.#r.tryRead((c) => this.#parseEnd(c));
        if (!end) return false;
        ops.push(end);
        return true;
      }
      default:
        return false;
    }
  }

  #readHeader(): boolean {
    const header = this.#r.tryRead((c) => {
      const magic = new Uint8Array(4);
      for (let i = 0; i < 4; i++) {
        magic[i] = c.u8();
        if (magic[i] !== DELTA_MAGIC[i]) throw new BadMagicError(toHex(DELTA_MAGIC), toHex(magic.subarray(0, i + 1)));
      }
      const version = c.u8();
      if (version !== FORMAT_VERSION && version !== DELTA_VERSION_SEGMENTED) throw new UnsupportedVersionError(version, '1 and 2', 4);
      const flags = c.u8();
      if (flags !== 0) throw new CorruptDataError(`unknown header flags 0x${flags.toString(16)}`, 5);
      const basisLength = c.varint();
      if (basisLength > this.#limits.maxTargetLength) throw new LimitExceededError('basis length', basisLength, this.#limits.maxTargetLength, 6);
      return { basisLength, version };
    });
    if (!header) return false;
    this.#header = header;
    this.#state = header.version === DELTA_VERSION_SEGMENTED ? 'segments' : 'opcode';
    return true;
  }

  #readOp(ops: DeltaOp[]): boolean {
    const op = this.#r.tryRead((c) => this.#parseOp(c));
    if (!op) return false;
    if (op.type !== 'pending') ops.push(op);
    return true;
  }

  #parseOp(c: Cursor): DeltaOp | { type: 'pending' } {
    const at = c.offset;
    const code = c.u8();
    const lim = this.#limits;
    switch (code) {
      case OP_COPY: {
        const rel = c.zigzag();
        const lenAt = c.offset;
        const length = c.varint();
        const offset = this.#copyExpected + rel;
        if (length === 0) throw new CorruptDataError('copy of length 0', lenAt);
        if (offset < 0 || !Number.isSafeInteger(offset)) throw new CorruptDataError(`copy offset ${offset} is negative`, at);
        this.#addTarget(length, at);
        this.#copyExpected = offset + length;
        return { type: 'copy', offset, length };
      }
      case OP_LITERAL: {
        const length = c.varint();
        if (length === 0) throw new CorruptDataError('literal of length 0', at + 1);
        if (length > lim.maxLiteralChunk) throw new LimitExceededError('literal length', length, lim.maxLiteralChunk, at + 1);
        this.#addTarget(length, at);
        this.#literalLeft = length;
        this.#state = 'literal';
        return { type: 'pending' };
      }
      case OP_LITERAL_DEFLATE: {
        const raw = c.varint();
        const packedAt = c.offset;
        const packed = c.varint();
        if (raw === 0 || packed === 0) throw new CorruptDataError('compressed literal of length 0', at + 1);
        if (raw > lim.maxLiteralChunk) throw new LimitExceededError('literal length', raw, lim.maxLiteralChunk, at + 1);
        if (packed > deflateBound(raw)) throw new LimitExceededError('compressed literal length', packed, deflateBound(raw), packedAt);
        this.#addTarget(raw, at);
        this.#deflateRaw = raw;
        this.#deflatePacked = packed;
        this.#deflateAt = c.offset;
        this.#state = 'deflate';
        return { type: 'pending' };
      }
      case OP_END:
        return this.#parseEnd(c);
      default:
        throw new CorruptDataError(`unknown opcode 0x${code.toString(16).padStart(2, '0')}`, at);
    }
  }

  /** END after its opcode byte: target length, hash algorithm, SHA-256 (the same in both versions). */
  #parseEnd(c: Cursor): DeltaOp {
    const lenAt = c.offset;
    const targetLength = c.varint();
    const alg = c.u8();
    if (alg !== TARGET_HASH_SHA256) throw new CorruptDataError(`unknown target hash algorithm ${alg}`, c.offset - 1);
    const sha256 = c.bytes(SHA256_LENGTH);
    if (targetLength !== this.#targetLength) {
      throw new CorruptDataError(`END declares ${targetLength} target bytes but the ops produce ${this.#targetLength}`, lenAt);
    }
    this.#state = 'done';
    return { type: 'end', targetLength, sha256 };
  }

  #addTarget(length: number, at: number): void {
    this.#targetLength += length;
    if (this.#targetLength > this.#limits.maxTargetLength) {
      throw new LimitExceededError('target length', this.#targetLength, this.#limits.maxTargetLength, at);
    }
  }

  #readLiteral(ops: DeltaOp[]): boolean {
    const bytes = this.#r.takeUpTo(this.#literalLeft);
    if (!bytes) return false;
    // A view into the caller's chunk: copied so the op stays valid after the caller reuses its buffer, unless
    // the caller said it is done with the ops before it does (borrowedChunks).
    ops.push({ type: 'literal', bytes: this.#borrowed ? bytes : copyBytes(bytes) });
    this.#literalLeft -= bytes.length;
    if (this.#literalLeft === 0) this.#state = 'opcode';
    return true;
  }

  #readDeflate(ops: DeltaOp[]): boolean {
    const packed = this.#r.tryBytes(this.#deflatePacked);
    if (!packed) return false;
    const raw = inflateRawExact(packed, this.#deflateRaw);
    if (!raw) throw new CorruptDataError(`compressed literal does not inflate to ${this.#deflateRaw} bytes`, this.#deflateAt);
    ops.push({ type: 'literal', bytes: raw });
    this.#state = 'opcode';
    return true;
  }
}

/**
 * Reads only the header from the first bytes of a delta.
 * @throws FormatError; TruncatedInputError when `firstBytes` is shorter than the header.
 */
export function readDeltaHeader(firstBytes: Uint8Array): DeltaHeader {
  const d = new DeltaDecoder();
  d.push(firstBytes.subarray(0, Math.min(firstBytes.length, 16)));
  if (!d.header) throw new TruncatedInputError('delta header', firstBytes.length);
  return d.header;
}
