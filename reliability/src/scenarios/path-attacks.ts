/**
 * Path attacks on a real server process: traversal in every encoding, symlinks planted inside the
 * server folder pointing outside, case tricks on the state folder, Windows device names, and a symlink
 * planted as the state folder's tmp/. Every route that takes a path is tried with each. Checks: the
 * folder outside the root is unchanged (tree hash), no answer contains a byte of it (a secret marker,
 * /etc/passwd, the SQLite header), refused names get a 4xx, the state folder gets nothing new.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { folderHash } from '../harness/tree-digest.js';
import { rawRequest, type RawResponse } from '../harness/raw-http.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';

/** State entries the server itself creates on first use (see the check after the attacks). */
const SERVER_MADE_ON_DEMAND = new Set(['versions', 'uploads']);

/** URL forms (already percent-encoded as they go on the wire) that must never reach outside the root. */
export const TRAVERSALS = [
  '../outside/secret.txt', '..%2foutside%2fsecret.txt', '%2e%2e/outside/secret.txt', '%2E%2E/%2E%2E/outside/secret.txt',
  '.%2e/outside/secret.txt', '%2e./outside/secret.txt', '..%5coutside%5csecret.txt', '..\\outside\\secret.txt',
  '%c0%ae%c0%ae/outside/secret.txt', '%e0%80%ae%e0%80%ae/outside/secret.txt', '..%c0%afoutside', '..%00/outside/secret.txt',
  'a/../../outside/secret.txt', 'a/%2e%2e/%2e%2e/outside/secret.txt', '/etc/passwd', '%2fetc%2fpasswd', '//etc/passwd',
  'C:%5cWindows%5cwin.ini', 'C:/Windows/win.ini', 'c%3a/x', '%5c%5cserver%5cshare', 'secret.txt%00.jpg', '%252e%252e/outside/secret.txt',
];
/** Symlinks planted inside the root (created by the scenario). */
export const SYMLINKS = ['link-file', 'link-dir/secret.txt', 'link-dir', 'docs/up/secret.txt', 'docs/up', 'abs-link'];
/** The state folder in every spelling. */
export const STATE_FOLDER = [
  '.deltabox/state.sqlite', '.DELTABOX/state.sqlite', '.DeltaBox/tmp/x', '%2edeltabox/state.sqlite', '.deltabox%2fstate.sqlite',
  '.deltabox', '.deltabox/tmp', '.%64eltabox/state.sqlite', '.deltabox/../.deltabox/state.sqlite',
];
/** Windows device names, which the path rule refuses as any segment. */
export const DEVICE_NAMES = ['CON', 'con.txt', 'NUL', 'nul.tar.gz', 'aux', 'PRN.log', 'COM1', 'com9.txt', 'LPT1', 'lpt9', 'COM%C2%B9', 'LPT%C2%B3.x', 'dir/CON/x', 'Con.'];

const FORBIDDEN_CONTENT = ['root:x:0:0', 'SQLite format 3'];

interface Attempt {
  route: string;
  status: number;
  body: string;
}

