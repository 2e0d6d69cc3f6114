/** Implements FORMAT.md §Signature: encode and hostile-input-safe decode. */
import { DEFAULT_DECODE_LIMITS, FORMAT_VERSION, MAX_STRONG_LENGTH, SIGNATURE_MAGIC, STRONG_XXH64, WEAK_RABINKARP32, type DecodeLimits } from '../constants.js';
import { BadMagicError, CorruptDataError, LimitExceededError, TruncatedInputError, UnsupportedVersionError } from '../errors.js';
import type { Signature } from '../signature.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { toHex } from '../hex.js';

/** Serializes a signature. */
export function encodeSignature(sig: Signature): Uint8Array {
  const w = new ByteWriter(32);
  w.bytes(SIGNATURE_MAGIC).u8(FORMAT_VERSION).u8(WEAK_RABINKARP32).u8(STRONG_XXH64).u8(sig.strongLength);
  w.varint(sig.blockLength).varint(sig.basisLength).u64le(sig.seed);
  const header = w.view();
  const s = sig.strongLength;
  const out = new Uint8Array(header.length + sig.blockCount * (4 + s));
  out.set(header);
  // Byte loops, not a subarray per block: a 256 MiB file's signature has 262,144 blocks.
  for (let i = 0, at = header.length; i < sig.blockCount; i++) {
    const weak = sig.weakSums[i]!;
    out[at++] = weak & 0xff;
    out[at++] = (weak >>> 8) & 0xff;
    out[at++] = (weak >>> 16) & 0xff;
    out[at++] = weak >>> 24;
    for (let k = 0, from = i * s; k < s; k++) out[at++] = sig.strongHashes[from + k]!;
  }
  return out;
}

/**
 * Parses a signature. Every field is checked before use and the block table is allocated only after its
 * size is known to match the remaining bytes and the limits.
 * @throws FormatError (FORMAT_BAD_MAGIC, FORMAT_UNSUPPORTED_VERSION, FORMAT_TRUNCATED, FORMAT_CORRUPT,
 *   FORMAT_LIMIT_EXCEEDED)
 */
export function decodeSignature(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): Signature {
  const lim = { ...DEFAULT_DECODE_LIMITS, ...limits };
  const r = new ByteReader();
  r.push(bytes);
  const header = r.tryRead((c) => {
    const magic = new Uint8Array(4);
    for (let i = 0; i < 4; i++) {
      magic[i] = c.u8();
      if (magic[i] !== SIGNATURE_MAGIC[i]) throw new BadMagicError(toHex(SIGNATURE_MAGIC), toHex(magic.subarray(0, i + 1)));
    }
    const version = c.u8();
    if (version !== FORMAT_VERSION) throw new UnsupportedVersionError(version, FORMAT_VERSION, 4);
    const weakAlg = c.u8();
    if (weakAlg !== WEAK_RABINKARP32) throw new CorruptDataError(`unknown weak sum algorithm ${weakAlg}`, 5);
    const strongAlg = c.u8();
    if (strongAlg !== STRONG_XXH64) throw new CorruptDataError(`unknown strong hash algorithm ${strongAlg}`, 6);
    const strongLength = c.u8();
    if (strongLength < 1 || strongLength > MAX_STRONG_LENGTH) {
      throw new CorruptDataError(`strong length ${strongLength} outside 1..${MAX_STRONG_LENGTH}`, 7);
    }
    const blOffset = c.offset;
    const blockLength = c.varint();
    if (blockLength < 1) throw new CorruptDataError('block length 0', blOffset);
    if (blockLength > lim.maxBlockLength) throw new LimitExceededError('block length', blockLength, lim.maxBlockLength, blOffset);
    const lenOffset = c.offset;
    const basisLength = c.varint();
    if (basisLength > lim.maxTargetLength) throw new LimitExceededError('basis length', basisLength, lim.maxTargetLength, lenOffset);
    const seedBytes = c.bytes(8);
    const seed = new DataView(seedBytes.buffer).getBigUint64(0, true);
    const blockCount = Math.ceil(basisLength / blockLength);
    if (blockCount > lim.maxBlockCount) throw new LimitExceededError('block count', blockCount, lim.maxBlockCount, lenOffset);
    return { strongLength, blockLength, basisLength, seed, blockCount };
  });
  if (!header) throw new TruncatedInputError('signature header', bytes.length);
  const { strongLength, blockLength, basisLength, seed, blockCount } = header;
  const entry = 4 + strongLength;
  const expected = blockCount * entry;
  if (r.available < expected) throw new TruncatedInputError(`block table (${blockCount} blocks)`, r.offset + r.available);
  if (r.available > expected) throw new CorruptDataError(`${r.available - expected} trailing bytes after the block table`, r.offset + expected);
  const table = r.tryBytes(expected)!;
  const weakSums = new Uint32Array(blockCount);
  const strongHashes = new Uint8Array(blockCount * strongLength);
  for (let i = 0, at = 0; i < blockCount; i++, at += entry) {
    weakSums[i] = (table[at]! | (table[at + 1]! << 8) | (table[at + 2]! << 16) | (table[at + 3]! << 24)) >>> 0;
    for (let k = 0, to = i * strongLength; k < strongLength; k++) strongHashes[to + k] = table[at + 4 + k]!;
  }
  return { blockLength, strongLength, seed, basisLength, blockCount, weakSums, strongHashes };
}
