/**
 * Slice of the disk-full scenario: a real 8 MiB tmpfs holding the server folder, filled up. The full
 * scenario (scanner, recovery) runs in `pnpm test:faults`; here only the answers, fast. Skipped with the
 * reason when mounting is not permitted.
 */
import t from 'tap';
import { connect } from 'node:net';
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

  t.test(
    'after a 507 in the middle of an upload, the next request on the same keep-alive connection is answered (or the connection is closed)',
    async (t) => {
      const outcome = await new Promise<{ responses: number; closed: boolean }>((resolve) => {
        const socket = connect(server.port, '127.0.0.1');
        let text = '';
        const done = (closed: boolean) => resolve({ responses: (text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length, closed });
        socket.on('data', (d) => (text += d.toString('latin1')));
        socket.on('close', () => done(true));
        socket.on('error', () => {});
        const timer = setTimeout(() => {
          done(false);
          socket.destroy();
        }, 8_000);
        socket.on('close', () => clearTimeout(timer));
        socket.write(`PUT /v1/files/second.bin HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${rig.token}\r\ncontent-length: ${big.length}\r\n\r\n`);
        socket.write(big, () => socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n'));
      });
      t.ok(outcome.responses === 2 || outcome.closed, `${outcome.responses} answer(s), connection closed: ${outcome.closed} (within 8 s)`);
    },
  );

  t.test('uploads work again once space returns', async (t) => {
    disk!.free();
    const again = await rawRequest(server.port, { method: 'PUT', target: '/v1/files/keep.txt', headers: [...auth(rig.token), ['content-length', String(big.length)]], body: big });
    t.equal(again.status, 200, again.body.toString());
  });
});
