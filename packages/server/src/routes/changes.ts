/**
 * GET /v1/changes?since=N[&waitMs=M][&limit=L]: the change journal, long-polling when nothing is newer; with
 * the journal's floor, and `expired` when records after N were pruned by retention.
 */
import type { FastifyInstance } from 'fastify';
import { routes, type ChangesResponse } from '@deltabox/protocol';
import { ApiError } from '../api-error.js';
import type { Mirror } from '../mirror.js';

function nonNegativeInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value)) throw new ApiError('BAD_REQUEST', `${name} must be a non-negative integer`);
  return Number(value);
}

export async function changeRoutes(app: FastifyInstance, { mirror }: { mirror: Mirror }): Promise<void> {
  const { journal, limits } = mirror;
  app.get(routes.changes, async (request, reply): Promise<ChangesResponse> => {
    const q = request.query as Record<string, string | undefined>;
    const since = nonNegativeInt(q.since, 'since', 0);
    const waitMs = Math.min(nonNegativeInt(q.waitMs, 'waitMs', 0), limits.changesMaxWaitMs);
    const limit = Math.min(Math.max(nonNegativeInt(q.limit, 'limit', limits.changesPageSize), 1), limits.changesPageSize);
    // Records after `since` were pruned (journal retention): answer at once that the device must merge.
    if (since < journal.floor()) return { changes: [], revision: journal.latest(), floor: journal.floor(), expired: true };
    const aborted = new AbortController();
    const onClose = (): void => aborted.abort();
    reply.raw.once('close', onClose);
    try {
      await journal.waitForChange(since, waitMs, aborted.signal);
    } finally {
      reply.raw.off('close', onClose);
    }
    // Read `latest` first: a change landing in between shows up in `changes`, never skipped. All three reads
    // run in one synchronous stretch, so no prune slips between the floor and the records.
    const latest = journal.latest();
    const floor = journal.floor();
    if (since < floor) return { changes: [], revision: latest, floor, expired: true }; // pruned while waiting
    const changes = journal.since(since, limit);
    return { changes, revision: changes.length ? changes[changes.length - 1]!.revision : latest, floor };
  });
}
