/**
 * By-hand measurement behind the scanner's RESUMABLE_MIN_BYTES and RESUMABLE_DELTA_MIN_BYTES (not part of
 * `pnpm test`): the time to upload to a real server on 127.0.0.1 in one request and as a resumable session
 * (POST, then PATCHes of size/64 within 1..16 MiB, each with its SHA-256, as the scanner sends them), median
 * of 3 runs per size. Whole files: one PUT against a session. `delta`: a delta of N MiB of literals (a file
 * of N + 1 MiB whose last N MiB were rewritten) as one PATCH /v1/files against a `kind: "delta"` session.
 *   cd packages/server && npx tsx --conditions=deltabox-src test/manual/resumable-overhead.ts 16 64 256
 *   cd packages/server && npx tsx --conditions=deltabox-src test/manual/resumable-overhead.ts delta 16 64 256
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, createToken } from '../../src/index.js';
import { makeDelta } from '../support/deltas.js';

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'content-length': String(body?.length ?? 0) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MiB = 1024 * 1024;

/** What one size sends: the body, the result's hash, and (for a delta) the base to PUT before each run. */
interface Payload {
  body: Buffer;
  hash: string;
  basis?: Buffer;
}

async function payloadOf(mib: number, delta: boolean): Promise<Payload> {
  if (!delta) {
    const file = randomBytes(mib * MiB);
    return { body: file, hash: createHash('sha256').update(file).digest('hex') };
  }
  const basis = randomBytes((mib + 1) * MiB);
  const target = Buffer.concat([basis.subarray(0, MiB), randomBytes(mib * MiB)]);
  return { body: await makeDelta(basis, target), hash: createHash('sha256').update(target).digest('hex'), basis };
}

async function main(): Promise<void> {
  const delta = process.argv[2] === 'delta';
  const sizes = process.argv.slice(delta ? 3 : 2).map(Number);
  const base = mkdtempSync(join(tmpdir(), 'dbx-overhead-'));
  const sdir = join(base, 'served');
  const token = createToken(sdir, { name: 'bench' });
  const app = await buildApp({ sdir });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const auth = { authorization: `Bearer ${token}` };
  try {
    for (const mib of sizes.length ? sizes : [16, 64, 256]) {
      const { body: file, hash, basis } = await payloadOf(mib, delta);
      const baseHash = basis && createHash('sha256').update(basis).digest('hex');
      const putBase = async (path: string): Promise<void> => {
        if (basis && (await send(port, 'PUT', `/v1/files/${path}`, { ...auth, 'content-type': 'application/octet-stream' }, basis)).status !== 200) throw new Error('PUT base');
      };
      const put: number[] = [];
      const resumable: number[] = [];
      for (let run = 0; run < 3; run++) {
        await putBase(`put-${mib}-${run}`);
        let t0 = performance.now();
        const single = basis
          ? { method: 'PATCH', headers: { 'content-type': 'application/vnd.deltabox.delta', 'if-match': `"${baseHash}"` } }
          : { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } };
        const p = await send(port, single.method, `/v1/files/put-${mib}-${run}`, { ...auth, ...single.headers, 'x-deltabox-content-hash': hash }, file);
        if (p.status !== 200) throw new Error(p.body);
        put.push(performance.now() - t0);
        await putBase(`tus-${mib}-${run}`);
        t0 = performance.now();
        const kind = basis ? { kind: 'delta', ifMatch: baseHash } : {};
        const meta = JSON.stringify({ path: `tus-${mib}-${run}`, size: file.length, hash, mtimeMs: 1, ...kind });
        const created = await send(port, 'POST', '/v1/uploads', { ...auth, 'content-type': 'application/json' }, Buffer.from(meta));
        const { id } = JSON.parse(created.body) as { id: string };
        const chunk = Math.min(16 * 1024 * 1024, Math.max(1024 * 1024, Math.ceil(file.length / 64)));
        for (let offset = 0; offset < file.length; offset += chunk) {
          const part = file.subarray(offset, offset + chunk);
          const sum = createHash('sha256').update(part).digest('base64');
          const r = await send(port, 'PATCH', `/v1/uploads/${id}`, {
            ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), 'upload-checksum': `sha256 ${sum}`,
          }, part);
          if (r.status !== 204 && r.status !== 200) throw new Error(r.body);
        }
        resumable.push(performance.now() - t0);
      }
      const [a, b] = [median(put), median(resumable)];
      const what = basis ? `delta of ${(file.length / MiB).toFixed(1)} MiB: PATCH` : `${mib} MiB: PUT`;
      console.log(`${what} ${a.toFixed(0)} ms, resumable ${b.toFixed(0)} ms (+${(b - a).toFixed(0)} ms, x${(b / a).toFixed(2)})`);
    }
  } finally {
    await app.close();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
