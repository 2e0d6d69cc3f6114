/**
 * POST /v1/batch: many small files in one request. The body's reader (batch-frames.ts for the frames encoding,
 * batch-multipart.ts for multipart/form-data) hands each part to a StagedBatch (batch-parts.ts), which stages and
 * seals it as it arrives; once the body has ended all of them are committed together. Each part gets its own
 * result, so one bad part never spoils the others; a malformed body commits nothing. This file picks the reader
 * and shapes the answer.
 */
import type { FastifyInstance } from 'fastify';
import {
  mediaTypes,
  compactRevisions,
  routes,
  type BatchResponse,
  type BatchResult,
  type CompactBatchResponse,
} from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import { StagedBatch } from './batch-parts.js';
import { readMultipart, registerMultipart } from './batch-multipart.js';
import { isFrames, readFrames, registerFrames } from './batch-frames.js';
import { deviceOf, sinceOf } from './request-parts.js';

export async function batchRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  await registerMultipart(app, mirror.limits);
  registerFrames(app);

  app.post(routes.batch, { config: { write: true } }, async (request, reply): Promise<BatchResponse | CompactBatchResponse> => {
    const frames = isFrames(request);
    if (!frames && !request.isMultipart()) throw new ApiError('BAD_REQUEST', `batch body must be ${mediaTypes.batchFrames} or multipart/form-data`);
    const batch = new StagedBatch(mirror, { device: deviceOf(request), since: sinceOf(request) });
    try {
      await (frames ? readFrames(request, batch, mirror.limits) : readMultipart(request, batch));
    } catch (err) {
      await batch.discard();
      throw err;
    }
    const results = await batch.commit();
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
