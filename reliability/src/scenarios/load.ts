/**
 * Load: 16 scanners (separate processes, folders and tokens) syncing at once to one server process (the
 * load host: one app per folder, see child/load-host.ts) with steady seeded edits for the duration. All
 * must converge; the server's p95 request latency (pino `responseTime`) and RSS are reported; a 5xx, a
 * scanner error line, or a token in any log fails the run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToken } from '@deltabox/server';
import { SeededRandom } from '../harness/seeded-random.js';
import { delay, waitFor } from '../harness/poll.js';
import { fileCount, treeDigest, treeDifferences } from '../harness/tree-digest.js';
import { ClientTree } from '../harness/client-tree.js';
import { sampleRss, spawnLoadHost, startScannerProcess, type ChildHandle } from '../harness/processes.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';
import { percentile } from '../harness/server-log.js';

export interface LoadOptions {
  seed: number;
  scanners: number;
  durationMs: number;
  filesEach: number;
  log?: (line: string) => void;
}

export async function load(o: LoadOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('load', o.seed);
  const rng = new SeededRandom(o.seed);
  const base = mkdtempSync(join(tmpdir(), 'dbx-rel-load-'));
  const logFile = join(base, 'server.log');
  const portsFile = join(base, 'ports.json');
  const clients: Array<{ cdir: string; sdir: string; token: string; tree: ClientTree; scanner?: ChildHandle }> = [];
  let host: ChildHandle | undefined;
  try {
    for (let i = 0; i < o.scanners; i++) {
      const cdir = join(base, `client-${i}`);
      const sdir = join(base, `server-${i}`);
      mkdirSync(sdir, { recursive: true });
      const tree = new ClientTree(cdir, rng.fork(100 + i));
      tree.populate(o.filesEach, 3);
      clients.push({ cdir, sdir, token: createToken(sdir, { name: `load-${i}` }), tree });
    }
    host = spawnLoadHost(
      clients.map((c) => c.sdir),
      portsFile,
      logFile,
    );
    await waitFor(() => existsSync(portsFile), 'the load host listens', { timeoutMs: 60_000, detail: () => host!.stderr().slice(-500) });
    const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as number[];
    const rss = sampleRss(host.pid, 500);
    for (const [i, c] of clients.entries()) c.scanner = startScannerProcess(c.cdir, `http://127.0.0.1:${ports[i]}`, c.token, ['--json', '--interval', '2s']);
    const startup = Date.now();
    for (const [i, c] of clients.entries()) {
      await waitFor(() => treeDifferences(c.cdir, c.sdir).length === 0, `folder ${i}: initial sync`, { timeoutMs: 180_000, intervalMs: 500 });
    }
    const startupMs = Date.now() - startup;
    o.log?.(`  load: ${o.scanners} scanners started and synced in ${(startupMs / 1000).toFixed(1)} s; editing for ${o.durationMs / 1000} s`);
    const logLinesBefore = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).length;
    let edits = 0;
    const end = Date.now() + o.durationMs;
    while (Date.now() < end) {
      const c = rng.pick(clients);
      edits += Object.values(c.tree.mixedEdits(rng.int(1, 3))).reduce((a, b) => a + b, 0);
      await delay(rng.int(20, 120)); // steady pace: about 10-20 edits a second across all folders
    }
    result.faults = edits;
    const convergeStart = Date.now();
    for (const [i, c] of clients.entries()) {
      let last: string[] = [];
      await waitFor(
        () => {
          last = treeDifferences(c.cdir, c.sdir);
          return last.length === 0;
        },
        `folder ${i} converges`,
        { timeoutMs: 180_000, intervalMs: 500, detail: () => `${last.length} differences, first ${last.slice(0, 3).join('; ')}; stderr ${c.scanner?.stderr().slice(-300)}` },
      );
      result.filesChecked += fileCount(treeDigest(c.sdir));
      result.trials++;
    }
    const convergeMs = Date.now() - convergeStart;
    const memory = rss.stop();
    for (const c of clients) await c.scanner?.stop();

    // Latency of the steady phase only (start-up of 16 processes on a small machine is reported apart).
    const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).slice(logLinesBefore);
    const times: number[] = [];
    const statuses: Record<string, number> = {};
    for (const line of lines) {
      const l = JSON.parse(line) as { responseTime?: number; res?: { statusCode?: number } };
      if (typeof l.responseTime === 'number') times.push(l.responseTime);
      const s = l.res?.statusCode;
      if (s !== undefined) statuses[s] = (statuses[s] ?? 0) + 1;
      if (s !== undefined && s >= 500) result.failures.push(`server answered ${s}: ${line.slice(0, 300)}`);
    }
    times.sort((a, b) => a - b);
    const scannerErrors: string[] = [];
    const logs = [readFileSync(logFile, 'utf8'), ...clients.map((c) => `${c.scanner?.stdout() ?? ''}\n${c.scanner?.stderr() ?? ''}`)];
    for (const c of clients) {
      for (const l of (c.scanner?.stdout() ?? '').split('\n')) if (/"level":(50|60)/.test(l)) scannerErrors.push(l.slice(0, 300));
      if (logs.some((text) => text.includes(c.token) || text.includes(c.token.slice(4)))) result.failures.push(`the token of ${c.cdir} appears in a log`);
    }
    for (const e of scannerErrors.slice(0, 5)) result.failures.push(`scanner error: ${e}`);
    result.notes.push(
      `start-up and initial sync of ${o.scanners} scanners: ${(startupMs / 1000).toFixed(1)} s; then ${o.scanners} scanners, ${edits} edits over ${(o.durationMs / 1000).toFixed(0)} s, all converged ${(convergeMs / 1000).toFixed(1)} s after the edits stopped; ` +
        `${times.length} requests: responseTime p50 ${percentile(times, 50)} ms, p95 ${percentile(times, 95)} ms, p99 ${percentile(times, 99)} ms, max ${times[times.length - 1] ?? 0} ms; ` +
        `statuses ${JSON.stringify(statuses)}; server RSS ${(memory.firstBytes / 2 ** 20).toFixed(0)} -> max ${(memory.maxBytes / 2 ** 20).toFixed(0)} MiB; scanner error lines ${scannerErrors.length}`,
    );
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    for (const c of clients) await c.scanner?.kill();
    await host?.stop();
    rmSync(base, { recursive: true, force: true });
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
