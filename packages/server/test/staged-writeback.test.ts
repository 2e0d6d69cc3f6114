/**
 * A large staged file is written back while it is still being written: an early fdatasync every 32 MiB (the
 * seal's fsync then has little left to flush), through the recording fs layer that logs every sync.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsRecorder } from './support/fs-recorder.js';

t.test('a staged file of 80 MiB is datasynced twice on the way, then fsynced at the seal; a small one only at the seal', async (t) => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'dbx-writeback-')));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  mkdirSync(join(root, '.deltabox'), { recursive: true });
  const recorder = new FsRecorder();
  const server = await t.mockImport<typeof import('../src/index.js')>('../src/index.js', { 'node:fs/promises': recorder.fs() });
  const storage = new server.LocalStorage(root);
  recorder.start(root);
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const write = async (path: string, mib: number) => {
    const staged = await storage.stage();
    for (let i = 0; i < mib; i++) await staged.write(chunk);
    await staged.commit(path, { executable: false });
  };
  await write('big.bin', 80);
  await write('small.bin', 3);
  recorder.stop();
  const kinds = recorder.ops.filter((o) => o.op === 'datasync-file' || o.op === 'fsync-file' || o.op === 'write');
  // Per inode: its syncs in order, each with the MiB written when it was logged (once it completed: the
  // writes go on while an early one runs, so it may be logged a few MiB later than it started).
  const byInode = new Map<number, Array<[string, number]>>();
  const written = new Map<number, number>();
  for (const o of kinds) {
    const inode = (o as { inode: number }).inode;
    if (o.op === 'write') written.set(inode, (written.get(inode) ?? 0) + (o as { data: Buffer }).data.length);
    else byInode.set(inode, [...(byInode.get(inode) ?? []), [o.op, (written.get(inode) ?? 0) / 2 ** 20]]);
  }
  const [big, small] = [...byInode.values()];
  t.same(big!.map(([op]) => op), ['datasync-file', 'datasync-file', 'fsync-file'], 'the large file: two early datasyncs, then the seal');
  t.ok(big![0]![1] >= 32 && big![1]![1] >= 64 && big![1]![1] < 80, `after ${big![0]![1]} and ${big![1]![1]} MiB of 80`);
  t.same(small, [['fsync-file', 3]], 'the small file: the seal only');
  t.equal(readFileSync(join(root, 'big.bin')).length, 80 * 2 ** 20, 'the file is whole');
});

t.test('an early fdatasync that fails fails the seal: nothing is placed (Linux may report the next fsync as a success)', async (t) => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'dbx-writeback-eio-')));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  mkdirSync(join(root, '.deltabox'), { recursive: true });
  const real = await import('node:fs/promises');
  let failed = 0;
  const fs = {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      const fh = await real.open(...args);
      return new Proxy(fh, {
        get(target, prop) {
          if (prop === 'datasync') {
            return async () => {
              failed++;
              throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });
            };
          }
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
  const server = await t.mockImport<typeof import('../src/index.js')>('../src/index.js', { 'node:fs/promises': fs });
  const storage = new server.LocalStorage(root);
  const staged = await storage.stage();
  const chunk = Buffer.alloc(1024 * 1024, 5);
  for (let i = 0; i < 40; i++) await staged.write(chunk);
  await t.rejects(staged.commit('big.bin', { executable: false }), /EIO|i\/o error/, 'the commit fails');
  t.equal(failed, 1, 'the early datasync ran and failed');
  t.notOk(existsSync(join(root, 'big.bin')), 'nothing placed');
  await staged.discard();
  t.same(readdirSync(join(root, '.deltabox', 'tmp')).filter((n) => n.endsWith('.staged')), [], 'the staged file is gone');
});
