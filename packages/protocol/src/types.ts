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
  /**
   * This device moved `from` to `to`, and `from` has since been deleted on the server (a move beats a delete):
   * the server brings the deleted file back at `to` from its history (its last version must have hash
   * `ifMatch`, which is then required), unless another device already brought that file back elsewhere
   * (409 MOVED_ELSEWHERE with `current`, where it is now). Arbitrates one folder moved on several devices.
   */
  revive?: boolean;
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
  /**
   * Create only (a file's If-None-Match: *): a path the server already holds with other content is refused
   * with BASE_MISMATCH (its current entry in the result) and left as it is. Two-way devices set it.
   */
  ifNoneMatch?: boolean;
  /**
   * Replace only this version (a file's If-Match: its content hash): a path the server holds with other content,
   * or not at all, is refused with BASE_MISMATCH (its current entry in the result) and left as it is; the same
   * content again succeeds (a retry after a lost answer). Not with `ifNoneMatch`.
   */
  ifMatch?: string;
  /**
   * The part's bytes are a delta (FORMAT.md §Delta) against the `ifMatch` version, which it needs: `size` is the
   * delta's length, `hash` the SHA-256 of the file it makes. Refused alone (DELTA_MALFORMED, HASH_MISMATCH,
   * BASE_MISMATCH) when it does not apply.
   */
  delta?: boolean;
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
  /**
   * Oldest `since` still answerable: records up to this revision were pruned (ServerLimits.journalRetentionMs);
   * 0 when nothing was pruned.
   */
  floor: number;
  /**
   * Set when `since < floor`: the records after `since` are partly gone, so `changes` is empty. The device must
   * merge with the manifest in a way that deletes nothing (a missing file may be a delete it never heard of, or
   * a file it never had), then follow on from the manifest's revision.
   */
  expired?: true;
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
  /** Name of the token that asked (its device): the name conflict copies and history carry. */
  device: string;
  /** The token is read-only: every write would get 403. */
  readOnly: boolean;
}

/** What an upload session's bytes are: the whole file, or a core delta against the version `ifMatch` names. */
export type UploadKind = 'file' | 'delta';

/** POST /v1/uploads: opens a resumable upload of a whole file or a delta (docs/API.md §Resumable uploads). */
export interface UploadCreateRequest {
  path: string;
  /** Absent: `file`. A `delta` session needs `ifMatch` (its base) and may not have `ifNoneMatch`. */
  kind?: UploadKind;
  /** Bytes the session will receive: the whole file, or the delta. */
  size: number;
  /** SHA-256 hex of the whole resulting file; the commit happens only when the result has it. */
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
  /** For BASE_MISMATCH: the content hash the server holds now (absent when no file is there). */
  currentHash?: string;
  /** For BASE_MISMATCH: the server's entry at the path now (absent when nothing is there). */
  current?: ManifestEntry;
  /** For PARENT_CHANGED: the journal record that moved or removed a folder on the way to the path. */
  record?: ChangeRecord;
}

/** A past version of a file (GET history, trash). Times are integer ms since the epoch. */
export interface VersionInfo {
  /** Version id: what `restore` and `GET /v1/versions/<id>` take. */
  id: number;
  path: string;
  /** SHA-256 hex of its bytes. */
  hash: string;
  size: number;
  mtimeMs: number;
  executable: boolean;
  /** Name of the token that wrote it, when known. */
  device?: string;
  /** Revision of the change that wrote it. */
  revision: number;
  /** When it became the current version at this path. */
  sinceMs: number;
  /** When it stopped being current (replaced, deleted or overwritten). */
  timeMs: number;
  /** It ended in a delete (or a folder removal). */
  deleted: boolean;
}

/** GET /v1/history/<path>: the current version (absent when deleted) and the past ones, newest first. */
export interface HistoryResponse {
  path: string;
  current?: ManifestEntry & { device?: string };
  versions: VersionInfo[];
}

/** GET /v1/trash: deleted paths with their last version, most recently deleted first. */
export interface TrashResponse {
  entries: VersionInfo[];
}

/**
 * POST /v1/restore. A file: `versionId` or `at` (exactly one), optionally to a new path `to`. A folder
 * (`folder: true`, `path` '' for the whole tree): `at` only; every file under it that existed at `at`
 * and differs now gets that version back (files created since are left alone).
 */
export interface RestoreRequest {
  path: string;
  versionId?: number;
  at?: number;
  to?: string;
  folder?: boolean;
}

/** What a restore wrote: one entry per restored file (each a new revision in the journal). */
export interface RestoreResponse {
  restored: ManifestEntry[];
  /** Folder restores only: files that could not be restored (e.g. a folder is at the path now). */
  failed?: Array<{ path: string; error: ApiErrorBody }>;
}
