/**
 * A queue of input chunks that decoders parse from. `tryRead(parse)` runs a parser over a cursor that
 * does not consume; if the input runs out mid-field it returns undefined and consumes nothing, so a
 * decoder state simply waits for more input. Tracks the absolute offset for error messages.
 */
import { CorruptDataError } from '../errors.js';
import { copyBytes } from '../platform/bytes.js';

/** A varint longer than 8 bytes cannot be a safe integer (7 bits each, 2^53 limit). */
const MAX_VARINT_BYTES = 8;

/** Thrown inside a parse when input runs out; never escapes tryRead (see isNeedMore for direct Cursor use). */
class NeedMore {}
const NEED_MORE = new NeedMore();

/** True for the signal a Cursor throws when its input runs out (for cursors used without tryRead). */
export function isNeedMore(err: unknown): boolean {
  return err === NEED_MORE;
}

/** A read position that does not consume; fields read through it are committed by tryRead. */
export class Cursor {
  consumed = 0;
  #idx: number;
  #pos: number;

  constructor(
    private readonly chunks: Uint8Array[],
    head: number,
    /** Absolute offset of the cursor's start. */
    readonly startOffset: number,
  ) {
    this.#idx = 0;
    this.#pos = head;
  }

  /** Absolute offset of the next byte. */
  get offset(): number {
    return this.startOffset + this.consumed;
  }

  u8(): number {
    for (;;) {
      const c = this.chunks[this.#idx];
      if (c === undefined) throw NEED_MORE;
      if (this.#pos < c.length) {
        this.consumed++;
        return c[this.#pos++]!;
      }
      this.#idx++;
      this.#pos = 0;
    }
  }

  /**
   * Unsigned LEB128. @throws CorruptDataError for a varint over 8 bytes, beyond 2^53, or with a redundant
   * trailing zero byte (one value, one encoding).
   */
  varint(): number {
    const start = this.offset;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new CorruptDataError('varint has a redundant trailing zero byte', start);
        if (!Number.isSafeInteger(value)) throw new CorruptDataError('varint beyond 2^53', start);
        return value;
      }
      scale *= 0x80;
    }
    throw new CorruptDataError(`varint longer than ${MAX_VARINT_BYTES} bytes`, start);
  }

  /** Zigzag-decoded varint. */
  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  /** Exactly n bytes, copied. Callers bound n before calling. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u8();
    return out;
  }
}

export class ByteReader {
  #chunks: Uint8Array[] = [];
  /** How many of the first #chunks are the reader's own copies (see keepCopies); the rest are the caller's. */
  #ownedChunks = 0;
  #head = 0; // read position inside #chunks[0]
  #available = 0;
  #offset = 0;

  /** Bytes consumed so far: the absolute offset of the next byte. */
  get offset(): number {
    return this.#offset;
  }

  get available(): number {
    return this.#available;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#available += chunk.length;
  }

  /**
   * Replaces every held chunk that is still the caller's with a copy of its unread bytes, so the caller may
   * overwrite its chunks now. Each byte is copied at most once, however many pushes it waits through.
   */
  keepCopies(): void {
    for (let i = this.#ownedChunks; i < this.#chunks.length; i++) {
      const from = i === 0 ? this.#head : 0;
      this.#chunks[i] = copyBytes(this.#chunks[i]!, from);
      if (i === 0) this.#head = 0;
    }
    this.#ownedChunks = this.#chunks.length;
  }

  /** Runs `parse`; commits what it read and returns its value, or returns undefined if input ran out. */
  tryRead<T>(parse: (c: Cursor) => T): T | undefined {
    const c = new Cursor(this.#chunks, this.#head, this.#offset);
    let value: T;
    try {
      value = parse(c);
    } catch (err) {
      if (err === NEED_MORE) return undefined;
      throw err;
    }
    this.#skip(c.consumed);
    return value;
  }

  #skip(n: number): void {
    this.#available -= n;
    this.#offset += n;
    let left = n;
    while (left > 0) {
      const c = this.#chunks[0]!;
      const inChunk = c.length - this.#head;
      if (left < inChunk) {
        this.#head += left;
        return;
      }
      left -= inChunk;
      this.#chunks.shift();
      if (this.#ownedChunks > 0) this.#ownedChunks--;
      this.#head = 0;
    }
  }

  /**
   * Exactly n bytes, or undefined. A view when they sit in one chunk and `owned` is false, else one copy:
   * `owned` asks for bytes that stay valid after the caller reuses its chunks, copied once whatever the split.
   */
  tryBytes(n: number, owned = false): Uint8Array | undefined {
    if (this.#available < n) return undefined;
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[0]!;
    if (first.length - this.#head >= n) {
      const v = first.subarray(this.#head, this.#head + n);
      this.#skip(n);
      return owned ? copyBytes(v) : v;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let idx = 0;
    let pos = this.#head;
    while (filled < n) {
      const c = this.#chunks[idx]!;
      const take = Math.min(c.length - pos, n - filled);
      out.set(c.subarray(pos, pos + take), filled);
      filled += take;
      idx++;
      pos = 0;
    }
    this.#skip(n);
    return out;
  }

  /** Up to n bytes that are available now, without copying (for streaming literal payloads). */
  takeUpTo(n: number): Uint8Array | undefined {
    if (this.#available === 0 || n === 0) return undefined;
    const first = this.#chunks[0]!;
    const take = Math.min(n, first.length - this.#head);
    const v = first.subarray(this.#head, this.#head + take);
    this.#skip(take);
    return v;
  }
}
