/**
 * The frames encoding of a POST /v1/batch request body (docs/API.md §POST /v1/batch, "Frames body"): an
 * 8-byte prefix, a deflated JSON header listing every part, then the parts' bytes back to back. Pure
 * encode/decode of the prefix and the header; reading the body and checking each part is the server's job.
 */
import { deflateRaw, inflateRawExact } from '@deltabox/core';
import type { ApiErrorCode } from './errors.js';
import type { BatchPartMeta } from './types.js';

/** Version of the header (`v`); a reader refuses any other. */
export const BATCH_FRAMES_VERSION = 1;

/** Bytes of the prefix: the header's length as sent (deflated), then as JSON (inflated), each uint32 big-endian. */
export const BATCH_FRAMES_PREFIX_BYTES = 8;

/**
 * Bits of a part's `flags`. Any other bit set makes the header invalid, so a later flag is never ignored (a
 * server that predates `ifMatch` and `delta` refuses the whole body, committing nothing). `ifMatch` adds a sixth
 * tuple element, the base hash; `delta` needs `ifMatch`.
 */
export const batchFrameFlags = { executable: 1, ifNoneMatch: 2, ifMatch: 4, delta: 8 } as const;

/** Every known bit; they are the lowest ones, so a valid `flags` is an integer from 0 to this. */
const KNOWN_FLAGS = batchFrameFlags.executable | batchFrameFlags.ifNoneMatch | batchFrameFlags.ifMatch | batchFrameFlags.delta;

/** A body that breaks the frames format; `code` is the catalogue code of the answer (nothing is committed). */
export class BatchFramesError extends Error {
  constructor(
    readonly code: Extract<ApiErrorCode, 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BatchFramesError';
  }
}

/** The lengths a prefix declares: `headerBytes` follow it on the wire and inflate to `jsonBytes`. */
export interface BatchFramesPrefix {
  headerBytes: number;
  jsonBytes: number;
}

/** One part in the header: `[path, size, mtimeMs, hash, flags]`, then `ifMatch` when its flag is set. */
type PartTuple = [string, number, number, string, number] | [string, number, number, string, number, string];

function flagsOf(m: BatchPartMeta): number {
  const f = batchFrameFlags;
  return (m.executable ? f.executable : 0) | (m.ifNoneMatch ? f.ifNoneMatch : 0) | (m.ifMatch !== undefined ? f.ifMatch : 0) | (m.delta ? f.delta : 0);
}

/**
 * The prefix and the header of a body carrying `metas` in order; the parts' bytes follow it, each exactly
 * `meta.size` bytes.
 */
export function encodeBatchFramesHeader(metas: readonly BatchPartMeta[]): Uint8Array {
  const parts = metas.map((m): PartTuple =>
    m.ifMatch === undefined ? [m.path, m.size, m.mtimeMs, m.hash, flagsOf(m)] : [m.path, m.size, m.mtimeMs, m.hash, flagsOf(m), m.ifMatch],
  );
  const json = new TextEncoder().encode(JSON.stringify({ v: BATCH_FRAMES_VERSION, parts }));
  const header = deflateRaw(json);
  const out = new Uint8Array(BATCH_FRAMES_PREFIX_BYTES + header.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.length);
  view.setUint32(4, json.length);
  out.set(header, BATCH_FRAMES_PREFIX_BYTES);
  return out;
}

/**
 * Reads the prefix (its first BATCH_FRAMES_PREFIX_BYTES bytes), checking both lengths before anything is
 * allocated from them.
 * @throws BatchFramesError PAYLOAD_TOO_LARGE when either length is over `maxHeaderBytes`; BAD_REQUEST when the
 * JSON length is 0
 */
export function decodeBatchFramesPrefix(prefix: Uint8Array, maxHeaderBytes: number): BatchFramesPrefix {
  if (prefix.length < BATCH_FRAMES_PREFIX_BYTES) throw new BatchFramesError('BAD_REQUEST', `the prefix has ${prefix.length} of ${BATCH_FRAMES_PREFIX_BYTES} bytes`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, BATCH_FRAMES_PREFIX_BYTES);
  const headerBytes = view.getUint32(0);
  const jsonBytes = view.getUint32(4);
  for (const [what, n] of [['header', headerBytes], ['header JSON', jsonBytes]] as const) {
    if (n > maxHeaderBytes) throw new BatchFramesError('PAYLOAD_TOO_LARGE', `${what} of ${n} bytes is over the ${maxHeaderBytes}-byte limit`);
  }
  if (jsonBytes === 0) throw new BatchFramesError('BAD_REQUEST', 'the header JSON is empty');
  return { headerBytes, jsonBytes };
}

