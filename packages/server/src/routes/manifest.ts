/** GET /v1/files: the manifest as NDJSON, streamed from one SQLite snapshot (never one big array). */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { headers, mediaTypes, routes } from '@deltabox/protocol';
import { openManifestSnapshot } from '../state/file-index.js';

export async function manifestRoutes(app: FastifyInstance, { sdir }: { sdir: string }): Promise<void> {
  app.get(routes.manifest, async (_request, reply) => {
    const snapshot = openManifestSnapshot(sdir);
    reply.raw.once('close', () => void snapshot.close());
    reply.header(headers.revision, String(snapshot.revision)).type(mediaTypes.ndjson);
    return reply.send(Readable.from(snapshot.lines, { objectMode: false }));
  });
}
