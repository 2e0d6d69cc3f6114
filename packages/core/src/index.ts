/**
 * @deltabox/core — a pure, streaming rsync-style delta engine: signatures, deltas (optionally byte-exact
 * against the basis bytes), patching, and their binary formats (docs/FORMAT.md). Re-exports only.
 */
export { DeltaError, FormatError, BadMagicError, UnsupportedVersionError, TruncatedInputError, CorruptDataError, LimitExceededError, BasisMismatchError, ChecksumMismatchError, UsageError, type DeltaErrorCode } from './errors.js';
export { DEFAULT_DECODE_LIMITS, DEFAULT_LITERAL_CHUNK, HASH_ON_WORKER_FROM, DEFAULT_STRONG_LENGTH, MIN_BLOCK_LENGTH, MAX_AUTO_BLOCK_LENGTH, type DecodeLimits } from './constants.js';
export { chooseBlockLength } from './block-size.js';
export { weakSum, roll, createRoller, type Roller } from './rolling.js';
export { SignatureBuilder, computeSignature, type Signature, type SignatureOptions } from './signature.js';
export { encodeSignature, decodeSignature } from './wire/signature-codec.js';
export { DeltaEncoder, encodeDelta, type DeltaOptions, type DeltaStats, type SyncBasisReader } from './delta-encoder.js';
export { DeltaDecoder, readDeltaHeader, type DeltaOp, type DeltaHeader, type DeltaDecoderOptions } from './wire/delta-decoder.js';
export { PatchApplier, applyDeltaToBuffer, type BasisReader, type PatchResult, type PatchOptions } from './patch-applier.js';
export { createContentHasher, contentHashOf, type ContentHasher } from './content-hash.js';
export { toHex } from './hex.js';
export { deflateRaw, inflateRawExact } from './platform/deflate.js';
