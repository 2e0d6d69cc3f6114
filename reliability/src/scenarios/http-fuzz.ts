/**
 * Fuzzes the HTTP API of a real server process for a while with seeded malformed requests, four in five
 * over raw sockets and one in five through fetch (harness/hostile-requests.ts): the server stays up (health between rounds), its RSS
 * stays bounded (sampled), every complete malformed request gets a clear 4xx (JSON body with a catalogue
 * code; a 5xx is a bug), and the server folder is byte-for-byte unchanged afterwards (tree hash).
 */
import { errorCatalogue } from '@deltabox/protocol';
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { waitFor } from '../harness/poll.js';
import { folderHash, sha256 } from '../harness/tree-digest.js';
import { authHeader } from '../harness/server-api.js';
import { parseResponse, rawExchange } from '../harness/raw-http.js';
import { buildDeltas, nextFetchCase, nextFuzzCase, type FuzzFixtures } from '../harness/hostile-requests.js';
import { sampleRss } from '../harness/processes.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';

export interface HttpFuzzOptions {
  seed: number;
  durationMs: number;
  /** Largest acceptable RSS growth of the server over the run. */
  maxRssGrowthBytes?: number;
  log?: (line: string) => void;
}

/** Why an answer to a malformed request is not a clear 4xx, or undefined when it is one. */
function unclearReason(status: number, body: Buffer): string | undefined {
  if (status < 400 || status >= 500) return `status ${status}`;
  try {
    const parsed = JSON.parse(body.toString()) as { code?: string; message?: string };
    if (typeof parsed.code === 'string' && parsed.code in errorCatalogue && typeof parsed.message === 'string') return undefined;
    return `${status} with a JSON body outside the catalogue`;
  } catch {
    return `${status} without a JSON catalogue body`;
  }
}

/** Counts findings by class, keeping the first example of each. */
class Findings {
  readonly byClass = new Map<string, { count: number; example: string }>();
  add(cls: string, example: string): void {
    const f = this.byClass.get(cls);
    if (f) f.count++;
    else this.byClass.set(cls, { count: 1, example });
  }
  lines(): string[] {
    return [...this.byClass].map(([cls, f]) => `${cls}: ${f.count} answer(s); first: ${f.example}`);
  }
}

function shortRequest(bytes: Buffer): string {
  return JSON.stringify(bytes.subarray(0, 160).toString('latin1'));
}

export interface HttpFuzzResult extends ScenarioResult {
  /** Answers with a 5xx status. */
  fiveHundreds: number;
  /** 4xx answers without a JSON catalogue body. */
  unclear: number;
}

