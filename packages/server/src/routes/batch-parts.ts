/**
 * The path every part of POST /v1/batch takes, whatever the body's encoding (batch-multipart.ts,
 * batch-frames.ts): its meta is checked, its bytes are streamed into a staged file that is sealed (fsync) while
 * later parts arrive, and once the body has ended the staged parts are committed as one group (group-commit.ts).
 * A part that fails gets its own result; a body that fails as a whole is the caller's to refuse. Parses no body.
 */
import type { BatchPartMeta, BatchResult } from '@deltabox/protocol';
import { ApiError, toApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import type { StagedFile } from '../storage/storage.js';
import { commitGroup, type GroupItem } from '../group-commit.js';
import { stagePatched } from '../delta-ops.js';
import { checkedHash, checkedMtime, checkedPath, checkedSize } from './request-parts.js';

/** A part's meta that was refused; `path` is its path when that much was valid, so its result names it. */
export interface RefusedMeta {
  error: ApiError;
  path?: string;
}

/** The bytes of one part, as the body's reader hands them over. */
export interface PartBytes {
  chunks: AsyncIterable<Uint8Array>;
  /** Read after `chunks`: true when the reader cut the part at the part size limit. */
  readonly truncated: boolean;
  /**
   * Discards what is left unread of the part.
   * @throws ApiError when the body cannot go on past this part (it ended early): the whole request fails
   */
  skip(): Promise<void>;
}

/** Who writes: the device (journal) and the revision of its view (x-deltabox-since), for every part. */
export interface Writer {
  device: string | undefined;
  since: number | undefined;
}

/** Checks a meta given as JSON text or as an object: a BatchPartMeta, or why it was refused. */
export function parseMeta(value: unknown): BatchPartMeta | RefusedMeta {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return { error: new ApiError('BAD_REQUEST', 'meta is not JSON') };
    }
  }
  if (typeof v !== 'object' || v === null) return { error: new ApiError('BAD_REQUEST', 'meta must be a BatchPartMeta object') };
  const m = v as Record<string, unknown>;
  let path: string | undefined;
  try {
    path = checkedPath(m.path, 'meta.path');
    const meta: BatchPartMeta = {
      path,
      size: checkedSize(m.size, 'meta.size'),
      mtimeMs: checkedMtime(m.mtimeMs, 'meta.mtimeMs'),
      hash: checkedHash(m.hash, 'meta.hash'),
    };
    if (m.executable !== undefined) meta.executable = m.executable === true;
    if (m.ifNoneMatch !== undefined && typeof m.ifNoneMatch !== 'boolean') throw new ApiError('BAD_REQUEST', 'meta.ifNoneMatch must be a boolean');
    if (m.ifNoneMatch === true) meta.ifNoneMatch = true;
    if (m.ifMatch !== undefined) {
      if (meta.ifNoneMatch) throw new ApiError('BAD_REQUEST', 'meta.ifMatch and meta.ifNoneMatch exclude each other');
      meta.ifMatch = checkedHash(m.ifMatch, 'meta.ifMatch');
    }
    if (m.delta !== undefined && typeof m.delta !== 'boolean') throw new ApiError('BAD_REQUEST', 'meta.delta must be a boolean');
    if (m.delta === true) {
      if (meta.ifMatch === undefined) throw new ApiError('BAD_REQUEST', 'a delta part needs meta.ifMatch naming its base');
      meta.delta = true;
    }
    return meta;
  } catch (err) {
    return path === undefined ? { error: toApiError(err) } : { error: toApiError(err), path };
  }
}

/**
 * Seals (fsyncs) in flight at once while later parts stream: each holds a file descriptor until it is done,
 * and the libuv pool runs four at a time anyway.
 */
const MAX_INFLIGHT_SEALS = 16;

/** A part's slot in the answer: refused at once, or staged for the group commit. */
type Slot = { result: BatchResult } | { item: GroupItem };

/** The parts of one batch request as they arrive, then their group commit. */
export class StagedBatch {
  readonly #slots: Slot[] = [];
  /** The seals started so far, in order: a part waits for the seal MAX_INFLIGHT_SEALS before its own. */
  readonly #sealings: Array<Promise<unknown>> = [];

  constructor(
    private readonly mirror: Mirror,
    private readonly writer: Writer,
  ) {}

  /**
   * Takes the next part: refused at once (its bytes skipped) when its meta was, or staged and sealing.
   * `fallbackPath` names its result when the meta gave no valid path.
   * @throws what `bytes.skip` throws: the body cannot go on
   */
  async add(meta: BatchPartMeta | RefusedMeta, bytes: PartBytes, fallbackPath: string): Promise<void> {
    const limit = this.mirror.limits.batchMaxPartBytes;
    if (!('error' in meta) && meta.size > limit) meta = { error: new ApiError('PAYLOAD_TOO_LARGE', `part of ${meta.size} bytes is over ${limit} bytes`), path: meta.path };
    if ('error' in meta) {
      await bytes.skip();
      this.#slots.push({ result: { path: meta.path ?? fallbackPath, ok: false, error: meta.error.toBody() } });
      return;
    }
    this.#slots.push(await this.#stageAndSeal(meta, bytes));
  }

