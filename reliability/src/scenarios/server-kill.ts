/**
 * Server killed with SIGKILL at random moments while a scanner syncs a 300-file tree with mixed edits.
 * Per trial: seeded edits, a seeded delay, SIGKILL, restart on the same folder, then: the trees are
 * identical, no staged files remain, and a reader polling the server throughout only saw complete
 * versions (checked by SHA-256 against every version the client ever wrote). At the end no version is lost
 * or torn (harness/history-audit.ts): rows have objects, objects hash to their names, and every content the
 * journal replaced is in history.
 */
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { VersionReader } from '../harness/version-reader.js';
import { serverRevision } from '../harness/server-api.js';
import { untilJournalAdvances } from '../harness/kill-moment.js';
import { fileCount, treeDigest, treeDifferences } from '../harness/tree-digest.js';
import { ClientTree } from '../harness/client-tree.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';
import { auditHistory } from '../harness/history-audit.js';

export interface ServerKillOptions {
  seed: number;
  trials: number;
  files: number;
  editsPerTrial: number;
  /** Kill moment: uniform in [0, maxKillDelayMs] after the edits land. */
  maxKillDelayMs: number;
  /** Whole-folder renames and deletes among the edits (default true). */
  folderEdits?: boolean;
  log?: (line: string) => void;
}

export async function serverKill(o: ServerKillOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('server-kill', o.seed);
  const rng = new SeededRandom(o.seed);
  const rig = new Rig({ label: 'server-kill' });
  const tree = new ClientTree(rig.cdir, rng.fork(1), o.folderEdits ?? true);
  const reader = new VersionReader(() => rig.url, rig.token, tree.history, rng.fork(2));
  let midSync = 0;
  try {
    tree.populate(o.files);
    await rig.startServer();
    rig.startScanner();
    await rig.converged(120_000, 'initial sync');
    reader.start();
    for (let trial = 1; trial <= o.trials; trial++) {
      const from = await serverRevision(rig.directUrl);
      tree.mixedEdits(o.editsPerTrial);
      // The kill's moment, drawn from the seed: after k journal changes of this trial's sync (k = 0: as
      // soon as the edits are on disk), or at the latest maxKillDelayMs later.
      const k = rng.int(0, o.editsPerTrial / 2);
      const seen = await untilJournalAdvances(rig.directUrl, from, k, o.maxKillDelayMs);
      const pending = treeDifferences(rig.cdir, rig.sdir).length;
      if (pending > 0) midSync++;
      await rig.killServer();
      result.faults++;
      await rig.startServer();
      await rig.converged(120_000, `trial ${trial}`);
      const staged = rig.stagedFiles();
      if (staged.length > 0) result.failures.push(`trial ${trial}: staged files left in the server folder: ${staged.join(', ')}`);
      result.filesChecked += fileCount(treeDigest(rig.sdir));
      result.trials++;
      o.log?.(`  server-kill trial ${trial}/${o.trials}: killed after ${seen} journal change(s) (k=${k}) with ${pending} path(s) not yet mirrored; converged`);
    }
    await reader.stop();
    result.mismatches += reader.mismatches.length;
    for (const m of reader.mismatches.slice(0, 20)) result.failures.push(`reader: ${m}`);
    const audit = await auditHistory(rig.sdir, rig.directUrl, rig.token);
    result.mismatches += audit.failures.length;
    for (const f of audit.failures.slice(0, 20)) result.failures.push(`history: ${f}`);
    const errors = rig.serverErrors();
    for (const e of errors.slice(0, 10)) result.failures.push(`server 5xx/error log: ${e}`);
    result.notes.push(
      `${midSync} of ${result.trials} kills landed while paths were still unsynced; reader checked ${reader.checked} downloads by hash (${reader.cut} cut by a kill); ${rig.serverStarts} server starts`,
      `history: ${audit.rows} version rows, ${audit.objects} objects hashed, ${audit.replaced} replaced contents all in history: ${audit.failures.length === 0 ? 'yes' : 'no'} (${audit.livesOn} deleted contents current at another path then: moves interrupted by a kill)`,
    );
    result.filesChecked += reader.checked;
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    await reader.stop().catch(() => {});
    await rig.close();
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
