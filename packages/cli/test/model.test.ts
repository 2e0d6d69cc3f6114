/**
 * Model-based end to end: random sequences of edits on a real folder (writes, edits, deletes, file and
 * folder renames, chmod, folder deletes, scanner restarts), synced after each round against a real
 * server; the trees must compare equal every time. Seeded by fast-check: a failing seed is replayable.
 */
import t from 'tap';
import fc from 'fast-check';
import { chmodSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { mintToken, seededBytes, startServer, tempDir, treeDifferences } from './helpers/harness.js';

const FILES = ['a.txt', 'b.bin', 'd1/x', 'd1/y', 'd2/x', 'd2/sub/z', 'd3/deep/w w'];
const DIRS = ['d1', 'd2', 'd3', 'd2/sub', 'e', 'e/f'];

type Op =
  | { op: 'write'; path: string; seed: number; size: number }
  | { op: 'edit'; path: string; seed: number }
  | { op: 'delete'; path: string }
  | { op: 'renameFile'; path: string; to: string }
  | { op: 'renameDir'; path: string; to: string }
  | { op: 'rmdir'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'chmod'; path: string }
  | { op: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), path: fc.constantFrom(...FILES), seed: fc.nat(), size: fc.constantFrom(0, 10, 70_000, 300_000) }),
  fc.record({ op: fc.constant('edit' as const), path: fc.constantFrom(...FILES), seed: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...FILES) }),
  fc.record({ op: fc.constant('renameFile' as const), path: fc.constantFrom(...FILES), to: fc.constantFrom(...FILES) }),
  fc.record({ op: fc.constant('renameDir' as const), path: fc.constantFrom(...DIRS), to: fc.constantFrom(...DIRS) }),
  fc.record({ op: fc.constant('rmdir' as const), path: fc.constantFrom(...DIRS) }),
  fc.record({ op: fc.constant('mkdir' as const), path: fc.constantFrom(...DIRS) }),
  fc.record({ op: fc.constant('chmod' as const), path: fc.constantFrom(...FILES) }),
  fc.constant({ op: 'restart' as const }),
);

function apply(cdir: string, o: Op): void {
  if (o.op === 'restart') return;
  const p = join(cdir, o.path);
  try {
    switch (o.op) {
      case 'write':
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, seededBytes(o.seed + 1, o.size));
        break;
      case 'edit': {
        const size = statSync(p).size;
        const fd = openSync(p, 'r+');
        writeSync(fd, seededBytes(o.seed + 7, 40), 0, 40, Math.floor(size / 2));
        closeSync(fd);
        break;
      }
      case 'delete':
        rmSync(p);
        break;
      case 'renameFile':
      case 'renameDir':
        if (o.to.startsWith(`${o.path}/`)) return;
        mkdirSync(dirname(join(cdir, o.to)), { recursive: true });
        renameSync(p, join(cdir, o.to));
        break;
      case 'rmdir':
        rmSync(p, { recursive: true });
        break;
      case 'mkdir':
        mkdirSync(p, { recursive: true });
        break;
      case 'chmod':
        chmodSync(p, statSync(p).mode ^ 0o111);
        break;
    }
  } catch {
    // the edit does not apply to the tree as it is (missing file, file in the way): skip it
  }
}

/** Runs `rounds` of edits on a fresh client folder and server; throws when the server does not mirror a round. */
async function runRounds(t: Tap, rounds: Op[][]): Promise<void> {
  const base = tempDir(t, 'dbx-model-');
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  const server = await startServer(sdir);
  const token = mintToken(sdir);
  const open = () => new Scanner({ cdir, server: server.url, token, watch: false, intervalMs: 600_000 });
  let scanner = open();
  try {
    await scanner.start();
    for (const round of rounds) {
      for (const o of round) {
        if (o.op === 'restart') {
          await scanner.stop();
          scanner = open();
          await scanner.start();
        } else apply(cdir, o);
      }
      await scanner.scanNow();
      await scanner.waitForIdle();
      const diff = treeDifferences(cdir, sdir);
      if (diff.length > 0) throw new Error(`not mirrored after ${JSON.stringify(round)}: ${diff.join('; ')}`);
    }
  } finally {
    await scanner.stop();
    await server.close();
  }
}

t.test('model: after every round of random edits the server mirrors the client', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), (rounds) => runRounds(t, rounds)),
    { numRuns: 25 },
  );
  t.pass('every round converged');
});

t.test('model, a counterexample fast-check found: a folder renamed right after a restart cut its file\'s upload', async (t) => {
  // Before, d1/z stayed off the server: the upload of d2/sub/z found it gone, and the folder move carried nothing.
  await runRounds(t, [[{ op: 'write', path: 'd2/sub/z', seed: 0, size: 300000 }, { op: 'restart' }, { op: 'renameDir', path: 'd2/sub', to: 'd1' }, { op: 'chmod', path: 'a.txt' }], [{ op: 'renameDir', path: 'd1', to: 'd1' }]]);
  t.pass('mirrored');
});
