/**
 * Scanner killed with SIGKILL at random moments (during start-up, reconciliation or transfers) while the
 * server stays up. Per trial: seeded edits, start a scanner, kill it after a seeded delay, check its
 * SQLite state with PRAGMA integrity_check, restart, converge. Across the run: no upload of content the
 * path already held on the server (counted from the change journal), no temp files left in either folder,
 * and no version lost or torn (harness/history-audit.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { delay, waitFor } from '../harness/poll.js';
import { fileCount, treeDigest, treeDifferences } from '../harness/tree-digest.js';
import { ClientTree } from '../harness/client-tree.js';
import { changesSince, countUploads, serverRevision } from '../harness/server-api.js';
import { untilJournalAdvances } from '../harness/kill-moment.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';
import { auditHistory } from '../harness/history-audit.js';

export interface ScannerKillOptions {
  seed: number;
  trials: number;
  files: number;
  editsPerTrial: number;
  maxKillDelayMs: number;
  /** Whole-folder renames and deletes among the edits (default true). */
  folderEdits?: boolean;
  log?: (line: string) => void;
}

/** PRAGMA integrity_check of the scanner's state (opened read-write so a WAL left by the crash is replayed). */
export function scannerStateIntegrity(cdir: string): string {
  const file = join(cdir, '.deltabox', 'state.sqlite');
  if (!existsSync(file)) return 'ok (no state yet)';
  const db = new Database(file);
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

export async function scannerKill(o: ScannerKillOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('scanner-kill', o.seed);
  const rng = new SeededRandom(o.seed);
  const rig = new Rig({ label: 'scanner-kill' });
  const tree = new ClientTree(rig.cdir, rng.fork(1), o.folderEdits ?? true);
  let midSync = 0;
  try {
    tree.populate(o.files);
    await rig.startServer();
    for (let trial = 1; trial <= o.trials; trial++) {
      if (trial > 1) tree.mixedEdits(o.editsPerTrial);
      const from = await serverRevision(rig.server!.url);
      const scanner = rig.startScanner();
      // The kill's moment, drawn from the seed: after k journal changes (k = 0: during start-up or
      // reconciliation), or at the latest maxKillDelayMs after the start.
      const k = rng.int(0, trial === 1 ? o.files / 2 : o.editsPerTrial / 2);
      const seen = await untilJournalAdvances(rig.server!.url, from, k, o.maxKillDelayMs);
      if (k === 0) await delay(rng.int(300, 1500));
      const pending = treeDifferences(rig.cdir, rig.sdir).length;
      if (pending > 0) midSync++;
      await scanner.kill();
      result.faults++;
      const integrity = scannerStateIntegrity(rig.cdir);
      if (!integrity.startsWith('ok')) result.failures.push(`trial ${trial}: scanner state integrity_check: ${integrity}`);
      rig.startScanner();
      await rig.converged(120_000, `trial ${trial}`);
      await waitFor(() => readdirSync(join(rig.cdir, '.deltabox', 'tmp')).length === 0, `trial ${trial}: the scanner's temp folder empties`, {
        timeoutMs: 10_000,
        detail: () => readdirSync(join(rig.cdir, '.deltabox', 'tmp')).join(', '),
      });
      await rig.scanner!.stop();
      const integrityAfter = scannerStateIntegrity(rig.cdir);
      if (!integrityAfter.startsWith('ok')) result.failures.push(`trial ${trial}: state after a clean stop: ${integrityAfter}`);
      const staged = rig.stagedFiles();
      if (staged.length > 0) result.failures.push(`trial ${trial}: staged files left in the server folder: ${staged.join(', ')}`);
      result.filesChecked += fileCount(treeDigest(rig.sdir));
      result.trials++;
      o.log?.(`  scanner-kill trial ${trial}/${o.trials}: killed after ${seen} journal change(s) (k=${k}) with ${pending} path(s) not yet mirrored; integrity ${integrity}; converged`);
    }
    const uploads = countUploads(await changesSince(rig.server!.url, rig.token));
    result.notes.push(`${midSync} of ${result.trials} kills left paths unsynced; journal: ${uploads.puts} puts, ${uploads.duplicatePuts.length} of content the path already held`);
    result.mismatches += uploads.duplicatePuts.length;
    for (const d of uploads.duplicatePuts.slice(0, 10)) result.failures.push(`uploaded again: ${d.path} ${d.hash.slice(0, 12)} at revision ${d.revision}`);
    const audit = await auditHistory(rig.sdir, rig.server!.url, rig.token);
    result.notes.push(`history: ${audit.rows} version rows, ${audit.objects} objects hashed, ${audit.replaced} replaced contents all in history: ${audit.failures.length === 0 ? 'yes' : 'no'} (${audit.livesOn} deleted contents current at another path then: moves interrupted by a kill)`);
    result.mismatches += audit.failures.length;
    for (const f of audit.failures.slice(0, 20)) result.failures.push(`history: ${f}`);
    for (const e of rig.serverErrors().slice(0, 10)) result.failures.push(`server 5xx/error log: ${e}`);
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    await rig.close();
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
