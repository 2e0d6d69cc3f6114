/** Growable byte buffer with LEB128 varints (FORMAT.md §Conventions). Encoders only. */

export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.#len;
  }

  #ensure(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  u8(v: number): this {
    this.#ensure(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }

  u32le(v: number): this {
    this.#ensure(4);
    const b = this.#buf;
    const i = this.#len;
    b[i] = v & 0xff;
    b[i + 1] = (v >>> 8) & 0xff;
    b[i + 2] = (v >>> 16) & 0xff;
    b[i + 3] = (v >>> 24) & 0xff;
    this.#len += 4;
    return this;
  }

  u64le(v: bigint): this {
    this.#ensure(8);
    new DataView(this.#buf.buffer, this.#buf.byteOffset).setBigUint64(this.#len, BigInt.asUintN(64, v), true);
    this.#len += 8;
    return this;
  }

  /** Unsigned LEB128 of a non-negative safe integer (at most 8 bytes for values < 2^53). */
  varint(v: number): this {
    this.#ensure(10);
    let n = v;
    while (n >= 0x80) {
      this.#buf[this.#len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[this.#len++] = n;
    return this;
  }

  /** Zigzag varint of a safe integer: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ... */
  zigzag(v: number): this {
    return this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  /** The written bytes, not copied: valid until the next write, take(), detach() or clear(). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Empties the writer, keeping its buffer. */
  clear(): void {
    this.#len = 0;
  }

  /**
   * Returns the written bytes without copying them and empties the writer, which goes on in a new buffer of the
   * same capacity: for large outputs that are kept (a copy of a few MiB costs more than the allocation).
   */
  detach(): Uint8Array {
    const out = this.#buf.subarray(0, this.#len);
    this.#buf = new Uint8Array(this.#buf.length);
    this.#len = 0;
    return out;
  }

  /** Returns the written bytes (a copy) and empties the writer. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    return out;
  }
}

/** Size in bytes of `v` as an unsigned LEB128 varint. */
export function varintLength(v: number): number {
  let n = 1;
  let x = v;
  while (x >= 0x80) {
    x = Math.floor(x / 0x80);
    n++;
  }
  return n;
}
