/**
 * Resumable upload sessions (docs/API.md §Resumable uploads): one SQLite row and one staging file,
 * `<root>/.deltabox/uploads/<id>`, per session. A session's offset moves only after the bytes before it
 * are fsynced, so after a crash or restart the file holds at least `offset` bytes; anything past the
 * offset is cut off by the next append. Sessions are bound to the hash of the token that opened them,
 * expire when untouched for `expiryMs`, and are swept by `sweep()` (at start and periodically).
 *
 * A session's bytes are a whole file or a delta (`kind`); what they become at commit is the route's business.
 *
 * The table is created here (CREATE TABLE IF NOT EXISTS) rather than in database.ts's migration list: it
 * is private to this module, holds only transient sessions, and dropping it loses nothing but progress.
 * A table of a server without delta sessions gets its `kind` column here too (every old row is a file).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Statement } from 'better-sqlite3';
import { STATE_DIR, type UploadKind } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { Db } from '../state/database.js';

/** The folder holding staging files, inside the state folder (never swept by Storage.sweepStaged). */
export const UPLOADS_DIR = 'uploads';
const ID = /^[0-9a-f]{32}$/;
/** How long a PATCH waits for another PATCH of the same session to end (its socket was just cut). */
const BUSY_WAIT_MS = 2_000;

export interface UploadSession {
  id: string;
  tokenHash: string;
  path: string;
  kind: UploadKind;
  /** Bytes the session receives (the file's, or the delta's). */
  size: number;
  /** SHA-256 of the resulting file. */
  hash: string;
  mtimeMs: number;
  executable: boolean;
  ifMatch?: string;
  ifNoneMatch: boolean;
  /** Bytes held durably. */
  offset: number;
  createdAt: number;
  /** Last create or append; the session expires `expiryMs` after it. */
  touchedAt: number;
}

export type NewUpload = Omit<UploadSession, 'id' | 'offset' | 'createdAt' | 'touchedAt'>;

export interface UploadStoreLimits {
  maxSessionsPerToken: number;
  maxStagedBytes: number;
  expiryMs: number;
}

