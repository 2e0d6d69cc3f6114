/**
 * The few server calls the scenarios need, over fetch: health, the change journal (paged), and a
 * duplicate-upload count derived from it. Errors are thrown with the status and body.
 */
import type { ChangeRecord, ChangesResponse } from '@deltabox/protocol';

export function authHeader(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function serverRevision(url: string): Promise<number> {
  const res = await fetch(`${url}/v1/health`);
  if (!res.ok) throw new Error(`health: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { revision: number }).revision;
}

/** Every journal record after `since`, following the pages. */
export async function changesSince(url: string, token: string, since = 0): Promise<ChangeRecord[]> {
  const out: ChangeRecord[] = [];
  let cursor = since;
  for (;;) {
    const res = await fetch(`${url}/v1/changes?since=${cursor}&limit=1000`, { headers: authHeader(token) });
    if (!res.ok) throw new Error(`changes: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as ChangesResponse;
    out.push(...body.changes);
    if (body.changes.length === 0 || body.revision <= cursor) return out;
    cursor = body.changes[body.changes.length - 1]!.revision;
    if (cursor >= body.revision) return out;
  }
}

export interface UploadCounts {
  /** `put` records. */
  puts: number;
  /** Puts of the very content the path already held: an upload of something the server had. */
  duplicatePuts: Array<{ path: string; hash: string; revision: number }>;
  /** Path -> number of puts. */
  putsByPath: Map<string, number>;
}

/**
 * Replays the journal from an empty tree and counts puts, flagging a put whose hash equals what the path
 * already held (folder moves and removals are applied to the subtree).
 */
export function countUploads(changes: ChangeRecord[], startState = new Map<string, string>()): UploadCounts {
  const current = new Map(startState);
  const putsByPath = new Map<string, number>();
  const duplicatePuts: UploadCounts['duplicatePuts'] = [];
  let puts = 0;
  const moveTree = (from: string, to: string): void => {
    for (const [p, h] of [...current]) {
      if (p === from || p.startsWith(`${from}/`)) {
        current.delete(p);
        current.set(to + p.slice(from.length), h);
      }
    }
  };
  const dropTree = (path: string): void => {
    for (const p of [...current.keys()]) if (p === path || p.startsWith(`${path}/`)) current.delete(p);
  };
  for (const c of changes) {
    if (c.op === 'put') {
      puts++;
      putsByPath.set(c.path, (putsByPath.get(c.path) ?? 0) + 1);
      if (c.hash !== undefined && current.get(c.path) === c.hash) duplicatePuts.push({ path: c.path, hash: c.hash, revision: c.revision });
      if (c.hash !== undefined) current.set(c.path, c.hash);
    } else if (c.op === 'delete' || c.op === 'rmdir') dropTree(c.path);
    else if (c.op === 'move' && c.from !== undefined) moveTree(c.from, c.path);
  }
  return { puts, duplicatePuts, putsByPath };
}
