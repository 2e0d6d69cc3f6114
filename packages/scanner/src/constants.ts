/**
 * Tunables of the scanner, each with the reason for its value. Nothing here does I/O; options on
 * `ScannerOptions` override the ones a user may want to change.
 */

/** Full scan period: the safety net under the file watcher (the prototype's 5 s). */
export const DEFAULT_INTERVAL_MS = 5_000;
/** Transfers in flight: enough to keep a loopback or LAN server's disk busy, small enough for 2 cores. */
export const DEFAULT_CONCURRENCY = 4;
/** Watcher events are coalesced this long: an editor's save is several events (write, rename, chmod). */
export const WATCH_DEBOUNCE_MS = 150;
/**
 * A file whose mtime is this close to the scan's start is "racily clean": another write in the same
 * timestamp tick would leave size and mtime unchanged, so it is hashed again on the next scan (git's rule).
 */
export const RACY_WINDOW_MS = 2_000;

/**
 * Local rows from which the first scan of a scanner without a watcher lists the folder on a worker thread while
 * the state loads (tree-listing.ts). Below it the overlap saves next to nothing (both take ~30 ms at 2,000 files)
 * and the worker's start costs ~0.1 s of CPU (benchmarks/README.md, no-change rescan 2026-12-03).
 */
export const LISTING_WORKER_MIN_ROWS = 5_000;

/**
 * Files up to this size are read whole into memory (the snapshot), sent whole (a delta saves too little
 * below one or two blocks) and, when new, batched. No cache copy is kept for them.
 */
export const INLINE_MAX_BYTES = 64 * 1024;
/**
 * Files up to this size are snapshotted into `.deltabox/tmp` before hashing and sending, and the snapshot
 * becomes the byte-exact basis in the cache once the server acknowledges it. Larger files are read in
 * place (stat before and after) and only their signature is kept.
 */
export const COPY_MAX_BYTES = 64 * 1024 * 1024;
/** Total bytes of basis copies and signatures kept in `.deltabox/cache`; least recently used go first. */
/**
 * Whole-file uploads from this size go through a resumable session (docs/SCANNER.md §Resumable uploads has
 * the measurement): below it a cut costs at most a re-send of well under a second on a LAN, while the
 * session costs the server a second pass over the bytes at commit.
 */
export const RESUMABLE_MIN_BYTES = 64 * 1024 * 1024;
/**
 * Deltas from this size go through a resumable session too (`kind: "delta"`; docs/SCANNER.md §Resumable
 * uploads has the measurement): a session costs a delta about what it costs a whole file (x2.2-2.4 the time
 * of one PATCH on loopback), so the break-even is the same.
 */
export const RESUMABLE_DELTA_MIN_BYTES = 64 * 1024 * 1024;
/**
 * A delta's first bytes up to this many go into its PATCH as they are computed (the server patches meanwhile);
 * the rest of a longer one is computed into a temp file first, so that a delta that turns out too large for one
 * request (RESUMABLE_DELTA_MIN_BYTES) or not worth sending wastes at most this much: 1/64 of the session
 * threshold, as a cut session loses at most one chunk. Small edits of big files (the common case) stream whole.
 */
export const STREAM_DELTA_HEAD_BYTES = 1024 * 1024;
/**
 * PATCH chunk of a resumable upload: 1/64 of the file (a cut loses at most the chunk in flight, ~1.6%),
 * within 1..16 MiB (16 MiB is held in memory to hash it before it is sent).
 */
export function resumableChunkBytes(size: number): number {
  return Math.min(16 * 1024 * 1024, Math.max(1024 * 1024, Math.ceil(size / 64)));
}
export const DEFAULT_CACHE_BUDGET_BYTES = 512 * 1024 * 1024;
/**
 * An edited file of INLINE_MAX_BYTES or less goes as a delta from this size up: against the signature kept
 * for it (12 bytes per 256-byte block, in the state database), else the server's (one extra request).
 * Below it the whole file costs about as much as a delta's framing and headers.
 */
export const SMALL_DELTA_MIN_BYTES = 4 * 1024;
/** Block length of the signatures kept for those files: the core's minimum, as the server uses for them. */
export const SMALL_BLOCK_LENGTH = 256;
/** A delta over this share of the file is not worth its CPU on the server: the whole file goes instead. */
export const DELTA_WORTH_RATIO = 0.75;

/**
 * Files up to this size, new or edited, go in batches: read whole into memory, committed with the batch's group
 * commit instead of a PUT or PATCH and two fsyncs of their own each. A batch still holds at most
 * BATCH_MAX_BYTES. Once acknowledged, such a file's bytes become its byte-exact basis in the cache (over
 * INLINE_MAX_BYTES; a small signature below), so its next edit is a delta part against them.
 */
export const BATCH_FILE_MAX_BYTES = 1024 * 1024;
/** Batch limits (POST /v1/batch): one request carries at most this many files and bytes. */
export const BATCH_MAX_FILES = 64;
export const BATCH_MAX_BYTES = 8 * 1024 * 1024;

/**
 * A reconcile applies the server's journal since its last one when fewer changes than this happened (one
 * page of GET /v1/changes, the server's maximum); beyond that the whole manifest is about as cheap.
 */
export const JOURNAL_CATCHUP_MAX_CHANGES = 1000;

/** Retry backoff bounds: quick first retry, and never more than half a minute between attempts. */
export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 30_000;
/** In `--once` mode an entry that failed this many times for its own reasons is reported as failed. */
export const ONCE_MAX_ATTEMPTS = 5;
/**
 * In `--once` mode, scans in a row that found a file changing while it was read (each rescan 300 ms later)
 * before the run stops waiting for it: a file written for a while is sent once it settles, one written
 * without end (a log) does not hold the run forever (it is reported, and the next run sends it).
 */
export const ONCE_MAX_RESCANS = 20;

/**
 * The mass-delete guard (mass-delete-guard.ts): by default a pass may delete at most half of the server's
 * files; a server holding this many files or fewer is not guarded (removing 8 of 10 files is an ordinary
 * tidy-up, and below that a share says little). Above it, an emptied client folder can no longer empty the
 * server unconfirmed.
 */
export const DEFAULT_MAX_DELETE_PERCENT = 50;
export const MASS_DELETE_MIN_FILES = 10;

/** Read size for hashing and streaming: big enough to amortise syscalls, small enough to bound memory. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The file a deltabox server keeps its index in, inside its folder's `.deltabox/` (packages/server
 * state/database.ts): a folder holding it is a server's folder, never a client folder.
 */
export const SERVER_STATE_DB_FILE = 'state.db';

/** Sub-folders of the state folder. */
export const STATE_DB_FILE = 'state.sqlite';
export const TMP_DIR = 'tmp';
export const CACHE_DIR = 'cache';
