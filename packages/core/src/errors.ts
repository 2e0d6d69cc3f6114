/**
 * The DeltaError family: every error core throws has a stable `code` callers branch on.
 * Messages give expected vs actual and, for decoders, the byte offset.
 */

export type DeltaErrorCode =
  | 'FORMAT_BAD_MAGIC'
  | 'FORMAT_UNSUPPORTED_VERSION'
  | 'FORMAT_TRUNCATED'
  | 'FORMAT_CORRUPT'
  | 'FORMAT_LIMIT_EXCEEDED'
  | 'DELTA_BASIS_MISMATCH'
  | 'DELTA_CHECKSUM_MISMATCH'
  | 'DELTA_USAGE';

/** Base class of every error thrown by @deltabox/core. */
export class DeltaError extends Error {
  /** Stable machine-readable cause. */
  readonly code: DeltaErrorCode;
  /** Byte offset in the decoded stream where the problem was seen, when it applies. */
  readonly offset: number | undefined;

  constructor(code: DeltaErrorCode, message: string, offset?: number, options?: { cause?: unknown }) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`, options);
    this.name = new.target.name;
    this.code = code;
    this.offset = offset;
  }
}

/** The bytes are not a valid signature or delta (FORMAT.md, the decoder obligations of each format). */
export class FormatError extends DeltaError {}

/** The magic number is not the one the decoder reads. */
export class BadMagicError extends FormatError {
  constructor(expected: string, actual: string) {
    super('FORMAT_BAD_MAGIC', `bad magic: expected ${expected}, got ${actual}`, 0);
  }
}

/** The format version is newer (or older) than this decoder supports. */
export class UnsupportedVersionError extends FormatError {
  constructor(actual: number, supported: number | string, offset: number) {
    super('FORMAT_UNSUPPORTED_VERSION', `unsupported format version ${actual} (this reader supports ${supported})`, offset);
  }
}

/** The input ended in the middle of a structure. */
export class TruncatedInputError extends FormatError {
  constructor(what: string, offset: number) {
    super('FORMAT_TRUNCATED', `input ended inside ${what}`, offset);
  }
}

/** A field holds a value the format forbids (bad opcode, zero length, trailing bytes, bad varint). */
export class CorruptDataError extends FormatError {
  constructor(message: string, offset?: number) {
    super('FORMAT_CORRUPT', message, offset);
  }
}

/** A decoded length or count is over the decoder's configured limit; nothing was allocated for it. */
export class LimitExceededError extends FormatError {
  constructor(what: string, actual: number, limit: number, offset?: number) {
    super('FORMAT_LIMIT_EXCEEDED', `${what} ${actual} exceeds the limit ${limit}`, offset);
  }
}

/** The delta does not fit the basis it is applied to (length differs, copy runs past the end). */
export class BasisMismatchError extends DeltaError {
  constructor(message: string, offset?: number) {
    super('DELTA_BASIS_MISMATCH', message, offset);
  }
}

/** The patched result does not have the length or SHA-256 the delta declares. */
export class ChecksumMismatchError extends DeltaError {
  constructor(message: string) {
    super('DELTA_CHECKSUM_MISMATCH', message);
  }
}

/** The API was called wrongly (bad option, push after finish). */
export class UsageError extends DeltaError {
  constructor(message: string) {
    super('DELTA_USAGE', message);
  }
}
