/** Input files for the CLI: `-` is stdin; files are read in 1 MiB chunks; a basis gives positional reads. */
import { fstatSync, openSync, readSync, closeSync } from 'node:fs';
import type { SyncBasisReader } from '@deltabox/core';
import { CliError, EXIT } from '../exit-codes.js';

const CHUNK = 1 << 20;

/**
 * The chunks of an input. A file is read with readSync, a fresh buffer per chunk (consumers may keep views):
 * a command has nothing else to do meanwhile, and each asynchronous read would be a round trip through libuv's
 * thread pool, which on a busy machine costs a scheduling delay per chunk (a small command's start-up).
 * With `reuseBuffer` a file is read into one buffer that the next chunk overwrites: no allocation and no page
 * faults for fresh memory per chunk (most of the system time of a literal-heavy patch), for consumers that are
 * done with a chunk when they ask for the next (the patcher with reusedDeltaChunks). stdin is fresh chunks.
 */
export function inputStream(path: string, options: { reuseBuffer?: boolean } = {}): AsyncIterable<Uint8Array> {
  return path === '-' ? (process.stdin as AsyncIterable<Uint8Array>) : fileChunks(path, options.reuseBuffer ?? false);
}

async function* fileChunks(path: string, reuseBuffer: boolean): AsyncGenerator<Uint8Array> {
  const fd = openSync(path, 'r');
  const shared = reuseBuffer ? Buffer.allocUnsafe(CHUNK) : undefined;
  try {
    for (;;) {
      const buf = shared ?? Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) return;
      yield n === CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole small input (a signature), refusing more than `maxBytes`. */
export async function readSmallInput(path: string, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of inputStream(path)) {
    total += chunk.length;
    if (total > maxBytes) throw new Error(`${path}: larger than ${maxBytes} bytes`);
    parts.push(chunk);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A basis file opened for positional reads (sync for the delta encoder; the patcher accepts it too). */
export interface FileBasis extends SyncBasisReader {
  /** Reads into `into` at `byteOffset`; returns the bytes read (fewer only at the end of the file). */
  readInto(byteOffset: number, into: Uint8Array): number;
  close(): void;
}

/** Size of the open file `fd`; a folder (or other non-file) is refused by name, not read as 4096 bytes. */
function regularFileSize(fd: number, path: string, role: string): number {
  const st = fstatSync(fd);
  if (st.isDirectory()) {
    closeSync(fd);
    throw new CliError(`${path} is a folder; ${role} must be a file`, EXIT.badInput);
  }
  return st.size;
}

/**
 * Opens BASIS for positional reads. With `reuseBuffer`, every read returns a view into one buffer that the next
 * read overwrites: no allocation (and no page faults for fresh memory) per read, which is most of the system
 * time of a large patch. Only for consumers that are done with a piece before the next read: the delta
 * encoder (it copies what it keeps) and a patch whose output is written synchronously.
 */
export function openFileBasis(path: string, role = 'the basis', options: { reuseBuffer?: boolean } = {}): FileBasis {
  if (path === '-') throw new CliError('the basis must be a file (it is read at random offsets), not stdin', EXIT.usage);
  const fd = openSync(path, 'r');
  const length = regularFileSize(fd, path, role);
  let shared = Buffer.alloc(0);
  const readInto = (byteOffset: number, into: Uint8Array): number => {
    let got = 0;
    while (got < into.length) {
      const r = readSync(fd, into, got, into.length - got, byteOffset + got);
      if (r === 0) break;
      got += r;
    }
    return got;
  };
  return {
    length,
    read(byteOffset, n) {
      let out: Buffer;
      if (options.reuseBuffer) {
        if (shared.length < n) shared = Buffer.allocUnsafe(Math.max(n, 64 * 1024));
        out = shared.subarray(0, n);
      } else {
        out = Buffer.allocUnsafe(n);
      }
      const got = readInto(byteOffset, out);
      return got === n ? out : out.subarray(0, got);
    },
    readInto,
    close: () => closeSync(fd),
  };
}

/** Size of a regular file input, or undefined for stdin. @throws CliError for a folder. */
export function inputSize(path: string, role = 'the input'): number | undefined {
  if (path === '-') return undefined;
  const fd = openSync(path, 'r');
  const size = regularFileSize(fd, path, role);
  closeSync(fd);
  return size;
}
