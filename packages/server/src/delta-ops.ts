/**
 * The two operations that call the delta engine: serving a file's signature (cached in SQLite by content
 * hash and block length) and applying an uploaded delta against the current file into a staged file (or,
 * when its base moved on, settling it as a retry whose result is already there).
 */
import { DeltaDecoder, PatchApplier, computeSignature, encodeSignature, toHex, type BasisReader, type DecodeLimits } from '@deltabox/core';
import type { ManifestEntry } from '@deltabox/protocol';
import { ApiError } from './api-error.js';
import type { Mirror, WriteOptions } from './mirror.js';
import { baseMismatch } from './preconditions.js';
import type { ReadHandle, StagedFile } from './storage/storage.js';

/** Cache key for "the core's default block length for this size". */
export const DEFAULT_BLOCK_LENGTH_KEY = 0;

/**
 * The encoded signature of the current version of `path` and that version's hash.
 * @throws ApiError NOT_FOUND, TYPE_CONFLICT
 */
export async function signatureOf(mirror: Mirror, path: string, blockLength?: number): Promise<{ bytes: Uint8Array; hash: string }> {
  const { handle, entry } = await mirror.openFile(path);
  const hash = entry.hash!;
  const key = blockLength ?? DEFAULT_BLOCK_LENGTH_KEY;
  const cached = mirror.index.cachedSignature(hash, key);
  if (cached) {
    await handle.close();
    return { bytes: cached, hash };
  }
  const options = blockLength === undefined ? { basisLength: handle.size } : { basisLength: handle.size, blockLength };
  const signature = await computeSignature(handle.stream(), options);
  const bytes = encodeSignature(signature);
  mirror.index.cacheSignature(hash, key, bytes);
  return { bytes, hash };
}

export function decodeLimits(mirror: Mirror): DecodeLimits {
  const l = mirror.limits;
  return {
    maxBlockCount: l.deltaMaxBlockCount,
    maxBlockLength: l.deltaMaxBlockLength,
    maxLiteralChunk: l.deltaMaxLiteralChunk,
    maxTargetLength: l.maxFileBytes,
  };
}

/** Passes the delta body through, refusing it once it grows past `maxBytes`. */
async function* capped(source: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `delta is larger than ${maxBytes} bytes`);
    yield chunk;
  }
}

/**
 * Applies `delta` (FORMAT.md §Delta) to the version of `path` named by `opts.ifMatch` and commits the
 * result if that version is still current. The result must match the delta's own hash, the server's
 * SHA-256 of the bytes written, and `opts.expectedHash` when given. A delta whose base moved on is still
 * answered 200 when its result is the content there now (settleStalePatch).
 * @throws ApiError BASE_MISMATCH, PARENT_CHANGED, HASH_MISMATCH, PAYLOAD_TOO_LARGE, TYPE_CONFLICT; core DeltaError
 */
export async function patchFile(mirror: Mirror, path: string, delta: AsyncIterable<Uint8Array>, opts: WriteOptions & { ifMatch: string }): Promise<ManifestEntry> {
  let basis: ReadHandle;
  try {
    basis = await mirror.openBasis(path, opts);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'BASE_MISMATCH') return settleStalePatch(mirror, path, delta, opts, err);
    throw err;
  }
  try {
    const staged = await stagePatched(mirror, basis, capped(delta, mirror.limits.maxDeltaBytes));
    const executable = opts.executable ?? basis.executable;
    return await mirror.commit(path, staged, { ...opts, executable }); // consumes `staged` whatever happens
  } finally {
    await basis.close();
  }
}

/**
 * A new staged file holding the result of `delta` applied to `basis` (the caller closes `basis`). The staged
 * file hashes what it writes; the applier checks the delta's SHA-256 against that hash when the delta ends
 * (ChecksumMismatchError otherwise; a delta without its END op fails as truncated), instead of hashing the
 * result a second time.
 * @throws core DeltaError (toApiError maps it); what reading `delta` or writing throws; the staged file is discarded
 */
export async function stagePatched(mirror: Mirror, basis: ReadHandle, delta: AsyncIterable<Uint8Array>): Promise<StagedFile> {
  const staged = await mirror.storage.stage();
  try {
    // The staged file has written (and hashed) each piece when it asks for the next: copies can then be read
    // into one buffer the applier reuses, where the backend reads into a caller's buffer.
    const reader: BasisReader = { length: basis.size, read: (offset, length) => basis.read(offset, length) };
    if (basis.readInto) reader.readInto = (offset, into) => basis.readInto!(offset, into);
    const applier = new PatchApplier(reader, decodeLimits(mirror), {
      consumerSha256: () => staged.digest(),
      transientPieces: true,
    });
    for await (const chunk of applier.apply(delta)) await staged.write(chunk);
    return staged;
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

/**
 * The SHA-256 a delta's trailer declares for its result, read without a basis (nothing is patched). Any
 * decoding failure is undefined: the caller refuses the request for its base anyway.
 */
async function declaredResultHash(mirror: Mirror, delta: AsyncIterable<Uint8Array>): Promise<string | undefined> {
  const decoder = new DeltaDecoder(decodeLimits(mirror));
  let hash: string | undefined;
  try {
    for await (const chunk of capped(delta, mirror.limits.maxDeltaBytes)) {
      for (const op of decoder.push(chunk)) if (op.type === 'end') hash = toHex(op.sha256);
    }
    decoder.finish();
  } catch {
    return undefined;
  }
  return hash;
}

/**
 * A PATCH whose base is not the current version (contract 12 item 2): a retry after a lost answer finds its
 * own result already there. When the result (x-deltabox-content-hash, else the delta's trailer) is the current
 * content, the answer is the current entry, with the request's metadata applied if it differs (the current
 * bytes are rewritten with it, under If-Match of that content); otherwise `refusal` (412, nothing changed).
 */
async function settleStalePatch(mirror: Mirror, path: string, delta: AsyncIterable<Uint8Array>, opts: WriteOptions, refusal: ApiError): Promise<ManifestEntry> {
  const currentHash = refusal.extra.current?.hash;
  if (currentHash === undefined) throw refusal;
  const result = opts.expectedHash ?? (await declaredResultHash(mirror, delta));
  if (result !== currentHash) throw refusal;
  const unchanged = await mirror.unchangedEntry(path, result, opts);
  if (unchanged) return unchanged;
  const { handle, entry } = await mirror.openFile(path);
  if (entry.hash !== result) {
    await handle.close();
    throw baseMismatch(path, entry, opts.ifMatch ?? result);
  }
  const bytes = handle.stream();
  try {
    return await mirror.putFile(path, bytes, { ...opts, ifMatch: result, ifNoneMatch: false, expectedHash: result });
  } finally {
    bytes.destroy(); // closes the file when putFile found nothing left to write and did not read it
  }
}
