/**
 * Two-way sync proof (issue 12): several devices (real `deltabox scan` processes, each with its own token,
 * folder and proxy) on one server folder, their seeded users creating, editing, deleting, renaming and moving
 * folders while devices go offline, get SIGKILLed and restart, and the server is SIGKILLed and restarted.
 * After the activity stops and everything is back: every device folder equals the server's, every content a
 * user saved and did not itself throw away is findable, no conflict copy of a conflict copy (quiescence.ts).
 * With `faults: false` it is the shared-folder load run (16 devices): edits only, server figures reported.
 * Each trial is a fresh server folder; trial N uses seed + N - 1, so `--seed S --trials 1` replays it.
 */
import { Fleet } from '../harness/fleet.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { delay, waitFor } from '../harness/poll.js';
import { DeviceUser, isConflictCopyName, SaveLedger, type UserAction } from '../harness/device-user.js';
import { sha256, treeDigest } from '../harness/tree-digest.js';
import { auditFleet, awaitQuiescence, debris } from '../harness/quiescence.js';
import { sampleRss } from '../harness/processes.js';
import { describeFigures, errorLines, readLogLines, requestFigures } from '../harness/server-log.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';

export interface MultiDeviceOptions {
  seed: number;
  trials: number;
  devices: number;
  /** How long the users act per trial. */
  activityMs: number;
  /** Files on the first device before it joins (the second brings a fifth as many, the rest join empty). */
  filesEach: number;
  /** Mean pause between two actions, across all devices. */
  actionGapMs: number;
  /** Device kills, offline spells and server kills (off: the shared-folder load run). */
  faults: boolean;
  quiescenceTimeoutMs: number;
  /** Scenario name in the report (multi-device or shared-load). */
  name?: string;
  log?: (line: string) => void;
}

interface Counts {
  actions: Record<string, number>;
  deviceKills: number;
  offlineSpells: number;
  serverKills: number;
}

/** Something to undo at a later moment (restart a device, bring it online, restart the server). */
interface Pending {
  atMs: number;
  run: () => Promise<void> | void;
}

export function deviceName(i: number, count: number): string {
  return count <= 26 ? `dev-${String.fromCharCode(97 + i)}` : `dev-${String(i + 1).padStart(2, '0')}`;
}

export async function multiDevice(o: MultiDeviceOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult(o.name ?? 'multi-device', o.seed);
  for (let trial = 1; trial <= o.trials; trial++) {
    const seed = (o.seed + trial - 1) >>> 0;
    const ok = await oneTrial(o, seed, trial, result);
    if (!ok) break; // the seed of the failed trial is in the failure; later trials would add noise
  }
  result.elapsedMs = Date.now() - started;
  return result;
}