/**
 * The parts a header lists, in order. Checks the format only (deflate, JSON, shape, version, flags, count);
 * the values themselves (the path rule, the hash's form, the mtime's range) are the server's per-part checks.
 * @throws BatchFramesError BAD_REQUEST when the header is not raw deflate of `jsonBytes` bytes of JSON of the
 * right shape; PAYLOAD_TOO_LARGE when it lists more than `maxParts` parts
 */
export function decodeBatchFramesHeader(header: Uint8Array, jsonBytes: number, maxParts: number): BatchPartMeta[] {
  const json = inflateRawExact(header, jsonBytes);
  if (json === undefined) throw new BatchFramesError('BAD_REQUEST', `the header is not raw deflate of ${jsonBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (err) {
    throw new BatchFramesError('BAD_REQUEST', `the header is not UTF-8 JSON: ${(err as Error).message}`, { cause: err });
  }
  const { v, parts } = (typeof value === 'object' && value !== null ? value : {}) as { v?: unknown; parts?: unknown };
  if (v !== BATCH_FRAMES_VERSION) throw new BatchFramesError('BAD_REQUEST', `the header's version is ${JSON.stringify(v)}, this server reads ${BATCH_FRAMES_VERSION}`);
  if (!Array.isArray(parts)) throw new BatchFramesError('BAD_REQUEST', 'the header has no parts array');
  if (parts.length > maxParts) throw new BatchFramesError('PAYLOAD_TOO_LARGE', `the header lists ${parts.length} parts, over the ${maxParts}-part limit`);
  return parts.map(partOf);
}

/** One header tuple as a BatchPartMeta. @throws BatchFramesError BAD_REQUEST naming the part and field */
function partOf(tuple: unknown, index: number): BatchPartMeta {
  const bad = (what: string): BatchFramesError => new BatchFramesError('BAD_REQUEST', `header part ${index}: ${what}`);
  if (!Array.isArray(tuple) || (tuple.length !== 5 && tuple.length !== 6)) throw bad('must be [path, size, mtimeMs, hash, flags] or [path, size, mtimeMs, hash, flags, ifMatch]');
  const [path, size, mtimeMs, hash, flags, ifMatch] = tuple as unknown[];
  if (typeof path !== 'string') throw bad('path must be a string');
  // The size frames the bytes that follow: without a valid one nothing after this part can be read.
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('size must be a byte count');
  if (typeof mtimeMs !== 'number' || !Number.isFinite(mtimeMs)) throw bad('mtimeMs must be a number');
  if (typeof hash !== 'string') throw bad('hash must be a string');
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > KNOWN_FLAGS) {
    throw bad('flags must be a sum of known bits (executable 1, ifNoneMatch 2, ifMatch 4, delta 8)');
  }
  const f = batchFrameFlags;
  if (((flags & f.ifMatch) !== 0) !== (tuple.length === 6)) throw bad('a sixth element (ifMatch) comes with flag 4, and only with it');
  if (tuple.length === 6 && typeof ifMatch !== 'string') throw bad('ifMatch must be a string');
  if ((flags & f.delta) !== 0 && (flags & f.ifMatch) === 0) throw bad('a delta (flag 8) needs ifMatch (flag 4)');
  if ((flags & f.ifMatch) !== 0 && (flags & f.ifNoneMatch) !== 0) throw bad('ifMatch (4) and ifNoneMatch (2) exclude each other');
  const meta: BatchPartMeta = { path, size, mtimeMs, hash, executable: (flags & f.executable) !== 0 };
  if ((flags & f.ifNoneMatch) !== 0) meta.ifNoneMatch = true;
  if (typeof ifMatch === 'string') meta.ifMatch = ifMatch;
  if ((flags & f.delta) !== 0) meta.delta = true;
  return meta;
}
