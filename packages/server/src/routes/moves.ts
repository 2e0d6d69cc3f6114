/** POST /v1/moves: rename or move a file or folder (MoveRequest JSON); parents of `to` are created. With `revive`, bring a file deleted here back at `to` (history/restore.ts reviveFile). */
import type { FastifyInstance } from 'fastify';
import { routes, type MoveRequest } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import { reviveFile } from '../history/restore.js';
import { checkedHash, checkedPath, deviceOf, sinceOf } from './request-parts.js';
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
  if (b.revive !== undefined) {
    if (typeof b.revive !== 'boolean') throw new ApiError('BAD_REQUEST', 'revive must be a boolean');
    if (b.revive && req.overwrite === true) throw new ApiError('BAD_REQUEST', 'a revive never overwrites');
    req.revive = b.revive;
  }
  return req;
}

export async function moveRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  app.post(routes.moves, { config: { write: true } }, async (request, reply) => {
    const req = parseMove(request.body);
    const entry = req.revive === true ? await reviveFile(mirror, req, sinceOf(request), deviceOf(request)) : await mirror.move(req, sinceOf(request));
    setEntryHeaders(reply, entry);
    return entry;
  });
}
