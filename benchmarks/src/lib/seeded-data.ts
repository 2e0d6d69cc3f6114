/**
 * Deterministic benchmark inputs, streamed to disk in 1 MiB pieces: a random basis, and targets made from it by
 * seeded edits (scattered inserts/deletes/overwrites, an append) or from an unrelated stream. The same seed gives
 * the same bytes on every machine. It never holds a whole file in memory, and it does not time anything.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/** Piece size for every read and write here. */
export const IO_CHUNK = 1 << 20;

/**
 * An endless seeded byte stream: AES-128-CTR over zeros, keyed by SHA-256 of the seed. Incompressible, several
 * GB/s with AES-NI, and identical everywhere — which a JS PRNG would also be, only ~10x slower for 1 GiB files.
 */
export class SeededByteStream {
  readonly #cipher;
  readonly #zeros = Buffer.alloc(IO_CHUNK);

  constructor(seed: string) {
    const key = createHash('sha256').update(`deltabox-bench:${seed}`).digest().subarray(0, 16);
    this.#cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  }

  /** The next `length` bytes of the stream (a fresh buffer). */
  next(length: number): Buffer {
    const parts: Buffer[] = [];
    for (let left = length; left > 0; left -= IO_CHUNK) parts.push(this.#cipher.update(this.#zeros.subarray(0, Math.min(IO_CHUNK, left))));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/** mulberry32: a small seeded PRNG for choosing edit offsets, kinds and lengths. Returns [0, 1). */
export function seededRandom(seed: string): () => number {
  let a = createHash('sha256').update(`deltabox-bench-prng:${seed}`).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What was written: length and SHA-256, to check patch outputs against. */
export interface WrittenFile {
  path: string;
  length: number;
  sha256: string;
}

/** One edit of the basis; `byteOffset` is in basis coordinates. */
export interface Edit {
  kind: 'insert' | 'delete' | 'overwrite';
  byteOffset: number;
  length: number;
}

/** Writes `length` bytes of the seeded stream to `path`. */
export function writeRandomFile(path: string, length: number, seed: string): WrittenFile {
  const stream = new SeededByteStream(seed);
  const sink = new HashingWriter(path);
  for (let left = length; left > 0; left -= IO_CHUNK) sink.write(stream.next(Math.min(IO_CHUNK, left)));
  return sink.close();
}

/**
 * `count` edits spread over the basis: one per equal segment, at a random offset inside it, kinds cycling
 * insert/delete/overwrite in a seeded order, lengths 1..maxEditLength. Sorted, never overlapping.
 */
export function planScatteredEdits(basisLength: number, count: number, seed: string, maxEditLength = 1024): Edit[] {
  const random = seededRandom(seed);
  const kinds: Edit['kind'][] = Array.from({ length: count }, (_, i) => (['insert', 'delete', 'overwrite'] as const)[i % 3]!);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const segment = Math.floor(basisLength / count);
  return kinds.map((kind, i) => {
    const length = 1 + Math.floor(random() * maxEditLength);
    const byteOffset = i * segment + Math.floor(random() * Math.max(1, segment - length));
    return { kind, byteOffset, length };
  });
}

/** Writes the basis with `edits` applied (new bytes from the seeded stream) to `targetPath`. */
export function writeEditedFile(basisPath: string, basisLength: number, targetPath: string, edits: readonly Edit[], seed: string): WrittenFile {
  const fresh = new SeededByteStream(seed);
  const basisFd = openSync(basisPath, 'r');
  const sink = new HashingWriter(targetPath);
  try {
    let at = 0;
    for (const edit of edits) {
      copyRange(basisFd, at, edit.byteOffset, sink);
      at = edit.byteOffset;
      if (edit.kind !== 'delete') sink.write(fresh.next(edit.length));
      if (edit.kind !== 'insert') at += edit.length;
    }
    copyRange(basisFd, at, basisLength, sink);
  } finally {
    closeSync(basisFd);
  }
  return sink.close();
}

/** Writes the basis followed by `appendLength` seeded bytes. */
export function writeAppendedFile(basisPath: string, basisLength: number, targetPath: string, appendLength: number, seed: string): WrittenFile {
  return writeEditedFile(basisPath, basisLength, targetPath, [{ kind: 'insert', byteOffset: basisLength, length: appendLength }], seed);
}

/** SHA-256 and length of a file, read in 1 MiB pieces. */
export function hashFile(path: string): { length: number; sha256: string } {
  const fd = openSync(path, 'r');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(IO_CHUNK);
  let length = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, IO_CHUNK, null)) > 0; length += n) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { length, sha256: hash.digest('hex') };
}

function copyRange(fd: number, start: number, end: number, sink: HashingWriter): void {
  const buf = Buffer.allocUnsafe(IO_CHUNK);
  for (let at = start; at < end; ) {
    const n = readSync(fd, buf, 0, Math.min(IO_CHUNK, end - at), at);
    if (n === 0) throw new Error(`basis ended at ${at}, expected ${end} bytes`);
    sink.write(buf.subarray(0, n));
    at += n;
  }
}

/** Writes pieces to a new file while hashing them. */
class HashingWriter {
  readonly #fd: number;
  readonly #hash = createHash('sha256');
  #length = 0;

  constructor(readonly path: string) {
    this.#fd = openSync(path, 'w');
  }

  write(bytes: Uint8Array): void {
    this.#hash.update(bytes);
    for (let done = 0; done < bytes.length; ) done += writeSync(this.#fd, bytes, done, bytes.length - done);
    this.#length += bytes.length;
  }

  close(): WrittenFile {
    closeSync(this.#fd);
    return { path: this.path, length: this.#length, sha256: this.#hash.digest('hex') };
  }
}
