/**
 * Implements FORMAT.md §Delta version 2, writing side: ops are gathered as sequences (literal run, then copy)
 * into three streams (lengths, addresses, literals); a full segment is written with each stream Brotli-
 * compressed when that makes it smaller. Adjacent copies merge here, so callers may emit copies in pieces.
 */
import {
  DEFAULT_LITERAL_CHUNK, DELTA_MAGIC, DELTA_VERSION_SEGMENTED, OP_END, SEGMENT_MARK, STREAM_BROTLI, STREAM_STORED, TARGET_HASH_SHA256,
} from '../constants.js';
import { brotliCompress } from '../platform/brotli.js';
import { ByteWriter } from './byte-writer.js';

/** A segment is closed once its literal stream holds this many bytes: bounds encoder and decoder memory. */
export const SEGMENT_LITERAL_BYTES = 4 * 1024 * 1024;
/** ... or once its lengths stream holds this many bytes (~100,000 sequences). */
export const SEGMENT_LENGTH_BYTES = 512 * 1024;
/** Brotli quality of the lengths and addresses streams: 9 saved under 1% over 5 and cost twice the time. */
const OP_STREAM_QUALITY = 5;
/**
 * Brotli quality of the literal stream. Measured on two TypeScript releases (22 MB tar, CPU seconds of the
 * whole byte-exact delta): 5 gave 179.3 KB in 1.0 s, 7 173.8 KB in 1.3-1.6 s, 9 173.1 KB in 1.65 s; signature
 * only: 1.25 MB in 0.64 s, 1.16 MB in 0.7-0.8 s, 1.12 MB in 1.5 s. xdelta3 -9 took 1.6 s for 178.4 KB.
 */
const LITERAL_QUALITY = 5;
/** Streams shorter than this are stored: Brotli's framing would eat the gain. */
const MIN_COMPRESS_LENGTH = 32;
/** Bytes compressed at quality 1 as a sample to decide whether a large literal stream is worth compressing. */
const SAMPLE_BYTES = 64 * 1024;

/** Where the encoder's ops go: the version-1 DeltaWriter and this SegmentWriter both take them. */
export interface OpWriter {
  /** Total encoded bytes so far. */
  readonly bytesWritten: number;
  /** Copy `length` basis bytes from absolute basis offset `offset`. */
  copy(offset: number, length: number): void;
  /** Literal target bytes (the writer copies what it keeps). */
  literal(bytes: Uint8Array): void;
  /** The trailer: target length and SHA-256. */
  end(targetLength: number, sha256: Uint8Array): void;
  /** Encoded chunks ready now; `all` also flushes what is pending (complete ops a decoder can apply now). */
  drain(all?: boolean): Uint8Array[];
}

export interface SegmentWriterOptions {
  /** Brotli-compress the streams (default true). */
  compress?: boolean;
  /** Brotli quality 0..11 for the literal stream (default 5). */
  quality?: number;
  /** Literal bytes per sequence, at most (default 256 KiB): decoders refuse more than their maxLiteralChunk. */
  maxSequenceLiteral?: number;
}

export class SegmentWriter implements OpWriter {
  readonly #compress: boolean;
  readonly #quality: number;
  readonly #maxSequenceLiteral: number;
  #out: Uint8Array[] = [];
  bytesWritten = 0;
  #lengths = new ByteWriter(4096);
  #addresses = new ByteWriter(4096);
  #literals = new ByteWriter(64 * 1024);
  #sequences = 0;
  #segmentTarget = 0;
  /** The open sequence: literal bytes so far, and its copy (length 0 = none yet). */
  #seqLiteral = 0;
  #seqCopyOffset = 0;
  #seqCopyLength = 0;
  /** End of the previous copy written to the addresses stream: addresses are relative to it. */
  #expected = 0;

  constructor(basisLength: number, options: SegmentWriterOptions = {}) {
    this.#compress = options.compress ?? true;
    this.#quality = options.quality ?? LITERAL_QUALITY;
    this.#maxSequenceLiteral = options.maxSequenceLiteral ?? DEFAULT_LITERAL_CHUNK;
    const header = new ByteWriter(16).bytes(DELTA_MAGIC).u8(DELTA_VERSION_SEGMENTED).u8(0).varint(basisLength);
    this.#push(header.take());
  }

