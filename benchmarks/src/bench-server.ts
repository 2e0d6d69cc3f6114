/**
 * Server benchmark (`pnpm bench:server [--quick]`): the server runs in its own process on loopback, fed by
 * this one. Measures small-file uploads per second (single PUTs vs batches), delta-patch throughput on a
 * 256 MiB file (32 MiB with --quick), and the server's RSS while 8 clients upload 1 GiB in total
 * (128 MiB). Seeded data in a temp dir; figures printed and written to results/server-latest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DeltaEncoder, decodeSignature } from '@deltabox/core';
import { buildServer, createToken } from '@deltabox/server';
import { parseFlagsOrExit, runnerArgs } from './lib/flags.js';
import { collectRunInfo, writeResult } from './lib/run-info.js';
import { SeededByteStream, planScatteredEdits, writeEditedFile, writeRandomFile } from './lib/seeded-data.js';

const MiB = 1 << 20;
const CHILD_FLAG = '--child-server';

interface Reply {
  status: number;
  body: Buffer;
}

/** Runs the server for the parent: prints its port on stdout, exits on SIGTERM. */
async function childServer(sdir: string): Promise<void> {
  const app = await buildServer({ sdir });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port })}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

/** Server process RSS in bytes, from /proc (Linux) or ps. */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux: fall through */
  }
  return 0;
}

class RssSampler {
  peak = 0;
  readonly #timer: NodeJS.Timeout;
  constructor(readonly pid: number) {
    this.#timer = setInterval(() => (this.peak = Math.max(this.peak, rssOf(pid))), 20);
  }
  stop(): number {
    clearInterval(this.#timer);
    this.peak = Math.max(this.peak, rssOf(this.pid));
    return this.peak;
  }
}

class Client {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  constructor(readonly port: number, readonly token: string) {}

  send(method: string, path: string, headers: Record<string, string>, body?: Buffer | AsyncIterable<Buffer>): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string> = { authorization: `Bearer ${this.token}`, ...headers };
      if (Buffer.isBuffer(body)) h['content-length'] = String(body.length);
      const req = httpRequest({ host: '127.0.0.1', port: this.port, method, path, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body === undefined || Buffer.isBuffer(body)) {
        req.end(body);
        return;
      }
      void (async () => {
        for await (const chunk of body) if (!req.write(chunk)) await once(req, 'drain');
        req.end();
      })().catch(reject);
    });
  }

  async ok(method: string, path: string, headers: Record<string, string>, body?: Buffer | AsyncIterable<Buffer>): Promise<Reply> {
    const reply = await this.send(method, path, headers, body);
    if (reply.status >= 300) throw new Error(`${method} ${path}: ${reply.status} ${reply.body.toString().slice(0, 200)}`);
    return reply;
  }
}

async function startChild(sdir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, CHILD_FLAG, sdir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  return { child, port: (JSON.parse(first) as { port: number }).port };
}