export async function httpFuzz(o: HttpFuzzOptions): Promise<HttpFuzzResult> {
  const started = Date.now();
  const result: HttpFuzzResult = { ...newResult('http-fuzz', o.seed), fiveHundreds: 0, unclear: 0 };
  const rng = new SeededRandom(o.seed);
  const rig = new Rig({ label: 'http-fuzz' });
  const statuses: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const unclear = new Findings();
  const serverErrors = new Findings();
  let cutAnswers = 0;
  let fetchErrors = 0;
  let noAnswer = 0;
  let unanswered = 0;
  try {
    const server = await rig.startServer();
    const basis = rng.bytes(200_000);
    const basisPath = 'fuzz-basis.bin';
    const put = await fetch(`${server.url}/v1/files/${basisPath}`, { method: 'PUT', headers: authHeader(rig.token), body: basis });
    if (put.status !== 200) throw new Error(`setup PUT answered ${put.status}`);
    const fixtures: FuzzFixtures = { token: rig.token, basisPath, basis, basisHash: sha256(basis), ...(await buildDeltas(basis, rng)) };
    const before = folderHash(rig.sdir);
    const rss = sampleRss(server.pid);
    const end = Date.now() + o.durationMs;
    let requests = 0;
    while (Date.now() < end) {
      if (rng.chance(0.2)) {
        // One in five goes through fetch (undici): its own framing, and connections reused across errors.
        const fc = nextFetchCase(rng, fixtures);
        byKind[fc.kind] = (byKind[fc.kind] ?? 0) + 1;
        requests++;
        result.faults++;
        try {
          const res = await fetch(`${server.url}${fc.path}`, {
            method: fc.method,
            headers: fc.headers,
            ...(fc.body ? { body: fc.body } : {}),
            signal: AbortSignal.timeout(15_000),
          });
          const body = Buffer.from(await res.arrayBuffer());
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status >= 500) serverErrors.add(`${fc.kind} -> ${res.status}`, body.toString().slice(0, 120));
          else if (fc.expect === 'error') {
            const reason = unclearReason(res.status, body);
            if (reason) unclear.add(reason, `${fc.kind}: ${fc.method} ${fc.path} -> ${body.toString().slice(0, 100)}`);
          }
        } catch (err) {
          const name = (err as Error).name;
          if (name === 'TimeoutError') {
            unanswered++;
            if (unanswered <= 5) result.failures.push(`no answer within 15 s to ${fc.kind} ${fc.method} ${fc.path} (fetch)`);
          } else fetchErrors++; // reset by an early answer and close: no answer to classify
        }
        continue;
      }
      const c = nextFuzzCase(rng, fixtures);
      byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
      // Cut-short requests are half-closed at once; the rest wait for the answer.
      const answer = c.mayNotAnswer
        ? await rawExchange(server.port, c.bytes, { timeoutMs: 300, endAfterSend: rng.chance(0.5) })
        : parseResponse((await rawExchange(server.port, c.bytes, { timeoutMs: 10_000 })).raw, false);
      requests++;
      result.faults++;
      if (answer.status === 0) {
        if (c.mayNotAnswer) noAnswer++;
        else {
          unanswered++;
          if (unanswered <= 5) result.failures.push(`no answer to a complete ${c.kind} request: ${c.bytes.subarray(0, 120).toString('latin1')}`);
        }
        continue;
      }
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      const declared = Number(answer.headers['content-length'] ?? NaN);
      if (answer.body.length < declared) {
        cutAnswers++; // the server answered early and closed; the reset lost the end of the answer (client side)
        continue;
      }
      if (answer.status >= 500) {
        serverErrors.add(`${c.kind} -> ${answer.status}`, `${answer.body.toString().slice(0, 120)} for ${shortRequest(c.bytes)}`);
      } else if (c.expect === 'error') {
        const reason = unclearReason(answer.status, answer.body);
        if (reason) unclear.add(reason, `${c.kind}: ${shortRequest(c.bytes)} -> ${JSON.stringify(answer.raw.subarray(0, 120).toString('latin1'))}`);
      }
      if (requests % 100 === 0) {
        const health = await fetch(`${server.url}/v1/health`).catch(() => undefined);
        if (health?.status !== 200) throw new Error(`the server stopped answering health after ${requests} fuzz requests`);
      }
    }
    result.trials = requests;
    // Requests that were left waiting (huge declared lengths) must not leave staged files behind.
    await waitFor(() => rig.stagedFiles().length === 0, 'staged files from cut-short uploads are removed', {
      timeoutMs: 15_000,
      detail: () => rig.stagedFiles().join(', '),
    });
    const memory = rss.stop();
    const after = folderHash(rig.sdir);
    result.filesChecked = 1;
    if (after !== before) {
      result.mismatches++;
      result.failures.push('the server folder changed during the fuzz run');
    }
    const growth = memory.maxBytes - memory.firstBytes;
    if (growth > (o.maxRssGrowthBytes ?? 256 * 2 ** 20)) result.failures.push(`server RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
    // Each class is a bug (a 5xx, or a 4xx without a catalogue body): reported for the owners, see RELIABILITY.md.
    for (const line of serverErrors.lines()) result.bugs.push(`BUG fuzz-5xx ${line}`);
    for (const line of unclear.lines()) result.bugs.push(`BUG fuzz-unclear-4xx ${line}`);
    result.fiveHundreds = [...serverErrors.byClass.values()].reduce((n, f) => n + f.count, 0);
    result.unclear = [...unclear.byClass.values()].reduce((n, f) => n + f.count, 0);
    result.notes.push(
      `${requests} requests in ${(o.durationMs / 1000).toFixed(0)} s (${Object.entries(byKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}); answers by status ${JSON.stringify(statuses)}; ${noAnswer} cut-short requests unanswered (allowed); ${cutAnswers} answers cut by the server's close; ${fetchErrors} fetch requests reset before an answer; ` +
        `server RSS ${(memory.firstBytes / 2 ** 20).toFixed(0)} -> max ${(memory.maxBytes / 2 ** 20).toFixed(0)} MiB over ${memory.samples} samples; folder hash unchanged: ${after === before}`,
    );
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    await rig.close();
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
