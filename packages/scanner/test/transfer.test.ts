import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../src/http/api-client.js';
import { BasisCache } from '../src/transfer/basis-cache.js';
import { hashFileStable } from '../src/transfer/file-reader.js';
import { StateStore } from '../src/state/state-store.js';
import { SyncState } from '../src/state/sync-state.js';
import { Transfer, type TransferDeps } from '../src/transfer/transfer.js';
import { walkedEntryOf } from '../src/detect/tree-walk.js';
import { BATCH_FRAMES_PREFIX_BYTES, decodeBatchFramesHeader, decodeBatchFramesPrefix } from '@deltabox/protocol';

/**
 * A client folder, a stub server answering with `answer` once each request's body is read, its ApiClient and
 * a real state store; `transfer` builds a Transfer on them (extra deps over the defaults).
 */
async function rig(t: Tap.Test, answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-transfer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'client');
  mkdirSync(root);
  mkdirSync(join(dir, 'tmp'));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new ApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'tok' });
  const store = new StateStore(join(dir, 'state'));
  t.teardown(async () => {
    await client.close();
    await new Promise((r) => server.close(r));
    store.close();
  });
  const state = new SyncState(store);
  const transfer = (deps: Partial<TransferDeps>) =>
    new Transfer({
      root,
      tmpDir: join(dir, 'tmp'),
      client,
      state,
      cache: new BasisCache(join(dir, 'cache'), store, 1_000_000),
      plan: { local: state.local, remote: state.remote, base: state.base, hasMoveFrom: () => false, hasMoveAbove: () => false, hasMoveInto: () => false },
      onMoveFailed: () => {},
      ...deps,
    });
  return { root, state, transfer };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

t.test('a write whose parent folders the remote view lacks records them and reports them', async (t) => {
  // The server accepts the upload and, as the real one does, creates the parents: here a stub answers it.
  const { root, state, transfer: make } = await rig(t, (req, res) => {
    const hash = String(req.headers['x-deltabox-content-hash']);
    const mtimeMs = Number(req.headers['x-deltabox-mtime-ms']);
    json(res, 200, { path: 'd/sub/z.txt', type: 'file', size: 3, mtimeMs, hash, executable: false, revision: 7 });
  });
  mkdirSync(join(root, 'd/sub'), { recursive: true });
  writeFileSync(join(root, 'd/sub/z.txt'), 'zed');
  const { hash, stat } = await hashFileStable(join(root, 'd/sub/z.txt'));
  // The client has the file but, since its scan, no longer the folders (removed while the upload was queued).
  state.setLocal({ ...walkedEntryOf('d/sub/z.txt', 'd/sub/z.txt', stat), hash, racy: false });
  const recorded: string[][] = [];
  const transfer = make({ onFoldersRecorded: (paths) => recorded.push(paths) });
  await transfer.syncPath({ path: 'd/sub/z.txt', kind: 'sync' });
  t.same(recorded, [['d/sub', 'd']], 'both parents reported, nearest first');
  t.equal(state.remote.get('d/sub')?.type, 'dir');
  t.equal(state.remote.get('d')?.type, 'dir');
  t.equal(state.remote.get('d/sub/z.txt')?.hash, hash);
  // Once the parents are known, a further write reports nothing.
  writeFileSync(join(root, 'd/sub/z.txt'), 'zed!');
  const again = await hashFileStable(join(root, 'd/sub/z.txt'));
  state.setLocal({ ...walkedEntryOf('d/sub/z.txt', 'd/sub/z.txt', again.stat), hash: again.hash, racy: false });
  await transfer.syncPath({ path: 'd/sub/z.txt', kind: 'sync' });
  t.equal(recorded.length, 1);
});

