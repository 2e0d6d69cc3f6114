/**
 * Slice of the disk-full scenario: a real 8 MiB tmpfs holding the server folder, filled up. The full
 * scenario (scanner, recovery) runs in `pnpm test:faults`; here only the answers, fast. Skipped with the
 * reason when mounting is not permitted.
 */
import t from 'tap';
import { join } from 'node:path';
import { createToken } from '@deltabox/server';
import { Rig } from '../src/harness/rig.js';
import { mountSmallDisk, type SmallDisk } from '../src/harness/small-disk.js';
import { rawRequest } from '../src/harness/raw-http.js';
import { sha256 } from '../src/harness/tree-digest.js';

let disk: SmallDisk | undefined;
let skip: string | false = false;
try {
  disk = mountSmallDisk(8 * 1024 * 1024);
} catch (err) {
  skip = (err as Error).message;
}

t.test('the server on a full disk', { skip }, async (t) => {
  const rig = new Rig({ label: 'disk-full-slice', sdir: join(disk!.dir, 'server') });
  t.teardown(async () => {
    await rig.close();
    disk!.unmount();
  });
  const server = await rig.startServer();
  const auth = (token: string): Array<[string, string]> => [['authorization', `Bearer ${token}`]];
  const old = Buffer.from('the old version, which must survive');
  const first = await rawRequest(server.port, { method: 'PUT', target: '/v1/files/keep.txt', headers: [...auth(rig.token), ['content-length', String(old.length)]], body: old });
  t.equal(first.status, 200, 'the first version lands');
  const fresh = createToken(rig.sdir, { name: 'fresh' });
  disk!.fill();
  const big = Buffer.alloc(2_000_000, 7);
  const put = await rawRequest(server.port, { method: 'PUT', target: '/v1/files/keep.txt', headers: [...auth(rig.token), ['content-length', String(big.length)]], body: big });

  t.test('an upload fails with 507 INSUFFICIENT_STORAGE and the old version stays intact', async (t) => {
    t.equal(put.status, 507, put.body.toString());
    t.match(put.body.toString(), /"code":"INSUFFICIENT_STORAGE"/);
    const get = await rawRequest(server.port, { method: 'GET', target: '/v1/files/keep.txt', headers: auth(rig.token) });
    t.equal(get.status, 200);
    t.equal(sha256(get.body), sha256(old), 'the old version is served whole');
    t.same(rig.stagedFiles(), [], 'no staged file is left');
  });

  t.test('the 507 body does not reveal the server\'s absolute paths', async (t) => {
    t.notMatch(put.body.toString(), disk!.dir);
  });

  t.test('a device reading for the first time while the disk is full is served', async (t) => {
    const get = await rawRequest(server.port, { method: 'GET', target: '/v1/files/keep.txt', headers: auth(fresh) });
    t.equal(get.status, 200, get.body.toString());
  });

  t.test('uploads work again once space returns', async (t) => {
    disk!.free();
    const again = await rawRequest(server.port, { method: 'PUT', target: '/v1/files/keep.txt', headers: [...auth(rig.token), ['content-length', String(big.length)]], body: big });
    t.equal(again.status, 200, again.body.toString());
  });
});
