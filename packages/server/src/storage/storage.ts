/**
 * The Storage interface: where the mirror's bytes live. Its comments are its contract; every backend runs
 * the conformance suite in test/support/storage-conformance.ts. The local folder (local-storage.ts) is the first
 * backend; version history or distributed storage would be others.
 *
 * Shared rules for every method:
 * - `path` is a relative POSIX path already valid under the protocol's path rule (NFC, no `.`/`..`, not
 *   the state folder). Backends re-check it and throw PathError (code BAD_PATH) otherwise.
 * - Backends never follow a symlink inside the root, for reading or writing: a symlink or special file on
 *   the way to the target, or as the target, is a StorageError SYMLINK.
 * - Failures are StorageError (codes in storage-error.ts) when they mean something to the caller
 *   (NOT_FOUND, TYPE_CONFLICT, ALREADY_EXISTS, NOT_EMPTY, SYMLINK, NO_SPACE); anything else is a bug or an
 *   I/O fault and propagates unchanged.
 * - A change is either complete and durable (data and directory entry synced) or not visible at all.
 * - Backends do no locking between callers: callers serialize writes to one path.
 */
import type { Readable } from 'node:stream';
import type { EntryType } from '@deltabox/protocol';

export interface StorageEntry {
  path: string;
  type: EntryType;
  /** Bytes; 0 for folders. */
  size: number;
  /** Integer milliseconds since the epoch. */
  mtimeMs: number;
  /** Any execute bit set (files only; false for folders). */
  executable: boolean;
  /**
   * Files, optional: an opaque value that changes whenever the file may have been replaced or rewritten by
   * anyone (the local backend: inode and mtime with its sub-millisecond part). Equal tokens and sizes mean
   * the indexed content is still there; the server re-hashes a file whose token moved. Backends without
   * one leave it out and are compared by size, mtime and executable bit.
   */
  statToken?: string;
}

/** Metadata applied when a staged file is committed. */
export interface CommitMeta {
  /**
   * Milliseconds since the epoch, negative before 1970, a fraction allowed; when absent the file keeps the
   * commit time. The committed entry carries it in whole milliseconds (toward zero), even where the
   * filesystem stores a nearer representable time.
   */
  mtimeMs?: number;
  executable: boolean;
}

/**
 * An open version of a file. It keeps reading that version even if the path is replaced or removed
 * afterwards (a reader never sees a mix of two versions).
 */
