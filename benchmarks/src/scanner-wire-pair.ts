/**
 * Wire bytes of one real pair's update through the scanner and a real server (issue 10: the patch-release
 * update must cost at most 1.5x xdelta3 -9's delta on the wire). A `deltabox serve` process on a temp folder,
 * a byte-counting proxy in front of it, a client folder holding the pair's basis as its one file: a first
 * `scan --once` uploads it, then the file is replaced by the target and a second `scan --once` sends the
 * update. Prints both syncs' wire bytes (both directions, TCP payload) and xdelta3 -9's delta size when
 * xdelta3 is installed. Usage: node dist/scanner-wire-pair.js [PAIR_DIR] (default
 * /work/bench-data/pairs/npm-patch-release; a folder with basis.* and target.*, as build-real-pairs makes).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteCountingProxy } from './sync/byte-counting-proxy.js';
import { DeltaboxServer, scanOnce } from './sync/deltabox-peer.js';
import { freePort } from './sync/free-port.js';

const pairDir = process.argv[2] ?? '/work/bench-data/pairs/npm-patch-release';
const pick = (prefix: string): string => {
  const name = readdirSync(pairDir).find((f) => f.startsWith(prefix));
  if (name === undefined) throw new Error(`${pairDir} has no ${prefix}* file`);
  return join(pairDir, name);
};
const basis = pick('basis.');
const target = pick('target.');
const work = mkdtempSync(join(tmpdir(), 'deltabox-wire-pair-'));
const server = new DeltaboxServer(work, join(work, 'server'), await freePort());
let proxy: ByteCountingProxy | undefined;
try {
  await server.start();
  proxy = await ByteCountingProxy.start(server.port);
  const cdir = join(work, 'client');
  mkdirSync(cdir);
  const file = join(cdir, 'data' + basis.slice(basis.lastIndexOf('.')));
  copyFileSync(basis, file);
  const first = await scanOnce(cdir, proxy.port, server.tokenFile, work);
  const firstWire = proxy.take();
  copyFileSync(target, file);
  const update = await scanOnce(cdir, proxy.port, server.tokenFile, work);
  const updateWire = proxy.take();
  let xdelta: number | undefined;
  const xd = join(work, 'xd3');
  if (spawnSync('xdelta3', ['-9', '-f', '-e', '-s', basis, target, xd]).status === 0) xdelta = statSync(xd).size;
  const total = updateWire.sentBytes + updateWire.receivedBytes;
  console.log(JSON.stringify({
    pair: pairDir,
    basisBytes: statSync(basis).size,
    targetBytes: statSync(target).size,
    firstSync: { ...firstWire, summary: first.summary },
    update: { ...updateWire, totalBytes: total, summary: update.summary },
    xdelta3Bytes: xdelta,
    ratioToXdelta3: xdelta ? Number((total / xdelta).toFixed(2)) : null,
  }, null, 2));
} finally {
  await proxy?.close();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
