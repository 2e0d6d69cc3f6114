/**
 * Slice of `pnpm test:faults`: a short outage (connections refused by our proxy) while files change, and
 * files rewritten in place while they upload.
 */
import t from 'tap';
import { outage } from '../src/scenarios/outage.js';
import { tornRead } from '../src/scenarios/torn-read.js';
import { summaryLine } from '../src/harness/report.js';

const seed = Number(process.env.DELTABOX_SEED ?? 20261125);

t.test('changes made while the server is unreachable are queued, sent once each after it is back, without hammering', async (t) => {
  const r = await outage({ seed, outageMs: 3_000, files: 50, changes: 40 });
  t.comment(summaryLine(r));
  for (const n of r.notes) t.comment(n);
  t.same(r.failures, [], 'converged, each path written at most once after the outage, attempts within budget');
  t.equal(r.mismatches, 0);
});

t.test('a file rewritten in place while it uploads never reaches the server torn, and its latest version arrives', async (t) => {
  const r = await tornRead({ seed, durationMs: 2_000, files: { 'small.bin': 40_000, 'medium.bin': 2 << 20 } });
  t.comment(summaryLine(r));
  for (const n of r.notes) t.comment(n);
  t.same(r.failures, []);
  t.equal(r.mismatches, 0, 'no torn version committed or served');
});
