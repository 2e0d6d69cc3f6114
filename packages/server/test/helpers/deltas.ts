/** Builds deltas with the real core engine, and sends bodies over raw sockets that can be cut mid-way. */
import { connect, type Socket } from 'node:net';
import { computeSignature, encodeDelta } from '@deltabox/core';

export async function makeDelta(basis: Buffer, target: Buffer): Promise<Buffer> {
  const signature = await computeSignature([basis], { basisLength: basis.length });
  const chunks: Uint8Array[] = [];
  const gen = encodeDelta(signature, [target]);
  for (;;) {
    const next = await gen.next();
    if (next.done) break;
    chunks.push(next.value);
  }
  return Buffer.concat(chunks);
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Opens a socket and writes a request head declaring `contentLength`, then `firstBytes` of the body. */
export function startPartialRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  contentLength: number,
  firstBytes: Buffer,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const head = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', `content-length: ${contentLength}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(head.join('\r\n') + '\r\n\r\n');
      socket.write(firstBytes, () => resolve(socket));
    });
    socket.on('error', reject);
  });
}