  /** Discards every staged part: the body failed as a whole, so none of them is committed. */
  async discard(): Promise<void> {
    await Promise.all(this.#slots.map((s) => ('item' in s ? s.item.staged.discard() : undefined)));
  }

  /** Commits the staged parts as one group; one result per part, in the order they came. */
  async commit(): Promise<BatchResult[]> {
    const items = this.#slots.flatMap((s) => ('item' in s ? [s.item] : []));
    const committed = await commitGroup(this.mirror, items);
    let k = 0;
    return this.#slots.map((s): BatchResult => {
      if ('result' in s) return s.result;
      const r = committed[k++]!;
      return r.ok ? { path: s.item.path, ok: true, entry: r.entry } : { path: s.item.path, ok: false, error: toApiError(r.error).toBody() };
    });
  }

  /**
   * Stages one part now and starts sealing it (its fsync runs while the next parts stream), at most
   * MAX_INFLIGHT_SEALS at a time. A part that fails here gets its result at once.
   */
  async #stageAndSeal(meta: BatchPartMeta, bytes: PartBytes): Promise<Slot> {
    let staged: StagedFile;
    try {
      // A delta whose result is already there (a retry after a lost answer) cannot be applied to its base, which
      // is gone: with the same metadata the current entry is the answer, as for a PUT of the same content.
      const same = meta.delta === true && this.mirror.index.get(meta.path)?.hash === meta.hash ? await this.mirror.unchangedEntry(meta.path, meta.hash, writeOptionsOf(meta, this.writer)) : undefined;
      if (same !== undefined) {
        await bytes.skip();
        return { result: { path: meta.path, ok: true, entry: same } };
      }
      staged = await stagePart(this.mirror, meta, bytes, this.writer);
    } catch (err) {
      await bytes.skip();
      return { result: { path: meta.path, ok: false, error: toApiError(err).toBody() } };
    }
    const opts = writeOptionsOf(meta, this.writer);
    // The hash is checked before the fsync: a part that will be refused costs no fsync. commitGroup reports errors.
    const earlier = this.#sealings.length;
    this.#sealings.push(staged.digest() === meta.hash ? staged.seal(opts).catch(() => undefined) : Promise.resolve());
    if (earlier >= MAX_INFLIGHT_SEALS) await this.#sealings[earlier - MAX_INFLIGHT_SEALS];
    return { item: { path: meta.path, staged, opts } };
  }
}

/**
 * A part's write options. Checked under the lock at commit (mirror.checkWritable): create only or replace only
 * its base, and no folder on the way moved since the device's view (x-deltabox-since), as for a single PUT.
 */
function writeOptionsOf(meta: BatchPartMeta, { device, since }: Writer): GroupItem['opts'] {
  const opts: GroupItem['opts'] = { mtimeMs: meta.mtimeMs, executable: meta.executable ?? false, expectedHash: meta.hash, device };
  if (meta.ifNoneMatch === true) opts.ifNoneMatch = true;
  if (meta.ifMatch !== undefined) opts.ifMatch = meta.ifMatch;
  if (since !== undefined) opts.since = since;
  return opts;
}

/**
 * Stages one part: its bytes as they arrive, or for a delta part the file it makes from the `meta.ifMatch`
 * version (applied as a PATCH is, delta-ops.ts). That base is checked here to open it and again under the lock
 * at commit, so a version replaced meanwhile fails the part with BASE_MISMATCH. A delta's result is bounded by
 * the file limit, the delta by the part limit.
 * @throws ApiError BASE_MISMATCH, PARENT_CHANGED, TYPE_CONFLICT, PAYLOAD_TOO_LARGE, TRUNCATED_UPLOAD, BAD_REQUEST;
 * core DeltaError; the staged file is discarded
 */
async function stagePart(mirror: Mirror, meta: BatchPartMeta, bytes: PartBytes, writer: Writer): Promise<StagedFile> {
  const chunks = sized(bytes, meta.size, mirror.limits.batchMaxPartBytes);
  if (meta.delta === true) {
    const basis = await mirror.openBasis(meta.path, { ifMatch: meta.ifMatch!, ...(writer.since === undefined ? {} : { since: writer.since }) });
    try {
      return await stagePatched(mirror, basis, chunks);
    } finally {
      await basis.close();
    }
  }
  const staged = await mirror.storage.stage();
  try {
    for await (const chunk of chunks) await staged.write(chunk);
    return staged;
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

/**
 * A part's chunks, checked once they end: cut at the part limit by the body's reader, or not the `size` its
 * meta says (the applier reads a delta part to its end too, so both kinds are checked alike).
 * @throws ApiError PAYLOAD_TOO_LARGE, TRUNCATED_UPLOAD (fewer bytes), BAD_REQUEST (more)
 */
async function* sized(bytes: PartBytes, size: number, maxPartBytes: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of bytes.chunks) {
    seen += chunk.length;
    yield chunk;
  }
  if (bytes.truncated) throw new ApiError('PAYLOAD_TOO_LARGE', `part is over ${maxPartBytes} bytes`);
  if (seen !== size) throw new ApiError(seen < size ? 'TRUNCATED_UPLOAD' : 'BAD_REQUEST', `part has ${seen} bytes, meta.size says ${size}`);
}
