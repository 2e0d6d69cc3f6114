/**
 * Reads a frames body of POST /v1/batch (docs/API.md §POST /v1/batch, "Frames body"; protocol batch-frames.ts):
 * the prefix, the header once both its lengths are within the limit, then each part's bytes streamed to the
 * StagedBatch, and nothing after the last part. Stages and commits nothing itself.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BATCH_FRAMES_PREFIX_BYTES, decodeBatchFramesHeader, decodeBatchFramesPrefix, mediaTypes } from '@deltabox/protocol';
import { BodyReader } from '../body-reader.js';
import type { ServerLimits } from '../limits.js';
import { parseMeta, type StagedBatch } from './batch-parts.js';

/** Registers a parser that leaves a frames body unread, for readFrames to stream from `request.raw`. */
export function registerFrames(app: FastifyInstance): void {
  app.addContentTypeParser(mediaTypes.batchFrames, (_request, _payload, done) => done(null));
}

/** True when the request's Content-Type is the frames body (parameters and case aside). */
export function isFrames(request: FastifyRequest): boolean {
  return request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === mediaTypes.batchFrames;
}

/**
 * Hands each part of the body to `batch`. A part's own failure (its path, its hash, over the part limit) is
 * its result; the body's are thrown.
 * @throws ApiError PAYLOAD_TOO_LARGE (header over batchMaxFiles x batchMaxMetaBytes, more than batchMaxFiles
 * parts), BAD_REQUEST (header not deflated JSON of the right shape, bytes after the last part),
 * TRUNCATED_UPLOAD (the body ends early)
 */
export async function readFrames(request: FastifyRequest, batch: StagedBatch, limits: ServerLimits): Promise<void> {
  const body = new BodyReader(request.raw);
  // As much as the multipart form allows for its meta fields: the frames header replaces them.
  const maxHeaderBytes = limits.batchMaxFiles * limits.batchMaxMetaBytes;
  const { headerBytes, jsonBytes } = decodeBatchFramesPrefix(await body.read(BATCH_FRAMES_PREFIX_BYTES, 'the prefix'), maxHeaderBytes);
  const metas = decodeBatchFramesHeader(await body.read(headerBytes, 'the header'), jsonBytes, limits.batchMaxFiles);
  for (const [index, meta] of metas.entries()) {
    const span = body.span(meta.size, `part ${index}`);
    await batch.add(parseMeta(meta), { ...span, truncated: false }, meta.path);
  }
  await body.end(metas.length === 0 ? 'the header' : 'the last part');
}
