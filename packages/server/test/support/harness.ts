/**
 * Test harness: a real server on 127.0.0.1 over a temp folder with a sentinel folder beside it, raw
 * HTTP requests (paths sent byte for byte, no client-side normalisation), and checks every error
 * response against the catalogue. Teardown closes the server and removes the temp folder.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { errorCatalogue } from '@deltabox/protocol';
import { buildApp, createToken, type AppOverrides, type ServerLimits, type ServerOptions } from '../../src/index.js';

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: <T = Record<string, unknown>>() => T;
}

export interface Harness {
  app: FastifyInstance;
  base: string;
  sdir: string;
  sentinel: string;
  port: number;
  token: string;
  readOnlyToken: string;
  /** Raw request; `headers` replace the default Authorization when they set one. */
  request(method: string, path: string, opts?: { headers?: Record<string, string>; body?: Buffer | string }): Promise<Response>;
  /** Files under sdir/.deltabox/tmp (should be empty when idle). */
  stagedFiles(): string[];
  /** Fails the test unless the sentinel and the temp base are exactly as created. */
  assertNothingOutside(t: Test): void;
  /** Error responses whose code is not in the catalogue or has the wrong status. */
  violations: string[];
}

export function rawRequest(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers };
    if (opts.body !== undefined && !('transfer-encoding' in headers)) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Checks that an error response carries a catalogue code with the catalogue's status. */
function checkErrorBody(status: number, body: unknown, violations: string[], url: string): void {
  if (status < 400) return;
  const code = (body as { code?: string } | undefined)?.code;
  const entry = code ? errorCatalogue[code as keyof typeof errorCatalogue] : undefined;
  if (!entry || entry.status !== status) violations.push(`${url}: status ${status} with code ${String(code)}`);
}

export async function startServer(
  t: Test,
  opts: { limits?: Partial<ServerLimits>; overrides?: AppOverrides; sdirName?: string; retention?: ServerOptions['retention'] } = {},
): Promise<Harness> {
  const base = mkdtempSync(join(tmpdir(), 'dbx-server-'));
  const sdir = join(base, opts.sdirName ?? 'served');
  const sentinel = join(base, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'keep.txt'), 'sentinel');
  const token = createToken(sdir, { name: 'device' });
  const readOnlyToken = createToken(sdir, { name: 'viewer', readOnly: true });
  const app = await buildApp({ sdir, limits: opts.limits, retention: opts.retention }, opts.overrides);
  const violations: string[] = [];
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      checkErrorBody(reply.statusCode, JSON.parse(payload), violations, request.url);
    }
    return payload;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  t.teardown(async () => {
    await app.close();
    rmSync(base, { recursive: true, force: true });
  });
  const harness: Harness = {
    app,
    base,
    sdir,
    sentinel,
    port,
    token,
    readOnlyToken,
    violations,
    request: (method, path, o = {}) =>
      rawRequest(port, method, path, { ...o, headers: { authorization: `Bearer ${token}`, ...o.headers } }),
    stagedFiles: () => {
      const dir = join(sdir, '.deltabox', 'tmp');
      return existsSync(dir) ? readdirSync(dir) : [];
    },
    assertNothingOutside: (tt) => {
      tt.same(readdirSync(base).sort(), [opts.sdirName ?? 'served', 'sentinel'].sort(), 'nothing appeared beside the served folder');
      tt.same(readdirSync(sentinel), ['keep.txt'], 'the sentinel folder is untouched');
      tt.equal(readFileSync(join(sentinel, 'keep.txt'), 'utf8'), 'sentinel', 'the sentinel file is untouched');
    },
  };
  t.teardown(() => {
    if (violations.length) t.fail(`error responses outside the catalogue: ${violations.join('; ')}`);
  });
  return harness;
}

/** Polls `check` until it returns true or the deadline passes (no fixed sleeps). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sha256 = async (data: Buffer | string): Promise<string> =>
  (await import('node:crypto')).createHash('sha256').update(data).digest('hex');