interface Row {
  id: string;
  token_hash: string;
  path: string;
  size: number;
  hash: string;
  mtime_ms: number;
  executable: number;
  if_match: string | null;
  if_none_match: number;
  offset: number;
  created_at: number;
  touched_at: number;
  kind: UploadKind;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS upload_sessions (
  id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL,
  mtime_ms INTEGER NOT NULL, executable INTEGER NOT NULL, if_match TEXT, if_none_match INTEGER NOT NULL,
  offset INTEGER NOT NULL, created_at INTEGER NOT NULL, touched_at INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'file'
) WITHOUT ROWID`;

/** Adds `kind` to a table made before delta sessions. */
function addKindColumn(db: Db): void {
  const columns = db.prepare('PRAGMA table_info(upload_sessions)').all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'kind')) db.exec("ALTER TABLE upload_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'file'");
}

function sessionOf(r: Row): UploadSession {
  const s: UploadSession = {
    id: r.id, tokenHash: r.token_hash, path: r.path, kind: r.kind, size: r.size, hash: r.hash, mtimeMs: r.mtime_ms,
    executable: r.executable === 1, ifNoneMatch: r.if_none_match === 1, offset: r.offset, createdAt: r.created_at, touchedAt: r.touched_at,
  };
  if (r.if_match !== null) s.ifMatch = r.if_match;
  return s;
}

/** Writes all of `chunk` at `position`. */
async function writeAt(fh: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}

export class UploadStore {
  readonly #db: Db;
  readonly #dir: string;
  readonly #limits: UploadStoreLimits;
  readonly #now: () => number;
  /** Sessions with a PATCH or commit running: a second one is refused, never interleaved. */
  readonly #busy = new Map<string, Promise<void>>();
  readonly #stmts: Record<'insert' | 'get' | 'count' | 'staged' | 'setOffset' | 'remove' | 'expired' | 'ids' | 'deltas', Statement>;
  /** Called with each session removed (finished, abandoned or swept), after its row is gone. */
  onRemoved: (session: UploadSession) => void = () => {};

  constructor(db: Db, root: string, limits: UploadStoreLimits, now: () => number = Date.now) {
    this.#db = db;
    this.#dir = join(root, STATE_DIR, UPLOADS_DIR);
    this.#limits = limits;
    this.#now = now;
    db.exec(SCHEMA);
    addKindColumn(db);
    this.#stmts = {
      insert: db.prepare(`INSERT INTO upload_sessions (id, token_hash, path, size, hash, mtime_ms, executable, if_match, if_none_match,
        offset, created_at, touched_at, kind) VALUES (@id, @tokenHash, @path, @size, @hash, @mtimeMs, @executable,
        @ifMatch, @ifNoneMatch, 0, @now, @now, @kind)`),
      get: db.prepare('SELECT * FROM upload_sessions WHERE id = ?'),
      count: db.prepare('SELECT count(*) AS n FROM upload_sessions WHERE token_hash = ? AND touched_at > ?'),
      staged: db.prepare('SELECT coalesce(sum(size), 0) AS n FROM upload_sessions WHERE touched_at > ?'),
      setOffset: db.prepare('UPDATE upload_sessions SET offset = ?, touched_at = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM upload_sessions WHERE id = ?'),
      expired: db.prepare('SELECT id FROM upload_sessions WHERE touched_at <= ?'),
      ids: db.prepare('SELECT id FROM upload_sessions'),
      deltas: db.prepare("SELECT * FROM upload_sessions WHERE kind = 'delta' AND touched_at > ?"),
    };
  }

  /** The staging file of session `id`. */
  filePath(id: string): string {
    return join(this.#dir, id);
  }

  /** Sessions untouched at or before this time are expired. */
  #cutoff(): number {
    return this.#now() - this.#limits.expiryMs;
  }

  /** When `session` expires, ms since the epoch. */
  expiresAt(session: UploadSession): number {
    return session.touchedAt + this.#limits.expiryMs;
  }

  /**
   * Opens a session with an empty, fsynced staging file.
   * @throws ApiError TOO_MANY_UPLOADS (per token), INSUFFICIENT_STORAGE (staged bytes over the cap)
   */
  async create(upload: NewUpload): Promise<UploadSession> {
    const cutoff = this.#cutoff();
    const open_ = (this.#stmts.count.get(upload.tokenHash, cutoff) as { n: number }).n;
    if (open_ >= this.#limits.maxSessionsPerToken) {
      throw new ApiError('TOO_MANY_UPLOADS', `this token holds ${open_} open upload sessions (limit ${this.#limits.maxSessionsPerToken})`);
    }
    const staged = (this.#stmts.staged.get(cutoff) as { n: number }).n;
    if (staged + upload.size > this.#limits.maxStagedBytes) {
      throw new ApiError('INSUFFICIENT_STORAGE', `open upload sessions would stage ${staged + upload.size} bytes (limit ${this.#limits.maxStagedBytes})`);
    }
    await this.#ensureDir();
    const id = randomBytes(16).toString('hex');
    const fh = await open(this.filePath(id), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const now = this.#now();
    this.#stmts.insert.run({
      id, tokenHash: upload.tokenHash, path: upload.path, kind: upload.kind, size: upload.size, hash: upload.hash, mtimeMs: upload.mtimeMs,
      executable: upload.executable ? 1 : 0, ifMatch: upload.ifMatch ?? null, ifNoneMatch: upload.ifNoneMatch ? 1 : 0, now,
    });
    return this.get(id, upload.tokenHash)!;
  }

