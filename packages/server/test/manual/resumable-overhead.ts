/**
 * By-hand measurement behind the scanner's RESUMABLE_MIN_BYTES (not part of `pnpm test`): the time to
 * upload a file to a real server on 127.0.0.1 as one PUT and as a resumable session (POST, then PATCHes of
 * size/64 within 1..16 MiB, each with its SHA-256, as the scanner sends them), median of 3 runs per size.
 *   cd packages/server && npx tsx --conditions=deltabox-src test/manual/resumable-overhead.ts 16 64 256
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, createToken } from '../../src/index.js';

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

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  const base = mkdtempSync(join(tmpdir(), 'dbx-overhead-'));
  const sdir = join(base, 'served');
  const token = createToken(sdir, { name: 'bench' });
  const app = await buildApp({ sdir });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const auth = { authorization: `Bearer ${token}` };
  try {
    for (const mib of sizes.length ? sizes : [16, 64, 256]) {
      const file = randomBytes(mib * 1024 * 1024);
      const hash = createHash('sha256').update(file).digest('hex');
      const put: number[] = [];
      const resumable: number[] = [];
      for (let run = 0; run < 3; run++) {
        let t0 = performance.now();
        const p = await send(port, 'PUT', `/v1/files/put-${mib}-${run}`, { ...auth, 'content-type': 'application/octet-stream', 'x-deltabox-content-hash': hash }, file);
        if (p.status !== 200) throw new Error(p.body);
        put.push(performance.now() - t0);
        t0 = performance.now();
        const meta = JSON.stringify({ path: `tus-${mib}-${run}`, size: file.length, hash, mtimeMs: 1 });
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
      console.log(`${mib} MiB: PUT ${a.toFixed(0)} ms, resumable ${b.toFixed(0)} ms (+${(b - a).toFixed(0)} ms, x${(b / a).toFixed(2)})`);
    }
  } finally {
    await app.close();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
