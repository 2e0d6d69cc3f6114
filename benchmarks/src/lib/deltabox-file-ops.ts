/**
 * deltabox's signature, delta and patch done the way rdiff does them: file in, file out, 1 MiB reads with
 * fs.readSync, buffered 1 MiB writes. Timing and process boundaries are the caller's business.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import {
  DeltaEncoder,
  HASH_ON_WORKER_FROM,
  PatchApplier,
  SignatureBuilder,
  decodeSignature,
  encodeSignature,
  type BasisReader,
  type DeltaStats,
  type SyncBasisReader,
} from '@deltabox/core';
import { IO_CHUNK } from './seeded-data.js';

/**
 * A SyncBasisReader (also a BasisReader) over a file, by positional fs.readSync into one reused buffer, as rdiff
 * reuses its input buffer. Each read's bytes are valid until the next read: core consumes every read before
 * asking for the next one (DeltaEncoder compares them at once; PatchApplier yields them and we write them before
 * it reads again). Were that to change, the patch outputs' SHA-256 checks would fail the benchmark loudly.
 */
export class FileBasisReader implements SyncBasisReader, BasisReader {
  readonly length: number;
  readonly #fd: number;
  #buf = Buffer.allocUnsafe(IO_CHUNK);

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
    this.length = fstatSync(this.#fd).size;
  }

  read(byteOffset: number, length: number): Uint8Array {
    if (length > this.#buf.length) this.#buf = Buffer.allocUnsafe(length);
    const out = this.#buf.subarray(0, length);
    for (let done = 0; done < length; ) {
      const n = readSync(this.#fd, out, done, length - done, byteOffset + done);
      if (n === 0) throw new Error(`basis file ended at ${byteOffset + done}, wanted ${byteOffset + length}`);
      done += n;
    }
    return out;
  }

  /** Reads into `into` (the patcher's zero-copy path); returns the bytes read. */
  readInto(byteOffset: number, into: Uint8Array): number {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.#fd, into, done, into.length - done, byteOffset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Buffers writes into 1 MiB pieces, as rdiff's output buffer does. */
export class FileSink {
  readonly #fd: number;
  readonly #buf = Buffer.allocUnsafe(IO_CHUNK);
  #used = 0;
  bytesWritten = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'w');
  }

  write(bytes: Uint8Array): void {
    this.bytesWritten += bytes.length;
    if (bytes.length >= IO_CHUNK) {
      this.#flush();
      writeAll(this.#fd, bytes);
      return;
    }
    if (this.#used + bytes.length > IO_CHUNK) this.#flush();
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  close(): void {
    this.#flush();
    closeSync(this.#fd);
  }

  #flush(): void {
    if (this.#used > 0) writeAll(this.#fd, this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Reads a file in 1 MiB pieces. `reuse` hands out the same buffer each time (only for consumers that copy what
 * they keep); otherwise every piece is a fresh buffer, as fs.createReadStream gives.
 */
export function* readChunks(path: string, reuse: boolean): Generator<Buffer> {
  const fd = openSync(path, 'r');
  const shared = reuse ? Buffer.allocUnsafe(IO_CHUNK) : undefined;
  try {
    for (;;) {
      const buf = shared ?? Buffer.allocUnsafe(IO_CHUNK);
      const n = readSync(fd, buf, 0, IO_CHUNK, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Signature of `basisPath` with the default block length, written to `signaturePath`. */
export function signatureFile(basisPath: string, signaturePath: string): { blockLength: number; signatureBytes: number } {
  const basisLength = fstatOf(basisPath);
  const builder = new SignatureBuilder({ basisLength });
  for (const chunk of readChunks(basisPath, true)) builder.push(chunk); // the builder copies what it keeps
  const signature = builder.finish();
  const sink = new FileSink(signaturePath);
  sink.write(encodeSignature(signature));
  sink.close();
  return { blockLength: signature.blockLength, signatureBytes: sink.bytesWritten };
}

/** Delta of `targetPath` against the signature file; byte-exact when `basisPath` is given. */
export function deltaFile(signaturePath: string, targetPath: string, deltaPath: string, basisPath?: string): DeltaStats & { blockLength: number } {
  const signature = decodeSignature(readFileSync(signaturePath));
  const basis = basisPath === undefined ? undefined : new FileBasisReader(basisPath);
  const sink = new FileSink(deltaPath);
  try {
    const encoder = new DeltaEncoder(signature, basis ? { basis } : {});
    for (const chunk of readChunks(targetPath, true)) for (const out of encoder.push(chunk)) sink.write(out); // the encoder copies
    for (const out of encoder.finish()) sink.write(out);
    return { ...encoder.stats, blockLength: signature.blockLength };
  } finally {
    sink.close();
    basis?.close();
  }
}

/** Applies the delta file to the basis file, writing `outPath`; core checks the result's SHA-256 (as the CLI does). */
export async function patchFile(basisPath: string, deltaPath: string, outPath: string): Promise<{ targetLength: number; targetHash: string }> {
  const basis = new FileBasisReader(basisPath);
  const sink = new FileSink(outPath);
  try {
    // As `deltabox patch` does: SHA-256 on a worker thread from HASH_ON_WORKER_FROM (at present never). The sink
    // writes each piece synchronously (transientPieces): with the worker, copies go straight into its memory.
    // The delta is read into one reused buffer (reusedDeltaChunks): the decoder copies what it keeps.
    const applier = new PatchApplier(basis, {}, { hashOnWorker: basis.length >= HASH_ON_WORKER_FROM, transientPieces: true, reusedDeltaChunks: true });
    for await (const piece of applier.apply(readChunks(deltaPath, true))) sink.write(piece);
    if (!applier.result) throw new Error('patch ended without a verified result');
    return applier.result;
  } finally {
    sink.close();
    basis.close();
  }
}

function fstatOf(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