function decodedOrRaw(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** Every route that takes a path, as raw requests with a valid token. */
interface AttackRequest {
  route: string;
  method: string;
  target: string;
  body?: string;
  headers?: Array<[string, string]>;
}

function requestsFor(encoded: string, token: string): Array<AttackRequest & { headers: Array<[string, string]> }> {
  const auth: Array<[string, string]> = [['authorization', `Bearer ${token}`]];
  const json = (o: object): Array<[string, string]> => [...auth, ['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(JSON.stringify(o)))]];
  const body = 'PWNED by a path attack';
  const plain = decodedOrRaw(encoded);
  const boundary = 'pathattack';
  const meta = JSON.stringify({ path: plain, size: body.length, mtimeMs: 1, hash: '0'.repeat(64) });
  const multipart = `--${boundary}\r\ncontent-disposition: form-data; name="meta"\r\n\r\n${meta}\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="f"\r\n\r\n${body}\r\n--${boundary}--\r\n`;
  const list: AttackRequest[] = [
    { route: 'GET file', method: 'GET', target: `/v1/files/${encoded}` },
    { route: 'GET signature', method: 'GET', target: `/v1/signatures/${encoded}` },
    { route: 'PUT file', method: 'PUT', target: `/v1/files/${encoded}`, body, headers: [...auth, ['content-length', String(body.length)]] },
    { route: 'PATCH file', method: 'PATCH', target: `/v1/files/${encoded}`, body, headers: [...auth, ['content-type', 'application/vnd.deltabox.delta'], ['if-match', `"${'0'.repeat(64)}"`], ['content-length', String(body.length)]] },
    { route: 'DELETE file', method: 'DELETE', target: `/v1/files/${encoded}` },
    { route: 'PUT dir', method: 'PUT', target: `/v1/dirs/${encoded}` },
    { route: 'DELETE dir', method: 'DELETE', target: `/v1/dirs/${encoded}?recursive=1` },
    { route: 'move to', method: 'POST', target: '/v1/moves', body: JSON.stringify({ from: 'a.txt', to: plain, overwrite: true }), headers: json({ from: 'a.txt', to: plain, overwrite: true }) },
    { route: 'move from', method: 'POST', target: '/v1/moves', body: JSON.stringify({ from: plain, to: 'stolen.txt' }), headers: json({ from: plain, to: 'stolen.txt' }) },
    { route: 'batch', method: 'POST', target: '/v1/batch', body: multipart, headers: [...auth, ['content-type', `multipart/form-data; boundary=${boundary}`], ['content-length', String(Buffer.byteLength(multipart))]] },
  ];
  return list.map((r) => ({ ...r, headers: r.headers ?? auth }));
}

export async function pathAttacks(o: { seed: number; log?: (line: string) => void }): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('path-attacks', o.seed);
  const rng = new SeededRandom(o.seed);
  const rig = new Rig({ label: 'path-attacks' });
  const outside = join(rig.base, 'outside');
  const secret = `TOP-SECRET-${rng.bytes(8).toString('hex')}`;
  const refusedButAccepted: string[] = [];
  const leaks: string[] = [];
  let attempts = 0;
  try {
    mkdirSync(join(outside, 'victim'), { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), secret);
    writeFileSync(join(outside, 'victim', 'victim.txt'), secret);
    // The root: one real file, and symlinks planted by someone with access to the folder.
    writeFileSync(join(rig.sdir, 'a.txt'), 'a real file');
    mkdirSync(join(rig.sdir, 'docs'), { recursive: true });
    symlinkSync(join(outside, 'secret.txt'), join(rig.sdir, 'link-file'));
    symlinkSync(outside, join(rig.sdir, 'link-dir'));
    symlinkSync('../../outside', join(rig.sdir, 'docs', 'up'));
    symlinkSync('/etc/passwd', join(rig.sdir, 'abs-link'));
    const outsideBefore = folderHash(outside);
    await rig.startServer();
    // After the start: the server makes its own files there (folder id, lock); the attacks must add none.
    const stateBefore = readdirSync(join(rig.sdir, '.deltabox')).filter((n) => !n.startsWith('state.')).sort();
    const port = rig.server!.port;

    const groups: Array<{ name: string; paths: string[]; mustRefuse: boolean }> = [
      { name: 'traversal', paths: TRAVERSALS, mustRefuse: false },
      { name: 'symlink', paths: SYMLINKS, mustRefuse: true },
      { name: 'state folder', paths: STATE_FOLDER, mustRefuse: true },
      { name: 'device name', paths: DEVICE_NAMES, mustRefuse: true },
    ];
    for (const g of groups) {
      for (const encoded of g.paths) {
        for (const r of requestsFor(encoded, rig.token)) {
          const res: RawResponse = await rawRequest(port, { method: r.method, target: r.target, headers: r.headers, ...(r.body === undefined ? {} : { body: r.body }) });
          attempts++;
          result.faults++;
          const text = res.raw.toString('latin1');
          if (text.includes(secret) || FORBIDDEN_CONTENT.some((c) => text.includes(c))) leaks.push(`${g.name} ${r.route} ${encoded}: the answer holds outside or state content`);
          const batchFailed = r.route === 'batch' && res.status === 200 && !/"ok":true/.test(res.body.toString());
          const refused = (res.status >= 400 && res.status < 500) || batchFailed;
          if (res.status >= 500) result.bugs.push(`BUG path-5xx: ${g.name} ${r.route} ${encoded} -> ${res.status} ${res.body.toString().slice(0, 120)}`);
          else if (g.mustRefuse && !refused) refusedButAccepted.push(`${g.name} ${r.route} ${encoded} -> ${res.status} ${res.body.toString().slice(0, 100)}`);
        }
      }
    }
    // The manifest lists neither symlinks nor the state folder.
    const manifest = await rawRequest(port, { method: 'GET', target: '/v1/files', headers: [['authorization', `Bearer ${rig.token}`]] });
    for (const name of ['link-file', 'link-dir', 'docs/up', 'abs-link', '.deltabox']) {
      if (manifest.body.toString().includes(`"path":"${name}"`)) result.failures.push(`the manifest lists ${name}`);
    }

    // A symlink planted as the state folder's tmp/: the start-up sweep and staged writes must not follow it.
    await rig.server!.stop();
    rmSync(join(rig.sdir, '.deltabox', 'tmp'), { recursive: true, force: true });
    symlinkSync(join(outside, 'victim'), join(rig.sdir, '.deltabox', 'tmp'));
    const victimBefore = folderHash(outside);
    let restarted = true;
    try {
      await rig.startServer();
    } catch (err) {
      restarted = false;
      result.notes.push(`with .deltabox/tmp a symlink the server refused to start: ${describeError(err).slice(0, 200)}`);
    }
    if (restarted) {
      const put = await rawRequest(rig.server!.port, {
        method: 'PUT',
        target: '/v1/files/through-tmp.txt',
        headers: [
          ['authorization', `Bearer ${rig.token}`],
          ['content-length', '5'],
        ],
        body: 'hello',
      });
      result.notes.push(`with .deltabox/tmp a symlink to a folder outside: the server started; a PUT answered ${put.status}`);
    }
    if (!existsSync(join(outside, 'victim', 'victim.txt'))) {
      result.bugs.push('BUG state-tmp-symlink: with .deltabox/tmp a symlink to a folder outside the root, the start-up sweep deleted the files in that outside folder');
    } else if (folderHash(outside) !== victimBefore) {
      result.bugs.push('BUG state-tmp-symlink: with .deltabox/tmp a symlink to a folder outside the root, the server wrote into that outside folder');
    }
    if (lstatSync(join(rig.sdir, '.deltabox', 'tmp')).isSymbolicLink()) rmSync(join(rig.sdir, '.deltabox', 'tmp'));

    result.trials = attempts;
    result.filesChecked = attempts;
    const outsideAfterAttacks = folderHash(outside) === victimBefore;
    if (victimBefore !== outsideBefore) {
      result.mismatches++;
      result.failures.push('the folder outside the root changed during the path attacks');
    }
    result.mismatches += leaks.length;
    for (const l of leaks.slice(0, 10)) result.failures.push(l);
    for (const r of refusedButAccepted.slice(0, 20)) result.failures.push(`accepted: ${r}`);
    const stateAfter = readdirSync(join(rig.sdir, '.deltabox')).filter((n) => !n.startsWith('state.') && n !== 'tmp').sort();
    // The server makes its version store (`versions/`, when an attack's legal write replaces a file) and upload
    // staging (`uploads/`) on demand: those are its own; any other new name came from a request.
    const stateNew = stateAfter.filter((n) => !stateBefore.includes(n) && !SERVER_MADE_ON_DEMAND.has(n));
    if (stateNew.length) result.failures.push(`new entries in the state folder: ${stateNew.join(', ')}`);
    result.notes.push(
      `${attempts} attack requests (${TRAVERSALS.length} traversal forms, ${SYMLINKS.length} symlink paths, ${STATE_FOLDER.length} state-folder spellings, ${DEVICE_NAMES.length} device names, 10 routes each); ` +
        `outside folder unchanged by the attacks: ${victimBefore === outsideBefore}; after the tmp-symlink restart: ${outsideAfterAttacks}; answers leaking outside content: ${leaks.length}`,
    );
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    await rig.close();
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
