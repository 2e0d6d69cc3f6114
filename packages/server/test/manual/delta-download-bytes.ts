/**
 * By-hand measurement for GET/POST /v1/deltas (not part of `pnpm test`): the bytes on the wire to pull a small
 * edit of a large file from a real server on 127.0.0.1, byte-exact (GET ?from=) against signature-only (POST of
 * the base's signature, whose bytes count too) against the whole file (GET /v1/files), each patched and checked.
 * Seeded data: a file of SIZE MiB of pseudo-random bytes, then 10 edits of 16 bytes and a 100-byte insert.
 *   cd packages/server && npx tsx --conditions=deltabox-src test/manual/delta-download-bytes.ts 64
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { applyDeltaToBuffer, computeSignature, encodeSignature } from '@deltabox/core';
import { buildApp, createToken } from '../../src/index.js';
import { seededBytes } from '../support/seeded-bytes.js';

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: Buffer; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'content-length': String(body?.length ?? 0) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: Math.round(performance.now() - started) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function edited(base: Buffer): Buffer {
  const out = Buffer.from(base);
  for (let i = 0; i < 10; i++) seededBytes(16, 100 + i).copy(out, Math.floor((out.length * (i + 0.5)) / 10));
  const at = Math.floor(out.length / 3);
  return Buffer.concat([out.subarray(0, at), seededBytes(100, 99), out.subarray(at)]);
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 64);
  const base = mkdtempSync(join(tmpdir(), 'dbx-delta-bytes-'));
  const sdir = join(base, 'served');
  const token = createToken(sdir, { name: 'measure' });
  const app = await buildApp({ sdir, limits: { verifyIntervalMs: 0 } });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const auth = { authorization: `Bearer ${token}` };
    const v1 = seededBytes(mib * 2 ** 20, 1);
    const v2 = edited(v1);
    for (const v of [v1, v2]) {
      const res = await send(port, 'PUT', '/v1/files/big.bin', { ...auth, 'content-type': 'application/octet-stream' }, v);
      if (res.status !== 200) throw new Error(`PUT: ${res.status} ${res.body.toString()}`);
    }
    const exact = await send(port, 'GET', `/v1/deltas/big.bin?from=${sha(v1)}`, auth);
    const signature = Buffer.from(encodeSignature(await computeSignature([v1], { basisLength: v1.length })));
    const bySig = await send(port, 'POST', '/v1/deltas/big.bin', { ...auth, 'content-type': 'application/vnd.deltabox.signature' }, signature);
    const whole = await send(port, 'GET', '/v1/files/big.bin', auth);
    for (const [what, res] of [['byte-exact', exact], ['signature', bySig]] as const) {
      if (res.status !== 200 || !Buffer.from(await applyDeltaToBuffer(v1, res.body)).equals(v2)) throw new Error(`${what}: ${res.status}, does not patch to the target`);
    }
    if (!whole.body.equals(v2)) throw new Error('whole download differs');
    console.log(`file ${mib} MiB, 10 edits of 16 B + a 100 B insert; Node ${process.version}`);
    console.log(`byte-exact  GET ?from=        ${exact.body.length} B down (${exact.ms} ms)`);
    console.log(`signature   POST signature    ${bySig.body.length} B down + ${signature.length} B up = ${bySig.body.length + signature.length} B (${bySig.ms} ms)`);
    console.log(`whole       GET /v1/files     ${whole.body.length} B (${whole.ms} ms)`);
  } finally {
    await app.close();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
