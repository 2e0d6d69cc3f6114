/**
 * Per-device bearer tokens: minted here, only their SHA-256 stored, looked up by hash and compared in
 * constant time. Reads SQLite on every check, so revocation and expiry apply to a running server.
 * Does not know about HTTP (auth/authenticate.ts does).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { openStateDb, resolveServedFolder, type Db } from '../state/database.js';

/** Recognisable prefix: secret scanners and humans can tell a deltabox token at a glance. */
export const TOKEN_PREFIX = 'dbx_';
/** 32 random bytes, base64url: 256 bits, never guessable. */
const TOKEN_BYTES = 32;
/** last_used_at is written at most this often per token, so reads stay reads. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The latest time a JavaScript Date can hold (+275760-09-13): later expiries cannot be shown or compared. */
const MAX_TIME_MS = 8.64e15;

export type TokenErrorCode =
  | 'INVALID_NAME' // empty or longer than 200 characters
  | 'NAME_IN_USE' // an active token already has the name
  | 'INVALID_EXPIRY'; // not a time a Date can hold (past +275760-09-13), or not a number

/** A refused token operation; nothing was written. Callers branch on `code`. */
export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

/**
 * A stored time as a Date-safe number: rows written before expiries were checked may hold anything SQLite
 * stores (6e25, text). Past the Date range is clamped to its end (still "never", for all practical use).
 */
function storedTime(value: unknown): number | undefined {
  if (typeof value !== 'number' || Number.isNaN(value)) return undefined;
  return Math.max(-MAX_TIME_MS, Math.min(MAX_TIME_MS, Math.trunc(value)));
}

export interface TokenInfo {
  name: string;
  createdAt: number;
  expiresAt?: number;
  readOnly: boolean;
  revoked: boolean;
  lastUsedAt?: number;
}

export interface CreateTokenOptions {
  name: string;
  /** Milliseconds since the epoch. */
  expiresAt?: number;
  readOnly?: boolean;
}

export type TokenCheck =
  | { ok: true; name: string; readOnly: boolean }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' };

interface TokenRow {
  id: number;
  name: string;
  hash: string;
  created_at: number;
  expires_at: number | null;
  read_only: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Token table access over an open state database. */
export class TokenStore {
  readonly #db: Db;
  /** Prepared once: it runs on every request. */
  readonly #byHash: Statement;
  readonly #touch: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#byHash = db.prepare('SELECT * FROM tokens WHERE hash = ?');
    this.#touch = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  }

  /**
   * Mints a token and stores its hash. Returns the token; it is never stored or shown again.
   * @throws TokenError INVALID_NAME, INVALID_EXPIRY (past what a Date holds), NAME_IN_USE (an active,
   * unrevoked and unexpired, token has the name); nothing is written then.
   */
  create(opts: CreateTokenOptions, nowMs = Date.now()): string {
    const name = opts.name.trim();
    if (!name || name.length > 200) throw new TokenError('INVALID_NAME', 'token name must be 1-200 characters');
    const { expiresAt } = opts;
    if (expiresAt !== undefined && !(Number.isFinite(expiresAt) && Math.abs(expiresAt) <= MAX_TIME_MS)) {
      throw new TokenError('INVALID_EXPIRY', `expiry ${String(expiresAt)} ms is past the latest time a token can hold (${new Date(MAX_TIME_MS).toISOString()}); leave it out for no expiry`);
    }
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    this.#db.transaction(() => {
      if (this.#active(name, nowMs)) throw new TokenError('NAME_IN_USE', `an active token named '${name}' exists; revoke it first`);
      this.#db
        .prepare('INSERT INTO tokens (name, hash, created_at, expires_at, read_only) VALUES (?, ?, ?, ?, ?)')
        .run(name, hashToken(token), nowMs, expiresAt === undefined ? null : Math.trunc(expiresAt), opts.readOnly ? 1 : 0);
    }).immediate();
    return token;
  }

  /** Every token, oldest first. Times are Date-safe whatever a row holds (see storedTime). */
  list(): TokenInfo[] {
    const rows = this.#db.prepare('SELECT * FROM tokens ORDER BY created_at, id').all() as TokenRow[];
    return rows.map((r) => {
      const info: TokenInfo = { name: String(r.name), createdAt: storedTime(r.created_at) ?? 0, readOnly: r.read_only === 1, revoked: r.revoked_at !== null };
      const expiresAt = r.expires_at === null ? undefined : storedTime(r.expires_at) ?? MAX_TIME_MS;
      if (expiresAt !== undefined) info.expiresAt = expiresAt;
      const lastUsedAt = storedTime(r.last_used_at);
      if (lastUsedAt !== undefined) info.lastUsedAt = lastUsedAt;
      return info;
    });
  }

  /** Revokes every unrevoked token with this name; true when there was one. */
  revoke(name: string, nowMs = Date.now()): boolean {
    const res = this.#db.prepare('UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(nowMs, name);
    return res.changes > 0;
  }

  /** Checks a presented token (the part after `Bearer `). Never throws for bad input. */
  check(token: string | undefined, nowMs = Date.now()): TokenCheck {
    if (!token) return { ok: false, reason: 'missing' };
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return { ok: false, reason: 'malformed' };
    const presented = hashToken(token);
    const row = this.#byHash.get(presented) as TokenRow | undefined;
    // The lookup is by hash, so timing cannot reveal the token; the constant-time compare guards the last step.
    if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(presented, 'hex'))) {
      return { ok: false, reason: 'unknown' };
    }
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    if (row.expires_at !== null && row.expires_at <= nowMs) return { ok: false, reason: 'expired' };
    if (row.last_used_at === null || nowMs - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      try {
        this.#touch.run(nowMs, row.id);
      } catch {
        // Best effort: a full disk (SQLITE_FULL) or a busy database must not turn a valid read into a 500.
      }
    }
    return { ok: true, name: row.name, readOnly: row.read_only === 1 };
  }

  #active(name: string, nowMs: number): boolean {
    const row = this.#db
      .prepare('SELECT 1 FROM tokens WHERE name = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)')
      .get(name, nowMs);
    return row !== undefined;
  }
}

/** Runs `fn` on the tokens of `sdir`; only `create` may make the folder and its state. */
function withStore<T>(sdir: string, create: boolean, fn: (store: TokenStore) => T): T {
  const db = openStateDb(resolveServedFolder(sdir, create), { create });
  try {
    return fn(new TokenStore(db));
  } finally {
    db.close();
  }
}

/**
 * Mints a device token for the folder served from `sdir` (created if missing). Only its SHA-256 is stored.
 * @throws TokenError INVALID_NAME, INVALID_EXPIRY, NAME_IN_USE; ServerFolderError NOT_A_FOLDER
 */
export function createToken(sdir: string, opts: { name: string; expiresAt?: number; readOnly?: boolean }): string {
  return withStore(sdir, true, (s) => s.create(opts));
}

/** Every token ever minted for `sdir`, oldest first, without secrets. */
export function listTokens(sdir: string): Array<{
  name: string;
  createdAt: number;
  expiresAt?: number;
  readOnly: boolean;
  revoked: boolean;
  lastUsedAt?: number;
}> {
  return withStore(sdir, false, (s) => s.list());
}

/** Revokes the tokens named `name`; a running server refuses them from its next request. True if any. */
export function revokeToken(sdir: string, name: string): boolean {
  return withStore(sdir, false, (s) => s.revoke(name));
}

/** True when `token` is currently accepted by the folder's server (used by `serve --issue-token-file`). */
export function isTokenValid(sdir: string, token: string): boolean {
  return withStore(sdir, false, (s) => s.check(token).ok);
}
