/**
 * Computes the delta of a snapshot against a basis (a byte-exact cached copy, or a signature alone) and
 * streams it into a temp file, so the decision "delta or whole file" is made from DeltaStats before a
 * byte goes on the wire. For large files it also builds the new version's signature in the same pass.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  computeSignature,
  DeltaEncoder,
  encodeSignature,
  SignatureBuilder,
  type DeltaStats,
  type Signature,
  type SyncBasisReader,
} from '@deltabox/core';
import { readChunks, snapshotChunks, type ReadHooks, type Snapshot } from './file-reader.js';

const MIN_LOCAL_BLOCK_LENGTH = 1024;
const STREAM_FLUSH_MIN_BYTES = 8 * 1024 * 1024;
const MAX_LOCAL_BLOCKS = 2 ** 20;
/** core's DEFAULT_DECODE_LIMITS.maxBlockLength. */
const MAX_LOCAL_BLOCK_LENGTH = 2 ** 20;

/**
 * Block length of the signatures the scanner keeps for large files. They never travel, so blocks can be
 * far smaller than the square-root rule: an edit costs at most about one block of literals, and a
 * signature costs 12 bytes per block on local disk. At most 2^20 blocks (a 12 MiB signature; core's
 * decoder allows 2^22), never under 1 KiB: a 256 MiB or 1 GiB file gets 1 KiB blocks (3 or 12 MiB of
 * signature), a 4 GiB file 4 KiB blocks. Block lengths are multiples of 64, capped at core's 1 MiB limit.
 */
export function localBlockLength(size: number): number {
  return Math.min(MAX_LOCAL_BLOCK_LENGTH, Math.max(MIN_LOCAL_BLOCK_LENGTH, Math.ceil(size / MAX_LOCAL_BLOCKS / 64) * 64));
}

/** Positional synchronous reads of a local file (the basis of a byte-exact delta). */
export class FileBasisReader implements SyncBasisReader {
  readonly length: number;
  readonly #fd: number;

  constructor(filePath: string, length: number) {
    this.#fd = openSync(filePath, 'r');
    this.length = length;
  }

  read(byteOffset: number, length: number): Uint8Array {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, out, done, length - done, byteOffset + done);
      if (n === 0) throw new Error(`basis ended at ${byteOffset + done}, expected ${byteOffset + length}`);
      done += n;
    }
    return out;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

export interface DeltaFile {
  filePath: string;
  stats: DeltaStats;
  /** The new version's encoded signature, when asked for. */
  newSignature?: Uint8Array;
}

export type DeltaBasis = { kind: 'copy'; filePath: string; size: number } | { kind: 'signature'; signature: Signature };

export interface DeltaPiecesOptions {
  /** Also build the signature of the snapshot's bytes in the same read (DeltaResult.newSignature). */
  withSignature?: boolean;
  hooks?: ReadHooks;
  /**
   * Runs once every byte is read, before the delta's last pieces (its END op, which declares the result's
   * hash) are yielded: a streamed delta checks the snapshot here and throws to stop before it is complete.
   */
  beforeEnd?(stats: DeltaStats): void;
}

export type DeltaResult = Omit<DeltaFile, 'filePath'>;

/**
 * The delta of `snapshot` against `basis`, piece by piece as it is computed (a byte-exact basis is read
 * positionally; a signature basis needs no read). Returns the stats, and the snapshot's signature when asked.
 */
export async function* deltaPieces(snapshot: Snapshot, basis: DeltaBasis, options: DeltaPiecesOptions = {}): AsyncGenerator<Uint8Array, DeltaResult> {
  let reader: FileBasisReader | undefined;
  let signature: Signature;
  if (basis.kind === 'copy') {
    // The builder copies the partial block it keeps, so one read buffer serves the whole basis.
    signature = await computeSignature(readChunks(basis.filePath, {}, { reuseBuffer: true }), { basisLength: basis.size });
    reader = new FileBasisReader(basis.filePath, basis.size);
  } else {
    signature = basis.signature;
  }
  try {
    // Complete ops every 1/32 of the file (at least 8 MiB): a server patching the streamed delta keeps pace
    // with the read instead of getting a long unchanged run's copy at the end. ~14 B per flush.
    const flushEvery = Math.max(STREAM_FLUSH_MIN_BYTES, Math.ceil(snapshot.size / 32));
    // The snapshot's signature, when asked for: kept by the encoder when the basis is a signature of the same
    // block length (an in-place edit then hashes only the blocks it touched: the rest take the basis's
    // entries, seed included), else built from the bytes as they are read.
    const targetSignature = options.withSignature === true && reader === undefined && signature.blockLength === localBlockLength(snapshot.size);
    const encoder = new DeltaEncoder(signature, reader === undefined ? { flushEvery, targetSignature } : { basis: reader, flushEvery });
    const builder = options.withSignature && !targetSignature
      ? new SignatureBuilder({ basisLength: snapshot.size, blockLength: localBlockLength(snapshot.size) })
      : undefined;
    // The builder and the encoder copy what they keep of a chunk before push returns: one read buffer for all
    // (a fresh 1 MiB buffer per chunk costs its page faults, ~4 ms per MB first written on these machines).
    for await (const chunk of snapshotChunks(snapshot, options.hooks, { reuseBuffer: true })) {
      builder?.push(chunk);
      yield* encoder.push(chunk);
    }
    const tail = encoder.finish();
    options.beforeEnd?.(encoder.stats);
    yield* tail;
    const result: DeltaResult = { stats: encoder.stats };
    if (builder) result.newSignature = encodeSignature(builder.finish());
    else if (targetSignature) result.newSignature = encodeSignature(encoder.targetSignature());
    return result;
  } finally {
    reader?.close();
  }
}

/**
 * Writes the delta of `snapshot` against `basis` to a new file in `tmpDir` (the caller removes it).
 * `withSignature` also returns the signature of the snapshot's bytes, built in the same read.
 */
export async function writeDeltaFile(
  snapshot: Snapshot,
  basis: DeltaBasis,
  tmpDir: string,
  options: { withSignature?: boolean; hooks?: ReadHooks } = {},
): Promise<DeltaFile> {
  return writeDeltaPieces(tmpDir, [], deltaPieces(snapshot, basis, options));
}

/**
 * Writes `head` (pieces of a delta already taken from `pieces`), then the rest of `pieces`, into a new file
 * in `tmpDir` (the caller removes it).
 * @throws what computing the delta throws (FILE_CHANGED...), or an Error when `pieces` was closed meanwhile;
 * the file is removed then
 */
export async function writeDeltaPieces(tmpDir: string, head: readonly Uint8Array[], pieces: AsyncGenerator<Uint8Array, DeltaResult>): Promise<DeltaFile> {
  const filePath = join(tmpDir, `delta-${randomBytes(8).toString('hex')}`);
  const out = await open(filePath, 'w');
  try {
    for (const piece of head) await out.write(piece);
    for (;;) {
      const next = await pieces.next();
      if (next.done && next.value === undefined) throw new Error('the delta was stopped before its end');
      if (next.done) return { filePath, ...next.value };
      await out.write(next.value);
    }
  } catch (err) {
    rmSync(filePath, { force: true });
    throw err;
  } finally {
    await out.close();
  }
}
