/**
 * Two-way sync proof (issue 12), the slice of `pnpm test:faults -- --scenario multi-device`: three devices,
 * one seed, faults on. And the audit checked against itself: a loss, foreign bytes and a copy of a copy
 * planted by hand must each be reported (a check that cannot fail proves nothing).
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fleet } from '../src/harness/fleet.js';
import { SaveLedger } from '../src/harness/device-user.js';
import { auditFleet } from '../src/harness/quiescence.js';
import { sha256 } from '../src/harness/tree-digest.js';
import { multiDevice } from '../src/scenarios/multi-device.js';
import { summaryLine } from '../src/harness/report.js';

const seed = Number(process.env.DELTABOX_SEED ?? 20261201);
// Start-up of four CLI processes, 15 s of activity and quiescence: more than .taprc's 120 s on a loaded machine.
t.setTimeout(300_000);

t.test('the audit reports saved bytes found nowhere, bytes nobody saved, a copy of a copy and twin copies', async (t) => {
  const fleet = new Fleet({ label: 'audit-check', devices: ['dev-a'] });
  t.teardown(() => fleet.close());
  await fleet.startServer();
  const ledger = new SaveLedger();
  const kept = Buffer.from('kept on the server');
  const copy = 'd/n (conflicted copy dev-a 2026-12-01 101010).txt';
  mkdirSync(join(fleet.sdir, 'd'), { recursive: true });
  writeFileSync(join(fleet.sdir, 'd/kept.txt'), kept);
  writeFileSync(join(fleet.sdir, copy), kept);
  writeFileSync(join(fleet.sdir, 'd/m (conflicted copy dev-b 2026-12-01 101010).txt'), kept);
  writeFileSync(join(fleet.sdir, 'd/n (conflicted copy dev-b 2026-12-01 101011) (conflicted copy dev-a 2026-12-01 101012).txt'), 'x');
  ledger.save('dev-a', 'd/kept.txt', kept);
  ledger.save('dev-a', 'd/x', Buffer.from('x'));
  ledger.save('dev-a', 'lost.txt', Buffer.from('saved, never synced'));
  ledger.save('dev-a', 'thrown-away.txt', Buffer.from('overwritten by its own user'));
  ledger.supersede('dev-a', sha256('overwritten by its own user'));
  writeFileSync(join(fleet.sdir, 'foreign.txt'), 'bytes no user wrote');

  const audit = await auditFleet(fleet, ledger);
  t.equal(audit.lost.length, 1, 'one loss');
  t.match(audit.lost[0], /dev-a saved lost\.txt/);
  t.match(audit.failures.join('\n'), /a conflict copy of a conflict copy: d\/n \(conflicted copy dev-b/);
  t.match(audit.failures.join('\n'), /two conflict copies hold the same bytes/);
  t.match(audit.failures.join('\n'), /foreign\.txt holds bytes no user saved/);
  t.equal(audit.conflictCopies, 3);
});

t.test('three devices syncing one folder both ways, killed, cut off and with the server killed, converge and lose nothing', async (t) => {
  const r = await multiDevice({
    seed,
    trials: 1,
    devices: 3,
    activityMs: 15_000,
    filesEach: 30,
    actionGapMs: 150,
    faults: true,
    quiescenceTimeoutMs: 90_000,
  });
  t.comment(summaryLine(r));
  for (const n of r.notes) t.comment(n);
  t.same(r.failures, [], 'no broken invariant');
  t.equal(r.mismatches, 0, 'no saved content lost');
  t.equal(r.trials, 1);
});
