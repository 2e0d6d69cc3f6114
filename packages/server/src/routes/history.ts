/**
 * Version history routes: GET /v1/history/<path> (versions of a path), GET /v1/trash (deleted paths with
 * their last version), GET /v1/versions/<id> (a version's bytes, Range), POST /v1/restore (read-write
 * token). Thin: parse, call history/restore.ts or the versions table, shape the response.
 */
import type { FastifyInstance } from 'fastify';
import { API_PREFIX, routes, type HistoryResponse, type RestoreRequest, type RestoreResponse, type TrashResponse } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';
import { restoreFile, restoreFolder } from '../history/restore.js';
import { sendBytes } from './send-bytes.js';
import { checkedMtime, checkedPath, deviceOf, pathFromUrl } from './request-parts.js';

const HISTORY_PREFIX = `${API_PREFIX}/history/`;

function parseRestore(body: unknown): RestoreRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('BAD_REQUEST', 'body must be a RestoreRequest object');
  const b = body as Record<string, unknown>;
  const folder = b.folder === undefined ? false : b.folder;
  if (typeof folder !== 'boolean') throw new ApiError('BAD_REQUEST', 'folder must be a boolean');
  const req: RestoreRequest = { path: folder && b.path === '' ? '' : checkedPath(b.path, 'path') };
  if (folder) req.folder = true;
  if (b.versionId !== undefined) {
    if (typeof b.versionId !== 'number' || !Number.isSafeInteger(b.versionId) || b.versionId < 1) throw new ApiError('BAD_REQUEST', 'versionId must be a positive integer');
    req.versionId = b.versionId;
  }
  if (b.at !== undefined) req.at = checkedMtime(b.at, 'at');
  if (b.to !== undefined) req.to = checkedPath(b.to, 'to');
  if (folder) {
    if (req.at === undefined || req.versionId !== undefined || req.to !== undefined) throw new ApiError('BAD_REQUEST', 'a folder restore takes `at` only');
  } else if ((req.versionId === undefined) === (req.at === undefined)) {
    throw new ApiError('BAD_REQUEST', 'give exactly one of versionId and at');
  }
  return req;
}

export async function historyRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  app.get(`${HISTORY_PREFIX}*`, async (request): Promise<HistoryResponse> => {
    const path = pathFromUrl(request, HISTORY_PREFIX);
    const current = mirror.index.get(path);
    const versions = mirror.versions.ofPath(path);
    if (!current && versions.length === 0) throw new ApiError('NOT_FOUND', `'${path}' has no current or past version`);
    const res: HistoryResponse = { path, versions };
    if (current) {
      const device = mirror.versions.deviceOf(path);
      res.current = device === undefined ? current : { ...current, device };
    }
    return res;
  });

  app.get(routes.trash, async (): Promise<TrashResponse> => ({ entries: mirror.versions.trash() }));

  app.get(`${API_PREFIX}/versions/:id`, async (request, reply) => {
    const raw = (request.params as { id: string }).id;
    const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    const v = Number.isSafeInteger(id) ? mirror.versions.get(id) : undefined;
    if (!v) throw new ApiError('VERSION_NOT_FOUND', `no version ${raw}`);
    const handle = await mirror.keeper.open(v.hash).catch((err: { code?: string }) =>
      Promise.reject(err.code === 'NOT_FOUND' ? new ApiError('VERSION_NOT_FOUND', `version ${raw} is no longer stored`) : err),
    );
    reply.header('etag', `"${v.hash}"`);
    return sendBytes(reply, handle, request.headers.range);
  });

  app.post(routes.restore, { config: { write: true } }, async (request): Promise<RestoreResponse> => {
    const req = parseRestore(request.body);
    const device = deviceOf(request);
    if (req.folder) return restoreFolder(mirror, req.path, req.at!, device);
    const sel = req.versionId !== undefined ? { versionId: req.versionId } : { at: req.at! };
    return { restored: [await restoreFile(mirror, req.path, sel, req.to, device)] };
  });
}
