/**
 * POST /v1/batch: many small files in one multipart request. A field part named `meta` (BatchPartMeta
 * JSON) precedes each file part; each file is staged and sealed (fsync) as it arrives, and once the body has
 * ended all of them are committed together (group-commit.ts). Each gets its own BatchResult, so one bad
 * part never spoils the others; a malformed body commits nothing.
 */
import type { FastifyInstance } from 'fastify';
import multipart, { type Multipart, type MultipartFile } from '@fastify/multipart';
import {
  mediaTypes,
  compactRevisions,
  routes,
  type BatchPartMeta,
  type BatchResponse,
  type BatchResult,
  type CompactBatchResponse,
} from '@deltabox/protocol';
import { ApiError, toApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import type { StagedFile } from '../storage/storage.js';
import { commitGroup, type GroupItem } from '../group-commit.js';
import { checkedHash, checkedMtime, checkedPath, checkedSize, deviceOf, sinceOf } from './request-parts.js';

/** A `meta` part that was refused; `path` is its path when that much was valid, so its result names it. */
interface RefusedMeta {
  error: ApiError;
  path?: string;
}

function parseMeta(value: unknown): BatchPartMeta | RefusedMeta {
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
type Slot = { result: BatchResult } | { item: GroupItem; sealing: Promise<unknown> };

/** Streams one file part into a staged file and checks its size. @throws ApiError; the staged file is discarded */
async function stagePart(mirror: Mirror, meta: BatchPartMeta, part: MultipartFile): Promise<StagedFile> {
  const staged = await mirror.storage.stage();
  try {
    for await (const chunk of part.file) await staged.write(chunk as Buffer);
    if (part.file.truncated) throw new ApiError('PAYLOAD_TOO_LARGE', `part is over ${mirror.limits.batchMaxPartBytes} bytes`);
    if (staged.size !== meta.size) {
      const code = staged.size < meta.size ? 'TRUNCATED_UPLOAD' : 'BAD_REQUEST';
      throw new ApiError(code, `part has ${staged.size} bytes, meta.size says ${meta.size}`);
    }
    return staged;
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

export async function batchRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  const l = mirror.limits;
  await app.register(multipart, {
    throwFileSizeLimit: false, // a too-large part fails alone (part.file.truncated), not the whole batch
    limits: { fileSize: l.batchMaxPartBytes, files: l.batchMaxFiles, fields: l.batchMaxFiles, fieldSize: l.batchMaxMetaBytes, parts: 2 * l.batchMaxFiles },
  });

  app.post(routes.batch, { config: { write: true } }, async (request, reply): Promise<BatchResponse | CompactBatchResponse> => {
    if (!request.isMultipart()) throw new ApiError('BAD_REQUEST', 'batch body must be multipart/form-data');
    const slots: Slot[] = [];
    try {
      await readParts(mirror, request.parts(), slots, { device: deviceOf(request), since: sinceOf(request) });
    } catch (err) {
      await Promise.all(slots.map((s) => ('item' in s ? s.item.staged.discard() : undefined)));
      throw malformedBody(err);
    }
    const items = slots.flatMap((s) => ('item' in s ? [s.item] : []));
    const committed = await commitGroup(mirror, items);
    let k = 0;
    const results = slots.map((s): BatchResult => {
      if ('result' in s) return s.result;
      const r = committed[k++]!;
      return r.ok ? { path: s.item.path, ok: true, entry: r.entry } : { path: s.item.path, ok: false, error: toApiError(r.error).toBody() };
    });
    if (!acceptsCompact(request.headers.accept)) return { results };
    void reply.type(mediaTypes.batchCompact);
    return compactAnswer(results);
  });
}

function acceptsCompact(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes(mediaTypes.batchCompact);
}

/** The compact answer (docs/API.md §POST /v1/batch): revisions of the good parts, details of the failed ones. */
function compactAnswer(results: readonly BatchResult[]): CompactBatchResponse {
  const revisions: number[] = [];
  const failed: CompactBatchResponse['failed'] = [];
  results.forEach((r, index) => {
    if (r.ok) revisions.push(r.entry.revision);
    else failed.push({ index, path: r.path, error: r.error });
  });
  return { revisions: compactRevisions(revisions), failed };
}

/**
 * Errors escaping the part loop come from the multipart parser (part errors are per-part results):
 * busboy's own are plain Errors ("Unexpected end of form", "Boundary not found"): the body is malformed.
 */
function malformedBody(err: unknown): ApiError {
  const mapped = toApiError(err);
  if (mapped.code !== 'INTERNAL') return mapped;
  const message = (err as Error).message;
  const code = /unexpected end/i.test(message) ? 'TRUNCATED_UPLOAD' : 'BAD_REQUEST';
  return new ApiError(code, `malformed multipart body: ${message}`, {}, { cause: err });
}

/** Walks the parts: each `meta` field arms the next file part, whose slot joins `slots`. */
/** Who writes: the device (journal) and the revision of its view (x-deltabox-since), for every part. */
interface Writer {
  device: string | undefined;
  since: number | undefined;
}

async function readParts(mirror: Mirror, parts: AsyncIterable<Multipart>, slots: Slot[], writer: Writer): Promise<void> {
  let meta: BatchPartMeta | RefusedMeta | undefined;
  for await (const part of parts) {
    if (part.type === 'field') {
      if (part.fieldname !== 'meta') throw new ApiError('BAD_REQUEST', `unexpected field '${part.fieldname}'`);
      meta = parseMeta(part.value);
      continue;
    }
    if (meta === undefined || 'error' in meta) {
      part.file.resume(); // drain: the parser waits for this part to be consumed
      const error = meta?.error ?? new ApiError('BAD_REQUEST', 'file part without a preceding meta part');
      // The meta's path when it had a valid one (clients match results by path), else the part's file name.
      slots.push({ result: { path: meta?.path ?? part.filename ?? '', ok: false, error: error.toBody() } });
    } else {
      slots.push(await filePart(mirror, meta, part, slots, writer));
    }
    meta = undefined;
  }
}

/**
 * Stages one file part now and starts sealing it (its fsync runs while the next parts stream), at most
 * MAX_INFLIGHT_SEALS at a time. A part that fails here gets its result at once.
 */
async function filePart(mirror: Mirror, meta: BatchPartMeta, part: MultipartFile, slots: Slot[], writer: Writer): Promise<Slot> {
  try {
    const staged = await stagePart(mirror, meta, part);
    const opts: GroupItem['opts'] = { mtimeMs: meta.mtimeMs, executable: meta.executable ?? false, expectedHash: meta.hash, device: writer.device };
    // Checked under the lock at commit (mirror.checkWritable): create only, and no folder on the way moved
    // since the device's view (x-deltabox-since), as for a single PUT.
    if (meta.ifNoneMatch === true) opts.ifNoneMatch = true;
    if (writer.since !== undefined) opts.since = writer.since;
    const item: GroupItem = { path: meta.path, staged, opts };
    // The hash is checked before the fsync: a part that will be refused costs no fsync. commitGroup reports errors.
    const sealing = staged.digest() === meta.hash ? staged.seal(opts).catch(() => undefined) : Promise.resolve();
    const sealings = slots.flatMap((s) => ('sealing' in s ? [s.sealing] : []));
    if (sealings.length >= MAX_INFLIGHT_SEALS) await sealings[sealings.length - MAX_INFLIGHT_SEALS];
    return { item, sealing };
  } catch (err) {
    part.file.resume();
    return { result: { path: meta.path, ok: false, error: toApiError(err).toBody() } };
  }
}
