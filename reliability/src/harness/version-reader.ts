/**
 * A reader that polls the server during a fault run: downloads random files and checks each complete
 * answer against the versions the client ever wrote (by SHA-256) and against its own etag. A download cut
 * by a crash is not an answer; a complete body that is not a known version is a mismatch (a torn file).
 */
import type { SeededRandom } from './seeded-random.js';
import { sha256 } from './tree-digest.js';
import { authHeader } from './server-api.js';

export class VersionReader {
  checked = 0;
  mismatches: string[] = [];
  cut = 0;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(
    readonly baseUrl: () => string,
    readonly token: string,
    readonly history: Map<string, Set<string>>,
    readonly rng: SeededRandom,
  ) {}

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const paths = [...this.history.keys()];
      if (paths.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      await this.readOnce(this.rng.pick(paths));
    }
  }

  async readOnce(path: string): Promise<void> {
    let body: Buffer;
    let etag: string | null;
    try {
      const res = await fetch(`${this.baseUrl()}/v1/files/${path.split('/').map(encodeURIComponent).join('/')}`, {
        headers: authHeader(this.token),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 200) {
        await res.arrayBuffer().catch(() => undefined);
        return; // 404 while deleted or not yet uploaded; 5xx would show in the server log check
      }
      etag = res.headers.get('etag');
      body = Buffer.from(await res.arrayBuffer());
    } catch {
      this.cut++; // server killed or unreachable mid-download: no complete answer
      await new Promise((r) => setTimeout(r, 20)); // do not spin while the server is down
      return;
    }
    this.checked++;
    const hash = sha256(body);
    if (!this.history.get(path)?.has(hash)) this.mismatches.push(`${path}: served ${hash}, never a version of this file`);
    else if (etag !== `"${hash}"`) this.mismatches.push(`${path}: etag ${etag} but body ${hash}`);
  }
}
