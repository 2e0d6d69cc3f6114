/**
 * The version-object part of the Storage conformance suite (keepVersion, openVersion, removeVersion,
 * listVersions): every backend runs it next to storage-conformance.ts, with the same factory.
 */
import type { Test } from 'tap';
import { createHash } from 'node:crypto';
import type { Storage } from '../../src/index.js';
import type { ConformanceSubject } from './storage-conformance.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

async function put(storage: Storage, path: string, content: string, mtimeMs = 1_700_000_000_000): Promise<{ hash: string; size: number; mtimeMs: number }> {
  const staged = await storage.stage();
  await staged.write(Buffer.from(content));
  const { entry } = await staged.commit(path, { executable: false, mtimeMs });
  return { hash: sha(content), size: entry.size, mtimeMs: entry.mtimeMs };
}

async function readVersion(storage: Storage, hash: string): Promise<string> {
  const handle = await storage.openVersion(hash);
  const chunks: Buffer[] = [];
  for await (const c of handle.stream()) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function listed(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const h of storage.listVersions()) out.push(h);
  return out.sort();
}

export function versionConformance(t: Test, name: string, make: () => Promise<ConformanceSubject>): void {
  const withSubject = (title: string, fn: (t: Test, s: ConformanceSubject) => Promise<void>): void => {
    t.test(`${name} versions: ${title}`, async (t) => {
      const subject = await make();
      t.teardown(() => subject.cleanup());
      await fn(t, subject);
    });
  };

  withSubject('a kept version outlives the replace and the delete of its path, and is never walked', async (t, { storage }) => {
    const v1 = await put(storage, 'd/a.txt', 'version one');
    t.same(await storage.keepVersion('d/a.txt', v1), { hash: v1.hash, size: v1.size, created: true });
    await put(storage, 'd/a.txt', 'version two');
    t.equal(await readVersion(storage, v1.hash), 'version one', 'the object keeps the replaced bytes');
    await storage.removeFile('d/a.txt');
    t.equal(await readVersion(storage, v1.hash), 'version one');
    const walked: string[] = [];
    for await (const e of storage.walk()) walked.push(e.path);
    t.same(walked, ['d'], 'version objects are not part of the tree');
    t.same(await listed(storage), [v1.hash]);
  });

  withSubject('identical content is stored once', async (t, { storage }) => {
    const a = await put(storage, 'a', 'same bytes');
    const b = await put(storage, 'b', 'same bytes');
    t.equal((await storage.keepVersion('a', a)).created, true);
    t.equal((await storage.keepVersion('b', b)).created, false, 'the second keep finds the object');
    t.same(await listed(storage), [a.hash]);
  });

  withSubject('a file edited out of band is kept under the hash of its real bytes', async (t, { storage }) => {
    const stale = await put(storage, 'f', 'indexed');
    await put(storage, 'f', 'edited behind the index', stale.mtimeMs + 5000);
    const kept = await storage.keepVersion('f', stale);
    t.equal(kept.hash, sha('edited behind the index'));
    t.equal(await readVersion(storage, kept.hash), 'edited behind the index');
  });

  withSubject('bad targets are refused with typed errors and store nothing', async (t, { storage }) => {
    await storage.makeDir('dir');
    const fake = { hash: sha('x'), size: 1, mtimeMs: 0 };
    await t.rejects(storage.keepVersion('dir', fake), { code: 'TYPE_CONFLICT' });
    await t.rejects(storage.keepVersion('missing', fake), { code: 'NOT_FOUND' });
    await t.rejects(storage.openVersion(sha('never stored')), { code: 'NOT_FOUND' });
    await t.rejects(storage.openVersion('../../etc/passwd'), { code: 'NOT_FOUND' });
    t.same(await listed(storage), []);
  });

  withSubject('removeVersion removes the object, is idempotent, and an open handle keeps reading', async (t, { storage }) => {
    const v = await put(storage, 'f', 'to be pruned');
    await storage.keepVersion('f', v);
    const handle = await storage.openVersion(v.hash);
    await storage.removeVersion(v.hash);
    await storage.removeVersion(v.hash);
    t.same(await listed(storage), []);
    t.equal(Buffer.from(await handle.read(0, 100)).toString(), 'to be pruned');
    await handle.close();
    await t.rejects(storage.openVersion(v.hash), { code: 'NOT_FOUND' });
  });
}
