/**
 * The two operations that call the delta engine: serving a file's signature (cached in SQLite by content
 * hash and block length) and applying an uploaded delta against the current file into a staged file.
 */
import { PatchApplier, computeSignature, encodeSignature, type DecodeLimits } from '@deltabox/core';
import type { ManifestEntry } from '@deltabox/protocol';
import { ApiError } from './api-error.js';
import type { Mirror, WriteOptions } from './mirror.js';

/** Cache key for "the core's default block length for this size". */
const DEFAULT_BLOCK_LENGTH_KEY = 0;

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

function decodeLimits(mirror: Mirror): DecodeLimits {
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
 * SHA-256 of the bytes written, and `opts.expectedHash` when given.
 * @throws ApiError BASE_MISMATCH, HASH_MISMATCH, PAYLOAD_TOO_LARGE, TYPE_CONFLICT; core DeltaError
 */
export async function patchFile(mirror: Mirror, path: string, delta: AsyncIterable<Uint8Array>, opts: WriteOptions & { ifMatch: string }): Promise<ManifestEntry> {
  const basis = await mirror.openBasis(path, opts.ifMatch);
  const staged = await mirror.storage.stage();
  try {
    const applier = new PatchApplier({ length: basis.size, read: (offset, length) => basis.read(offset, length) }, decodeLimits(mirror));
    for await (const chunk of applier.apply(capped(delta, mirror.limits.maxDeltaBytes))) {
      await staged.write(chunk);
    }
    const declared = applier.result?.targetHash;
    const written = staged.digest();
    if (declared !== written) throw new ApiError('HASH_MISMATCH', `patched result hashes to ${written}, the delta says ${declared}`);
    const executable = opts.executable ?? basis.executable;
    return await mirror.commit(path, staged, { ...opts, executable });
  } finally {
    await staged.discard();
    await basis.close();
  }
}
