/**
 * POST /v1/batch: many small files in one multipart request. A field part named `meta` (BatchPartMeta
 * JSON) precedes each file part; each file is verified and committed on its own, and gets its own
 * BatchResult, so one bad part never spoils the others.
 */
import type { FastifyInstance } from 'fastify';
import multipart, { type Multipart, type MultipartFile } from '@fastify/multipart';
import { routes, type BatchPartMeta, type BatchResponse, type BatchResult } from '@deltabox/protocol';
import { ApiError, toApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import type { StagedFile } from '../storage/storage.js';
import { checkedHash, checkedMtime, checkedPath, checkedSize, deviceOf } from './request-parts.js';

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
    return meta;
  } catch (err) {
    return path === undefined ? { error: toApiError(err) } : { error: toApiError(err), path };
  }
}

/** Commits in flight at once: each costs two fsyncs, which overlap well; the next part streams meanwhile. */
const MAX_INFLIGHT_COMMITS = 16;

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

/** Verifies and commits a staged part; never rejects. */
async function commitPart(mirror: Mirror, meta: BatchPartMeta, staged: StagedFile, device: string | undefined): Promise<BatchResult> {
  const opts = { mtimeMs: meta.mtimeMs, executable: meta.executable ?? false, expectedHash: meta.hash, device };
  try {
    return { path: meta.path, ok: true, entry: await mirror.commit(meta.path, staged, opts) };
  } catch (err) {
    return { path: meta.path, ok: false, error: toApiError(err).toBody() };
  }
}

export async function batchRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  const l = mirror.limits;
  await app.register(multipart, {
    throwFileSizeLimit: false, // a too-large part fails alone (part.file.truncated), not the whole batch
    limits: { fileSize: l.batchMaxPartBytes, files: l.batchMaxFiles, fields: l.batchMaxFiles, fieldSize: l.batchMaxMetaBytes, parts: 2 * l.batchMaxFiles },
  });

  app.post(routes.batch, { config: { write: true } }, async (request): Promise<BatchResponse> => {
    if (!request.isMultipart()) throw new ApiError('BAD_REQUEST', 'batch body must be multipart/form-data');
    const results: Array<Promise<BatchResult>> = [];
    try {
      await readParts(mirror, request.parts(), results, deviceOf(request));
    } catch (err) {
      await Promise.all(results); // let commits in flight finish before the error reply
      throw malformedBody(err);
    }
    return { results: await Promise.all(results) };
  });
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

/** Walks the parts: each `meta` field arms the next file part, whose result promise joins `results`. */
async function readParts(mirror: Mirror, parts: AsyncIterable<Multipart>, results: Array<Promise<BatchResult>>, device: string | undefined): Promise<void> {
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
      results.push(Promise.resolve({ path: meta?.path ?? part.filename ?? '', ok: false, error: error.toBody() }));
    } else {
      results.push((await filePart(mirror, meta, part, results, device)).result);
    }
    meta = undefined;
  }
}

/**
 * Stages one file part now; its commit runs on in the background (boxed so awaiting this does not wait
 * for it), at most MAX_INFLIGHT_COMMITS at a time.
 */
async function filePart(mirror: Mirror, meta: BatchPartMeta, part: MultipartFile, inflight: Array<Promise<BatchResult>>, device: string | undefined): Promise<{ result: Promise<BatchResult> }> {
  try {
    const staged = await stagePart(mirror, meta, part);
    if (inflight.length >= MAX_INFLIGHT_COMMITS) await inflight[inflight.length - MAX_INFLIGHT_COMMITS];
    return { result: commitPart(mirror, meta, staged, device) };
  } catch (err) {
    part.file.resume();
    return { result: Promise.resolve({ path: meta.path, ok: false, error: toApiError(err).toBody() }) };
  }
}
