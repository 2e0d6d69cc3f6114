/** Magics, versions, defaults and limits of the formats (FORMAT.md), each with the reason for its value. */

/** "DBXS": signature files. ASCII so `xxd` shows what a file is. */
export const SIGNATURE_MAGIC = Uint8Array.of(0x44, 0x42, 0x58, 0x53);
/** "DBXD": delta files. */
export const DELTA_MAGIC = Uint8Array.of(0x44, 0x42, 0x58, 0x44);
/** Signatures are at version 1; deltas at versions 1 (single ops) and 2 (segments). Readers reject others at once. */
export const FORMAT_VERSION = 1;
/** Delta version 2: segments of Brotli-compressed streams (FORMAT.md §Delta version 2). Encoders write it by default. */
export const DELTA_VERSION_SEGMENTED = 2;

/** Weak sum algorithm id in the signature header: 1 = 32-bit RabinKarp (rolling.ts). */
export const WEAK_RABINKARP32 = 1;
/** Strong hash algorithm id: 1 = xxh64 seeded with the signature's seed. */
export const STRONG_XXH64 = 1;
/** Whole-file hash id in the delta trailer: 1 = SHA-256. */
export const TARGET_HASH_SHA256 = 1;
export const SHA256_LENGTH = 32;

/**
 * Block length bounds for the square-root rule. 256 keeps per-block overhead (12 signature bytes) under 5%;
 * 128 KiB is rsync's MAX_BLOCK_SIZE: beyond it one edit costs too many literal bytes.
 */
export const MIN_BLOCK_LENGTH = 256;
export const MAX_AUTO_BLOCK_LENGTH = 128 * 1024;
/** The rule rounds block lengths to this multiple (keeps blocks aligned to cache lines and pages). */
export const BLOCK_LENGTH_ROUNDING = 64;

/**
 * Default strong length: all 8 bytes of xxh64. A false block match needs a 32-bit weak collision and a
 * 64-bit strong collision under a random seed (~2^-96 per offset); the SHA-256 trailer catches the rest.
 */
export const DEFAULT_STRONG_LENGTH = 8;
export const MAX_STRONG_LENGTH = 8;

/**
 * Literal ops carry at most this many bytes: bounded memory for encoder, decoder and compressor, while a
 * long literal run costs one op header per 256 KiB (a 1 MiB append: 4 ops, ~16 bytes of framing).
 */
/**
 * Basis size from which a patch should hash its result on a worker thread (PatchOptions.hashOnWorker): never,
 * as measured on this project's 2-vCPU machines (docs/DESIGN.md, "Patch: where SHA-256 runs"). The worker's
 * start (50-400 ms under load) and the hand-over of every byte to the other core cost more than the overlap
 * saves: a 256 MiB patch took 0.55-0.75x the time hashing on the main thread, median of 8 alternating runs.
 * The option stays for machines with a core to spare.
 */
export const HASH_ON_WORKER_FROM = Number.POSITIVE_INFINITY;

export const DEFAULT_LITERAL_CHUNK = 256 * 1024;

/** Default decoder limits; every decoded length is checked against these before any allocation. */
export const DEFAULT_DECODE_LIMITS = {
  /** 2^22 blocks at 12 bytes each is a 48 MiB signature: a 512 GiB file at the 128 KiB block cap. */
  maxBlockCount: 1 << 22,
  /** Explicit block lengths above 1 MiB make every edit cost a megabyte; refuse them. */
  maxBlockLength: 1 << 20,
  /** Literal chunks above 1 MiB are not produced by any encoder here; refusing bounds decoder memory. */
  maxLiteralChunk: 1 << 20,
  /** 2^50 bytes (1 PiB): far beyond any file, still exact in a double. */
  maxTargetLength: 2 ** 50,
  /**
   * A version-2 segment's stream, decompressed, is at most this long. Encoders close a segment at 4 MiB of
   * literals or 512 KiB of lengths; 16 MiB bounds decoder memory per segment to ~3 such streams.
   */
  maxStreamLength: 16 * 1024 * 1024,
  /** Sequences per version-2 segment: encoders write at most ~262,144 (512 KiB of lengths, 2 bytes each). */
  maxSegmentSequences: 1 << 20,
} as const;

/** Every limit, as the decoders hold them after merging the caller's with the defaults. */
export type ResolvedDecodeLimits = { -readonly [K in keyof typeof DEFAULT_DECODE_LIMITS]: number };
/**
 * Decoder limits as callers pass them. The two version-2 limits are optional so that a limits object written
 * before version 2 still type-checks; a missing one takes its default.
 */
export type DecodeLimits = Omit<ResolvedDecodeLimits, 'maxStreamLength' | 'maxSegmentSequences'> &
  Partial<Pick<ResolvedDecodeLimits, 'maxStreamLength' | 'maxSegmentSequences'>>;

/** Delta opcodes (FORMAT.md §Delta (version 1), its op table). */
export const OP_END = 0x00;
export const OP_COPY = 0x01;
export const OP_LITERAL = 0x02;
export const OP_LITERAL_DEFLATE = 0x03;

/** Version-2 delta: marks a segment (FORMAT.md §Delta version 2); 0x00 (OP_END) marks the trailer. */
export const SEGMENT_MARK = 0x10;
/** Version-2 stream codecs: the bytes as they are, or one Brotli stream (RFC 7932). */
export const STREAM_STORED = 0x00;
export const STREAM_BROTLI = 0x01;
