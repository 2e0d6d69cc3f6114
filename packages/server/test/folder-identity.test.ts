import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { routes, type FolderIdentityResponse } from '@deltabox/protocol';
import { buildApp } from '../src/index.js';
import { startServer, rawRequest } from './support/harness.js';

t.test('GET /v1/folder answers the folder id and the root device and inode', async (t) => {
  const h = await startServer(t);
  const res = await h.request('GET', routes.folder);
  t.equal(res.status, 200);
  const body = res.json<FolderIdentityResponse>();
  const st = statSync(h.sdir, { bigint: true });
  t.equal(body.dev, st.dev.toString(), 'dev is the bigint st_dev in decimal');
  t.equal(body.ino, st.ino.toString(), 'ino is the bigint st_ino in decimal');
  t.match(body.folderId, /^[0-9a-f]{32}$/);
  t.equal(readFileSync(join(h.sdir, '.deltabox', 'folder-id'), 'utf8').trim(), body.folderId, 'the id is kept in the state folder');
  t.equal(body.device, 'device', "device is the asking token's name");
  t.equal(body.readOnly, false);
  const readOnly = await h.request('GET', routes.folder, { headers: { authorization: `Bearer ${h.readOnlyToken}` } });
  t.equal(readOnly.status, 200, 'a read-only token may read it');
  t.match(readOnly.json(), { device: 'viewer', readOnly: true, folderId: body.folderId }, 'and learns its own name and that it is read-only');
  const anonymous = await rawRequest(h.port, 'GET', routes.folder);
  t.equal(anonymous.status, 401, 'no token: refused');
  t.equal(anonymous.json().code, 'UNAUTHORIZED');
});

t.test('the folder id survives a restart of the server on the same folder', async (t) => {
  const h = await startServer(t);
  const first = (await h.request('GET', routes.folder)).json<FolderIdentityResponse>().folderId;
  await h.app.close();
  const again = await buildApp({ sdir: h.sdir });
  t.teardown(() => again.close());
  const res = await again.inject({ method: 'GET', url: routes.folder, headers: { authorization: `Bearer ${h.token}` } });
  t.equal(res.json().folderId, first);
});
