/**
 * Recognises files of other delta tools fed to deltabox, so "bad magic" can say what the file is. librsync
 * (rdiff) files start with "rs" and a kind byte: 0x01 signatures (MD4 0x36, BLAKE2 0x37, RabinKarp 0x47 as the
 * fourth byte), 0x02 0x36 deltas. xdelta3 writes VCDIFF (RFC 3284: 0xD6 0xC3 0xC4); zstd frames 0x28 B5 2F FD.
 */

/** What the first bytes of a foreign file say it is, or undefined when they are not recognised. */
export function foreignFormatOf(head: Uint8Array): string | undefined {
  const [a, b, c, d] = head;
  if (a === 0x72 && b === 0x73 && c === 0x01 && (d === 0x36 || d === 0x37 || d === 0x47)) return 'an rdiff (librsync) signature';
  if (a === 0x72 && b === 0x73 && c === 0x02 && d === 0x36) return 'an rdiff (librsync) delta';
  if (a === 0xd6 && b === 0xc3 && c === 0xc4) return 'a VCDIFF delta (xdelta3)';
  if (a === 0x28 && b === 0xb5 && c === 0x2f && d === 0xfd) return 'a zstd frame (zstd --patch-from)';
  return undefined;
}

/** Passes chunks through and keeps the first four bytes, to name a foreign format after a bad-magic error. */
export class HeadRecorder {
  readonly head = new Uint8Array(4);
  #seen = 0;

  async *tap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (this.#seen < 4) {
        const n = Math.min(4 - this.#seen, chunk.length);
        this.head.set(chunk.subarray(0, n), this.#seen);
        this.#seen += n;
      }
      yield chunk;
    }
  }
}
