/** The seam to node:zlib's Brotli (RFC 7932): compresses the streams of a version-2 delta segment (FORMAT.md §Delta version 2). */
import { nodeZlib } from './builtin.js';
import { decompressExact } from './deflate.js';

/** Brotli's largest regular window (16 MiB), so a repeat anywhere in a segment's stream is found. */
const MAX_WINDOW_LOG = 24;

/** Brotli at `quality` (0..11) with a window sized to the input (the writer chooses the quality). */
export function brotliCompress(bytes: Uint8Array, quality: number): Uint8Array {
  let windowLog = 10;
  while (windowLog < MAX_WINDOW_LOG && 1 << windowLog < bytes.length) windowLog++;
  const { brotliCompressSync, constants } = nodeZlib();
  const out = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
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
