/**
 * The sync report's rules for issue 11: time against rsync and against rsync --fsync (the durable anchor),
 * the tiny-files targets (time, bytes, scanner and server peak RSS), and n/a when a scenario did not run.
 */
import t from 'tap';
import type { RunSample, SystemName } from '../src/sync/lanes.js';
import { resultsTable, summarize, verdicts } from '../src/sync/sync-report.js';

function sample(scenario: string, system: SystemName, wallMs: number, wireBytes: number, rssMb?: { client: number; server: number }): RunSample {
  return {
    scenario, system, run: 0, wallMs, clientCpuMs: undefined, serverCpuMs: undefined, connections: 1,
    clientPeakRssKb: rssMb && (rssMb.client * 1e6) / 1024, serverPeakRssKb: rssMb && (rssMb.server * 1e6) / 1024,
    sentBytes: wireBytes, receivedBytes: 0,
  };
}

const cells = summarize([
  sample('tiny-initial', 'deltabox-delta', 9_000, 30e6, { client: 280, server: 210 }),
  sample('tiny-initial', 'rsync', 5_000, 40e6),
  sample('tiny-initial', 'rsync-fsync', 10_000, 40e6),
  sample('tiny-no-change', 'deltabox-delta', 700, 1e3),
  sample('tiny-no-change', 'rsync', 500, 2e6),
]);
const byTarget = new Map(verdicts({ cells, scale: [], rssTargetFiles: 100_000, throttled: {} }).map((v) => [v.target, v]));

t.test('tiny files: time is judged against rsync and against rsync --fsync, bytes against rsync', async (t) => {
  t.equal(byTarget.get('tiny files, initial sync: time <= 1.5x rsync')?.pass, false, '9 s against 5 s is 1.8x');
  t.equal(byTarget.get('tiny files, initial sync: time <= 1.0x rsync --fsync')?.pass, true, '9 s against 10 s');
  t.equal(byTarget.get('tiny files, initial sync: wire bytes <= 1.0x rsync')?.pass, true);
  t.equal(byTarget.get('tiny files, no-change rescan: time <= 1.0x rsync')?.pass, false);
  t.match(byTarget.get('tiny files, initial sync: time <= 1.0x rsync --fsync')?.measured, /^0\.900x/);
});

t.test('tiny files: the peak RSS targets are 300 MB for the scanner and 200 MB for the server', async (t) => {
  t.equal(byTarget.get('tiny files, initial sync: scanner peak RSS < 300 MB')?.pass, true);
  t.equal(byTarget.get('tiny files, initial sync: server peak RSS < 200 MB')?.pass, false);
});

t.test('a scenario that did not run is n/a, not a pass', async (t) => {
  t.equal(byTarget.get('tree, initial sync: time <= 1.0x rsync --fsync')?.pass, undefined);
  t.equal(byTarget.get('edited 1 GiB file: time <= 1.0x rsync')?.pass, undefined);
});

t.test('the table shows deltabox time over rsync --fsync in its last column', async (t) => {
  const row = resultsTable(cells).split('\n').find((l) => l.startsWith('| tiny-initial | deltabox-delta'));
  t.match(row, /\| 1\.80x \| 0\.90x \|$/);
});
