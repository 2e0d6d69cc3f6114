/**
 * One server folder served by a real `deltabox serve` child process behind a TcpProxy (so the scanner's
 * URL survives server restarts), a device token, a client folder, and a scanner child. Cleans up
 * everything it started, by pid.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createToken } from '@deltabox/server';
import { startScannerProcess, startServerProcess, type ChildHandle, type ServerProcess } from './processes.js';
import { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './poll.js';
import { stagedFiles, treeDifferences } from './tree-digest.js';
import { errorLines, readLogLines, type LogLine } from './server-log.js';

export interface RigOptions {
  /** Parent of the temp folder (default os.tmpdir()). */
  baseDir?: string;
  /** Server folder (default BASE/server); e.g. on a small tmpfs. */
  sdir?: string;
  label: string;
}

export class Rig {
  readonly base: string;
  readonly cdir: string;
  readonly sdir: string;
  readonly logFile: string;
  readonly token: string;
  server: ServerProcess | undefined;
  scanner: ChildHandle | undefined;
  readonly proxy: TcpProxy;
  /** Servers started so far (restarts included). */
  serverStarts = 0;

  constructor(options: RigOptions) {
    this.base = mkdtempSync(join(options.baseDir ?? tmpdir(), `dbx-rel-${options.label}-`));
    this.cdir = join(this.base, 'client');
    this.sdir = options.sdir ?? join(this.base, 'server');
    this.logFile = join(this.base, 'server.log');
    mkdirSync(this.cdir, { recursive: true });
    mkdirSync(this.sdir, { recursive: true });
    this.token = createToken(this.sdir, { name: `reliability-${options.label}` });
    this.proxy = new TcpProxy(0);
  }

  get url(): string {
    return this.proxy.url;
  }

  /** The server's own port (not through the proxy). */
  get directUrl(): string {
    if (!this.server) throw new Error('no server running');
    return this.server.url;
  }

  async startServer(): Promise<ServerProcess> {
    if (this.proxy.port === 0) await this.proxy.start();
    this.server = await startServerProcess(this.sdir, this.logFile);
    this.serverStarts++;
    this.proxy.setUpstream(this.server.port);
    return this.server;
  }

  async killServer(): Promise<void> {
    await this.server?.kill();
    this.proxy.cutAll();
  }

  startScanner(extra: string[] = []): ChildHandle {
    this.scanner = startScannerProcess(this.cdir, this.url, this.token, extra);
    return this.scanner;
  }

  /** Polls until the server folder mirrors the client folder. */
  async converged(timeoutMs: number, what: string): Promise<void> {
    let last: string[] = [];
    await waitFor(
      () => {
        last = treeDifferences(this.cdir, this.sdir);
        return last.length === 0;
      },
      `${what}: the server folder mirrors the client folder`,
      {
        timeoutMs,
        intervalMs: 250,
        detail: () =>
          `${last.length} difference(s), first: ${last.slice(0, 5).join('; ')}; scanner queue: ${this.queueDump()}; scanner stderr: ${this.scanner?.stderr().slice(-600) ?? ''}`,
      },
    );
  }

  /** The scanner's queue rows (read-only), for failure messages. */
  queueDump(limit = 12): string {
    try {
      const db = new Database(join(this.cdir, '.deltabox', 'state.sqlite'), { readonly: true });
      try {
        const rows = db.prepare('SELECT path, kind, from_path, attempts, next_at_ms, last_error FROM queue ORDER BY seq LIMIT ?').all(limit);
        const total = (db.prepare('SELECT count(*) AS n FROM queue').get() as { n: number }).n;
        return `${total} row(s) ${JSON.stringify(rows)}`;
      } finally {
        db.close();
      }
    } catch (err) {
      return `unreadable (${(err as Error).message})`;
    }
  }

  stagedFiles(): string[] {
    return stagedFiles(this.sdir);
  }

  /** Parsed pino lines of the server log. */
  logLines(): LogLine[] {
    return readLogLines(this.logFile);
  }

  /** Request log lines with a status >= 500 or at error level (each is a bug). */
  serverErrors(): string[] {
    return errorLines(this.logLines());
  }

  async close(keep = false): Promise<void> {
    await this.scanner?.kill();
    await this.server?.kill();
    await this.proxy.close();
    if (!keep) rmSync(this.base, { recursive: true, force: true });
  }
}
