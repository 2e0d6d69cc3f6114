/**
 * The seam to node:zlib's raw deflate for literal runs (FORMAT.md §Delta (version 1), op LITERAL_DEFLATE), and the
 * bounded exact-length decompression that it and brotli.ts (the other zlib seam) share.
 */
import { nodeZlib } from './builtin.js';

/** Level 1: literals are small and the goal is wire bytes per CPU second, not the last percent. */
export function deflateRaw(bytes: Uint8Array): Uint8Array {
  const { deflateRawSync, constants } = nodeZlib();
  const out = deflateRawSync(bytes, { level: 1, strategy: constants.Z_DEFAULT_STRATEGY });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Runs a zlib decompressor capped at `expectedLength` bytes; undefined when the stream is invalid or does not
 * decompress to exactly that length. zlib's maxOutputLength bounds the allocation, so a bomb costs nothing.
 */
export function decompressExact(
  decompress: (bytes: Uint8Array, options: { maxOutputLength: number }) => Buffer,
  bytes: Uint8Array,
  expectedLength: number,
): Uint8Array | undefined {
  try {
    const out = decompress(bytes, { maxOutputLength: Math.max(1, expectedLength) });
    if (out.byteLength !== expectedLength) return undefined;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return undefined;
  }
}

/** Inflates exactly `expectedLength` bytes or returns undefined (see decompressExact). */
export function inflateRawExact(bytes: Uint8Array, expectedLength: number): Uint8Array | undefined {
  return decompressExact(nodeZlib().inflateRawSync, bytes, expectedLength);
}
