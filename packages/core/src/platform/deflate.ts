/** The one seam to node:zlib: raw deflate for literal runs (FORMAT.md §Delta (version 1), op LITERAL_DEFLATE). */
import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';

/** Level 1: literals are small and the goal is wire bytes per CPU second, not the last percent. */
export function deflateRaw(bytes: Uint8Array): Uint8Array {
  const out = deflateRawSync(bytes, { level: 1, strategy: constants.Z_DEFAULT_STRATEGY });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Inflates at most `expectedLength` bytes; returns undefined when the stream is invalid or does not
 * inflate to exactly that length (zlib's maxOutputLength bounds the allocation).
 */
export function inflateRawExact(bytes: Uint8Array, expectedLength: number): Uint8Array | undefined {
  try {
    const out = inflateRawSync(bytes, { maxOutputLength: Math.max(1, expectedLength) });
    if (out.byteLength !== expectedLength) return undefined;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return undefined;
  }
}
