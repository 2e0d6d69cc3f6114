/** POST /v1/moves: rename or move a file or folder (MoveRequest JSON); parents of `to` are created. */
import type { FastifyInstance } from 'fastify';
import { routes, type MoveRequest } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import { checkedHash, checkedPath, sinceOf } from './request-parts.js';
import { setEntryHeaders } from './entry-headers.js';

function parseMove(body: unknown): MoveRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('BAD_REQUEST', 'body must be a MoveRequest object');
  const b = body as Record<string, unknown>;
  const req: MoveRequest = { from: checkedPath(b.from, 'from'), to: checkedPath(b.to, 'to') };
  if (b.ifMatch !== undefined) req.ifMatch = checkedHash(b.ifMatch, 'ifMatch');
  if (b.overwrite !== undefined) {
    if (typeof b.overwrite !== 'boolean') throw new ApiError('BAD_REQUEST', 'overwrite must be a boolean');
    req.overwrite = b.overwrite;
  }
  return req;
}

export async function moveRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  app.post(routes.moves, { config: { write: true } }, async (request, reply) => {
    const entry = await mirror.move(parseMove(request.body), sinceOf(request));
    setEntryHeaders(reply, entry);
    return entry;
  });
}
