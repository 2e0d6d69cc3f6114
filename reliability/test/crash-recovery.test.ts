/**
 * Slice of `pnpm test:faults` for the default run: the server and the scanner SIGKILLed mid-sync (two
 * trial each, smaller trees) converge with nothing lost, no torn version served, nothing uploaded twice.
 * Files only, to keep the slice short and steady; `pnpm test:faults` adds whole-folder renames and deletes
 * (they found the folder-move deadlock, fixed in 1b5b11f, whose regression test is in scanner-edges.test.ts).
 */
import t from 'tap';
import { serverKill } from '../src/scenarios/server-kill.js';
import { scannerKill } from '../src/scenarios/scanner-kill.js';
import { summaryLine } from '../src/harness/report.js';

const seed = Number(process.env.DELTABOX_SEED ?? 20261125);

t.test('a server killed mid-sync and restarted converges, serving only complete versions', async (t) => {
  const r = await serverKill({ seed, trials: 1, files: 50, editsPerTrial: 15, maxKillDelayMs: 1500, folderEdits: false });
  t.comment(summaryLine(r));
  t.same(r.failures, [], 'no broken invariant');
  t.equal(r.mismatches, 0, 'no torn or unknown version served');
  t.equal(r.trials, 1);
});

t.test('a scanner killed mid-sync and restarted converges without uploading twice, its SQLite state intact', async (t) => {
  const r = await scannerKill({ seed, trials: 1, files: 50, editsPerTrial: 15, maxKillDelayMs: 1500, folderEdits: false });
  t.comment(summaryLine(r));
  t.same(r.failures, [], 'no broken invariant (integrity_check ok, no temp files)');
  t.equal(r.mismatches, 0, 'no upload of content the server already held');
  t.equal(r.trials, 1);
});
