/**
 * Output files for the CLI: `-` is stdout; anything else is written to a temp file beside the target,
 * fsynced and renamed over it only on success, so a failed command leaves no output and never a torn one.
 * File calls are synchronous: when write() resolves the bytes are in the kernel, so the caller may reuse
 * the chunk's buffer at once (the patch command reads the basis into one reused buffer), and a command pays no
 * thread-pool round trip per call (open, fsync, close, rename), which on a busy machine is a scheduling delay each.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { CliError, EXIT } from '../exit-codes.js';

/**
 * An error while writing `path` (or its temp file beside it), reported against `path`: the user never sees
 * the temp name. Keeps the original as `cause`.
 */
function outputError(path: string, err: unknown): CliError {
  const code = (err as { code?: unknown })?.code;
  const reason = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
  const hint = code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM'
    ? ' (deltabox writes a temporary file in the same folder, then renames it: that folder must be writable)'
    : '';
  return new CliError(`cannot write ${path}: ${reason}${hint}`, EXIT.badInput, { cause: err });
}

export interface AtomicOutput {
  /** Writes the chunk; for a file output it is written (and the chunk free to reuse) once this resolves. */
  write(chunk: Uint8Array): Promise<void>;
  /** True when write() copies the chunk out before resolving (files), false for stdout. */
  readonly writesThrough: boolean;
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
      writesThrough: false,
      commit: async () => {},
      abort: async () => {},
    };
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.deltabox-tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o644);
  } catch (err) {
    throw outputError(path, err);
  }
  let open = true;
  const close = (): void => {
    if (open) {
      open = false;
      closeSync(fd);
    }
  };
  return {
    async write(chunk) {
      try {
        for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
      } catch (err) {
        throw outputError(path, err);
      }
    },
    writesThrough: true,
    async commit() {
      try {
        fsyncSync(fd);
        close();
        renameSync(temp, path);
      } catch (err) {
        throw outputError(path, err);
      }
    },
    async abort() {
      try {
        close();
      } catch {
        // the temp file goes below either way
      }
      rmSync(temp, { force: true });
    },
  };
}
