/** GET /v1/signatures/<path>[?blockLength=N]: the binary signature of the current version (cached). */
import type { FastifyInstance } from 'fastify';
import { API_PREFIX, formatEtag, headers, mediaTypes } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import { signatureOf } from '../delta-ops.js';
import type { Mirror } from '../mirror.js';
import { pathFromUrl } from './request-parts.js';

const PREFIX = `${API_PREFIX}/signatures/`;

export async function signatureRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  app.get('/v1/signatures/*', async (request, reply) => {
    const path = pathFromUrl(request, PREFIX);
    const raw = (request.query as Record<string, string | undefined>).blockLength;
    let blockLength: number | undefined;
    if (raw !== undefined) {
      blockLength = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
      if (!(blockLength >= 1 && blockLength <= mirror.limits.deltaMaxBlockLength)) {
        throw new ApiError('BAD_REQUEST', `blockLength must be an integer from 1 to ${mirror.limits.deltaMaxBlockLength}`);
      }
    }
    const { bytes, hash } = await signatureOf(mirror, path, blockLength);
    reply.header(headers.etag, formatEtag(hash)).type(mediaTypes.signature);
    return reply.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}
