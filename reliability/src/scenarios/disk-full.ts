/**
 * The server's disk fills up (a real 8 MiB tmpfs holding the server folder and its SQLite state): uploads
 * must fail with a clear 507 INSUFFICIENT_STORAGE, the versions already on the server stay intact (by
 * hash), no staged file is left, no 500 appears; once space returns the scanner's sync resumes and
 * converges.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createToken } from '@deltabox/server';
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { waitFor } from '../harness/poll.js';
import { fileCount, sha256, treeDigest } from '../harness/tree-digest.js';
import { ClientTree } from '../harness/client-tree.js';
import { authHeader } from '../harness/server-api.js';
import { rawRequest } from '../harness/raw-http.js';
import { mountSmallDisk, type SmallDisk } from '../harness/small-disk.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';

export interface DiskFullOptions {
  seed: number;
  diskBytes: number;
  log?: (line: string) => void;
}

interface StatusCount {
  [status: string]: number;
}

function statusesSince(rig: Rig, fromLine: number): { counts: StatusCount; lines: Array<Record<string, unknown>> } {
  const lines = rig.logLines().slice(fromLine);
  const counts: StatusCount = {};
  for (const l of lines) {
    const status = (l.res as { statusCode?: number } | undefined)?.statusCode;
    if (status !== undefined) counts[status] = (counts[status] ?? 0) + 1;
  }
  return { counts, lines };
}

export async function diskFull(o: DiskFullOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('disk-full', o.seed);
  const rng = new SeededRandom(o.seed);
  let disk: SmallDisk;
  try {
    disk = mountSmallDisk(o.diskBytes);
  } catch (err) {
    result.notes.push(`NOT RUN: ${(err as Error).message}; the server has no storage quota to simulate a full disk with`);
    result.elapsedMs = Date.now() - started;
    return result;
  }
  const rig = new Rig({ label: 'disk-full', sdir: join(disk.dir, 'server') });
  const tree = new ClientTree(rig.cdir, rng.fork(1));
  try {
    for (let i = 0; i < 10; i++) tree.write(`small-${i}.txt`, rng.bytes(rng.int(100, 5_000)));
    tree.write('keep.bin', rng.bytes(1_000_000));
    await rig.startServer();
    rig.startScanner(process.env.DBX_SCANNER_JSON === '1' ? ['--json'] : []);
    await rig.converged(60_000, 'initial sync');
    const old = treeDigest(rig.sdir);
    // A device that has not connected yet: its first request records last_used_at in SQLite.
    const freshToken = createToken(rig.sdir, { name: 'fresh-device' });
    const filled = disk.fill();
    result.faults++;
    const logFrom = rig.logLines().length;

    // The scanner meets the full disk: a changed big file (delta), new big files (PUT), new small ones (batch).
    tree.write('keep.bin', Buffer.concat([tree.read('keep.bin').subarray(0, 500_000), rng.bytes(600_000)]));
    for (let i = 0; i < 4; i++) tree.write(`big-new-${i}.bin`, rng.bytes(700_000));
    for (let i = 0; i < 10; i++) tree.write(`small-new-${i}.txt`, rng.bytes(rng.int(100, 20_000)));

    // And a direct upload, to read the answer itself. Over a raw socket with `connection: close`: after a
    // 507 mid-body the server keeps a keep-alive connection open but never reads it again (bug
    // keepalive-stall-after-507), which would leave fetch's pooled connection stuck for 72 s.
    const probeBytes = 2_000_000;
    const probe = await rawRequest(rig.server!.port, {
      method: 'PUT',
      target: '/v1/files/probe.bin',
      headers: [
        ['authorization', `Bearer ${rig.token}`],
        ['content-length', String(probeBytes)],
      ],
      body: rng.bytes(probeBytes),
    });
    const probeBody = probe.body.toString();
    o.log?.(`  disk-full: disk filled (${filled} bytes); probe PUT answered ${probe.status}`);
    result.trials++;
    if (probe.status !== 507 || !probeBody.includes('INSUFFICIENT_STORAGE')) {
      result.failures.push(`a PUT onto the full disk answered ${probe.status} ${probeBody.slice(0, 200)} (want 507 INSUFFICIENT_STORAGE)`);
    }
    if (probeBody.includes(disk.dir)) {
      result.bugs.push(`BUG error-leaks-path: the 507 body names the server's absolute path: ${probeBody.slice(0, 200)}`);
    }
    await waitFor(() => (statusesSince(rig, logFrom).counts['507'] ?? 0) >= 3, 'the scanner meets 507 answers', {
      timeoutMs: 30_000,
      detail: () => JSON.stringify(statusesSince(rig, logFrom).counts),
    });
    const during = statusesSince(rig, logFrom);
    // 507 is logged at error level ("request failed", status >= 500): expected here. Anything else at
    // error level, or any 500, is a bug.
    const fivehundreds = during.lines.filter((l) => {
      const status = (l.res as { statusCode?: number } | undefined)?.statusCode;
      return status === 500 || ((l.level as number) >= 50 && status !== 507);
    });
    for (const l of fivehundreds.slice(0, 5)) result.failures.push(`500/error while the disk was full: ${JSON.stringify(l).slice(0, 500)}`);

    o.log?.(`  disk-full: the scanner met ${JSON.stringify(statusesSince(rig, logFrom).counts)}`);
    // Reading needs no space: a device's first request while the disk is full must still be served.
    const fresh = await rawRequest(rig.server!.port, { method: 'GET', target: '/v1/files/keep.bin', headers: [['authorization', `Bearer ${freshToken}`]] });
    if (fresh.status !== 200) {
      result.bugs.push(
        `BUG sqlite-full-500: a read with a token not used before answered ${fresh.status} ${fresh.body.toString().slice(0, 120)} while the disk was full (want 200)`,
      );
    }
    // The old versions are intact, on disk and as served.
    for (const [path, entry] of old) {
      if (entry.type !== 'file') continue;
      const res = await fetch(`${rig.directUrl}/v1/files/${encodeURIComponent(path)}`, { headers: authHeader(rig.token) });
      const body = Buffer.from(await res.arrayBuffer());
      result.filesChecked++;
      const now = treeDigest(rig.sdir).get(path);
      if (res.status !== 200 || sha256(body) !== entry.hash || now?.hash !== entry.hash) {
        result.mismatches++;
        result.failures.push(`${path}: old version not intact while the disk was full (status ${res.status})`);
      }
    }
    const stagedWhileFull = rig.stagedFiles();
    if (stagedWhileFull.length > 0) result.notes.push(`staged files present while full (may be in flight): ${stagedWhileFull.join(', ')}`);

    o.log?.(`  disk-full: old versions checked; freeing the disk`);
    disk.free();
    const freedAt = Date.now();
    await rig.converged(120_000, 'after space returned');
    const recoveryMs = Date.now() - freedAt;
    result.trials++;
    result.filesChecked += fileCount(treeDigest(rig.sdir));
    const staged = rig.stagedFiles();
    if (staged.length > 0) result.failures.push(`staged files left after recovery: ${staged.join(', ')}`);
    result.notes.push(
      `tmpfs of ${o.diskBytes} bytes, filler ${filled} bytes; while full the server answered ${JSON.stringify(during.counts)} (by status); probe PUT got ${probe.status}; converged ${(recoveryMs / 1000).toFixed(1)} s after the filler was removed`,
    );
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    if (process.env.DBX_SCANNER_JSON === '1') writeFileSync(join(rig.base, 'scanner.log'), rig.scanner?.stdout() ?? '');
    await rig.close(process.env.DBX_KEEP === '1');
    try {
      disk.unmount();
    } catch (err) {
      result.notes.push(`umount failed: ${(err as Error).message}`);
    }
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