async function runPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function smallFiles(client: Client, count: number): Promise<Record<string, number>> {
  const size = 4096;
  const data = new SeededByteStream('small-files').next(count * size);
  const files = Array.from({ length: count }, (_, i) => ({ i, content: data.subarray(i * size, (i + 1) * size) }));
  const octets = { 'content-type': 'application/octet-stream' };
  let start = performance.now();
  await runPool(files, 8, async (f) => void (await client.ok('PUT', `/v1/files/single/${f.i}.bin`, octets, f.content)));
  const singleSeconds = (performance.now() - start) / 1000;

  const batchSize = 100;
  const batches = Array.from({ length: Math.ceil(count / batchSize) }, (_, b) => files.slice(b * batchSize, (b + 1) * batchSize));
  start = performance.now();
  await runPool(batches, 2, async (batch) => {
    const boundary = 'benchBoundary';
    const parts: Buffer[] = [];
    for (const f of batch) {
      const meta = { path: `batched/${f.i}.bin`, size: f.content.length, mtimeMs: 1_700_000_000_000, hash: createHash('sha256').update(f.content).digest('hex') };
      parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="meta"\r\ncontent-type: application/json\r\n\r\n${JSON.stringify(meta)}\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="f"\r\ncontent-type: application/octet-stream\r\n\r\n`), f.content, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    const reply = await client.ok('POST', '/v1/batch', { 'content-type': `multipart/form-data; boundary=${boundary}` }, Buffer.concat(parts));
    const results = (JSON.parse(reply.body.toString()) as { results: Array<{ ok: boolean }> }).results;
    if (results.some((r) => !r.ok)) throw new Error('a batch part failed');
  });
  const batchSeconds = (performance.now() - start) / 1000;
  return {
    files: count,
    fileBytes: size,
    singlePutFilesPerSecond: count / singleSeconds,
    batchedFilesPerSecond: count / batchSeconds,
    batchSize,
  };
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) yield chunk as Buffer;
}

async function deltaPatch(client: Client, dir: string, length: number): Promise<Record<string, number>> {
  const basisPath = join(dir, 'basis.bin');
  const targetPath = join(dir, 'target.bin');
  const basis = writeRandomFile(basisPath, length, 'patch-basis');
  const edits = planScatteredEdits(length, Math.max(16, length / (256 * 1024)), 'patch-edits');
  const target = writeEditedFile(basisPath, length, targetPath, edits, 'patch-fresh');
  const octets = { 'content-type': 'application/octet-stream' };

  let start = performance.now();
  await client.ok('PUT', '/v1/files/big.bin', { ...octets, 'x-deltabox-content-hash': basis.sha256 }, fileChunks(basisPath));
  const uploadSeconds = (performance.now() - start) / 1000;

  start = performance.now();
  const sigReply = await client.ok('GET', '/v1/signatures/big.bin', {});
  const signatureSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  await client.ok('GET', '/v1/signatures/big.bin', {});
  const cachedSignatureSeconds = (performance.now() - start) / 1000;

  const encoder = new DeltaEncoder(decodeSignature(sigReply.body));
  const deltaChunks: Uint8Array[] = [];
  for await (const chunk of fileChunks(targetPath)) deltaChunks.push(...encoder.push(chunk));
  deltaChunks.push(...encoder.finish());
  const delta = Buffer.concat(deltaChunks);

  start = performance.now();
  const patched = await client.ok('PATCH', '/v1/files/big.bin', { 'content-type': 'application/vnd.deltabox.delta', 'if-match': `"${basis.sha256}"` }, delta);
  const patchSeconds = (performance.now() - start) / 1000;
  if ((JSON.parse(patched.body.toString()) as { hash: string }).hash !== target.sha256) throw new Error('patched file has the wrong hash');
  return {
    basisBytes: length,
    targetBytes: target.length,
    deltaBytes: delta.length,
    fullUploadMBps: length / 1e6 / uploadSeconds,
    signatureSeconds,
    cachedSignatureSeconds,
    patchSeconds,
    patchTargetMBps: target.length / 1e6 / patchSeconds,
  };
}

async function parallelUploads(client: Client, pid: number, totalBytes: number, clients: number): Promise<Record<string, number>> {
  const idle = rssOf(pid);
  const sampler = new RssSampler(pid);
  const perClient = Math.floor(totalBytes / clients);
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const stream = new SeededByteStream(`client-${c}`);
    async function* body(): AsyncGenerator<Buffer> {
      for (let left = perClient; left > 0; left -= MiB) yield stream.next(Math.min(MiB, left));
    }
    await client.ok('PUT', `/v1/files/clients/${c}.bin`, { 'content-type': 'application/octet-stream' }, body());
  }));
  const seconds = (performance.now() - start) / 1000;
  return { clients, totalBytes: perClient * clients, rssBeforeBytes: idle, peakRssBytes: sampler.stop(), uploadMBps: (perClient * clients) / 1e6 / seconds };
}

async function main(): Promise<void> {
  if (process.argv[2] === CHILD_FLAG) return childServer(process.argv[3]!);
  const { quick } = parseFlagsOrExit('bench-server', () => {
    const { values } = parseArgs({ args: runnerArgs(), options: { quick: { type: 'boolean', default: false } }, strict: true, allowPositionals: false });
    return { quick: values.quick === true };
  });
  // Shared machines: the 1-minute load average before and after says how much to trust the figures.
  const loadBefore = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'dbx-bench-server-'));
  const sdir = join(dir, 'served');
  const token = createToken(sdir, { name: 'bench' });
  const { child, port } = await startChild(sdir);
  const client = new Client(port, token);
  try {
    const small = await smallFiles(client, quick ? 1000 : 5000);
    const patch = await deltaPatch(client, dir, (quick ? 32 : 256) * MiB);
    const memory = await parallelUploads(client, child.pid!, (quick ? 128 : 1024) * MiB, 8);
    const results = { smallFiles: small, deltaPatch: patch, parallelUploads: memory };
    const mb = (n: number) => (n / MiB).toFixed(1);
    console.log(`small files (${small.files} x ${small.fileBytes} B): single PUT ${small.singlePutFilesPerSecond.toFixed(0)} files/s, batched ${small.batchedFilesPerSecond.toFixed(0)} files/s`);
    console.log(`delta patch on ${mb(patch.basisBytes)} MiB: ${patch.patchTargetMBps.toFixed(1)} MB/s of target (${patch.patchSeconds.toFixed(2)} s), delta ${mb(patch.deltaBytes)} MiB`);
    console.log(`  signature ${patch.signatureSeconds.toFixed(2)} s first, ${(patch.cachedSignatureSeconds * 1000).toFixed(1)} ms cached; full upload ${patch.fullUploadMBps.toFixed(1)} MB/s`);
    console.log(`8 clients uploading ${mb(memory.totalBytes)} MiB: server RSS before ${mb(memory.rssBeforeBytes)} MiB, peak ${mb(memory.peakRssBytes)} MiB, ${memory.uploadMBps.toFixed(1)} MB/s`);
    const load = { oneMinuteBefore: loadBefore, oneMinuteAfter: loadavg()[0]!, cpuCount: cpus().length };
    console.log(`load average ${load.oneMinuteBefore.toFixed(1)} -> ${load.oneMinuteAfter.toFixed(1)} on ${load.cpuCount} CPUs`);
    const path = writeResult('server-latest.json', { run: collectRunInfo(), quick, load, results });
    console.log(`wrote ${path}`);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
