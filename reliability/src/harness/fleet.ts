/**
 * Several devices on ONE server folder (two-way sync, issue 12): a `deltabox serve` child restarted on the same
 * folder after a kill, and per device a token named after it, its own folder, its own TcpProxy (so one device
 * can go offline alone) and a two-way scanner child (processes.ts `startTwoWayDevice`), its JSON log in a file.
 * It starts, stops, cuts and kills; it does not edit files (device-user.ts) or judge the result (quiescence.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToken } from '@deltabox/server';
import { startServerProcess, startTwoWayDevice, type ChildHandle, type ServerProcess } from './processes.js';
import { TcpProxy } from './tcp-proxy.js';

export class Device {
  readonly cdir: string;
  readonly logFile: string;
  readonly proxy = new TcpProxy(0);
  scanner: ChildHandle | undefined;
  /** Exits of the scanner that the harness did not cause: each one is a failure. */
  readonly unexpectedExits: string[] = [];
  offline = false;
  starts = 0;
  #stopping = false;

  constructor(
    readonly name: string,
    base: string,
    readonly token: string,
  ) {
    this.cdir = join(base, name);
    this.logFile = join(base, `${name}.log`);
    mkdirSync(this.cdir, { recursive: true });
  }

  get running(): boolean {
    return this.scanner !== undefined;
  }

  startScanner(): void {
    if (this.scanner) return;
    const child = startTwoWayDevice(this.cdir, this.proxy.url, this.token, { stdoutFile: this.logFile });
    this.scanner = child;
    this.starts++;
    void child.exited.then(({ code, signal }) => {
      if (this.scanner === child) this.scanner = undefined;
      if (!this.#stopping) this.unexpectedExits.push(`${this.name}: scanner exited by itself (code ${code}, signal ${signal}): ${child.stderr().slice(-600)}`);
    });
  }

  /** SIGKILL (a crash, a pulled plug); `graceful` sends SIGTERM first. */
  async stopScanner(graceful = false): Promise<void> {
    const child = this.scanner;
    if (!child) return;
    this.#stopping = true;
    try {
      if (graceful) await child.stop();
      else await child.kill();
    } finally {
      this.#stopping = false;
      this.scanner = undefined;
    }
  }

  goOffline(): void {
    this.offline = true;
    this.proxy.refuse();
  }

  goOnline(): void {
    this.offline = false;
    this.proxy.forward();
  }

  /** The last `chars` of the scanner's JSON log and stderr, for failure messages. */
  tail(chars = 800): string {
    let log = '';
    try {
      log = readFileSync(this.logFile, 'utf8').slice(-chars);
    } catch {
      // no log yet
    }
    return `${this.name} log: ${log} stderr: ${this.scanner?.stderr().slice(-chars) ?? '(not running)'}`;
  }
}

export interface FleetOptions {
  label: string;
  /** Device names (each becomes a token name, hence the name in its conflict copies). */
  devices: string[];
}

export class Fleet {
  readonly base: string;
  readonly sdir: string;
  readonly logFile: string;
  readonly devices: Device[];
  /** A token for the harness's own API reads (history, journal). */
  readonly auditToken: string;
  server: ServerProcess | undefined;
  serverStarts = 0;

  constructor(options: FleetOptions) {
    this.base = mkdtempSync(join(tmpdir(), `dbx-rel-${options.label}-`));
    this.sdir = join(this.base, 'server');
    this.logFile = join(this.base, 'server.log');
    mkdirSync(this.sdir, { recursive: true });
    this.auditToken = createToken(this.sdir, { name: 'audit', readOnly: true });
    this.devices = options.devices.map(
      (name) =>
        new Device(name, this.base, createToken(this.sdir, { name })),
    );
  }

  get serverUrl(): string {
    if (!this.server) throw new Error('no server running');
    return this.server.url;
  }

  async startServer(): Promise<void> {
    for (const d of this.devices) if (d.proxy.port === 0) await d.proxy.start();
    this.server = await startServerProcess(this.sdir, this.logFile);
    this.serverStarts++;
    for (const d of this.devices) d.proxy.setUpstream(this.server.port);
  }

  /** SIGKILL the server; every device's live connection is cut as a crash would. */
  async killServer(): Promise<void> {
    await this.server?.kill();
    this.server = undefined;
    for (const d of this.devices) d.proxy.cutAll();
  }

  async close(keep = false): Promise<void> {
    for (const d of this.devices) {
      await d.stopScanner();
      await d.proxy.close();
    }
    await this.server?.kill();
    if (!keep) rmSync(this.base, { recursive: true, force: true });
  }
}
