/**
 * The server unreachable while files change: a proxy we control refuses every connection for the outage
 * (reset at accept, counted) while 200 files change: edited once, edited several times across the
 * outage, deleted, renamed, created. Checks: the scanner's durable queue holds the changes, it backs off
 * instead of hammering (connection attempts counted), and after reconnect everything converges with
 * each path written at most once after the outage (from the change journal).
 */
import { join } from 'node:path';
import { renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { delay, waitFor } from '../harness/poll.js';
import { fileCount, treeDigest } from '../harness/tree-digest.js';
import { ClientTree } from '../harness/client-tree.js';
import { changesSince, countUploads, serverRevision } from '../harness/server-api.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';

export interface OutageOptions {
  seed: number;
  outageMs: number;
  files: number;
  /** Paths that change during the outage (at most `files`). */
  changes: number;
  log?: (line: string) => void;
}

function queuedPaths(cdir: string): number {
  const db = new Database(join(cdir, '.deltabox', 'state.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM queue').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Most connection attempts allowed during the outage: backoff from 250 ms doubling to a 30 s cap makes
 * about 8 in 30 s; a few more come from the pool's in-flight requests. A retry loop would make thousands. */
export function attemptBudget(outageMs: number): number {
  return 20 + Math.ceil(outageMs / 1000);
}

export async function outage(o: OutageOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('outage', o.seed);
  const rng = new SeededRandom(o.seed);
  const rig = new Rig({ label: 'outage' });
  const tree = new ClientTree(rig.cdir, rng.fork(1));
  try {
    tree.populate(o.files);
    await rig.startServer();
    rig.startScanner();
    await rig.converged(120_000, 'initial sync');
    const before = await serverRevision(rig.directUrl);
    const paths = [...tree.live].sort();
    // Disjoint groups drawn from the seed, `changes` paths in all: 40% edited once, 20% edited three times
    // across the outage, 15% deleted, 15% renamed, 10% created.
    const shuffled = paths.map((p) => [rng.next(), p] as const).sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    const n = o.changes;
    const take = (share: number, skip: number) => shuffled.slice(skip, skip + Math.round(n * share));
    const once = take(0.4, 0);
    const thrice = take(0.2, once.length);
    const deleted = take(0.15, once.length + thrice.length);
    const renamed = take(0.15, once.length + thrice.length + deleted.length);
    const created = n - once.length - thrice.length - deleted.length - renamed.length;

    rig.proxy.refuse();
    const attemptsBefore = rig.proxy.connections;
    result.faults++;
    const outageStart = Date.now();
    const edit = (p: string) => tree.write(p, Buffer.concat([tree.read(p), rng.bytes(rng.int(1, 3000))]));
    for (const p of once) edit(p);
    for (const p of thrice) edit(p);
    await delay(o.outageMs / 3); // pacing the edits across the outage
    for (const p of thrice) edit(p);
    for (const p of deleted) {
      rmSync(join(rig.cdir, p));
      tree.live.delete(p);
    }
    for (const [i, p] of renamed.entries()) {
      const to = `moved/renamed-${i}-${p.split('/').pop()}`;
      tree.write(to, tree.read(p)); // records the history under the new name
      rmSync(join(rig.cdir, to));
      renameSync(join(rig.cdir, p), join(rig.cdir, to));
      tree.live.delete(p);
    }
    await delay(o.outageMs / 3);
    for (const p of thrice) edit(p);
    for (let i = 0; i < created; i++) tree.write(`new/offline-${i}.txt`, rng.bytes(rng.int(1, 40_000)));
    await waitFor(() => queuedPaths(rig.cdir) > 0, 'the scanner queues the offline changes', { timeoutMs: 10_000 });
    const queued = queuedPaths(rig.cdir);
    await delay(Math.max(0, outageStart + o.outageMs - Date.now()));
    const attempts = rig.proxy.connections - attemptsBefore;
    const outageSeconds = (Date.now() - outageStart) / 1000;
    rig.proxy.forward();
    const reconnectStart = Date.now();
    await rig.converged(120_000, 'after the outage');
    const reconnectMs = Date.now() - reconnectStart;

    const after = countUploads(await changesSince(rig.directUrl, rig.token, before));
    const twice = [...after.putsByPath].filter(([, count]) => count > 1);
    result.mismatches += twice.length;
    for (const [p, count] of twice.slice(0, 10)) result.failures.push(`${p} uploaded ${count} times after the outage`);
    const budget = attemptBudget(o.outageMs);
    if (attempts > budget) result.failures.push(`${attempts} connection attempts in ${outageSeconds.toFixed(1)} s of outage (budget ${budget}): hammering`);
    const changedPaths = once.length + thrice.length + deleted.length + renamed.length + created;
    result.trials = 1;
    result.filesChecked = fileCount(treeDigest(rig.sdir));
    result.notes.push(
      `${changedPaths} paths changed during a ${outageSeconds.toFixed(1)} s outage (${once.length} edited once, ${thrice.length} edited 3 times, ` +
        `${deleted.length} deleted, ${renamed.length} renamed, ${created} created); ${queued} queued while offline; ` +
        `${attempts} connection attempts during the outage (budget ${budget}); converged ${(reconnectMs / 1000).toFixed(1)} s after the server came back; ` +
        `after the outage: ${after.puts} puts, max ${Math.max(0, ...after.putsByPath.values())} per path`,
    );
    for (const e of rig.serverErrors().slice(0, 10)) result.failures.push(`server 5xx/error log: ${e}`);
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    await rig.close();
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
