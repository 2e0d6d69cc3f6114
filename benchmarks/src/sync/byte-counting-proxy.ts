/**
 * A TCP proxy (node:net) in front of a server that counts the bytes each way, independent of the program's own
 * counters, and can limit each direction to a bandwidth (a shared token bucket per direction). It counts TCP
 * payload bytes (what the applications write: HTTP headers and bodies, rsync's protocol), not IP/TCP headers.
 * It does not look inside the traffic.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface WireCount {
  /** Client -> server bytes. */
  sentBytes: number;
  /** Server -> client bytes. */
  receivedBytes: number;
  connections: number;
}

/** Paces writes of one direction to `bitsPerSecond`, shared by every connection. */
class Pacer {
  #nextFreeMs = 0;
  constructor(readonly bitsPerSecond: number) {}

  /** Milliseconds to wait before `bytes` may go, reserving their slot. */
  delayFor(bytes: number): number {
    const now = performance.now();
    const start = Math.max(now, this.#nextFreeMs);
    this.#nextFreeMs = start + (bytes * 8 * 1000) / this.bitsPerSecond;
    return start - now;
  }
}

export class ByteCountingProxy {
  readonly #server: Server;
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  #count: WireCount = { sentBytes: 0, receivedBytes: 0, connections: 0 };
  #up: Pacer | undefined;
  #down: Pacer | undefined;
  port = 0;

  private constructor(targetPort: number) {
    this.#targetPort = targetPort;
    this.#server = createServer({ allowHalfOpen: true }, (client) => this.#accept(client));
  }

  /** Starts a proxy on 127.0.0.1 (a free port) forwarding to 127.0.0.1:targetPort. */
  static async start(targetPort: number): Promise<ByteCountingProxy> {
    const proxy = new ByteCountingProxy(targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.#server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy.port = address.port;
    return proxy;
  }

  /** Limits each direction to `bitsPerSecond` from now on (undefined: unlimited). */
  setBandwidth(bitsPerSecond: number | undefined): void {
    this.#up = bitsPerSecond === undefined ? undefined : new Pacer(bitsPerSecond);
    this.#down = bitsPerSecond === undefined ? undefined : new Pacer(bitsPerSecond);
  }

  /** The counts since the last take, and starts counting from zero again. */
  take(): WireCount {
    const count = this.#count;
    this.#count = { sentBytes: 0, receivedBytes: 0, connections: 0 };
    return count;
  }

  /** The counts since the last take, without resetting them. */
  peek(): WireCount {
    return { ...this.#count };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#count.connections++;
    const upstream = connect({ host: '127.0.0.1', port: this.#targetPort, allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    }
    this.#forward(client, upstream, (n) => (this.#count.sentBytes += n), () => this.#up);
    this.#forward(upstream, client, (n) => (this.#count.receivedBytes += n), () => this.#down);
    const fail = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail);
    upstream.on('error', fail);
  }

  /** Copies `from` to `to` with back-pressure, counting bytes, pacing them when a bandwidth is set. */
  #forward(from: Socket, to: Socket, count: (n: number) => void, pacer: () => Pacer | undefined): void {
    let pending = 0; // paced writes not yet issued
    let ended = false;
    const maybeEnd = (): void => {
      if (ended && pending === 0) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      const delayMs = pacer()?.delayFor(chunk.length) ?? 0;
      if (delayMs <= 0 && pending === 0) {
        if (!to.write(chunk)) from.pause();
        return;
      }
      pending++;
      from.pause();
      setTimeout(() => {
        pending--;
        if (to.destroyed) return;
        if (to.write(chunk)) from.resume();
        maybeEnd();
      }, delayMs);
    });
    to.on('drain', () => {
      if (pending === 0) from.resume();
    });
    from.on('end', () => {
      ended = true;
      maybeEnd();
    });
  }
}
