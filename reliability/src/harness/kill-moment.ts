/**
 * Choosing the moment of a kill so it lands inside a sync, not after it: wait until the server's journal
 * has moved `changes` revisions past `fromRevision` (a seeded number), or until `maxWaitMs` passes.
 * Polls /v1/health every few ms; a poll that fails (server down) just counts as "not yet".
 */
import { serverRevision } from './server-api.js';

export async function untilJournalAdvances(url: string, fromRevision: number, changes: number, maxWaitMs: number): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let revision = fromRevision;
  while (Date.now() < deadline) {
    try {
      revision = await serverRevision(url);
    } catch {
      // not reachable right now
    }
    if (revision - fromRevision >= changes) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return revision - fromRevision;
}
