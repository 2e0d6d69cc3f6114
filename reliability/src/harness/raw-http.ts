/**
 * HTTP/1.1 over a raw node:net socket, so a request line, header or body can be anything at all (fetch
 * and http.request normalise paths and refuse bad headers). Reads until the server closes or `timeoutMs`.
 */
import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed without a status line. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Everything received, as bytes. */
  raw: Buffer;
  timedOut: boolean;
}

export interface RawRequest {
  method: string;
  target: string;
  headers?: Array<[string, string]>;
  body?: Buffer | string;
  /** Send the request bytes in this many pieces. */
  closeAfterSend?: boolean;
}

/** Builds request bytes; `Connection: close` is added so the answer ends with the socket. */
export function requestBytes(req: RawRequest, host: string): Buffer {
  const lines = [`${req.method} ${req.target} HTTP/1.1`, `host: ${host}`, 'connection: close'];
  for (const [k, v] of req.headers ?? []) lines.push(`${k}: ${v}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  return Buffer.concat([head, body]);
}

/** Parses the first response in `raw` (enough for `connection: close` answers). */
export function parseResponse(raw: Buffer, timedOut: boolean): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: Buffer.alloc(0), raw, timedOut };
  const head = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.includes('chunked')) body = dechunk(body);
  return { status, headers, body, raw, timedOut };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * Sends `bytes` (optionally in pieces, optionally half-closing after) and collects the answer.
 */
export function rawExchange(port: number, bytes: Buffer, options: { timeoutMs?: number; endAfterSend?: boolean } = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect(port, '127.0.0.1');
    const finish = (timedOut: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks), timedOut));
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => {
      socket.write(bytes, () => {
        if (options.endAfterSend) socket.end();
      });
    });
  });
}

export function rawRequest(port: number, req: RawRequest, timeoutMs = 5_000): Promise<RawResponse> {
  return rawExchange(port, requestBytes(req, `127.0.0.1:${port}`), { timeoutMs, endAfterSend: req.closeAfterSend ?? false });
}
