/** JSON shapes of the v1 API. */

export type EntryType = 'file' | 'dir';

/** One line of the manifest (GET /v1/files) and the body of a successful write. */
export interface ManifestEntry {
  path: string;
  type: EntryType;
  /** Bytes; 0 for folders. */
  size: number;
  /** Whole milliseconds since the epoch (toward zero), negative before 1970. */
  mtimeMs: number;
  /** SHA-256 hex of the content; absent for folders. */
  hash?: string;
  executable?: boolean;
  /** Journal revision that last changed this entry. */
  revision: number;
}

export interface MoveRequest {
  from: string;
  to: string;
  /** When set, the move happens only if `from` currently has this content hash. */
  ifMatch?: string;
  /** Replace an existing file at `to` (default false: 409 when `to` exists). */
  overwrite?: boolean;
}

/** The JSON part named `meta` that precedes each file part of a batch upload. */
export interface BatchPartMeta {
  path: string;
  size: number;
  /** Milliseconds since the epoch: negative before 1970, a fraction allowed (applied on disk). */
  mtimeMs: number;
  executable?: boolean;
  /** SHA-256 hex of the part's bytes; verified. */
  hash: string;
}

export type BatchResult =
  | { path: string; ok: true; entry: ManifestEntry }
  | { path: string; ok: false; error: ApiErrorBody };

export interface BatchResponse {
  results: BatchResult[];
}

export type ChangeOp = 'put' | 'delete' | 'move' | 'mkdir' | 'rmdir';

export interface ChangeRecord {
  revision: number;
  op: ChangeOp;
  path: string;
  /** For `move`: the old path. */
  from?: string;
  hash?: string;
  size?: number;
  timeMs: number;
}

export interface ChangesResponse {
  changes: ChangeRecord[];
  /** Latest revision the server has; pass it as `since` next time. */
  revision: number;
}

export interface HealthResponse {
  ok: true;
  version: string;
  revision: number;
}

/**
 * GET /v1/folder: which folder the server serves, so that a scanner can refuse a client folder that is the
 * server's folder, lies inside it, or contains it (syncing such a folder deletes the user's files).
 * Token required: device and inode numbers say something about the server's disk.
 */
export interface FolderIdentityResponse {
  /** Random id made the first time the server used this folder, kept in its state folder. */
  folderId: string;
  /** `st_dev` and `st_ino` of the server folder's root, as decimal strings (from a bigint stat). */
  dev: string;
  ino: string;
}

/** POST /v1/uploads: opens a resumable upload of a whole file (docs/API.md §Resumable uploads). */
export interface UploadCreateRequest {
  path: string;
  /** Bytes of the whole file. */
  size: number;
  /** SHA-256 hex of the whole file; the commit happens only when the staged bytes have it. */
  hash: string;
  mtimeMs: number;
  executable?: boolean;
  /** Commit only if the path still has this content hash (as If-Match on PUT). */
  ifMatch?: string;
  /** Commit only if the path does not exist (as If-None-Match: * on PUT). */
  ifNoneMatch?: boolean;
}

/** Answer to POST /v1/uploads (201, Location: the session's URL). */
export interface UploadCreateResponse {
  id: string;
  /** Bytes the server holds (0 for a new session). */
  offset: number;
  /** When the session is swept if unfinished, ms since the epoch. */
  expiresAt: number;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  /** For BASE_MISMATCH: the content hash the server holds now (absent when the file does not exist). */
  currentHash?: string;
}
