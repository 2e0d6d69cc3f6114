/** /v1/dirs/<path>: PUT is mkdir -p, DELETE removes a folder (`?recursive=1` when not empty). */
import type { FastifyInstance } from 'fastify';
import { API_PREFIX, headers } from '@deltabox/protocol';
import type { Mirror } from '../mirror.js';
import { pathFromUrl, sinceOf } from './request-parts.js';
import { setEntryHeaders } from './entry-headers.js';

const PREFIX = `${API_PREFIX}/dirs/`;

export async function dirRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  app.put('/v1/dirs/*', { config: { write: true } }, async (request, reply) => {
    const entry = await mirror.makeDir(pathFromUrl(request, PREFIX), sinceOf(request));
    setEntryHeaders(reply, entry);
    return entry;
  });

  app.delete('/v1/dirs/*', { config: { write: true } }, async (request, reply) => {
    const recursive = (request.query as Record<string, string | undefined>).recursive;
    const revision = await mirror.removeDir(pathFromUrl(request, PREFIX), recursive === '1' || recursive === 'true');
    return reply.code(204).header(headers.revision, String(revision)).send();
  });
}