  /** The live session `id` opened with `tokenHash`; undefined when unknown, expired or another token's. */
  get(id: string, tokenHash: string): UploadSession | undefined {
    if (!ID.test(id)) return undefined;
    const row = this.#stmts.get.get(id) as Row | undefined;
    if (!row || row.token_hash !== tokenHash || row.touched_at <= this.#cutoff()) return undefined;
    return sessionOf(row);
  }

  /**
   * Runs `work` with `id` marked busy. A PATCH arriving while another runs (a client resuming before the
   * server noticed its old connection drop) waits up to BUSY_WAIT_MS for it to end.
   * @throws ApiError UPLOAD_OFFSET_MISMATCH when the other PATCH or commit is still running after that
   */
  async exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    const running = this.#busy.get(id);
    if (running !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, BUSY_WAIT_MS)))]);
      clearTimeout(timer);
      if (this.#busy.has(id)) throw new ApiError('UPLOAD_OFFSET_MISMATCH', 'another PATCH of this upload is still running; HEAD the offset and retry');
    }
    let release = (): void => {};
    this.#busy.set(id, new Promise<void>((resolve) => (release = resolve)));
    try {
      return await work();
    } finally {
      this.#busy.delete(id);
      release();
    }
  }

  /**
   * Appends `body` at `session.offset` (call inside `exclusive`). With `checksum` (SHA-256 of the body) the
   * chunk is all or nothing: a mismatch or a cut drops it. Without one, the bytes that arrived before a cut
   * are kept. Either way the bytes are fsynced before the offset is recorded. Returns the new offset.
   * @throws ApiError CHECKSUM_MISMATCH, PAYLOAD_TOO_LARGE (past the declared size or `maxBytes`); the body's error
   */
  async append(session: UploadSession, body: AsyncIterable<Uint8Array>, maxBytes: number, checksum?: Buffer): Promise<number> {
    const fh = await open(this.filePath(session.id), constants.O_WRONLY | constants.O_NOFOLLOW);
    let written = 0;
    try {
      await fh.truncate(session.offset); // bytes past the acknowledged offset were never acknowledged
      const hasher = createHash('sha256');
      try {
        for await (const chunk of body) {
          if (written + chunk.length > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `a PATCH body may hold at most ${maxBytes} bytes`);
          if (session.offset + written + chunk.length > session.size) {
            throw new ApiError('PAYLOAD_TOO_LARGE', `the upload was declared with ${session.size} bytes`);
          }
          await writeAt(fh, chunk, session.offset + written);
          hasher.update(chunk);
          written += chunk.length;
        }
      } catch (err) {
        if (checksum !== undefined || err instanceof ApiError) written = 0;
        await this.#acknowledge(fh, session, written);
        throw err;
      }
      if (checksum !== undefined && !hasher.digest().equals(checksum)) {
        await fh.truncate(session.offset);
        throw new ApiError('CHECKSUM_MISMATCH', `the body does not match its Upload-Checksum; offset stays ${session.offset}`);
      }
      return await this.#acknowledge(fh, session, written);
    } finally {
      await fh.close();
    }
  }

  /** Drops anything past `offset + written`, fsyncs, then records the new offset. */
  async #acknowledge(fh: FileHandle, session: UploadSession, written: number): Promise<number> {
    const offset = session.offset + written;
    await fh.truncate(offset);
    await fh.sync();
    if (written > 0) this.#stmts.setOffset.run(offset, this.#now(), session.id);
    return offset;
  }

  /** The live delta sessions (their bases are pinned while they live). */
  liveDeltas(): UploadSession[] {
    return (this.#stmts.deltas.all(this.#cutoff()) as Row[]).map(sessionOf);
  }

  /** Removes a session and its staging file. Idempotent. */
  async remove(id: string): Promise<void> {
    const row = this.#stmts.get.get(id) as Row | undefined;
    this.#stmts.remove.run(id);
    if (row) this.onRemoved(sessionOf(row));
    await unlink(this.filePath(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Removes expired sessions and staging files without a session (a crash between file and row). Returns how many. */
  async sweep(): Promise<number> {
    let removed = 0;
    for (const { id } of this.#stmts.expired.all(this.#cutoff()) as { id: string }[]) {
      if (this.#busy.has(id)) continue;
      await this.remove(id);
      removed++;
    }
    const known = new Set((this.#stmts.ids.all() as { id: string }[]).map((r) => r.id));
    const names = await readdir(this.#dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    for (const name of names) {
      if (known.has(name) || this.#busy.has(name)) continue;
      await unlink(join(this.#dir, name)).catch(() => undefined);
      removed++;
    }
    return removed;
  }

  /** The staging folder exists and is a real folder (a planted symlink is refused, not followed). */
  async #ensureDir(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    if (!(await lstat(this.#dir)).isDirectory()) throw new Error(`${this.#dir} is not a folder (a symlink is refused)`);
  }
}

/** The hash a session stores for the bearer token of a request (never the token itself). */
export function tokenHashOf(authorization: string | undefined): string {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
