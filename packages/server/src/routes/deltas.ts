/**
 * /v1/deltas/<path>: download deltas (docs/API.md). GET `?from=<sha256>` encodes the current version against
 * content the server holds; POST with a signature body, against the device's own signature. Both stream
 * `application/vnd.deltabox.delta` with the current version's entry headers. Thin: delta-download.ts works.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { API_PREFIX, mediaTypes } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import { deltaFromContent, deltaFromSignature, type DeltaDownload } from '../delta-download.js';
import type { Mirror } from '../mirror.js';
import { setEntryHeaders } from './entry-headers.js';
import { checkedHash, pathFromUrl } from './request-parts.js';

const PREFIX = `${API_PREFIX}/deltas/`;

function send(reply: FastifyReply, delta: DeltaDownload): FastifyReply {
  setEntryHeaders(reply, delta.entry);
  return reply.type(mediaTypes.delta).header('cache-control', 'no-store').send(delta.body);
}

export async function deltaRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  // The signature body is small (maxSignatureBytes) and decoded whole; anything larger is 413 before a byte is kept.
  app.addContentTypeParser(mediaTypes.signature, { parseAs: 'buffer', bodyLimit: mirror.limits.maxSignatureBytes }, (_request, body, done) => done(null, body));

  app.get(`${PREFIX}*`, async (request, reply) => {
    const path = pathFromUrl(request, PREFIX);
    const from = checkedHash((request.query as Record<string, string | undefined>).from, 'from (the content hash to make the delta from)');
    return send(reply, await deltaFromContent(mirror, path, from));
  });

  app.post(`${PREFIX}*`, async (request, reply) => {
    const path = pathFromUrl(request, PREFIX);
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError('BAD_REQUEST', `POST ${PREFIX}<path> needs a ${mediaTypes.signature} body`);
    return send(reply, await deltaFromSignature(mirror, path, new Uint8Array(body.buffer, body.byteOffset, body.byteLength)));
  });
}