export interface ReadHandle {
  readonly size: number;
  readonly mtimeMs: number;
  readonly executable: boolean;
  /** StorageEntry.statToken of the version this handle reads. */
  readonly statToken?: string;
  /** Reads up to `length` bytes at `byteOffset`; shorter only at the end of the file. */
  read(byteOffset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: read() done synchronously (the core's byte-exact delta encoder reads its basis so). A backend
   * that cannot read synchronously leaves it out; download deltas from its bytes then go by signature.
   */
  readSync?(byteOffset: number, length: number): Uint8Array;
  /**
   * Optional: reads into `into` at `byteOffset`, returning how many bytes it read (fewer only at the end of
   * the file): a patch then reads its copies into one buffer instead of a fresh one per piece.
   */
  readInto?(byteOffset: number, into: Uint8Array): Promise<number>;
  /**
   * Streams bytes `start..end` (inclusive; whole file when omitted). Takes ownership of the handle: it
   * is closed when the stream ends, fails or is destroyed; do not call close() as well.
   */
  stream(start?: number, end?: number): Readable;
  /** Releases the handle. Idempotent. */
  close(): Promise<void>;
}

/**
 * A staged file made visible by StagedFile.place but not yet settled: the caller records it, then calls
 * `settle` (success) or `undo` then `settle` (the record failed).
 */
/**
 * Folders (relative paths) already seen to be real folders by a caller that holds them share-locked for a
 * group of operations (group-commit.ts): checks of paths below them skip the lstat of each. Only for that
 * group: a folder may be replaced out of band at any other time.
 */
export type FolderMemo = Set<string>;

export interface Placement {
  /** The committed entry (mtime in whole milliseconds as requested). */
  entry: StorageEntry;
  /** Parent folders place created, outermost first. */
  createdDirs: StorageEntry[];
  /** Puts the previous version (or nothing) back at the path. */
  undo(): Promise<void>;
  /** Makes the rename (or its undo) and the created folders durable; the file is acknowledged after this. */
  settle(): Promise<void>;
}

/** A new version being written: invisible (not listed, not at any path) until commit. */
export interface StagedFile {
  /** Appends bytes. @throws StorageError NO_SPACE; Error once sealed */
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly size: number;
  /** SHA-256 hex of everything written so far (content hash of the API). */
  digest(): string;
  /**
   * Makes the bytes durable and atomically visible at `path`, replacing a file there; creates missing
   * parent folders. After commit the staged file is gone.
   *
   * `publish` (optional, synchronous) runs right after the new version became visible, with its entry:
   * callers record it (index, journal) there. If `publish` throws, the previous version (or nothing) is
   * put back at `path` and the error propagates, so a version is never visible without its record.
   * @throws StorageError TYPE_CONFLICT (a folder is at `path` or a file is where a parent folder should
   * be), SYMLINK, NO_SPACE; or what `publish` threw. On throw the previous version is at `path` and the
   * staged bytes are discarded.
   */
  commit(
    path: string,
    meta: CommitMeta,
    publish?: (entry: StorageEntry, createdDirs: StorageEntry[]) => void,
  ): Promise<{ entry: StorageEntry; createdDirs: StorageEntry[] }>;
  /**
   * Applies `meta` and makes the bytes durable, still invisible; no more writes. The slow part of a commit,
   * meant to run for many files at once (group commit) before any lock is taken. Idempotent for the same
   * meta; place and commit then skip it. @throws NO_SPACE; Error when sealed before with other meta
   */
  seal(meta: CommitMeta): Promise<void>;
  /**
   * The first half of commit, for callers that record many files in one step (group commit): seals if
   * needed, creates missing parents and makes the bytes visible at `path`, replacing a file there. Not yet
   * durable as a directory entry: call `settle` before acknowledging. On throw nothing changed at `path`
   * and the staged bytes are discarded. @throws TYPE_CONFLICT, SYMLINK, NO_SPACE
   */
  place(path: string, meta: CommitMeta, folders?: FolderMemo): Promise<Placement>;
  /** Deletes the staged bytes. Idempotent; safe after commit. */
  discard(): Promise<void>;
}

/** What the index says a file is, for Storage.keepVersion. */
export interface KeepExpectation {
  hash: string;
  size: number;
  mtimeMs: number;
}

/** A version object kept by Storage.keepVersion. */
export interface KeptObject {
  hash: string;
  size: number;
  /** This call stored it (false: the same content was already stored). */
  created: boolean;
}

export interface Storage {
  /** The entry at `path`, or undefined when nothing (or no parent) is there. @throws SYMLINK, TYPE_CONFLICT */
  stat(path: string, folders?: FolderMemo): Promise<StorageEntry | undefined>;
  /**
   * Every file and folder under the root, a folder before its children, excluding the state folder.
   * Symlinks, special files and names that are not valid NFC paths are skipped, not followed.
   */
  walk(): AsyncIterable<StorageEntry>;
  /** Opens the current version of a file. @throws NOT_FOUND, TYPE_CONFLICT (a folder), SYMLINK */
  open(path: string): Promise<ReadHandle>;
  /** Starts a new version. */
  stage(): Promise<StagedFile>;
  /** Removes a file. @throws NOT_FOUND, TYPE_CONFLICT (a folder), SYMLINK */
  removeFile(path: string): Promise<void>;
  /**
   * Renames a file or folder, creating `to`'s parents. With `overwrite` a file at `to` is replaced by a
   * file; a folder at `to` is never replaced.
   * @throws NOT_FOUND (`from`), ALREADY_EXISTS (`to` exists and no overwrite, or is a folder),
   * TYPE_CONFLICT, SYMLINK
   */
  move(from: string, to: string, opts: { overwrite: boolean }): Promise<{ createdDirs: StorageEntry[] }>;
  /** mkdir -p: returns the folders it created, outermost first (empty when all existed). @throws TYPE_CONFLICT, SYMLINK */
  makeDir(path: string): Promise<StorageEntry[]>;
  /**
   * Removes a folder; with `recursive` its contents too, atomically from a reader's view.
   * @throws NOT_FOUND, TYPE_CONFLICT (a file), NOT_EMPTY (has entries, not recursive), SYMLINK
   */
  removeDir(path: string, opts: { recursive: boolean }): Promise<void>;
  /** Deletes staged leftovers of a previous process (crash, kill). Returns how many were removed. */
  sweepStaged(): Promise<number>;

  // Version objects: content-addressed (SHA-256 hex), immutable, outside the mirror's tree (never walked).

  /**
   * Keeps the file now at `path` as the version object of its content, before the caller replaces or
   * removes it: without a copy of the bytes where the backend allows (local: a hard link; the later
   * replace or remove leaves the object as the only name of the old bytes). Durable when it returns.
   * `expected` is what the index says the file is; when the file no longer matches its size and mtime
   * (edited out of band), its bytes are hashed and kept under their real hash. An object that already
   * exists is not written again (identical content is stored once).
   * @returns the hash and size the object is stored under, and whether this call created it
   * @throws NOT_FOUND, TYPE_CONFLICT (a folder), SYMLINK, NO_SPACE
   */
  keepVersion(path: string, expected: KeepExpectation): Promise<KeptObject>;
  /** Opens a version object. @throws StorageError NOT_FOUND */
  openVersion(hash: string): Promise<ReadHandle>;
  /** Removes a version object; absent is fine. */
  removeVersion(hash: string): Promise<void>;
  /** The hash of every version object held (order unspecified). */
  listVersions(): AsyncIterable<string>;
}
