/**
 * Reads a multipart/form-data body of POST /v1/batch (docs/API.md §POST /v1/batch): a field part named `meta`
 * (BatchPartMeta JSON) before each file part. Hands each part to the StagedBatch; stages and commits nothing
 * itself. @fastify/multipart (busboy) does the parsing, within the batch limits.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { BatchPartMeta } from '@deltabox/protocol';
import { ApiError, toApiError } from '../api-error.js';
import type { ServerLimits } from '../limits.js';
import { parseMeta, type PartBytes, type RefusedMeta, type StagedBatch } from './batch-parts.js';

/** Registers the multipart parser in the batch route's context. */
export async function registerMultipart(app: FastifyInstance, l: ServerLimits): Promise<void> {
  await app.register(multipart, {
    throwFileSizeLimit: false, // a too-large part fails alone (part.file.truncated), not the whole batch
    limits: { fileSize: l.batchMaxPartBytes, files: l.batchMaxFiles, fields: l.batchMaxFiles, fieldSize: l.batchMaxMetaBytes, parts: 2 * l.batchMaxFiles },
  });
}

/**
 * Walks the parts: each `meta` field arms the next file part, which joins `batch`.
 * @throws ApiError when the body is malformed or cut short, or over the part counts
 */
export async function readMultipart(request: FastifyRequest, batch: StagedBatch): Promise<void> {
  let meta: BatchPartMeta | RefusedMeta | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (part.fieldname !== 'meta') throw new ApiError('BAD_REQUEST', `unexpected field '${part.fieldname}'`);
        meta = parseMeta(part.value);
        continue;
      }
      // The meta's path when it had a valid one (clients match results by path), else the part's file name.
      await batch.add(meta ?? { error: new ApiError('BAD_REQUEST', 'file part without a preceding meta part') }, bytesOf(part), part.filename ?? '');
      meta = undefined;
    }
  } catch (err) {
    throw malformedBody(err);
  }
}

function bytesOf(part: MultipartFile): PartBytes {
  return {
    chunks: part.file,
    get truncated() {
      return part.file.truncated;
    },
    skip: async () => void part.file.resume(), // drain: the parser waits for this part to be consumed
  };
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