t.test('two-way: a move whose source the server no longer has is a remote change (merged first), not an upload as new files; a folder move stays queued until the merge', async (t) => {
  for (const twoWay of [true, false]) {
    // Another device moved or deleted `theirs` first: the server answers the move NOT_FOUND.
    const { root, state, transfer: make } = await rig(t, (req, res) => {
      if (req.method === 'PUT' && req.url?.startsWith('/v1/dirs/')) json(res, 200, { path: 'mine', type: 'dir', size: 0, mtimeMs: 0, executable: false, revision: 9 });
      else json(res, 404, { code: 'NOT_FOUND', message: 'no such path: theirs' });
    });
    mkdirSync(join(root, 'mine'));
    state.setLocal({ ...walkedEntryOf('mine', 'mine', statSync(join(root, 'mine'))), racy: false });
    const theirs = { path: 'theirs', type: 'dir' as const, size: 0, mtimeMs: 0, executable: false };
    state.setRemote(theirs);
    state.setBase(theirs);
    const failedMoves: string[] = [];
    const transfer = make({ twoWay, onMoveFailed: (path, from) => failedMoves.push(`${from} -> ${path}`) });
    const attempt = transfer.syncPath({ path: 'mine', kind: 'move', from: 'theirs' });
    if (twoWay) {
      await t.rejects(attempt, { code: 'REMOTE_CHANGED', holdEntry: true }, 'two-way: merge first, the folder move kept queued');
      t.same(failedMoves, [], 'nothing queued for upload');
    } else {
      await attempt;
      t.same(failedMoves, ['theirs -> mine'], 'push mode: the moved entries are sent as new ones');
    }
  }
  // A file move refused the same way is dropped (the merge re-queues it): nothing waits below a file.
  const { root, state, transfer: make } = await rig(t, (_req, res) => json(res, 404, { code: 'NOT_FOUND', message: 'no such path: theirs.txt' }));
  writeFileSync(join(root, 'mine.txt'), 'x');
  state.setLocal({ ...walkedEntryOf('mine.txt', 'mine.txt', statSync(join(root, 'mine.txt'))), hash: (await hashFileStable(join(root, 'mine.txt'))).hash, racy: false });
  const theirs = { path: 'theirs.txt', type: 'file' as const, size: 1, mtimeMs: 0, executable: false, hash: state.local.get('mine.txt')!.hash! };
  state.setRemote(theirs);
  state.setBase(theirs);
  const err = await make({ twoWay: true }).syncPath({ path: 'mine.txt', kind: 'move', from: 'theirs.txt' }).then(() => undefined, (e: unknown) => e);
  t.match(err, { code: 'REMOTE_CHANGED' }, 'a file move: merge first');
  t.notOk((err as { holdEntry?: boolean }).holdEntry, 'a file move is not held');
});

t.test('two-way: small new files go create-only, and one another device made meanwhile is merged, not retried', async (t) => {
  const bodies: Buffer[] = [];
  const { root, state, transfer: make } = await rig(t, (_req, res, body) => {
    bodies.push(body);
    // The server already holds same.txt (another device's): the real server refuses a create-only part so.
    json(res, 200, { results: [
      { path: 'same.txt', ok: false, error: { code: 'BASE_MISMATCH', message: "'same.txt' is at abc, not nothing (create only)" } },
      { path: 'other.txt', ok: false, error: { code: 'HASH_MISMATCH', message: 'bytes changed' } },
    ] });
  });
  const locals = [];
  for (const [path, content] of [['same.txt', 'made here'], ['other.txt', 'x']]) {
    writeFileSync(join(root, path), content);
    const { hash, stat } = await hashFileStable(join(root, path));
    const row = { ...walkedEntryOf(path, path, stat), hash, racy: false };
    state.setLocal(row);
    locals.push(row);
  }
  const twoWay = await make({ twoWay: true }).syncBatch(locals);
  // The frames header of a body (docs/API.md §POST /v1/batch): the parts' metas.
  const metas = (body: Buffer) => {
    const { headerBytes, jsonBytes } = decodeBatchFramesPrefix(body, 1 << 20);
    return decodeBatchFramesHeader(body.subarray(BATCH_FRAMES_PREFIX_BYTES, BATCH_FRAMES_PREFIX_BYTES + headerBytes), jsonBytes, 1000);
  };
  t.same(metas(bodies[0]!).map((m) => [m.path, m.ifNoneMatch]), [['same.txt', true], ['other.txt', true]], 'the parts are create-only');
  t.same(twoWay.map((o) => (o.ok ? 'ok' : o.error.code)), ['REMOTE_CHANGED', 'HTTP'], 'refused for its base: merged first; any other failure is retried');
  const push = await make({}).syncBatch(locals);
  t.same(metas(bodies[1]!).map((m) => [m.path, m.ifNoneMatch]), [['same.txt', undefined], ['other.txt', undefined]], 'push mode (this device is the source of truth) sends no precondition');
  t.same(push.map((o) => (o.ok ? 'ok' : o.error.code)), ['HTTP', 'HTTP']);
});

