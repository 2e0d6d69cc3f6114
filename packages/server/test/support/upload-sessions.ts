/**
 * Test support for resumable upload sessions: request helpers (create, HEAD, checksummed PATCH) over any
 * request function, the staging folder's listing, and a real server on 127.0.0.1 that can be stopped and
 * started again on the same folder and state (a restart mid-upload).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { buildApp, createToken, type AppOverrides, type ServerLimits, type ServerOptions } from '../../src/index.js';
import { rawRequest, type Response } from './harness.js';

type RequestFn = (m: string, p: string, o?: { headers?: Record<string, string>; body?: Buffer | string }) => Promise<Response>;

/** The Upload-Checksum header of a chunk. */
export const checksum = (b: Buffer): string => `sha256 ${createHash('sha256').update(b).digest('base64')}`;
const offsetType = { 'content-type': 'application/offset+octet-stream' };

/** Helpers over any request function (harness or a restartable server). */
export function uploads(request: RequestFn) {
  return {
    create: (body: Record<string, unknown>) =>
      request('POST', '/v1/uploads', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    head: (id: string) => request('HEAD', `/v1/uploads/${id}`),
    patch: (id: string, offset: number, chunk: Buffer, extra: Record<string, string> = {}) =>
      request('PATCH', `/v1/uploads/${id}`, { headers: { ...offsetType, 'upload-offset': String(offset), 'upload-checksum': checksum(chunk), ...extra }, body: chunk }),
  };
}

/** Names in the staging folder of upload sessions. */
export const stagingOf = (sdir: string): string[] => {
  const dir = join(sdir, '.deltabox', 'uploads');
  return existsSync(dir) ? readdirSync(dir) : [];
};

export interface RestartableOptions {
  limits?: Partial<ServerLimits>;
  /** Clock of upload-session expiry. */
  clock?: () => number;
  retention?: ServerOptions['retention'];
  /** Overrides other than the clock (e.g. inspect, to reach the pruner of each start). */
  overrides?: Omit<AppOverrides, 'now'>;
}

/** A server on `sdir` that can be closed and started again (same folder, same state). */
export async function restartable(t: Test, opts: RestartableOptions = {}) {
  const base = mkdtempSync(join(tmpdir(), 'dbx-uploads-'));
  const sdir = join(base, 'served');
  const token = createToken(sdir, { name: 'device' });
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    const overrides: AppOverrides = { ...opts.overrides, ...(opts.clock ? { now: opts.clock } : {}) };
    app = await buildApp({ sdir, limits: opts.limits, retention: opts.retention }, overrides);
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    await app?.close();
    app = undefined;
  };
  t.teardown(async () => {
    await stop();
    rmSync(base, { recursive: true, force: true });
  });
  await start();
  const request: RequestFn = (m, p, o = {}) => rawRequest(port, m, p, { ...o, headers: { authorization: `Bearer ${token}`, ...o.headers } });
  return { sdir, start, stop, request };
}
