/**
 * The judgement of a multi-device run once activity has stopped: wait until every device folder equals the
 * server folder and the journal has stopped moving; then audit. Every content the ledger still owes must be
 * findable (a current file, a conflict copy, or a version in the server's history or trash), every server
 * file must hold bytes some user saved, no conflict copy may be a copy of a copy, and no two conflict copies
 * may hold the same bytes. It reads only; it never repairs.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { routes, type ChangeRecord, type HistoryResponse, type TrashResponse } from '@deltabox/protocol';
import { waitFor } from './poll.js';
import { authHeader, changesSince, serverRevision } from './server-api.js';
import { stagedFiles, treeDifferences, treeDigest } from './tree-digest.js';
import { CONFLICT_MARKER, isConflictCopyName, type SaveLedger } from './device-user.js';
import type { Fleet } from './fleet.js';

/**
 * Resolves once every device folder mirrors the server folder and the server's revision has not moved for
 * `quietMs`; returns how long that took. Throws (with each device's first differences and log tail) on timeout.
 */
export async function awaitQuiescence(fleet: Fleet, timeoutMs: number, quietMs = 3_000): Promise<number> {
  const started = Date.now();
  let revision = -1;
  let stableSince = Date.now();
  let last: string[] = [];
  await waitFor(
    async () => {
      let now: number;
      try {
        now = await serverRevision(fleet.serverUrl);
      } catch {
        return false;
      }
      if (now !== revision) {
        revision = now;
        stableSince = Date.now();
      }
      last = fleet.devices.flatMap((d) => treeDifferences(d.cdir, fleet.sdir).map((line) => `${d.name}: ${line}`));
      return last.length === 0 && Date.now() - stableSince >= quietMs;
    },
    'every device folder equals the server folder and the journal is quiet',
    {
      timeoutMs,
      intervalMs: 500,
      detail: () =>
        `${last.length} difference(s), first: ${last.slice(0, 8).join('; ')}; server revision ${revision}; ` +
        fleet.devices.map((d) => d.tail(500)).join(' | '),
    },
  );
  return Date.now() - started;
}

/** Temp files left in device state folders (`CDIR/.deltabox/tmp`) or staged on the server, by owner. */
export function debris(fleet: Fleet): string[] {
  const out = stagedFiles(fleet.sdir).map((f) => `server: ${f}`);
  for (const d of fleet.devices) {
    const tmp = join(d.cdir, '.deltabox', 'tmp');
    if (existsSync(tmp)) out.push(...readdirSync(tmp).map((f) => `${d.name}: ${f}`));
  }
  return out;
}

export interface AuditResult {
  filesChecked: number;
  /** Owed contents found nowhere: each is a lost edit. */
  lost: string[];
  failures: string[];
  conflictCopies: number;
  versionsSeen: number;
}

/** Every content hash the server still holds: current files, each journal path's history, and the trash. */
async function serverHeldHashes(fleet: Fleet): Promise<{ hashes: Set<string>; versions: number }> {
  const url = fleet.serverUrl;
  const headers = authHeader(fleet.auditToken);
  const hashes = new Set<string>();
  let versions = 0;
  const paths = everyFilePath(await changesSince(url, fleet.auditToken, 0));
  for (const path of paths) {
    const res = await fetch(`${url}${routes.history(path)}`, { headers });
    if (res.status === 404) {
      await res.body?.cancel();
      continue;
    }
    if (!res.ok) throw new Error(`history of ${path}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as HistoryResponse;
    if (body.current?.hash) hashes.add(body.current.hash);
    for (const v of body.versions) hashes.add(v.hash);
    versions += body.versions.length;
  }
  const trash = await fetch(`${url}${routes.trash}`, { headers });
  if (!trash.ok) throw new Error(`trash: ${trash.status} ${await trash.text()}`);
  for (const v of ((await trash.json()) as TrashResponse).entries) hashes.add(v.hash);
  return { hashes, versions };
}

/**
 * Every path that ever held a file, replaying the journal: named by a record, or reached by a folder move
 * (a file inside a moved folder is at a path no record names, and its later versions are kept there).
 */
function everyFilePath(changes: ChangeRecord[]): Set<string> {
  const named = new Set<string>();
  const live = new Set<string>();
  const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);
  for (const c of changes) {
    named.add(c.path);
    if (c.op === 'put') live.add(c.path);
    else if (c.op === 'delete' || c.op === 'rmdir') {
      for (const p of [...live]) if (under(p, c.path)) live.delete(p);
    } else if (c.op === 'move' && c.from !== undefined) {
      named.add(c.from);
      for (const p of [...live].filter((q) => under(q, c.from!))) {
        live.delete(p);
        const moved = c.path + p.slice(c.from.length);
        live.add(moved);
        named.add(moved);
      }
    }
  }
  return named;
}

/**
 * Whether the server's content-addressed version store holds `hash`: `GET /v1/deltas/<any current file>?from=`
 * answers 200 when it does and 404 VERSION_NOT_FOUND when it does not (docs/API.md).
 */
async function versionStoreHolds(fleet: Fleet, anyFile: string, hash: string): Promise<boolean> {
  const res = await fetch(`${fleet.serverUrl}${routes.delta(anyFile)}?from=${hash}`, { headers: authHeader(fleet.auditToken) });
  await res.body?.cancel();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw new Error(`delta probe for ${hash.slice(0, 12)} via ${anyFile}: ${res.status}`);
}

/** The audit after quiescence (the server must be up). */
export async function auditFleet(fleet: Fleet, ledger: SaveLedger): Promise<AuditResult> {
  const failures: string[] = [];
  const current = [...treeDigest(fleet.sdir)].filter(([, e]) => e.type === 'file');
  const copies = current.filter(([path]) => isConflictCopyName(path));
  for (const [path] of copies) {
    if (basename(path).split(CONFLICT_MARKER).length > 2) failures.push(`a conflict copy of a conflict copy: ${path}`);
  }
  const copyOf = new Map<string, string>();
  for (const [path, e] of copies) {
    const other = copyOf.get(e.hash!);
    if (other !== undefined) failures.push(`two conflict copies hold the same bytes: ${other} and ${path}`);
    copyOf.set(e.hash!, path);
  }
  for (const [path, e] of current) if (!ledger.has(e.hash!)) failures.push(`${path} holds bytes no user saved (${e.hash!.slice(0, 12)})`);

  const held = await serverHeldHashes(fleet);
  for (const [, e] of current) held.hashes.add(e.hash!);
  const owed = ledger.owed();
  const missing = owed.filter((e) => !held.hashes.has(e.hash));
  const stillMissing: typeof missing = [];
  for (const e of missing) if (current.length === 0 || !(await versionStoreHolds(fleet, current[0]![0], e.hash))) stillMissing.push(e);
  const lost = stillMissing.map((e) => `${e.device} saved ${e.path} (${e.hash.slice(0, 12)}): not a current file, not a conflict copy, not in history, trash or the version store`);
  return { filesChecked: current.length + owed.length, lost, failures, conflictCopies: copies.length, versionsSeen: held.versions };
}