async function oneTrial(o: MultiDeviceOptions, seed: number, trial: number, result: ScenarioResult): Promise<boolean> {
  const rng = new SeededRandom(seed);
  const names = Array.from({ length: o.devices }, (_, i) => deviceName(i, o.devices));
  const fleet = new Fleet({ label: result.name, devices: names });
  const ledger = new SaveLedger();
  const users = fleet.devices.map((d, i) => new DeviceUser(d.name, d.cdir, rng.fork(10 + i), ledger));
  const counts: Counts = { actions: {}, deviceKills: 0, offlineSpells: 0, serverKills: 0 };
  const failuresBefore = result.failures.length + result.mismatches;
  let keep = false;
  let phase = 'start-up';
  let rss: ReturnType<typeof sampleRss> | undefined;
  let sameHash: string | undefined;
  try {
    users[0]!.populate(o.filesEach);
    if (users.length > 1) {
      // The second device joins with files of its own, three paths the first also has with other bytes (a
      // conflict each at the join) and one with the same bytes (no conflict).
      users[1]!.populate(Math.ceil(o.filesEach / 5));
      for (let k = 0; k < 3; k++) for (const u of users.slice(0, 2)) u.save(`shared/notes-${k}.txt`, rng.bytes(rng.int(100, 5_000)));
      const same = rng.bytes(3_000);
      for (const u of users.slice(0, 2)) u.save('shared/same.txt', same);
      sameHash = sha256(same);
    }
    await fleet.startServer();
    rss = sampleRss(fleet.server!.pid, 500);
    for (const d of fleet.devices) d.startScanner();
    const startupMs = await awaitQuiescence(fleet, o.quiescenceTimeoutMs);
    const logFrom = readLogLines(fleet.logFile).length;
    phase = 'activity';
    await activity(o, fleet, users, rng.fork(1), counts);
    phase = 'quiescence after the activity';
    const settleMs = await awaitQuiescence(fleet, o.quiescenceTimeoutMs);
    const figures = requestFigures(readLogLines(fleet.logFile, logFrom)); // before the audit's own requests
    const memory = rss.stop();
    phase = 'audit';
    const audit = await auditFleet(fleet, ledger);
    result.trials++;
    result.faults += counts.deviceKills + counts.offlineSpells + counts.serverKills;
    result.filesChecked += audit.filesChecked;
    result.mismatches += audit.lost.length;
    for (const l of audit.lost.slice(0, 20)) result.failures.push(`trial ${trial} (seed ${seed}): LOST ${l}`);
    for (const f of audit.failures.slice(0, 20)) result.failures.push(`trial ${trial} (seed ${seed}): ${f}`);
    let left: string[] = [];
    await waitFor(() => (left = debris(fleet)).length === 0, 'no temp files left', { timeoutMs: 30_000, intervalMs: 500 }).catch(() =>
      result.failures.push(`trial ${trial} (seed ${seed}): temp files left 30 s after quiescence: ${left.slice(0, 10).join(', ')}`),
    );
    for (const [path, e] of treeDigest(fleet.sdir)) {
      if (e.hash === sameHash && isConflictCopyName(path)) result.failures.push(`trial ${trial} (seed ${seed}): identical bytes made a conflict copy: ${path}`);
    }
    for (const d of fleet.devices) for (const e of d.unexpectedExits) result.failures.push(`trial ${trial} (seed ${seed}): ${e}`);
    for (const e of errorLines(readLogLines(fleet.logFile)).slice(0, 10)) result.failures.push(`trial ${trial} (seed ${seed}): server 5xx/error log: ${e}`);
    const line =
      `trial ${trial}/${o.trials} (seed ${seed}): ${o.devices} devices, start-up and first sync ${(startupMs / 1000).toFixed(1)} s; ` +
      `actions ${JSON.stringify(counts.actions)}; ${counts.deviceKills} device SIGKILLs, ${counts.offlineSpells} offline spells, ${counts.serverKills} server SIGKILLs; ` +
      `quiet and equal ${(settleMs / 1000).toFixed(1)} s after the activity; ${audit.filesChecked} files/contents checked, ${audit.conflictCopies} conflict copies, ` +
      `${audit.versionsSeen} versions in history, ${audit.lost.length} lost; server: ${describeFigures(figures)}` +
      // After a server kill the sampled process is gone: its RSS says nothing about the run.
      (counts.serverKills === 0 ? `; server RSS ${(memory.firstBytes / 2 ** 20).toFixed(0)} -> max ${(memory.maxBytes / 2 ** 20).toFixed(0)} MiB` : '');
    result.notes.push(line);
    o.log?.(`  ${result.name} ${line}`);
  } catch (err) {
    result.failures.push(`trial ${trial} (seed ${seed}): aborted in the ${phase} after ${JSON.stringify(counts)}: ${describeError(err)}`);
  } finally {
    rss?.stop();
    keep = process.env.DBX_KEEP === '1' && result.failures.length + result.mismatches > failuresBefore;
    if (keep) o.log?.(`  kept ${fleet.base}`);
    await fleet.close(keep);
  }
  return result.failures.length + result.mismatches === failuresBefore;
}

/** The users act for `activityMs`; with faults, devices and the server are killed, cut off and brought back. */
async function activity(o: MultiDeviceOptions, fleet: Fleet, users: DeviceUser[], rng: SeededRandom, counts: Counts): Promise<void> {
  const pending: Pending[] = [];
  const runDue = async (all: boolean): Promise<void> => {
    pending.sort((a, b) => a.atMs - b.atMs);
    while (pending.length > 0 && (all || pending[0]!.atMs <= Date.now())) await pending.shift()!.run();
  };
  const end = Date.now() + o.activityMs;
  while (Date.now() < end) {
    await delay(rng.int(Math.ceil(o.actionGapMs / 2), Math.ceil((o.actionGapMs * 3) / 2)));
    await runDue(false);
    const roll = rng.next();
    const i = rng.int(0, users.length - 1);
    const device = fleet.devices[i]!;
    if (o.faults && roll < 0.03 && device.running) {
      await device.stopScanner();
      counts.deviceKills++;
      pending.push({ atMs: Date.now() + rng.int(300, 4_000), run: () => device.startScanner() });
    } else if (o.faults && roll < 0.05 && !device.offline) {
      device.goOffline();
      counts.offlineSpells++;
      pending.push({ atMs: Date.now() + rng.int(1_000, 8_000), run: () => device.goOnline() });
    } else if (o.faults && roll < 0.062 && fleet.server) {
      await fleet.killServer();
      counts.serverKills++;
      pending.push({ atMs: Date.now() + rng.int(200, 3_000), run: () => fleet.startServer() });
    } else {
      const action: UserAction = users[i]!.act();
      counts.actions[action] = (counts.actions[action] ?? 0) + 1;
    }
  }
  await runDue(true);
}
