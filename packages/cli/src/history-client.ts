/**
 * The few JSON calls of the history commands (history, trash, restore) against a running server: node's
 * http/https with the device token and an optional CA. An API error becomes a CliError carrying the
 * catalogue code (so exit-codes.ts maps UNAUTHORIZED/FORBIDDEN to the auth exit code), a network failure
 * keeps its errno code (ECONNREFUSED: unreachable).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ApiErrorBody } from '@deltabox/protocol';
import { CliError, EXIT } from './exit-codes.js';

export interface HistoryClientOptions {
  server: string;
  token: string;
  ca?: Buffer;
}

/** Exit code of an API error code: auth problems 5, bad input (no such path or version, bad path) 3. */
function exitOf(code: string): number {
  if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN' || code === 'RATE_LIMITED') return EXIT.auth;
  if (code === 'NOT_FOUND' || code === 'VERSION_NOT_FOUND' || code === 'BAD_PATH' || code === 'BAD_REQUEST' || code === 'TYPE_CONFLICT') return EXIT.badInput;
  return EXIT.failure;
}

/** Sends one request with a JSON body (or none) and parses the JSON answer. @throws CliError */
export function callJson<T>(opts: HistoryClientOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const url = new URL(path, opts.server.endsWith('/') ? opts.server : `${opts.server}/`);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token}`, accept: 'application/json' };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<T>((resolve, reject) => {
    const req = send(url, { method, headers, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          reject(new CliError(`${method} ${url.pathname}: the server answered ${res.statusCode} without JSON`, EXIT.failure));
          return;
        }
        if ((res.statusCode ?? 500) >= 400) {
          const err = json as ApiErrorBody;
          reject(Object.assign(new CliError(`${err.code}: ${err.message}`, exitOf(err.code)), { code: err.code }));
          return;
        }
        resolve(json as T);
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
