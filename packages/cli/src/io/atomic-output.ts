/**
 * Output files for the CLI: `-` is stdout; anything else is written to a temp file beside the target,
 * fsynced and renamed over it only on success, so a failed command leaves no output and never a torn one.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

export interface AtomicOutput {
  write(chunk: Uint8Array): Promise<void>;
  /** Publishes the file (fsync + rename). */
  commit(): Promise<void>;
  /** Removes the temp file; safe to call after a failure at any point. */
  abort(): Promise<void>;
}

async function writeTo(stream: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

export async function openAtomicOutput(path: string): Promise<AtomicOutput> {
  if (path === '-') {
    return {
      write: (chunk) => writeTo(process.stdout, chunk),
      commit: async () => {},
      abort: async () => {},
    };
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.deltabox-tmp`);
  const handle = await open(temp, 'wx', 0o644);
  const stream: WriteStream = createWriteStream('', { fd: handle.fd, autoClose: false });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => stream.end(resolve));
  };
  return {
    write: (chunk) => writeTo(stream, chunk),
    async commit() {
      await close();
      await handle.sync();
      await handle.close();
      await rename(temp, path);
    },
    async abort() {
      await close().catch(() => {});
      await handle.close().catch(() => {});
      await rm(temp, { force: true });
    },
  };
}
