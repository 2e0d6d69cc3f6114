/**
 * The one place where any error becomes an HTTP status and a catalogue code (protocol errors.ts):
 * ApiError, StorageError, protocol BatchFramesError, core DeltaError codes, path errors, Fastify's own errors and errno codes.
 * Unknown errors become 500 INTERNAL; their message is logged, not sent.
 */
import { BatchFramesError, errorCatalogue, statusOf, type ApiErrorBody, type ApiErrorCode, type ChangeRecord, type ManifestEntry } from '@deltabox/protocol';
import { StorageError } from './storage/storage-error.js';

/** What an error body carries beside code and message (protocol ApiErrorBody). */
export interface ApiErrorExtra {
  currentHash?: string;
  current?: ManifestEntry;
  record?: ChangeRecord;
}

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly extra: ApiErrorExtra = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.statusCode = statusOf(code);
  }

  toBody(): ApiErrorBody {
    const body: ApiErrorBody = { code: this.code, message: this.message };
    if (this.extra.currentHash !== undefined) body.currentHash = this.extra.currentHash;
    if (this.extra.current !== undefined) body.current = this.extra.current;
    if (this.extra.record !== undefined) body.record = this.extra.record;
    return body;
  }
}

/** Core DeltaError codes (CORE-API.md) -> API codes. */
const deltaCodes: Record<string, ApiErrorCode> = {
  FORMAT_BAD_MAGIC: 'DELTA_MALFORMED',
  FORMAT_UNSUPPORTED_VERSION: 'DELTA_MALFORMED',
  FORMAT_CORRUPT: 'DELTA_MALFORMED',
  FORMAT_TRUNCATED: 'TRUNCATED_UPLOAD',
  FORMAT_LIMIT_EXCEEDED: 'PAYLOAD_TOO_LARGE',
  // The delta does not fit the basis its If-Match named: the client built it wrong.
  DELTA_BASIS_MISMATCH: 'DELTA_MALFORMED',
  DELTA_CHECKSUM_MISMATCH: 'HASH_MISMATCH',
  DELTA_USAGE: 'INTERNAL',
};

const storageCodes: Record<StorageError['code'], ApiErrorCode> = {
  NOT_FOUND: 'NOT_FOUND',
  TYPE_CONFLICT: 'TYPE_CONFLICT',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  // No dedicated catalogue code: the request lacked ?recursive=1.
  NOT_EMPTY: 'BAD_REQUEST',
  SYMLINK: 'BAD_PATH',
  NO_SPACE: 'INSUFFICIENT_STORAGE',
};

/** Fastify's own error codes that reach the error handler. */
const fastifyCodes: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'BAD_REQUEST',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_PROTO_VIOLATION: 'BAD_REQUEST',
  FST_INVALID_JSON_FIELD_ERROR: 'BAD_REQUEST',
  FST_MP_PREMATURE_CLOSE: 'TRUNCATED_UPLOAD',
  // better-sqlite3: the state database could not grow.
  SQLITE_FULL: 'INSUFFICIENT_STORAGE',
};

/** errno and SQLite codes of a folder (or state database) the server may not write: permissions, read-only mounts, immutable files. */
const deniedCodes = new Set(['EACCES', 'EPERM', 'EROFS', 'SQLITE_READONLY']);

/** Maps any thrown value to an ApiError, keeping the original as `cause`. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof StorageError) return new ApiError(storageCodes[err.code], message, {}, { cause: err });
  if (err instanceof BatchFramesError) return new ApiError(err.code, message, {}, { cause: err });
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (code === 'BAD_PATH') return new ApiError('BAD_PATH', message, {}, { cause: err });
    const mapped = deltaCodes[code] ?? fastifyCodes[code];
    if (mapped === 'INSUFFICIENT_STORAGE') return new ApiError(mapped, 'the disk is full', {}, { cause: err });
    if (mapped) return new ApiError(mapped, mapped === 'INTERNAL' ? 'internal error' : message, {}, { cause: err });
    if (code === 'ENOSPC' || code === 'EDQUOT') return new ApiError('INSUFFICIENT_STORAGE', 'the disk is full', {}, { cause: err });
    if (deniedCodes.has(code)) {
      // The message names no absolute path: it reaches clients.
      const why = `the server cannot write to its folder (${code}); nothing changed. The server's operator must make the folder writable for it`;
      return new ApiError('STORAGE_DENIED', why, {}, { cause: err });
    }
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
      return new ApiError('TRUNCATED_UPLOAD', 'the request body ended early', {}, { cause: err });
    }
  }
  if (err instanceof SyntaxError) return new ApiError('BAD_REQUEST', `invalid JSON: ${message}`, {}, { cause: err });
  const status = (err as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const byStatus = (Object.keys(errorCatalogue) as ApiErrorCode[]).find((c) => errorCatalogue[c].status === status);
    return new ApiError(byStatus ?? 'BAD_REQUEST', message, {}, { cause: err });
  }
  return new ApiError('INTERNAL', 'internal error', {}, { cause: err });
}
