/**
 * MergeApplier against real files, a real SQLite state and a local HTTP stub of the server's download
 * routes. Issue 12 (two-way-lost-local-edit): a scan that records a local edit while a merge is being
 * applied must not let the merge replace or delete that edit.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../src/http/api-client.js';
import { silentLogger } from '../src/logger.js';
import { MergeApplier } from '../src/pull/merge-apply.js';
import { planMerge } from '../src/pull/merge-plan.js';
import { StateStore } from '../src/state/state-store.js';
import { SyncState } from '../src/state/sync-state.js';
import { hashFileStable } from '../src/transfer/file-reader.js';
import { walkedEntryOf } from '../src/detect/tree-walk.js';
import { computeSignature, DeltaEncoder } from '@deltabox/core';

const THEIRS = Buffer.from('the version another device saved\n');
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** File downloads the stub is answering right now, the most at once, and how long each is held (ms). */
const downloads = { inFlight: 0, max: 0, holdMs: 0 };

/** What the stub answers to HEAD /v1/files/ (undefined: 404). */
let headAnswer: { hash: string; mtimeMs: number } | undefined;

/** A client folder, a temp folder, a real state store and a MergeApplier talking to a stub server answering with `handler`. */
async function harness(t: Tap.Test, handler: RequestListener, enqueue: (path: string) => void = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-merge-apply-'));
  const root = join(dir, 'client');
  const tmpDir = join(dir, 'tmp');
  mkdirSync(root);
  mkdirSync(tmpDir);
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new ApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'tok' });
  const store = new StateStore(join(dir, 'state'));
  const state = new SyncState(store);
  t.teardown(async () => {
    await client.close();
    await new Promise((r) => server.close(r));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const applier = new MergeApplier({ root, tmpDir, state, client, log: silentLogger, device: () => 'test', push: () => true, enqueue, beforeDelete: () => {} });
  return { root, tmpDir, state, store, applier };
}

/** A client folder with a.txt synced, its state, and a stub server that serves THEIRS for any file (and no deltas). */
async function rig(t: Tap.Test) {
  const queued: string[] = [];
  const { root, state, store, applier } = await harness(t, (req, res) => {
    req.resume();
    if (req.method === 'HEAD') {
      // The entry headers of the current version (a rename with unknown metadata asks for them).
      if (headAnswer === undefined) res.writeHead(404).end();
      else res.writeHead(200, { etag: `"${headAnswer.hash}"`, 'x-deltabox-mtime-ms': String(headAnswer.mtimeMs), 'x-deltabox-executable': '0' }).end();
      return;
    }
    if (req.url?.startsWith('/v1/files/')) {
      downloads.max = Math.max(downloads.max, ++downloads.inFlight);
      setTimeout(() => {
        downloads.inFlight--;
        res.writeHead(200, { etag: `"${sha(THEIRS)}"`, 'x-deltabox-mtime-ms': '1700000000000', 'content-length': THEIRS.length });
        res.end(THEIRS);
      }, downloads.holdMs);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such version' } }));
  }, (path) => queued.push(path));
  /** What a scan records for `path` as it is on disk now. */
  const scan = async (path: string) => {
    const { hash, stat } = await hashFileStable(join(root, path));
    state.setLocal({ ...walkedEntryOf(path, path, stat), hash, racy: false });
  };
  // a.txt synced as 'synced\n' (local, base), the server's version now `remote` (undefined: deleted there).
  writeFileSync(join(root, 'a.txt'), 'synced\n');
  await scan('a.txt');
  const synced = { path: 'a.txt', type: 'file' as const, size: 7, mtimeMs: 1, executable: false, hash: sha('synced\n') };
  state.setBase(synced);
  /** The merge plan (and the local view it was made from) once the server holds `remote` at a.txt. */
  const plan = (remote: Buffer | undefined) => {
    if (remote !== undefined) state.setRemote({ ...synced, size: remote.length, hash: sha(remote) });
    const planned = new Map(state.local);
    return { planned, actions: planMerge({ local: planned, remote: state.remote, base: state.base, moves: [], union: false }) };
  };
  return { root, state, store, queued, applier, scan, plan };
}

t.test('a delete planned before a scan recorded a local edit leaves the edit in place', async (t) => {
  const { root, state, applier, scan, plan } = await rig(t);
  // The server deleted a.txt since the last merge: remote has no a.txt.
  const { planned, actions } = plan(undefined);
  t.same(actions.map((a) => a.kind), ['delete']);
  // While the merge runs, the user saves an edit and a scan (watcher) records it.
  writeFileSync(join(root, 'a.txt'), 'edited here, not yet sent\n');
  await scan('a.txt');
  const result = await applier.apply(actions, planned);
  t.ok(existsSync(join(root, 'a.txt')), 'the edited file is not deleted');
  t.equal(readFileSync(join(root, 'a.txt'), 'utf8'), 'edited here, not yet sent\n');
  t.equal(result.deferred, 1, 'the delete waits for the next merge (which sends the edit: edit beats delete)');
  t.equal(state.local.get('a.txt')?.hash, sha('edited here, not yet sent\n'));
});

t.test('a download planned before a scan recorded a local edit does not overwrite the edit', async (t) => {
  const { root, state, applier, scan, plan } = await rig(t);
  const { planned, actions } = plan(THEIRS); // another device changed it
  t.same(actions.map((a) => a.kind), ['download']);
  writeFileSync(join(root, 'a.txt'), 'edited here, not yet sent\n');
  await scan('a.txt');
  const result = await applier.apply(actions, planned);
  t.equal(readFileSync(join(root, 'a.txt'), 'utf8'), 'edited here, not yet sent\n', 'the edit is still the file');
  t.equal(result.pulled, 0);
  t.equal(result.deferred, 1, 'the next merge sees both changed: a conflict copy, nothing lost');
});

t.test('bookkeeping actions around a download apply in order and are stored, one failing alone', async (t) => {
  const { root, state, store, queued, applier, plan } = await rig(t);
  const { planned, actions } = plan(THEIRS);
  const row = (path: string) => ({ path, type: 'file' as const, size: 1, mtimeMs: 1, executable: false, hash: sha(path) });
  state.setRemote(row('s.txt'));
  state.setBase(row('f.txt'));
  const result = await applier.apply(
    [
      { kind: 'push', path: 'p1.txt' },
      { kind: 'settle', path: 's.txt' },
      { kind: 'settle', path: 'no-remote-row.txt' }, // fails: nothing to settle to
      { kind: 'wait', path: 'w.txt' },
      ...actions, // the download of a.txt
      { kind: 'forget', path: 'f.txt' },
      { kind: 'push', path: 'p2.txt' },
    ],
    planned,
  );
  t.same(queued, ['p1.txt', 'p2.txt'], 'the pushes are queued in plan order');
  t.same(result, { deferred: 2, pulled: 1, renamed: 0, conflicts: 0 }, 'the failed settle and the wait are deferred; the download went ahead');
  t.same(readFileSync(join(root, 'a.txt')), THEIRS);
  const stored = store.loadBase();
  t.equal(stored.get('s.txt')?.hash, sha('s.txt'), 'the settled row is in the store');
  t.notOk(stored.has('f.txt'), 'the forgotten row is gone from the store');
  t.equal(stored.get('a.txt')?.hash, sha(THEIRS), 'the download settled its row too');
});

t.test('a download whose planned row is still current goes ahead', async (t) => {
  const { root, applier, plan } = await rig(t);
  const { planned, actions } = plan(THEIRS);
  const result = await applier.apply(actions, planned);
  t.equal(result.pulled, 1);
  t.same(readFileSync(join(root, 'a.txt')), THEIRS);
});

t.test('a remote rename is a local rename, and stands down when the file was edited after the plan', async (t) => {
  const { root, state, applier, scan } = await rig(t);
  const synced = state.base.get('a.txt')!;
  // Another device renamed a.txt to d/b.txt: the server holds the same bytes at the new path only.
  state.deleteRemote('a.txt');
  state.setRemote({ ...synced, path: 'd/b.txt', mtimeMs: 1_700_000_000_000 });
  const planFrom = () => {
    const planned = new Map(state.local);
    return { planned, actions: planMerge({ local: planned, remote: state.remote, base: state.base, moves: [{ from: 'a.txt', to: 'd/b.txt' }], union: false }) };
  };
  let { planned, actions } = planFrom();
  t.same(actions.map((a) => [a.kind, a.path]), [['rename', 'd/b.txt']]);
  // Saved again while the merge runs: the rename must not carry the edit away under the old plan.
  writeFileSync(join(root, 'a.txt'), 'edited here, not yet sent\n');
  await scan('a.txt');
  let result = await applier.apply(actions, planned);
  t.equal(result.deferred, 1, 'the rename waits for the next merge');
  t.equal(readFileSync(join(root, 'a.txt'), 'utf8'), 'edited here, not yet sent\n');
  t.notOk(existsSync(join(root, 'd/b.txt')));
  // Put back as synced: the next plan renames it, with the server's mtime.
  writeFileSync(join(root, 'a.txt'), 'synced\n');
  await scan('a.txt');
  ({ planned, actions } = planFrom());
  result = await applier.apply(actions, planned);
  t.equal(result.renamed, 1);
  t.equal(result.pulled, 0, 'nothing downloaded');
  t.notOk(existsSync(join(root, 'a.txt')));
  t.equal(readFileSync(join(root, 'd/b.txt'), 'utf8'), 'synced\n');
  t.equal(statSync(join(root, 'd/b.txt')).mtimeMs, 1_700_000_000_000, 'the server\'s mtime');
  t.equal(state.local.has('a.txt') || state.base.has('a.txt'), false, 'the old path is forgotten');
  t.equal(state.base.get('d/b.txt')?.hash, synced.hash, 'the new path is synced');
  t.equal(state.local.get('d')?.type, 'dir', 'the new parent folder is recorded');
});

t.test('a remote rename whose row came from a journal put (no mtime) takes the server\'s mtime, asked first', async (t) => {
  const { UNKNOWN_MTIME_MS } = await import('../src/pull/journal-catchup.js');
  const { root, state, applier } = await rig(t);
  const synced = state.base.get('a.txt')!;
  state.deleteRemote('a.txt');
  state.setRemote({ ...synced, path: 'b.txt', mtimeMs: UNKNOWN_MTIME_MS });
  const planFrom = () => {
    const planned = new Map(state.local);
    return { planned, actions: planMerge({ local: planned, remote: state.remote, base: state.base, moves: [], union: false }) };
  };
  // The server cannot say (404): nothing is renamed, the next merge tries again.
  headAnswer = undefined;
  let { planned, actions } = planFrom();
  t.same(actions.map((a) => a.kind), ['rename']);
  let result = await applier.apply(actions, planned);
  t.equal(result.deferred, 1);
  t.ok(existsSync(join(root, 'a.txt')) && !existsSync(join(root, 'b.txt')), 'left as it was');
  headAnswer = { hash: synced.hash!, mtimeMs: 1_650_000_000_123 };
  t.teardown(() => { headAnswer = undefined; });
  ({ planned, actions } = planFrom());
  result = await applier.apply(actions, planned);
  t.equal(result.renamed, 1);
  t.equal(Math.round(statSync(join(root, 'b.txt')).mtimeMs), 1_650_000_000_123, 'the server\'s mtime, not the renamed file\'s own');
  t.equal(state.base.get('b.txt')?.mtimeMs, 1_650_000_000_123);
});

t.test('move against move, edited at the winning path: the edit is pulled there and the losing copy removed', async (t) => {
  const { root, state, applier, scan } = await rig(t);
  const synced = state.base.get('a.txt')!;
  // This device moved a.txt to mine/a.txt; another device's move to theirs/a.txt won and was then edited.
  mkdirSync(join(root, 'mine'));
  writeFileSync(join(root, 'mine/a.txt'), 'synced\n');
  rmSync(join(root, 'a.txt'));
  state.deleteLocal('a.txt');
  await scan('mine/a.txt');
  state.setLocal({ ...walkedEntryOf('mine', 'mine', statSync(join(root, 'mine'))), racy: false });
  state.deleteRemote('a.txt');
  state.setRemote({ path: 'theirs', type: 'dir', size: 0, mtimeMs: 0, executable: false });
  state.setRemote({ ...synced, path: 'theirs/a.txt', size: THEIRS.length, hash: sha(THEIRS) });
  const planned = new Map(state.local);
  const actions = planMerge({ local: planned, remote: state.remote, base: state.base, moves: [{ from: 'a.txt', to: 'theirs/a.txt' }], union: false });
  t.ok(actions.some((a) => a.kind === 'adopt' && a.path === 'theirs/a.txt'), 'adopt planned');
  const result = await applier.apply(actions, planned);
  t.equal(result.deferred, 0);
  t.same(readFileSync(join(root, 'theirs/a.txt')), THEIRS, 'the server\'s edit at the winning path');
  t.notOk(existsSync(join(root, 'mine')), 'the losing move\'s copy (and its emptied folder) is gone: nothing to send');
  t.equal(state.local.has('mine/a.txt') || state.base.has('mine/a.txt'), false);
  t.equal(state.base.get('theirs/a.txt')?.hash, sha(THEIRS), 'synced at the winning path');
});

/** This device moved a.txt to mine/a.txt; another device brought the same file back at theirs/a.txt (its revive
 * won: 409 MOVED_ELSEWHERE to ours), and this device has pulled theirs/a.txt already. */
async function pulledWinner(t: Tap.Test) {
  const r = await rig(t);
  const { root, state, scan } = r;
  const synced = state.base.get('a.txt')!;
  mkdirSync(join(root, 'mine'));
  mkdirSync(join(root, 'theirs'));
  writeFileSync(join(root, 'mine/a.txt'), 'synced\n');
  writeFileSync(join(root, 'theirs/a.txt'), 'synced\n');
  rmSync(join(root, 'a.txt'));
  state.deleteLocal('a.txt');
  await scan('mine/a.txt');
  await scan('theirs/a.txt');
  for (const d of ['mine', 'theirs']) state.setLocal({ ...walkedEntryOf(d, d, statSync(join(root, d))), racy: false });
  state.deleteRemote('a.txt');
  const dir = { path: 'theirs', type: 'dir' as const, size: 0, mtimeMs: 0, executable: false };
  for (const row of [dir, { ...synced, path: 'theirs/a.txt' }]) {
    state.setRemote(row);
    state.setBase(row);
  }
  const planned = new Map(state.local);
  const actions = planMerge({ local: planned, remote: state.remote, base: state.base, moves: [{ from: 'a.txt', to: 'theirs/a.txt' }], union: false });
  return { ...r, planned, actions };
}

t.test('move against move, the winning copy pulled here already: this device\'s copy is removed, the pulled one kept', async (t) => {
  const { root, state, applier, planned, actions } = await pulledWinner(t);
  t.same(actions.filter((a) => a.kind === 'discard').map((a) => a.path), ['mine/a.txt']);
  const result = await applier.apply(actions, planned);
  t.equal(result.deferred, 0);
  t.notOk(existsSync(join(root, 'mine')), 'this device\'s copy and its emptied folder are gone: nothing to send');
  t.equal(readFileSync(join(root, 'theirs/a.txt'), 'utf8'), 'synced\n', 'the winning copy is untouched');
  t.notOk(state.local.has('mine/a.txt'));
});

t.test('the same, but the copy is edited after the plan: nothing of it is removed', async (t) => {
  const { root, applier, scan, planned, actions } = await pulledWinner(t);
  writeFileSync(join(root, 'mine/a.txt'), 'edited after the plan\n');
  await scan('mine/a.txt');
  t.equal((await applier.apply(actions, planned)).deferred, 1, 'stands down until the next merge (which sends the edit as new content)');
  t.equal(readFileSync(join(root, 'mine/a.txt'), 'utf8'), 'edited after the plan\n', 'the edit is kept');
});

t.test('a run of downloads goes a few at a time; one that fails is deferred, the others land', async (t) => {
  const { root, state, applier } = await rig(t);
  Object.assign(downloads, { inFlight: 0, max: 0, holdMs: 30 });
  t.teardown(() => Object.assign(downloads, { holdMs: 0 }));
  const row = (path: string, hash = sha(THEIRS)) => ({ path, type: 'file' as const, size: THEIRS.length, mtimeMs: 1700000000000, executable: false, hash });
  for (let i = 0; i < 12; i++) state.setRemote(row(`new/f${i}.txt`));
  // The server's version changed under this one: the staged bytes do not hash to what the plan expected.
  state.setRemote(row('new/moved-on.txt', sha('another version')));
  state.setRemote({ path: 'new', type: 'dir', size: 0, mtimeMs: 0, executable: false });
  const planned = new Map(state.local);
  const actions = planMerge({ local: planned, remote: state.remote, base: state.base, moves: [], union: false });
  t.equal(actions.filter((a) => a.kind === 'download').length, 13);
  const result = await applier.apply(actions, planned);
  t.equal(result.pulled, 12, 'twelve pulled');
  t.equal(result.deferred, 1, 'the one whose server version moved on waits for the next merge');
  t.notOk(existsSync(join(root, 'new/moved-on.txt')), 'and is not placed');
  for (let i = 0; i < 12; i++) t.same(readFileSync(join(root, `new/f${i}.txt`)), THEIRS);
  t.ok(downloads.max > 1 && downloads.max <= 4, `at most 4 downloads at once, more than one (${downloads.max})`);
  t.equal(state.base.get('new/f11.txt')?.hash, sha(THEIRS), 'each recorded in the base');
});

t.test('a cut download of a big file resumes where it stopped; a part of another version is dropped', async (t) => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  let served = big;
  const asked: string[] = [];
  let cutAfter: number | undefined = 1024 * 1024;
  const { root, tmpDir, state, applier } = await harness(t, (req, res) => {
    req.resume();
    if (!req.url!.startsWith('/v1/files/')) {
      // No deltas here: the older local copy cannot be the basis, so the download is whole (and resumable).
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such version' } }));
      return;
    }
    const range = req.headers.range;
    asked.push(range ?? 'whole');
    const from = range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(range)![1]);
    const headers = { etag: `"${sha(served)}"`, 'x-deltabox-mtime-ms': '1700000000000', 'accept-ranges': 'bytes' };
    if (from > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${served.length - 1}/${served.length}`, 'content-length': served.length - from });
    else res.writeHead(200, { ...headers, 'content-length': served.length });
    if (cutAfter !== undefined) {
      // The connection dies part way: the headers and the first bytes went out.
      res.write(served.subarray(from, from + cutAfter), () => res.destroy());
      cutAfter = undefined;
      return;
    }
    res.end(served.subarray(from));
  });
  /** A merge with the server's big.bin as `view` (by default what it serves now) in the remote view. */
  const merge = async (view = served) => {
    state.setRemote({ path: 'big.bin', type: 'file', size: view.length, mtimeMs: 1700000000000, executable: false, hash: sha(view) });
    const planned = new Map(state.local);
    return applier.apply(planMerge({ local: planned, remote: state.remote, base: state.base, moves: [], union: false }), planned);
  };

  const first = await merge();
  t.equal(first.deferred, 1, 'the cut download is left for the next merge');
  t.notOk(existsSync(join(root, 'big.bin')), 'nothing is placed');
  const parts = readdirSync(tmpDir);
  t.equal(parts.length, 1, 'one part file kept');
  const kept = statSync(join(tmpDir, parts[0]!)).size;
  t.ok(kept > 0 && kept <= 1024 * 1024, `the part holds what arrived (${kept} bytes)`);
  const second = await merge();
  t.equal(second.pulled, 1);
  t.same(readFileSync(join(root, 'big.bin')), big, 'the file is byte for byte the server\'s');
  t.equal(asked[1], `bytes=${kept}-`, 'the second request asked only for the rest');
  t.same(readdirSync(tmpDir), [], 'no part left once placed');

  // A cut download, then the server's file changes: the rest of the new version must not be glued to the old part.
  served = Buffer.concat([Buffer.from('another version '), big]);
  cutAfter = 512 * 1024;
  state.setLocal({ ...walkedEntryOf('big.bin', 'big.bin', statSync(join(root, 'big.bin'))), hash: sha(big), racy: false });
  state.setBase({ path: 'big.bin', type: 'file', size: big.length, mtimeMs: 1700000000000, executable: false, hash: sha(big) });
  const versionB = served;
  const third = await merge();
  t.equal(third.deferred, 1, 'cut again');
  t.equal(readdirSync(tmpDir).length, 1, 'a part of the second version kept');
  // The server moves on to a third version before this device hears of it: the rest it sends is the third's.
  served = Buffer.concat([Buffer.from('a third version '), big]);
  const stale = await merge(versionB);
  t.equal(stale.deferred, 1, 'the rest of another version is refused');
  t.match(asked[asked.length - 1], /^bytes=\d+-$/, 'it was asked as a resume');
  t.same(readdirSync(tmpDir), [], 'and the part dropped');
  t.same(readFileSync(join(root, 'big.bin')), big, 'the local file untouched');
  const fourth = await merge();
  t.equal(fourth.pulled, 1, 'the third version pulled');
  t.equal(asked[asked.length - 1], 'whole', 'asked whole: no part of another version to resume from');
  t.same(readFileSync(join(root, 'big.bin')), served, 'the third version, never a mix of two');
  t.not(sha(readFileSync(join(root, 'big.bin'))), sha(versionB));
  t.same(readdirSync(tmpDir), [], 'no part left');
});

t.test('a delta download is checked against what was written: a wrong result hash leaves the local file, a right one replaces it', async (t) => {
  const mine = Buffer.from('line one\nline two\nline three\n'.repeat(200));
  const theirs = Buffer.concat([mine.subarray(0, 3000), Buffer.from('an edit from another device\n'), mine.subarray(3000)]);
  const signature = await computeSignature([mine], { blockLength: 256 });
  const encoder = new DeltaEncoder(signature);
  const good = Buffer.concat([...encoder.push(theirs), ...encoder.finish()]);
  let delta = Buffer.from(good);
  delta[delta.length - 1]! ^= 0xff; // the END op's SHA-256 of the result, last byte flipped
  const { root, state, applier } = await harness(t, (req, res) => {
    req.resume();
    if (req.url!.startsWith('/v1/deltas/')) {
      res.writeHead(200, { etag: `"${sha(theirs)}"`, 'x-deltabox-mtime-ms': '1700000000000', 'content-length': delta.length });
      res.end(delta);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no whole downloads in this test' } }));
  });
  writeFileSync(join(root, 'b.txt'), mine);
  const { hash, stat } = await hashFileStable(join(root, 'b.txt'));
  state.setLocal({ ...walkedEntryOf('b.txt', 'b.txt', stat), hash, racy: false });
  state.setBase({ path: 'b.txt', type: 'file', size: mine.length, mtimeMs: 1, executable: false, hash: sha(mine) });
  const merge = () => {
    state.setRemote({ path: 'b.txt', type: 'file', size: theirs.length, mtimeMs: 1700000000000, executable: false, hash: sha(theirs) });
    const planned = new Map(state.local);
    return applier.apply(planMerge({ local: planned, remote: state.remote, base: state.base, moves: [], union: false }), planned);
  };
  const refused = await merge();
  t.equal(refused.pulled, 0, 'the tampered delta is not placed');
  t.same(readFileSync(join(root, 'b.txt')), mine, 'the local file is untouched');
  delta = good;
  const pulled = await merge();
  t.equal(pulled.pulled, 1);
  t.same(readFileSync(join(root, 'b.txt')), theirs, 'the patched file is in place');
});
