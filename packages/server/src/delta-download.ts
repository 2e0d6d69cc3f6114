/**
 * Download deltas (GET and POST /v1/deltas): the current version of a path encoded by the core as a delta from
 * content the device already holds, streamed while the current version is read. The base is found by its
 * content hash, in the version store or as the current file; it is read byte-exact when it is at most
 * `limits.deltaByteExactMaxBasisBytes` and the backend reads synchronously, else only its signature is used.
 * A device that sends its own signature gets a signature-only delta. HTTP-free: the route sets the headers.
 */
import { Readable } from 'node:stream';
import { DeltaEncoder, computeSignature, decodeSignature, encodeSignature, type DeltaOptions, type Signature } from '@deltabox/core';
import type { ManifestEntry } from '@deltabox/protocol';
import { ApiError } from './api-error.js';
import { DEFAULT_BLOCK_LENGTH_KEY } from './delta-ops.js';
import type { Mirror } from './mirror.js';
import type { ReadHandle } from './storage/storage.js';
import { StorageError } from './storage/storage-error.js';

/** A delta ready to stream: the version it leads to, and its bytes (the body owns the open files). */
export interface DeltaDownload {
  entry: ManifestEntry;
  /** How it was encoded: from the base's bytes, or from a signature alone. */
  mode: 'byte-exact' | 'signature';
  body: Readable;
}

/** Bytes per positional read while a base's signature is computed. */
const READ_CHUNK = 1 << 20;

/** A handle's bytes in order through positional reads (the handle stays open for the encoder). */
async function* readAll(handle: ReadHandle): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < handle.size; at += READ_CHUNK) yield await handle.read(at, Math.min(READ_CHUNK, handle.size - at));
}

/**
 * Opens the content `from`: a version object (any path's: the store is content addressed), else the current
 * file of `path` when it has that content. @throws ApiError VERSION_NOT_FOUND
 */
async function openBase(mirror: Mirror, path: string, from: string, current: ManifestEntry): Promise<ReadHandle> {
  try {
    return await mirror.keeper.open(from);
  } catch (err) {
    if (!(err instanceof StorageError && err.code === 'NOT_FOUND')) throw err;
  }
  if (from === current.hash) {
    const { handle, entry } = await mirror.openFile(path);
    if (entry.hash === from) return handle;
    await handle.close(); // replaced meanwhile
  }
  throw new ApiError('VERSION_NOT_FOUND', `the server holds no content ${from} to make a delta of '${path}' from`);
}

/** The base's signature at the core's default block length, from the cache GET /v1/signatures fills too. */
async function baseSignature(mirror: Mirror, base: ReadHandle, hash: string): Promise<Signature> {
  const cached = mirror.index.cachedSignature(hash, DEFAULT_BLOCK_LENGTH_KEY);
  if (cached) return decodeSignature(cached);
  const signature = await computeSignature(readAll(base), { basisLength: base.size });
  mirror.index.cacheSignature(hash, DEFAULT_BLOCK_LENGTH_KEY, encodeSignature(signature));
  return signature;
}

async function* encode(signature: Signature, options: DeltaOptions, target: Readable): AsyncGenerator<Uint8Array> {
  const encoder = new DeltaEncoder(signature, options);
  for await (const chunk of target) yield* encoder.push(chunk as Uint8Array);
  yield* encoder.finish();
}

/**
 * The delta of `target` against `signature` as a byte stream. It owns `target` and `base`: both are closed when
 * the stream closes, ended, failed or destroyed before its first read (a client gone at once).
 */
function deltaStream(signature: Signature, options: DeltaOptions, target: ReadHandle, base?: ReadHandle): Readable {
  const source = target.stream();
  const body = Readable.from(encode(signature, options, source), { objectMode: false });
  body.once('close', () => {
    source.destroy();
    void base?.close();
  });
  return body;
}

/**
 * A delta from content `from` (SHA-256 hex) to the current version of `path`.
 * @throws ApiError NOT_FOUND, TYPE_CONFLICT (a folder), VERSION_NOT_FOUND (the server does not hold `from`)
 */
export async function deltaFromContent(mirror: Mirror, path: string, from: string): Promise<DeltaDownload> {
  const { handle: target, entry } = await mirror.openFile(path);
  let base: ReadHandle | undefined;
  try {
    base = await openBase(mirror, path, from, entry);
    const signature = await baseSignature(mirror, base, from);
    const sync = base.readSync?.bind(base);
    if (sync && base.size <= mirror.limits.deltaByteExactMaxBasisBytes) {
      const basis = { length: base.size, read: sync };
      return { entry, mode: 'byte-exact', body: deltaStream(signature, { basis }, target, base) };
    }
    await base.close();
    return { entry, mode: 'signature', body: deltaStream(signature, {}, target) };
  } catch (err) {
    await base?.close();
    await target.close();
    throw err;
  }
}

/**
 * A signature-only delta from the basis `signatureBytes` describes (FORMAT.md §Signature) to the current
 * version of `path`. The signature is decoded under the server's delta limits before anything is opened.
 * @throws ApiError BAD_REQUEST (not a signature), PAYLOAD_TOO_LARGE (a field over its limit), NOT_FOUND, TYPE_CONFLICT
 */
export async function deltaFromSignature(mirror: Mirror, path: string, signatureBytes: Uint8Array): Promise<DeltaDownload> {
  let signature: Signature;
  try {
    signature = decodeSignature(signatureBytes, { maxBlockCount: mirror.limits.deltaMaxBlockCount, maxBlockLength: mirror.limits.deltaMaxBlockLength });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FORMAT_LIMIT_EXCEEDED') throw new ApiError('PAYLOAD_TOO_LARGE', `signature body: ${(err as Error).message}`, {}, { cause: err });
    throw new ApiError('BAD_REQUEST', `the body is not a signature (FORMAT.md §Signature): ${(err as Error).message}`, {}, { cause: err });
  }
  const { handle: target, entry } = await mirror.openFile(path);
  return { entry, mode: 'signature', body: deltaStream(signature, {}, target) };
}
