/**
 * Edge cases of what the scanner sends, found while trying to lose an update: two client names that are
 * the same path once converted to NFC (distinct files on Linux), a file replaced by a folder, and a
 * folder renamed right after a file was moved out of it, a folder name reused and moved again while the server
 * is down; and who may read the client state.
 */
import t from 'tap';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../src/harness/rig.js';
import { startScannerProcess } from '../src/harness/processes.js';
import { treeDifferences } from '../src/harness/tree-digest.js';
import { waitFor } from '../src/harness/poll.js';

t.test('the scanner on a folder with unusual names', async (t) => {
  const rig = new Rig({ label: 'scanner-edges' });
  t.teardown(() => rig.close());
  await rig.startServer();
  writeFileSync(join(rig.cdir, 'caf\u00e9.txt'), 'the NFC name');
  writeFileSync(join(rig.cdir, 'cafe\u0301.txt'), 'the NFD name: another file on Linux');
  writeFileSync(join(rig.cdir, 'x'), 'a file that will become a folder');
  const first = startScannerProcess(rig.cdir, rig.url, rig.token, ['--once']);
  const firstExit = await first.exited;

  t.test(
    'two names that are one path in NFC are not dropped silently: the scanner warns about the one it cannot send',
    async (t) => {
      t.equal(firstExit.code, 0, first.stderr());
      t.match(first.stderr(), /warning: .*caf/, `stderr: ${JSON.stringify(first.stderr())}`);
    },
  );

  t.test('a file replaced by a folder of the same name converges', async (t) => {
    rmSync(join(rig.cdir, 'x'));
    mkdirSync(join(rig.cdir, 'x'));
    writeFileSync(join(rig.cdir, 'x', 'inside.txt'), 'now a folder');
    const second = startScannerProcess(rig.cdir, rig.url, rig.token, ['--once']);
    const { code } = await second.exited;
    t.equal(code, 0, second.stderr());
    t.same(
      treeDifferences(rig.cdir, rig.sdir).filter((d) => d.startsWith('x')),
      [],
    );
  });
});

t.test(
  'a folder renamed right after one of its files was moved out of it converges',
  async (t) => {
    const rig = new Rig({ label: 'folder-move' });
    t.teardown(() => rig.close());
    await rig.startServer();
    mkdirSync(join(rig.cdir, 'f'));
    mkdirSync(join(rig.cdir, 'other'));
    writeFileSync(join(rig.cdir, 'f', 'a.txt'), 'content of a');
    writeFileSync(join(rig.cdir, 'f', 'b.txt'), 'content of b');
    const first = rig.startScanner();
    await rig.converged(30_000, 'first sync');
    await first.stop();
    // Both while the scanner is stopped, so one scan sees them together (as after an outage or a crash).
    renameSync(join(rig.cdir, 'f', 'a.txt'), join(rig.cdir, 'other', 'a.txt'));
    renameSync(join(rig.cdir, 'f'), join(rig.cdir, 'g'));
    rig.startScanner();
    await t.resolves(rig.converged(20_000, 'after the move out and the folder rename'));
  },
);

for (const mode of ['two-way', 'push']) t.test(
  `a folder moved away, then a new folder of the same name made and moved too, while the server is down, converges (--mode ${mode})`,
  async (t) => {
    const rig = new Rig({ label: 'folder-reuse' });
    t.teardown(() => rig.close());
    await rig.startServer();
    mkdirSync(join(rig.cdir, 'd0'));
    mkdirSync(join(rig.cdir, 'd1'));
    writeFileSync(join(rig.cdir, 'd0', 'z.txt'), 'z');
    writeFileSync(join(rig.cdir, 'd1', 'a.txt'), 'a');
    // Push mode deadlocked here (two queued moves of the same source, each waiting for the other) until the
    // older of the two went first (op-queue hasMoveFrom).
    rig.startScanner(['--mode', mode]);
    await rig.converged(30_000, 'first sync');
    await rig.killServer();
    // Each step is seen by a scan of its own while the server is down (found by multi-device, seed 102).
    const queued = (path: string) => waitFor(() => rig.queueDump(50).includes(`"path":"${path}"`), `${path} queued`, { timeoutMs: 20_000 });
    renameSync(join(rig.cdir, 'd1'), join(rig.cdir, 'd0', 'm1'));
    await queued('d0/m1');
    mkdirSync(join(rig.cdir, 'd1'));
    writeFileSync(join(rig.cdir, 'd1', 'b.txt'), 'b');
    await queued('d1/b.txt');
    renameSync(join(rig.cdir, 'd1'), join(rig.cdir, 'm2'));
    await queued('m2');
    await rig.startServer();
    await t.resolves(rig.converged(45_000, 'after the server is back'));
  },
);

t.test(
  'the client state, which holds the device token of `deltabox run`, is readable by its owner only',
  async (t) => {
    const rig = new Rig({ label: 'state-mode' });
    t.teardown(() => rig.close());
    await rig.startServer();
    writeFileSync(join(rig.cdir, 'a.txt'), 'a');
    // `deltabox run` keeps its token in this database (writeStoredSetting 'run.token').
    const scan = startScannerProcess(rig.cdir, rig.url, rig.token, ['--once']);
    t.equal((await scan.exited).code, 0, scan.stderr());
    const stateDir = join(rig.cdir, '.deltabox');
    const dirPrivate = (statSync(stateDir).mode & 0o077) === 0;
    const dbPrivate = (statSync(join(stateDir, 'state.sqlite')).mode & 0o077) === 0;
    t.ok(dirPrivate || dbPrivate, `.deltabox mode ${(statSync(stateDir).mode & 0o777).toString(8)}, state.sqlite mode ${(statSync(join(stateDir, 'state.sqlite')).mode & 0o777).toString(8)}`);
  },
);
