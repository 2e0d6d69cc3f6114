/**
 * Files rewritten in place (one pwrite of the whole new version, same size) again and again while the
 * scanner uploads them: sizes on each of the scanner's read paths (in memory <= 64 KiB, snapshot copy
 * <= 64 MiB, read in place above). The server must never commit a torn file: every `put` in the journal
 * and every complete download must be a version the writer wrote; at the end the latest version arrives.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { delay } from '../harness/poll.js';
import { sha256 } from '../harness/tree-digest.js';
import { ClientTree } from '../harness/client-tree.js';
import { changesSince } from '../harness/server-api.js';
import { VersionReader } from '../harness/version-reader.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';

export interface TornReadOptions {
  seed: number;
  durationMs: number;
  /** Path -> size in bytes. */
  files: Record<string, number>;
  log?: (line: string) => void;
}

/** Overwrites the file in place with one write call (no truncate, no rename): the racy case. */
function overwriteInPlace(file: string, content: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    let at = 0;
    while (at < content.length) at += writeSync(fd, content, at, content.length - at, at);
  } finally {
    closeSync(fd);
  }
}

export async function tornRead(o: TornReadOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('torn-read', o.seed);
  const rng = new SeededRandom(o.seed);
  const rig = new Rig({ label: 'torn-read' });
  const tree = new ClientTree(rig.cdir, rng.fork(1));
  const reader = new VersionReader(() => rig.url, rig.token, tree.history, rng.fork(2));
  try {
    for (const [path, size] of Object.entries(o.files)) tree.write(path, rng.bytes(size));
    await rig.startServer();
    rig.startScanner();
    await rig.converged(180_000, 'initial sync');
    reader.start();
    let versions = 0;
    const end = Date.now() + o.durationMs;
    while (Date.now() < end) {
      const path = rng.pick(Object.keys(o.files));
      const content = rng.bytes(o.files[path]!);
      tree.history.get(path)!.add(sha256(content)); // recorded before it is on disk
      overwriteInPlace(join(rig.cdir, path), content);
      versions++;
      result.faults++;
      await delay(rng.int(20, 250)); // pacing the writer
    }
    await rig.converged(180_000, 'after the writer stopped');
    await reader.stop();
    const puts = (await changesSince(rig.directUrl, rig.token)).filter((c) => c.op === 'put' && c.path in o.files);
    let torn = 0;
    for (const p of puts) {
      result.filesChecked++;
      if (!tree.history.get(p.path)?.has(p.hash ?? '')) {
        torn++;
        result.failures.push(`the server committed ${p.path} with hash ${p.hash} at revision ${p.revision}: never a version the writer wrote (torn)`);
      }
    }
    result.mismatches += torn + reader.mismatches.length;
    for (const m of reader.mismatches.slice(0, 10)) result.failures.push(`reader: ${m}`);
    result.filesChecked += reader.checked;
    result.trials = 1;
    result.notes.push(
      `${versions} in-place rewrites over ${(o.durationMs / 1000).toFixed(0)} s of ${Object.entries(o.files)
        .map(([p, s]) => `${p} (${s} B)`)
        .join(', ')}; ${puts.length} versions committed, ${torn} torn; reader checked ${reader.checked} downloads`,
    );
    for (const e of rig.serverErrors().slice(0, 10)) result.failures.push(`server 5xx/error log: ${e}`);
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    await reader.stop().catch(() => {});
    await rig.close();
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