  copy(offset: number, length: number): void {
    if (length <= 0) return;
    if (this.#seqCopyLength > 0) {
      if (this.#seqCopyOffset + this.#seqCopyLength === offset) {
        this.#seqCopyLength += length;
        return;
      }
      this.#closeSequence();
    }
    this.#seqCopyOffset = offset;
    this.#seqCopyLength = length;
  }

  literal(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; ) {
      if (this.#seqCopyLength > 0 || this.#seqLiteral === this.#maxSequenceLiteral) this.#closeSequence();
      const n = Math.min(bytes.length - at, this.#maxSequenceLiteral - this.#seqLiteral);
      this.#literals.bytes(bytes.subarray(at, at + n));
      this.#seqLiteral += n;
      at += n;
      if (this.#literals.length >= SEGMENT_LITERAL_BYTES) this.#closeSegment();
    }
  }

  end(targetLength: number, sha256: Uint8Array): void {
    this.#closeSegment();
    this.#push(new ByteWriter(48).u8(OP_END).varint(targetLength).u8(TARGET_HASH_SHA256).bytes(sha256).take());
  }

  drain(all = false): Uint8Array[] {
    // Closing the segment early makes what was written so far decodable now (DeltaOptions.flushEvery).
    if (all) this.#closeSegment();
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #closeSequence(): void {
    if (this.#seqLiteral === 0 && this.#seqCopyLength === 0) return;
    this.#lengths.varint(this.#seqLiteral).varint(this.#seqCopyLength);
    if (this.#seqCopyLength > 0) {
      this.#addresses.zigzag(this.#seqCopyOffset - this.#expected);
      this.#expected = this.#seqCopyOffset + this.#seqCopyLength;
    }
    this.#sequences++;
    this.#segmentTarget += this.#seqLiteral + this.#seqCopyLength;
    this.#seqLiteral = 0;
    this.#seqCopyLength = 0;
    if (this.#lengths.length >= SEGMENT_LENGTH_BYTES) this.#closeSegment();
  }

  #closeSegment(): void {
    this.#closeSequence();
    if (this.#sequences === 0) return;
    const head = new ByteWriter(32).u8(SEGMENT_MARK).varint(this.#sequences).varint(this.#segmentTarget);
    this.#push(head.take());
    this.#stream(this.#lengths, OP_STREAM_QUALITY);
    this.#stream(this.#addresses, OP_STREAM_QUALITY);
    this.#stream(this.#literals, this.#quality, true);
    this.#sequences = 0;
    this.#segmentTarget = 0;
  }

  /**
   * One stream: stored, or Brotli when that is smaller (a large literal stream is sampled first). Its bytes are
   * not copied: compressed from a view of the writer's buffer, or, stored, handed over (`large`: the writer then
   * starts a new buffer, cheaper than copying megabytes) or copied (small streams).
   */
  #stream(w: ByteWriter, quality: number, large = false): void {
    const raw = w.view();
    if (this.#compress && raw.length >= MIN_COMPRESS_LENGTH && (!large || worthCompressing(raw))) {
      const packed = brotliCompress(raw, quality);
      if (packed.length < raw.length) {
        this.#push(new ByteWriter(24).u8(STREAM_BROTLI).varint(raw.length).varint(packed.length).take());
        this.#push(packed);
        w.clear();
        return;
      }
    }
    this.#push(new ByteWriter(16).u8(STREAM_STORED).varint(raw.length).take());
    if (raw.length === 0) return;
    this.#push(large ? w.detach() : w.take());
  }

  #push(bytes: Uint8Array): void {
    this.#out.push(bytes);
    this.bytesWritten += bytes.length;
  }
}

/** True unless a sample of a large stream shows it incompressible (random or already compressed data). */
function worthCompressing(raw: Uint8Array): boolean {
  if (raw.length <= SAMPLE_BYTES * 2) return true;
  const mid = Math.floor(raw.length / 2);
  const sample = raw.subarray(mid, mid + SAMPLE_BYTES);
  return brotliCompress(sample, 1).length <= SAMPLE_BYTES - (SAMPLE_BYTES >> 5);
}
