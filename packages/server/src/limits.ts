/**
 * Size and time limits of the server, each with the reason for its default. Callers override any subset
 * through `ServerOptions.limits`; nothing here is read from the environment.
 */
import { DEFAULT_DECODE_LIMITS } from '@deltabox/core';

export interface ServerLimits {
  /** Largest file accepted by PUT and largest target a PATCH may produce. 64 GiB: far past any sync use. */
  maxFileBytes: number;
  /** Largest PATCH body. A delta of a file is at most a little larger than the file itself. */
  maxDeltaBytes: number;
  /** Largest JSON body (moves). Fastify's own `bodyLimit`. */
  maxJsonBytes: number;
  /** Node's `maxHeaderSize`: larger request headers get Node's own 431 before any route runs. */
  maxHeaderBytes: number;
  /** Largest single file inside a batch: batches are for small files; big ones use PUT or PATCH. */
  batchMaxPartBytes: number;
  /** Most file parts in one batch request. */
  batchMaxFiles: number;
  /** Largest `meta` JSON field of a batch part. */
  batchMaxMetaBytes: number;
  /** Decoded delta fields (core DecodeLimits): checked by the core before anything is allocated. */
  deltaMaxBlockCount: number;
  deltaMaxBlockLength: number;
  deltaMaxLiteralChunk: number;
  /** Longest long-poll of GET /v1/changes; the contract caps it at 60 s. */
  changesMaxWaitMs: number;
  /** Most change records in one GET /v1/changes response. */
  changesPageSize: number;
  /** Failed authentications allowed per address per window before 429. */
  authFailureMax: number;
  authFailureWindowMs: number;
  /**
   * Period of the verification pass that notices files changed behind the server's back (reconcile.ts);
   * 0 turns it off (the stat check before each use still runs). Every file used as a basis, download or
   * If-Match is checked anyway; the pass is for additions and deletions nobody asked about.
   */
  verifyIntervalMs: number;
  /**
   * An error decided before a request body was read (a refused precondition) is answered after reading and
   * discarding up to this many body bytes, so the client finishes sending and reads the answer instead of
   * having its connection cut (EPIPE). Larger bodies are cut after the answer.
   */
  drainBeforeErrorBytes: number;
  /** Open resumable upload sessions one token may hold: a client uploads a few large files at a time. */
  uploadMaxSessionsPerToken: number;
  /** Declared bytes of all open upload sessions together: bounds the disk staging can take. */
  uploadMaxStagedBytes: number;
  /** An upload session untouched this long is swept (tus expiration): a day, as the issue asks. */
  uploadExpiryMs: number;
  /** How often expired upload sessions are swept while the server runs (also once at start). */
  uploadSweepIntervalMs: number;
  /** Largest PATCH body of an upload session: a chunk is the unit of loss when a connection drops. */
  uploadMaxChunkBytes: number;
  /**
   * How long journal records (and with them the records of deleted files) are kept; older ones are pruned
   * online and `GET /v1/changes` answers `expired` to a device that asks from before them. 400 days: past
   * Syncthing's ~15 months for deleted-file records, so a device off for a year still hears of deletes.
   */
  journalRetentionMs: number;
  /**
   * Largest base a download delta (GET /v1/deltas) is encoded from byte-exact, reading the base itself; larger
   * bases go by their signature alone. 256 MiB: the core's fine-index limit (fine-index.ts FINE_MAX_BASIS), the
   * size up to which byte-exact mode finds dense edits; the index holds the base in memory while it is built.
   */
  deltaByteExactMaxBasisBytes: number;
  /** Largest signature body of POST /v1/deltas: 8 MiB holds a signature of a 64 GiB file at the core's automatic block length (~6 MiB). */
  maxSignatureBytes: number;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export const defaultLimits: ServerLimits = {
  maxFileBytes: 64 * GiB,
  maxDeltaBytes: 64 * GiB + 64 * MiB,
  maxJsonBytes: 1 * MiB,
  maxHeaderBytes: 16 * 1024,
  batchMaxPartBytes: 16 * MiB,
  batchMaxFiles: 1000,
  batchMaxMetaBytes: 16 * 1024,
  // The core's own decode limits (its constants.ts gives the reasons); a literal chunk is buffered whole
  // by the decoder, so maxLiteralChunk is the real memory bound per PATCH.
  deltaMaxBlockCount: DEFAULT_DECODE_LIMITS.maxBlockCount,
  deltaMaxBlockLength: DEFAULT_DECODE_LIMITS.maxBlockLength,
  deltaMaxLiteralChunk: DEFAULT_DECODE_LIMITS.maxLiteralChunk,
  changesMaxWaitMs: 60_000,
  changesPageSize: 1000,
  authFailureMax: 20,
  authFailureWindowMs: 60_000,
  // 5 minutes: a pass over 20,000 unchanged files took 0.35-0.43 s wall, ~0.5 s CPU on 2 cores (1-1.3 s at
  // load 9; scripts/measure-verify-pass.ts); hashing is only for what changed.
  verifyIntervalMs: 5 * 60_000,
  // A delta is small; 64 MiB covers every PATCH but the rewrite of a huge file, at LAN speed in well under a second.
  drainBeforeErrorBytes: 64 * MiB,
  uploadMaxSessionsPerToken: 16,
  uploadMaxStagedBytes: 256 * GiB,
  uploadExpiryMs: 24 * 60 * 60 * 1000,
  uploadSweepIntervalMs: 60 * 60 * 1000,
  uploadMaxChunkBytes: 256 * MiB,
  journalRetentionMs: 400 * 24 * 60 * 60 * 1000,
  maxSignatureBytes: 8 * MiB,
  deltaByteExactMaxBasisBytes: 256 * MiB,
};

/** Fills in defaults and clamps the long-poll to the 60 s the contract promises. */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...defaultLimits, ...overrides };
  limits.changesMaxWaitMs = Math.min(limits.changesMaxWaitMs, 60_000);
  // A timer holds at most 2^31-1 ms (~24.8 days); past that Node fires it at once, every millisecond.
  limits.verifyIntervalMs = Math.min(Math.max(0, limits.verifyIntervalMs), 2 ** 31 - 1);
  return limits;
}
