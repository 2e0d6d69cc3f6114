/**
 * Reads the parts of a request the routes share: the `<path>` of the URL (decoded and checked before any
 * I/O), and the write headers. Every bad value is an ApiError with BAD_PATH or BAD_REQUEST.
 */
import type { FastifyRequest } from 'fastify';
import { decodePathFromUrl, headers, normalizeRelativePath, parseEtag } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { WriteOptions } from '../mirror.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The relative path after `prefix` (e.g. `/v1/files/`) in the raw URL. Read from the raw URL, not the
 * router's decoded parameter, so an encoded slash is still visible and refused.
 * @throws ApiError BAD_PATH
 */
export function pathFromUrl(request: FastifyRequest, prefix: string): string {
  const raw = request.raw.url ?? '';
  const q = raw.indexOf('?');
  const pathname = q === -1 ? raw : raw.slice(0, q);
  if (!pathname.startsWith(prefix)) throw new ApiError('BAD_PATH', `path must follow ${prefix}`);
  try {
    return normalizeRelativePath(decodePathFromUrl(pathname.slice(prefix.length)));
  } catch (err) {
    throw new ApiError('BAD_PATH', (err as Error).message, {}, { cause: err });
  }
}

/** A path from a JSON body or multipart meta. @throws ApiError BAD_PATH */
export function checkedPath(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ApiError('BAD_PATH', `${field} must be a string path`);
  try {
    return normalizeRelativePath(value);
  } catch (err) {
    throw new ApiError('BAD_PATH', `${field}: ${(err as Error).message}`, {}, { cause: err });
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function checkedHash(value: unknown, what: string): string {
  if (typeof value !== 'string' || !SHA256_HEX.test(value)) throw new ApiError('BAD_REQUEST', `${what} must be 64 lower-case hex digits`);
  return value;
}

/** The range of a JavaScript Date: ±100,000,000 days around 1970. */
const MAX_ABS_TIME_MS = 8.64e15;

/**
 * An mtime in milliseconds since the epoch: negative before 1970, a fraction allowed (kept on disk to the
 * microsecond; the index and responses carry whole milliseconds). A header gives it as a decimal string.
 * @throws ApiError BAD_REQUEST
 */
export function checkedMtime(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^-?\d{1,16}(\.\d{1,9})?$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || Math.abs(n) > MAX_ABS_TIME_MS) {
    throw new ApiError('BAD_REQUEST', `${what} must be milliseconds since the epoch (negative before 1970), got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A byte count: a non-negative safe integer. @throws ApiError BAD_REQUEST */
export function checkedSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ApiError('BAD_REQUEST', `${what} must be a byte count`);
  return value;
}

/** If-Match as a content hash, or undefined. @throws ApiError BAD_REQUEST */
export function ifMatchOf(request: FastifyRequest): string | undefined {
  const tag = parseEtag(header(request, headers.ifMatch));
  return tag === undefined ? undefined : checkedHash(tag, 'If-Match');
}

/** x-deltabox-since as a revision, or undefined. @throws ApiError BAD_REQUEST */
export function sinceOf(request: FastifyRequest): number | undefined {
  const value = header(request, headers.since);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw new ApiError('BAD_REQUEST', `${headers.since} must be a journal revision (a non-negative integer)`);
  return Number(value.trim());
}

/** Name of the request's token (recorded as the device that wrote a version). */
export function deviceOf(request: FastifyRequest): string | undefined {
  return request.auth?.ok ? request.auth.name : undefined;
}

/** The write headers of PUT and PATCH, and the writing device. @throws ApiError BAD_REQUEST */
export function writeOptionsOf(request: FastifyRequest): WriteOptions {
  const opts: WriteOptions = {};
  const device = deviceOf(request);
  if (device !== undefined) opts.device = device;
  const mtime = header(request, headers.mtimeMs);
  if (mtime !== undefined) opts.mtimeMs = checkedMtime(mtime, headers.mtimeMs);
  const exec = header(request, headers.executable);
  if (exec !== undefined) {
    if (exec !== '0' && exec !== '1') throw new ApiError('BAD_REQUEST', `${headers.executable} must be 0 or 1`);
    opts.executable = exec === '1';
  }
  const hash = header(request, headers.contentHash);
  if (hash !== undefined) opts.expectedHash = checkedHash(hash, headers.contentHash);
  const since = sinceOf(request);
  if (since !== undefined) opts.since = since;
  const ifMatch = ifMatchOf(request);
  if (ifMatch !== undefined) opts.ifMatch = ifMatch;
  const ifNoneMatch = header(request, headers.ifNoneMatch);
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw new ApiError('BAD_REQUEST', 'If-None-Match supports only *');
    opts.ifNoneMatch = true;
  }
  return opts;
}
