/**
 * Implements FORMAT.md §Delta, writing side: header, ops, trailer. Merges nothing and decides nothing;
 * the encoder chooses ops. Before deflating a literal chunk it deflates a 4 KiB sample: incompressible data
 * (random, already compressed) then costs 4 KiB of deflate per chunk instead of the whole chunk.
 */
import { DELTA_MAGIC, FORMAT_VERSION, OP_COPY, OP_END, OP_LITERAL, OP_LITERAL_DEFLATE, TARGET_HASH_SHA256 } from '../constants.js';
import { deflateRaw } from '../platform/deflate.js';
import { ByteWriter } from './byte-writer.js';
import type { OpWriter } from './segment-writer.js';
import { copyBytes } from '../platform/bytes.js';

/** Literals shorter than this are never compressed: deflate's framing would eat the gain. */
const MIN_COMPRESS_LENGTH = 64;
/** A compressed literal is used only when it saves at least 1/32 of the raw bytes. */
const MIN_SAVING_SHIFT = 5;
/** Bytes deflated as a sample to decide whether a literal chunk is worth compressing. */
const SAMPLE_BYTES = 4096;
/** Flush small ops once this many bytes are pending. */
const FLUSH_AT = 64 * 1024;

/** True when a sample of the chunk shrinks by the required margin (the whole chunk, if it is small). */
function worthCompressing(bytes: Uint8Array): boolean {
  if (bytes.length <= SAMPLE_BYTES * 2) return true;
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  return deflateRaw(sample).length <= SAMPLE_BYTES - (SAMPLE_BYTES >> MIN_SAVING_SHIFT);
}

/** Version 1 (one op at a time); kept so `formatVersion: 1` still writes what older readers take. */
export class DeltaWriter implements OpWriter {
  #w = new ByteWriter(4096);
  #out: Uint8Array[] = [];
  #compress: boolean;
  /** Total encoded bytes so far. */
  bytesWritten = 0;
  /** Basis offset after the last copy: copies are encoded relative to it. */
  #lastCopyEnd = 0;

  constructor(basisLength: number, compress: boolean) {
    this.#compress = compress;
    this.#w.bytes(DELTA_MAGIC).u8(FORMAT_VERSION).u8(0).varint(basisLength);
  }

  copy(offset: number, length: number): void {
    this.#w.u8(OP_COPY).zigzag(offset - this.#lastCopyEnd).varint(length);
    this.#lastCopyEnd = offset + length;
    this.#maybeFlush();
  }

  literal(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#compress && bytes.length >= MIN_COMPRESS_LENGTH && worthCompressing(bytes)) {
      const packed = deflateRaw(bytes);
      if (packed.length <= bytes.length - (bytes.length >> MIN_SAVING_SHIFT)) {
        this.#w.u8(OP_LITERAL_DEFLATE).varint(bytes.length).varint(packed.length);
        this.#pushPayload(packed);
        return;
      }
    }
    this.#w.u8(OP_LITERAL).varint(bytes.length);
    this.#pushPayload(bytes);
  }

  end(targetLength: number, sha256: Uint8Array): void {
    this.#w.u8(OP_END).varint(targetLength).u8(TARGET_HASH_SHA256).bytes(sha256);
    this.#flush();
  }

  /** Large payloads go out as their own chunk (a copy, so the caller may reuse its buffer). */
  #pushPayload(bytes: Uint8Array): void {
    if (bytes.length < 4096) {
      this.#w.bytes(bytes);
      this.#maybeFlush();
      return;
    }
    this.#flush();
    this.#out.push(copyBytes(bytes));
    this.bytesWritten += bytes.length;
  }

  #maybeFlush(): void {
    if (this.#w.length >= FLUSH_AT) this.#flush();
  }

  #flush(): void {
    if (this.#w.length === 0) return;
    this.bytesWritten += this.#w.length;
    this.#out.push(this.#w.take());
  }

  /** Encoded chunks ready now; `all` also flushes pending small ops. */
  drain(all = false): Uint8Array[] {
    if (all) this.#flush();
    const out = this.#out;
    this.#out = [];
    return out;
  }
}
