/** The seam to node:zlib's Brotli (RFC 7932): compresses the streams of a version-2 delta segment (FORMAT.md §Delta version 2). */
import { nodeZlib } from './builtin.js';
import { decompressExact } from './deflate.js';

/** Brotli's largest regular window (16 MiB), so a repeat anywhere in a segment's stream is found. */
const MAX_WINDOW_LOG = 24;

/**
 * Inputs up to this size asked for quality 5..8 are compressed at 9: Brotli's matcher for 5..8 sets up a table
 * of about a megabyte per call, which for a small input costs more than 9's search. Measured here, 200 calls
 * each (CPU per call, output): 300 B 502 -> 163 us (128 -> 129 B), 3 KB 763 -> 273 us (729 -> 722 B), 12 KB
 * 1,103 -> 557 us (2,583 -> 2,449 B); at 30 KB 9 cost 2.5x 5's time. A delta of a small edit has such streams.
 */
const SMALL_INPUT = 16 * 1024;

/** Brotli at `quality` (0..11) with a window sized to the input (the writer chooses the quality; see SMALL_INPUT). */
export function brotliCompress(bytes: Uint8Array, quality: number): Uint8Array {
  const q = bytes.length <= SMALL_INPUT && quality >= 5 && quality <= 8 ? 9 : quality;
  let windowLog = 10;
  while (windowLog < MAX_WINDOW_LOG && 1 << windowLog < bytes.length) windowLog++;
  const { brotliCompressSync, constants } = nodeZlib();
  const out = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: q,
      [constants.BROTLI_PARAM_LGWIN]: windowLog,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Decompresses exactly `expectedLength` bytes or returns undefined (deflate.ts decompressExact: bounded). */
export function brotliDecompressExact(bytes: Uint8Array, expectedLength: number): Uint8Array | undefined {
  return decompressExact(nodeZlib().brotliDecompressSync, bytes, expectedLength);
}
