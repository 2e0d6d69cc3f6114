/**
 * The local backend's ReadHandle: one open file descriptor, so a reader keeps its version even when the
 * path is replaced or removed meanwhile. Used for current files and for version objects.
 */
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ReadHandle, StorageEntry } from './storage.js';

/** A ReadHandle over an open file; `entry` gives its size, mtime and mode. */
export class LocalReadHandle implements ReadHandle {
  readonly size: number;
  readonly mtimeMs: number;
  readonly executable: boolean;
  readonly statToken?: string;
  #fh: FileHandle | undefined;

  constructor(fh: FileHandle, entry: StorageEntry) {
    this.#fh = fh;
    this.size = entry.size;
    this.mtimeMs = entry.mtimeMs;
    this.executable = entry.executable;
    if (entry.statToken !== undefined) this.statToken = entry.statToken;
  }

  async read(byteOffset: number, length: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(length);
    const filled = await this.readInto(byteOffset, buf);
    return filled === length ? buf : buf.subarray(0, filled);
  }

  async readInto(byteOffset: number, into: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < into.length) {
      const { bytesRead } = await this.#handle().read(into, filled, into.length - filled, byteOffset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  }

  readSync(byteOffset: number, length: number): Uint8Array {
    const fd = this.#handle().fd;
    const buf = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const n = readSync(fd, buf, filled, length - filled, byteOffset + filled);
      if (n === 0) break;
      filled += n;
    }
    return filled === length ? buf : buf.subarray(0, filled);
  }

  stream(start?: number, end?: number): Readable {
    const fh = this.#handle();
    this.#fh = undefined;
    return fh.createReadStream({ start, end, autoClose: true, highWaterMark: 256 * 1024 });
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }

  #handle(): FileHandle {
    if (!this.#fh) throw new Error('read handle already closed or streamed');
    return this.#fh;
  }
}
