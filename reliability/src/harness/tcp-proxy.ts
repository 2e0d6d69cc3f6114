/**
 * A TCP proxy on 127.0.0.1 that we control: forwards to the current server port (which changes when the
 * server is restarted), counts every connection attempt, and can refuse them (accept, then reset at once:
 * the client sees ECONNRESET, and we still count the attempt). Does not look at the bytes.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  #server: Server | undefined;
  #upstreamPort: number;
  #refusing = false;
  #live = new Set<Socket>();
  /** Every connection accepted since start. */
  connections = 0;
  /** Connections reset because the proxy was refusing. */
  refused = 0;
  port = 0;

  constructor(upstreamPort: number) {
    this.#upstreamPort = upstreamPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  /** Points new connections at another server port (after a restart). */
  setUpstream(port: number): void {
    this.#upstreamPort = port;
  }

  /** Starts refusing: live connections are cut, new ones are reset and counted. */
  refuse(): void {
    this.#refusing = true;
    for (const s of this.#live) s.destroy();
    this.#live.clear();
  }

  forward(): void {
    this.#refusing = false;
  }

  /** Cuts every live connection (a server crash looks like this to the client). */
  cutAll(): void {
    for (const s of this.#live) s.destroy();
    this.#live.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #accept(client: Socket): void {
    this.connections++;
    client.on('error', () => {});
    if (this.#refusing) {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.#upstreamPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => {
      upstream.destroy();
      this.#live.delete(client);
      this.#live.delete(upstream);
    });
    upstream.on('close', () => client.destroy());
    this.#live.add(client);
    this.#live.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
