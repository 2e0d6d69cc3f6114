/**
 * A TCP proxy on 127.0.0.1 in front of a server that counts the bytes the client sends (TCP payload:
 * headers and bodies), can run a callback once when that count crosses a mark (to cut connections at 50% of
 * an upload), can cut every live connection, refuse new ones for a while, and point at a restarted
 * server. Does not look inside the traffic.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class CuttingProxy {
  readonly #server: Server;
  readonly #live = new Set<Socket>();
  #upstreamPort: number;
  #refusing = false;
  #mark: { bytes: number; run: () => void | Promise<void> } | undefined;
  #holding = false;
  /** Client -> server bytes since start. */
  sentBytes = 0;
  port = 0;

  private constructor(upstreamPort: number) {
    this.#upstreamPort = upstreamPort;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(upstreamPort: number): Promise<CuttingProxy> {
    const proxy = new CuttingProxy(upstreamPort);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.#server.address();
    proxy.port = typeof address === 'object' && address ? address.port : 0;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Runs `run` once, synchronously, as soon as the client has sent `bytes` in total (before forwarding more). */
  whenSent(bytes: number, run: () => void): void {
    this.#mark = { bytes, run };
  }

  /**
   * Holds the client's bytes once it has sent `bytes` in total: nothing more is forwarded until `run`'s
   * promise settles (a slow link stalling mid-upload, for as long as the test needs).
   */
  holdWhenSent(bytes: number, run: () => Promise<void>): void {
    this.#mark = { bytes, run };
  }

  /** Cuts every live connection (a dropped link or a crashed server looks like this to the client). */
  cutAll(): void {
    for (const s of this.#live) s.destroy();
    this.#live.clear();
  }

  /** While refusing, new connections are reset at once (the link is down). */
  setRefusing(refusing: boolean): void {
    this.#refusing = refusing;
  }

  /** Sends new connections to another server port (after a restart). */
  setUpstream(port: number): void {
    this.#upstreamPort = port;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: this.#upstreamPort });
    for (const s of [client, upstream]) {
      this.#live.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.#live.delete(s);
        (s === client ? upstream : client).destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      this.sentBytes += chunk.length;
      const mark = this.#mark;
      if (mark && this.sentBytes >= mark.bytes) {
        this.#mark = undefined;
        const held = mark.run();
        if (client.destroyed) return;
        if (held instanceof Promise) {
          this.#holding = true;
          client.pause();
          void held.finally(() => {
            this.#holding = false;
            if (upstream.write(chunk)) client.resume();
          });
          return;
        }
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => {
      if (!this.#holding) client.resume();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
  }
}
