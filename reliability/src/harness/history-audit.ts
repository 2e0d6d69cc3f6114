/**
 * After recovery from a fault, checks that no version is lost or torn (issue 13): every versions row of
 * the server's state has its object, every object's SHA-256 equals its name, and every content the journal
 * shows replaced or deleted (a put of other content, a delete, a folder removal, a move over a file) is in
 * the history at the path where it was replaced. Reads the server's SQLite state read-only and its object
 * folder; the journal comes over HTTP. Assumes retention keeps everything of the run (the default keeps
 * every version for a day).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ChangeRecord } from '@deltabox/protocol';
import { changesSince } from './server-api.js';

export interface HistoryAudit {
  /** Versions rows checked. */
  rows: number;
  /** Version objects hashed. */
  objects: number;
  /** Replaced contents the journal says must be in history. */
  replaced: number;
  /** Deleted contents current at another path then (replacedContents): not required in history. */
  livesOn: number;
  failures: string[];
}

/** Object path of `hash`: `versions/ab/cdef…` (storage/local-version-objects.ts). */
function objectPath(sdir: string, hash: string): string {
  return join(sdir, '.deltabox', 'versions', hash.slice(0, 2), hash.slice(2));
}

async function fileSha256(file: string): Promise<string> {
  const hasher = createHash('sha256');
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}

/**
 * `path\0hash` of every content the journal replaced or deleted, replaying it from an empty tree, with the
 * change that ended it (`op@revision`). A delete (or folder removal) of content that is current at another
 * path at that moment is counted in `livesOn` instead: a move killed between its rename and its record is
 * journaled by the restarted server's reconcile as a put at the new path and a delete at the old one, and
 * nothing was kept because nothing was lost. (A real delete of content a second file also holds is counted
 * there too: a blind spot of this check.)
 */
export function replacedContents(changes: ChangeRecord[]): { replaced: Map<string, string>; livesOn: number } {
  const current = new Map<string, string>();
  const replaced = new Map<string, string>();
  let livesOn = 0;
  const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);
  const end = (path: string, by: ChangeRecord): void => {
    const hash = current.get(path);
    current.delete(path);
    if (hash === undefined) return;
    if ((by.op === 'delete' || by.op === 'rmdir') && [...current.values()].includes(hash)) livesOn++;
    else replaced.set(`${path}\0${hash}`, `${by.op}@${by.revision}`);
  };
  for (const c of changes) {
    if (c.op === 'put' && c.hash !== undefined) {
      if (current.has(c.path) && current.get(c.path) !== c.hash) end(c.path, c);
      current.set(c.path, c.hash);
    } else if (c.op === 'delete' || c.op === 'rmdir') {
      for (const p of [...current.keys()]) if (under(p, c.path)) end(p, c);
    } else if (c.op === 'move' && c.from !== undefined) {
      if (current.has(c.from) && current.has(c.path)) end(c.path, c); // a file moved over a file
      for (const [p, h] of [...current]) {
        if (!under(p, c.from)) continue;
        current.delete(p);
        current.set(c.path + p.slice(c.from.length), h);
      }
    }
  }
  return { replaced, livesOn };
}

/** Audits the history of the server folder `sdir` (served at `url`). */
export async function auditHistory(sdir: string, url: string, token: string): Promise<HistoryAudit> {
  const failures: string[] = [];
  const db = new Database(join(sdir, '.deltabox', 'state.db'), { readonly: true, fileMustExist: true });
  let rows: Array<{ id: number; path: string; hash: string }>;
  try {
    rows = db.prepare('SELECT id, path, hash FROM versions').all() as typeof rows;
  } finally {
    db.close();
  }
  for (const r of rows) if (!existsSync(objectPath(sdir, r.hash))) failures.push(`version ${r.id} of ${r.path}: object ${r.hash.slice(0, 12)} is missing`);
  let objects = 0;
  const root = join(sdir, '.deltabox', 'versions');
  for (const shard of existsSync(root) ? readdirSync(root) : []) {
    for (const name of readdirSync(join(root, shard))) {
      objects++;
      const actual = await fileSha256(join(root, shard, name));
      if (actual !== shard + name) failures.push(`object ${(shard + name).slice(0, 12)} is torn: its bytes hash to ${actual.slice(0, 12)}`);
    }
  }
  const inHistory = new Set(rows.map((r) => `${r.path}\0${r.hash}`));
  const { replaced, livesOn } = replacedContents(await changesSince(url, token));
  for (const [key, by] of replaced) {
    const [path, hash] = key.split('\0') as [string, string];
    if (!inHistory.has(key)) failures.push(`${path}: replaced content ${hash.slice(0, 12)} (ended by ${by}) is not in its history`);
  }
  return { rows: rows.length, objects, replaced: replaced.size, livesOn, failures };
}
