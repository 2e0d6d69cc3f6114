/**
 * /v1/files/<path>: download (Range), full upload (PUT), delta upload (PATCH), delete. Thin: parse,
 * call the mirror, shape the response. Bodies are streamed from the raw request, never buffered.
 */
import type { FastifyInstance } from 'fastify';
import { API_PREFIX, headers, mediaTypes } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import { patchFile } from '../delta-ops.js';
import type { Mirror } from '../mirror.js';
import { sendBytes } from './send-bytes.js';
import { setEntryHeaders } from './entry-headers.js';
import { dirRoutes } from './dirs.js';
import { ifMatchOf, pathFromUrl, writeOptionsOf } from './request-parts.js';

const PREFIX = `${API_PREFIX}/files/`;

/** 413 up front when Content-Length already says the body is too large. */
function checkDeclaredLength(value: string | undefined, maxBytes: number): void {
  if (value !== undefined && Number(value) > maxBytes) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `body of ${value} bytes is over the ${maxBytes}-byte limit`);
  }
}

/**
 * Routes whose bodies are raw bytes (or ignored): registered inside this context, where no parser
 * consumes or buffers a body; handlers read `request.raw` themselves.
 */
export async function rawBodyRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  await app.register(fileRoutes, { mirror });
  await app.register(dirRoutes, { mirror });
}

async function fileRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  app.get('/v1/files/*', async (request, reply) => {
    const path = pathFromUrl(request, PREFIX);
    const { handle, entry } = await mirror.openFile(path);
    setEntryHeaders(reply, entry);
    return sendBytes(reply, handle, request.headers.range);
  });

  app.put('/v1/files/*', { config: { write: true } }, async (request, reply) => {
    const path = pathFromUrl(request, PREFIX);
    const opts = writeOptionsOf(request);
    checkDeclaredLength(request.headers['content-length'], mirror.limits.maxFileBytes);
    const entry = await mirror.putFile(path, request.raw, opts);
    // Content already there (x-deltabox-content-hash): the body was not read. Node discards the rest of it
    // after the answer and keeps the connection (two-way-writes.test.ts checks the next request on it).
    setEntryHeaders(reply, entry);
    return entry;
  });

  app.patch('/v1/files/*', { config: { write: true } }, async (request, reply) => {
    const path = pathFromUrl(request, PREFIX);
    const opts = writeOptionsOf(request);
    if (opts.ifMatch === undefined) throw new ApiError('BAD_REQUEST', 'PATCH needs If-Match naming the base hash');
    const type = request.headers['content-type']?.split(';')[0]?.trim();
    if (type !== mediaTypes.delta) throw new ApiError('BAD_REQUEST', `PATCH body must be ${mediaTypes.delta}`);
    checkDeclaredLength(request.headers['content-length'], mirror.limits.maxDeltaBytes);
    const entry = await patchFile(mirror, path, request.raw, { ...opts, ifMatch: opts.ifMatch });
    setEntryHeaders(reply, entry);
    return entry;
  });

  app.delete('/v1/files/*', { config: { write: true } }, async (request, reply) => {
    const path = pathFromUrl(request, PREFIX);
    const revision = await mirror.deleteFile(path, ifMatchOf(request));
    return reply.code(204).header(headers.revision, String(revision)).send();
  });
}
