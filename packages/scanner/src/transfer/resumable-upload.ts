/**
 * Sends a large whole file through a resumable upload session (docs/API.md §Resumable uploads): opens a
 * session (or picks up the one kept in the state store for the same version), asks the server its offset,
 * and sends only the rest, chunk by chunk, each with its SHA-256. The session id is in the scanner's SQLite
 * state, so a cut connection, a server restart and a scanner restart all resume where the server's
 * acknowledged offset says. A session opened for another version of the file, or another base, is
 * abandoned. Failures propagate unchanged: the caller's retry (the dispatcher's backoff) comes back here.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { SignatureBuilder } from '@deltabox/core';
import type { ManifestEntry } from '@deltabox/protocol';
import type { ApiClient, WriteMeta } from '../http/api-client.js';
import { resumableChunkBytes } from '../constants.js';
import { ScannerError } from '../errors.js';
import type { UploadSessionRow } from '../state/state-store.js';

/** Where sessions are kept between attempts (the StateStore). */
export interface UploadSessionKeeper {
  getUploadSession(path: string): UploadSessionRow | undefined;
  putUploadSession(row: UploadSessionRow): void;
  deleteUploadSession(path: string): void;
}

export interface ResumableUpload {
  client: ApiClient;
  sessions: UploadSessionKeeper;
  path: string;
  /** The stable bytes to send (a snapshot's copy or the file itself; the caller checks its stat after). */
  filePath: string;
  size: number;
  /** WriteMeta with the whole file's `hash`. */
  meta: WriteMeta & { hash: string };
  /** Fed every byte, but only when this attempt sends the file from offset 0 (else left untouched). */
  builder?: SignatureBuilder;
  onBytes?(bytes: number): void;
}

/** Codes after which the server removed the session: forget it here too. */
const SESSION_ENDED = new Set(['HASH_MISMATCH', 'BASE_MISMATCH', 'ALREADY_EXISTS', 'TYPE_CONFLICT', 'BAD_PATH', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND']);

function baseOf(meta: WriteMeta): string {
  return meta.ifMatch ?? (meta.ifNoneMatch ? '*' : '');
}

/** The session to continue and the offset the server holds for it, opening a new one when needed. */
async function sessionFor(u: ResumableUpload): Promise<{ id: string; offset: number }> {
  const { client, sessions, path, size, meta } = u;
  const kept = sessions.getUploadSession(path);
  if (kept !== undefined) {
    if (kept.hash === meta.hash && kept.size === size && kept.base === baseOf(meta)) {
      const offset = await client.uploadOffset(kept.id);
      if (offset !== undefined) return { id: kept.id, offset };
    } else {
      await client.deleteUpload(kept.id); // the file (or its base) changed meanwhile: those bytes are stale
    }
    sessions.deleteUploadSession(path);
  }
  const created = await client.createUpload({
    path, size, hash: meta.hash, mtimeMs: Math.max(0, Math.trunc(meta.mtimeMs)), executable: meta.executable,
    ...(meta.ifMatch === undefined ? {} : { ifMatch: meta.ifMatch }),
    ...(meta.ifNoneMatch ? { ifNoneMatch: true } : {}),
  });
  sessions.putUploadSession({ path, id: created.id, hash: meta.hash, size, base: baseOf(meta) });
  return { id: created.id, offset: created.offset };
}

/**
 * Uploads the rest of the file and resolves to the committed entry; `fromStart` says this attempt sent
 * (and fed the builder) every byte.
 * @throws ScannerError (UNREACHABLE, UPLOAD_CUT: the session is kept for the next attempt; HTTP with the
 * server's code, e.g. HASH_MISMATCH or BASE_MISMATCH: the session is forgotten); fs errors as they are
 */
export async function sendResumable(u: ResumableUpload): Promise<{ entry: ManifestEntry; fromStart: boolean }> {
  let session: { id: string; offset: number };
  try {
    session = await sessionFor(u);
  } catch (err) {
    if (err instanceof ScannerError && err.apiCode === 'NOT_FOUND') u.sessions.deleteUploadSession(u.path);
    throw err;
  }
  const builder = session.offset === 0 ? u.builder : undefined;
  const chunkBytes = resumableChunkBytes(u.size);
  const fh = await open(u.filePath, 'r');
  try {
    let offset = session.offset;
    const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, u.size - offset)));
    for (;;) {
      const want = Math.min(buffer.length, u.size - offset);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buffer, got, want - got, offset + got);
        if (bytesRead === 0) throw new ScannerError('FILE_CHANGED', `${u.path} got shorter while it was being sent`);
        got += bytesRead;
      }
      const chunk = buffer.subarray(0, want);
      builder?.push(chunk);
      let answer: { offset: number; entry?: ManifestEntry };
      try {
        answer = await u.client.patchUpload(session.id, offset, chunk, createHash('sha256').update(chunk).digest());
      } catch (err) {
        if (err instanceof ScannerError && err.apiCode !== undefined && SESSION_ENDED.has(err.apiCode)) u.sessions.deleteUploadSession(u.path);
        throw err;
      }
      u.onBytes?.(want);
      if (answer.entry !== undefined) {
        u.sessions.deleteUploadSession(u.path);
        return { entry: answer.entry, fromStart: builder !== undefined };
      }
      if (answer.offset !== offset + want) {
        throw new ScannerError('PROTOCOL', `the server acknowledged offset ${answer.offset} after a chunk ending at ${offset + want}`);
      }
      offset = answer.offset;
      if (offset >= u.size) throw new ScannerError('PROTOCOL', `the server did not commit ${u.path} at its full size`);
    }
  } finally {
    await fh.close();
  }
}
