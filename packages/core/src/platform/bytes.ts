/**
 * Byte-range comparison at memcmp speed (Buffer.compare), for byte-exact match extension, and the one way core
 * copies bytes it keeps. The only use of Node's Buffer in core; it needs no import.
 */

/**
 * A copy of bytes[start..end) that owns its memory. Not `bytes.slice()`: on a Node Buffer (what callers usually
 * pass) slice() is a view, so a "copy" made that way changes when the caller reuses its buffer.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

function asBuffer(a: Uint8Array): Buffer {
  return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Stride for memcmp before a byte scan locates the first difference; 4 KiB keeps that scan short. */
const STRIDE = 4096;

/** Length of the common prefix of a[aStart..aStart+n) and b[bStart..bStart+n). */
export function commonPrefixLength(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, n: number): number {
  const ab = asBuffer(a);
  const bb = asBuffer(b);
  let i = 0;
  while (i < n) {
    const step = Math.min(STRIDE, n - i);
    if (ab.compare(bb, bStart + i, bStart + i + step, aStart + i, aStart + i + step) === 0) {
      i += step;
      continue;
    }
    const stop = i + step;
    while (i < stop && a[aStart + i] === b[bStart + i]) i++;
    return i;
  }
  return n;
}

/** Length of the common suffix of a[..aEnd) and b[..bEnd), looking back at most n bytes. */
export function commonSuffixLength(a: Uint8Array, aEnd: number, b: Uint8Array, bEnd: number, n: number): number {
  let i = 0;
  while (i < n && a[aEnd - 1 - i] === b[bEnd - 1 - i]) i++;
  return i;
}