t.test('two-way: a delete or an edit whose path is gone from the server (another device moved it) is a remote change; the view keeps the row', async (t) => {
  for (const twoWay of [true, false]) {
    const puts: string[] = [];
    const { root, state, transfer: make } = await rig(t, (req, res, body) => {
      if (req.method === 'PUT' && req.url?.startsWith('/v1/files/')) {
        puts.push(req.url);
        json(res, 200, { path: 'f/x.txt', type: 'file', size: body.length, mtimeMs: Number(req.headers['x-deltabox-mtime-ms']), hash: String(req.headers['x-deltabox-content-hash']), executable: false, revision: 12 });
      } else if (req.method === 'DELETE') json(res, 404, { code: 'NOT_FOUND', message: "'f/y.txt' does not exist" });
      else json(res, 404, { code: 'NOT_FOUND', message: "'f/x.txt' does not exist" }); // the signature: moved away
    });
    mkdirSync(join(root, 'f'));
    writeFileSync(join(root, 'f/x.txt'), 'e'.repeat(8192)); // over SMALL_DELTA_MIN_BYTES: a delta, against the server's signature (nothing cached)
    const { hash, stat } = await hashFileStable(join(root, 'f/x.txt'));
    state.setLocal({ ...walkedEntryOf('f/x.txt', 'f/x.txt', stat), hash, racy: false });
    for (const path of ['f/x.txt', 'f/y.txt']) {
      const row = { path, type: 'file' as const, size: 8192, mtimeMs: 1, executable: false, hash: 'a'.repeat(64) };
      state.setRemote(row);
      state.setBase(row);
    }
    const transfer = make({ twoWay });
    if (twoWay) {
      await t.rejects(transfer.syncPath({ path: 'f/x.txt', kind: 'sync' }), { code: 'REMOTE_CHANGED' }, 'the edit: merge first');
      await t.rejects(transfer.syncPath({ path: 'f/y.txt', kind: 'sync' }), { code: 'REMOTE_CHANGED' }, 'the delete: merge first');
      t.ok(state.remote.has('f/x.txt') && state.remote.has('f/y.txt'), 'the view keeps both rows, so the journal\'s move of the folder carries them (before: dropped, and the moved files never reached the device)');
      t.same(puts, [], 'nothing sent whole to the old path');
    } else {
      await transfer.syncPath({ path: 'f/x.txt', kind: 'sync' });
      await transfer.syncPath({ path: 'f/y.txt', kind: 'sync' });
      t.same(puts.length, 1, 'push mode: this folder is the truth, the edit goes whole');
      t.notOk(state.remote.has('f/y.txt'), 'push mode: a delete of what is gone is done');
    }
  }
});

t.test('a server that refuses edited files in a batch (an older one) gets them alone, and the new files still batched', async (t) => {
  const seen: string[] = [];
  const { root, state, transfer: make } = await rig(t, (req, res, body) => {
    const path = decodeURIComponent(String(req.url).replace(/^\/v1\/files\//, ''));
    if (req.url !== '/v1/batch') {
      seen.push(`${req.method} ${path} if-match ${String(req.headers['if-match'] ?? '-').slice(0, 7)}`);
      json(res, 200, { path, type: 'file', size: body.length, mtimeMs: Math.trunc(Number(req.headers['x-deltabox-mtime-ms'])), hash: String(req.headers['x-deltabox-content-hash']), executable: false, revision: 9 });
      return;
    }
    const { headerBytes, jsonBytes } = decodeBatchFramesPrefix(body, 1 << 20);
    const metas = decodeBatchFramesHeader(body.subarray(BATCH_FRAMES_PREFIX_BYTES, BATCH_FRAMES_PREFIX_BYTES + headerBytes), jsonBytes, 1000);
    seen.push(`batch ${metas.map((m) => m.path).join(',')}`);
    // What a server from before the ifMatch and delta flags answers (protocol batch-frames.ts then).
    if (metas.some((m) => m.ifMatch !== undefined)) return json(res, 400, { code: 'BAD_REQUEST', message: 'header part 0: flags must be a sum of known bits (executable 1, ifNoneMatch 2)' });
    json(res, 200, { results: metas.map((m) => ({ path: m.path, ok: true, entry: { path: m.path, type: 'file', size: m.size, mtimeMs: 1_000, hash: m.hash, executable: false, revision: 5 } })) });
  });
  const locals = [];
  for (const [path, content] of [['edited.txt', 'edited here'], ['new.txt', 'new here']] as const) {
    writeFileSync(join(root, path), content);
    const { hash, stat } = await hashFileStable(join(root, path));
    const row = { ...walkedEntryOf(path, path, stat), hash, racy: false };
    state.setLocal(row);
    locals.push(row);
  }
  state.setRemote({ path: 'edited.txt', type: 'file', size: 3, mtimeMs: 1, executable: false, hash: 'e'.repeat(64) });
  const transfer = make({});
  const outcomes = await transfer.syncBatch(locals);
  t.same(outcomes.map((o) => [o.path, o.ok]).sort(), [['edited.txt', true], ['new.txt', true]], 'both files reached the server');
  t.same(seen, ['batch edited.txt,new.txt', 'batch new.txt', `PUT edited.txt if-match "eeeeee`], 'refused once; then the new file batched, the edit alone over its base');
  t.notOk(transfer.batchable({ type: 'upload', path: 'edited.txt', local: locals[0]!, base: state.remote.get('edited.txt')! }), 'later edits are not batched');
  t.ok(transfer.batchable({ type: 'upload', path: 'other.txt', local: locals[1]! }), 'new files still are');
});
