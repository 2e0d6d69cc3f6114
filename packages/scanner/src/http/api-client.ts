/**
 * The HTTP client of the v1 API (packages/protocol is the contract): one method per route, undici with
 * keep-alive, errors mapped to ScannerError (UNREACHABLE only for network failures that say "the server is
 * not there"; a local file error while streaming a body keeps its own code). It counts wire bytes through
 * the socket factory. It knows nothing about files or state.
 */
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import {
  API_PREFIX,
  encodePathForUrl,
  formatEtag,
  headers as h,
  mediaTypes,
  parseEtag,
  parseRevisionRanges,
  routes,
  type ApiErrorBody,
  expandRevisions,
  type BatchResponse,
  type BatchResult,
  type CompactBatchResponse,
  type ChangesResponse,
  type FolderIdentityResponse,
  type HealthResponse,
  type ManifestEntry,
  type MoveRequest,
  type UploadCreateRequest,
  type UploadCreateResponse,
} from '@deltabox/protocol';
import { ScannerError } from '../errors.js';
import { buildFramesBody, buildMultipartBody, type BatchBody, type BatchPart } from '../transfer/batch-body.js';
import { WireCounter } from './wire-counter.js';

export interface ApiClientOptions {
  /** e.g. `http://127.0.0.1:7070` */
  baseUrl: string;
  token: string;
  /** PEM of a CA to trust for https (a self-signed server certificate). */
  ca?: string | Buffer;
  connectTimeoutMs?: number;
}

export interface WriteMeta {
  mtimeMs: number;
  executable: boolean;
  /** SHA-256 of the result, verified by the server (PUT). */
  hash?: string;
  ifMatch?: string;
  ifNoneMatch?: boolean;
  size?: number;
}

/** GET /v1/folder with the fields of issue 12: the token's device name and whether it may write. */
export type FolderInfo = FolderIdentityResponse & { device?: string; readOnly?: boolean };

/** GET /v1/changes with the fields of issue 12 (absent on older servers). */
export type ChangesPage = ChangesResponse & { floor?: number; expired?: boolean };

/** A download: the body streams; the headers describe the version it is. */
export interface Download {
  body: AsyncIterable<Uint8Array>;
  hash?: string;
  mtimeMs?: number;
  executable: boolean;
  /** The body is the rest of the file from the offset asked for (`download(path, { from })`: 206), not all of it. */
  partial?: boolean;
}

/** Request header of issue 12: the journal revision the device has merged (PARENT_CHANGED check). */
const SINCE_HEADER = 'x-deltabox-since';

type Body = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined;

/** Error codes of undici and node:net that mean the server could not be talked to. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_ABORTED',
]);

/** The network code of `err` (its own or its cause's), or undefined when it is not a network failure. */
export function networkCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  const causeCode = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  for (const c of [causeCode, code]) if (typeof c === 'string' && NETWORK_CODES.has(c)) return c;
  return undefined;
}

/**
 * Maps a failed request to a ScannerError: UNREACHABLE for network failures only. A local file error
 * (ENOENT of a file deleted while its body was streamed, EACCES, EIO...) is returned as it is, so the
 * dispatcher treats it as the file's problem, never as the server being gone.
 */
function networkError(err: unknown, what: string): Error {
  const code = networkCodeOf(err);
  if (code !== undefined) return new ScannerError('UNREACHABLE', `server unreachable (${code}) during ${what}`, { cause: err });
  if (err instanceof ScannerError) return err;
  const own = (err as { code?: unknown; syscall?: unknown } | undefined) ?? {};
  if (typeof own.code === 'string' && typeof own.syscall === 'string') return err as Error; // a local fs error
  return new ScannerError('PROTOCOL', `${what} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

function revisionOf(res: Dispatcher.ResponseData): number | undefined {
  const value = res.headers[h.revision];
  const n = Number(Array.isArray(value) ? value[0] : value);
  return Number.isSafeInteger(n) ? n : undefined;
}

export class ApiClient {
  readonly wire = new WireCounter();
  /** HTTP requests sent (each batch is one). */
  requestCount = 0;
  /** Journal revision of the last manifest read (its X-Deltabox-Revision header). */
  lastManifestRevision: number | undefined;
  /** Sent as `x-deltabox-since` on writes when set (two-way sync: the revision merged so far). */
  sinceRevision: number | undefined;
  /** Body encoding of batches: frames until the server refuses them once, then multipart (see batch()). */
  #batchEncoding: 'frames' | 'multipart' = 'frames';
  #batchEdits = true;
  readonly #base: string;
  readonly #token: string;
  readonly #agent: Agent;

  constructor(options: ApiClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    const connector = buildConnector({
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      timeout: options.connectTimeoutMs ?? 10_000,
    });
    const wire = this.wire;
    this.#agent = new Agent({
      keepAliveTimeout: 4_000,
      connect(opts, callback) {
        connector(opts, (err, socket) => {
          if (socket) wire.track(socket);
          (callback as (e: Error | null, s: typeof socket) => void)(err, socket);
        });
      },
    });
  }

  /** Aborts in-flight requests (they fail with UNREACHABLE) and closes every connection. */
  async destroy(): Promise<void> {
    await this.#agent.destroy().catch(() => {});
  }

  /** Closes idle connections; in-flight requests are allowed to finish. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #send(
    method: Dispatcher.HttpMethod,
    route: string,
    what: string,
    options: { body?: Body; headers?: Record<string, string> } = {},
  ): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, ...options.headers };
    if (this.sinceRevision !== undefined && method !== 'GET' && method !== 'DELETE') headers[SINCE_HEADER] = String(this.sinceRevision);
    let body: Buffer | Uint8Array | Readable | undefined;
    if (options.body instanceof Uint8Array) body = options.body;
    else if (options.body !== undefined) body = Readable.from(options.body as AsyncIterable<Uint8Array>, { objectMode: false });
    let res: Dispatcher.ResponseData;
    this.requestCount++;
    try {
      res = await request(`${this.#base}${route}`, { method, headers, body: body ?? null, dispatcher: this.#agent });
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      const mapped = networkError(err, what);
      if (body !== undefined && mapped instanceof ScannerError && mapped.code === 'UNREACHABLE' && (await this.#answers())) {
        // The server cut the upload off (it answered early and closed, e.g. refusing the basis) but is
        // there: the entry's own failure, retried with backoff, never "unreachable".
        throw new ScannerError('UPLOAD_CUT', `${what}: the server closed the connection while the body was sent (${networkCodeOf(err)}); will retry`, { cause: err });
      }
      throw mapped;
    }
    if (method !== 'GET' && method !== 'HEAD') this.#noteRecorded(res.headers[h.recorded]);
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => '');
      throw this.#httpError(res.statusCode, text, what);
    }
    return res;
  }

  /** Journal revisions this client's writes recorded, from `x-deltabox-recorded` (protocol revision-ranges.ts). */
  readonly #recorded = new Set<number>();
  #reportsRecorded = false;

  #noteRecorded(value: string | string[] | undefined): void {
    if (typeof value !== 'string') return;
    const revisions = parseRevisionRanges(value);
    if (revisions === undefined) return;
    this.#reportsRecorded = true;
    for (const r of revisions) this.#recorded.add(r);
  }

  /** Whether the server says which records each write made (`x-deltabox-recorded`). */
  get reportsRecorded(): boolean {
    return this.#reportsRecorded;
  }

  /**
   * Whether journal revision `revision` was recorded by one of this client's writes: true or false when the
   * server says which records each write made (`x-deltabox-recorded`), undefined for an older server. An
   * answer's revision may be another device's record (the content was already there): false then.
   */
  recordedByUs(revision: number): boolean | undefined {
    return this.#reportsRecorded ? this.#recorded.has(revision) : undefined;
  }

  /** Drops what recordedByUs remembers up to `revision` (the view holds everything up to it). */
  forgetRecordedUpTo(revision: number): void {
    for (const r of this.#recorded) if (r <= revision) this.#recorded.delete(r);
  }

  /** True when the server answers a health check now (after a request failed with a network error). */
  async #answers(): Promise<boolean> {
    try {
      const res = await request(`${this.#base}${routes.health}`, { method: 'GET', dispatcher: this.#agent, headersTimeout: 5_000, bodyTimeout: 5_000 });
      await res.body.dump();
      return res.statusCode < 500;
    } catch {
      return false;
    }
  }

  #httpError(status: number, text: string, what: string): ScannerError {
    let parsed: Partial<ApiErrorBody> = {};
    try {
      parsed = JSON.parse(text) as ApiErrorBody;
    } catch {
      // not JSON (a proxy's page): keep the status only
    }
    const details = {
      status,
      ...(parsed.code === undefined ? {} : { apiCode: parsed.code }),
      ...(parsed.currentHash === undefined ? {} : { currentHash: parsed.currentHash }),
      ...(typeof parsed.current?.path === 'string' ? { currentPath: parsed.current.path } : {}),
    };
    const message = `${what}: ${status} ${parsed.code ?? ''} ${parsed.message ?? text.slice(0, 200)}`.trim();
    if (status === 401) return new ScannerError('UNAUTHORIZED', `the server refused the token (${parsed.message ?? 'unauthorized'})`, details);
    if (status === 403) return new ScannerError('FORBIDDEN', `the token may not write (${parsed.message ?? 'forbidden'})`, details);
    if (status === 429) {
      // The server answers 429 only after repeated failed authentications from this address: a bad token.
      return new ScannerError('RATE_LIMITED', `the server refuses this address after too many failed authentications (429); check the token`, details);
    }
    if (status === 502 || status === 503 || status === 504) return new ScannerError('UNREACHABLE', message, details);
    return new ScannerError('HTTP', message, details);
  }

  async #json<T>(res: Dispatcher.ResponseData, what: string): Promise<T> {
    try {
      return (await res.body.json()) as T;
    } catch (err) {
      throw networkError(err, what);
    }
  }

  async health(): Promise<HealthResponse> {
    const res = await this.#send('GET', routes.health, 'health check');
    return this.#json<HealthResponse>(res, 'health check');
  }

  /** The change journal after revision `since`, at most `limit` records, waiting up to `waitMs` for one. */
  async changes(since: number, limit: number, waitMs = 0): Promise<ChangesPage> {
    const wait = waitMs > 0 ? `&waitMs=${waitMs}` : '';
    const res = await this.#send('GET', `${routes.changes}?since=${since}&limit=${limit}${wait}`, 'change journal');
    return this.#json<ChangesPage>(res, 'change journal');
  }

  /**
   * A delta from content `from` to the server's current version of `path` (GET /v1/deltas, issue 12), or
   * undefined when the server does not hold `from` or has no such route (404): download whole then.
   * @throws ScannerError HTTP, UNREACHABLE
   */
  async deltaDownload(path: string, from: string): Promise<Download | undefined> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send('GET', `${API_PREFIX}/deltas/${encodePathForUrl(path)}?from=${from}`, `delta download of ${path}`);
    } catch (err) {
      if (err instanceof ScannerError && err.status === 404) return undefined;
      throw err;
    }
    return this.#downloadOf(res);
  }

  /**
   * Downloads the server's current version of `path` (streamed; the caller checks the hash). `from`: the first
   * bytes are here already, so only the rest is asked for (`Range`); the answer is `partial` only when the server
   * sent exactly that (206 from that offset), otherwise it is the whole file.
   * @throws ScannerError HTTP (404 NOT_FOUND, TYPE_CONFLICT, 416 when `from` is past the end), UNREACHABLE
   */
  async download(path: string, opts: { from?: number } = {}): Promise<Download> {
    const from = opts.from ?? 0;
    const res = await this.#send('GET', routes.file(path), `download of ${path}`, from > 0 ? { headers: { range: `bytes=${from}-` } } : {});
    const download = this.#downloadOf(res);
    if (res.statusCode !== 206) return download;
    const start = /^bytes (\d+)-\d+\/\d+$/.exec(String(res.headers['content-range'] ?? ''))?.[1];
    if (start !== undefined && Number(start) === from) return { ...download, partial: true };
    await res.body.dump();
    throw new ScannerError('HTTP', `download of ${path}: the server sent another range than bytes=${from}- (${String(res.headers['content-range'])})`);
  }

  /**
   * The current entry's hash, mtime and executable bit (HEAD of GET /v1/files: headers only, no bytes), or
   * undefined when the server has no file there (404).
   * @throws ScannerError HTTP, UNREACHABLE
   */
  async entryHeaders(path: string): Promise<Omit<Download, 'body'> | undefined> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send('HEAD', routes.file(path), `metadata of ${path}`);
    } catch (err) {
      if (err instanceof ScannerError && err.status === 404) return undefined;
      throw err;
    }
    await res.body.dump();
    const { body: _body, ...headers } = this.#downloadOf(res);
    return headers;
  }

  #downloadOf(res: Dispatcher.ResponseData): Download {
    const mtime = Number(res.headers[h.mtimeMs]);
    const hash = parseEtag(res.headers[h.etag]);
    return {
      body: res.body,
      ...(hash === undefined ? {} : { hash }),
      ...(Number.isFinite(mtime) ? { mtimeMs: mtime } : {}),
      executable: res.headers[h.executable] === '1',
    };
  }

  /**
   * Streams the server's manifest (NDJSON), one entry at a time. Bytes are decoded as a stream, so a
   * multi-byte character split across two network chunks stays one character.
   */
  async *manifest(): AsyncGenerator<ManifestEntry> {
    const res = await this.#send('GET', routes.manifest, 'manifest');
    this.lastManifestRevision = revisionOf(res);
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const parse = (line: string): ManifestEntry => {
      try {
        return JSON.parse(line) as ManifestEntry;
      } catch (err) {
        throw new ScannerError('PROTOCOL', `bad manifest line: ${(err as Error).message}`, { cause: err });
      }
    };
    try {
      for await (const chunk of res.body) {
        pending += decoder.write(chunk as Buffer);
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line) yield parse(line);
        }
      }
    } catch (err) {
      throw networkError(err, 'manifest');
    }
    pending += decoder.end();
    if (pending.trim()) yield parse(pending.trim());
  }

  /**
   * The identity of the server's folder (GET /v1/folder), for the nesting guard; undefined when the server
   * predates the route (404).
   */
  async folderIdentity(): Promise<FolderInfo | undefined> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send('GET', routes.folder, 'folder identity');
    } catch (err) {
      if (err instanceof ScannerError && err.status === 404) return undefined;
      throw err;
    }
    return this.#json<FolderInfo>(res, 'folder identity');
  }

  #writeHeaders(meta: WriteMeta, contentType: string): Record<string, string> {
    const out: Record<string, string> = {
      'content-type': contentType,
      [h.mtimeMs]: String(Math.trunc(meta.mtimeMs)),
      [h.executable]: meta.executable ? '1' : '0',
    };
    if (meta.hash !== undefined) out[h.contentHash] = meta.hash;
    if (meta.ifMatch !== undefined) out[h.ifMatch] = formatEtag(meta.ifMatch);
    if (meta.ifNoneMatch) out[h.ifNoneMatch] = '*';
    if (meta.size !== undefined) out['content-length'] = String(meta.size);
    return out;
  }

  /** Full upload. `meta.hash` is required: the server refuses a body that does not match it (never torn). */
  async putFile(path: string, body: Body, meta: WriteMeta): Promise<ManifestEntry> {
    const res = await this.#send('PUT', routes.file(path), `upload of ${path}`, {
      body: body ?? new Uint8Array(0),
      headers: this.#writeHeaders(meta, mediaTypes.octets),
    });
    return this.#json<ManifestEntry>(res, `upload of ${path}`);
  }

  /** Delta upload against the version `meta.ifMatch`. */
  async patchFile(path: string, delta: Body, meta: WriteMeta): Promise<ManifestEntry> {
    const res = await this.#send('PATCH', routes.file(path), `delta upload of ${path}`, {
      body: delta,
      headers: this.#writeHeaders(meta, mediaTypes.delta),
    });
    return this.#json<ManifestEntry>(res, `delta upload of ${path}`);
  }

  /** Opens a resumable upload session (POST /v1/uploads). */
  async createUpload(req: UploadCreateRequest): Promise<UploadCreateResponse> {
    const res = await this.#send('POST', routes.uploads, `upload session for ${req.path}`, {
      body: Buffer.from(JSON.stringify(req)),
      headers: { 'content-type': 'application/json' },
    });
    return this.#json<UploadCreateResponse>(res, `upload session for ${req.path}`);
  }

  /** The offset the server holds for session `id` (HEAD), or undefined when the session is gone (404). */
  async uploadOffset(id: string): Promise<number | undefined> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send('HEAD', routes.upload(id), 'upload offset');
    } catch (err) {
      if (err instanceof ScannerError && err.status === 404) return undefined;
      throw err;
    }
    await res.body.dump();
    const offset = Number(res.headers[h.uploadOffset]);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new ScannerError('PROTOCOL', `HEAD of an upload session gave no Upload-Offset`);
    return offset;
  }

  /**
   * Sends `chunk` at `offset` of session `id` with its SHA-256 (Upload-Checksum). Resolves to the new offset,
   * and to the committed entry when the chunk completed the file.
   */
  async patchUpload(id: string, offset: number, chunk: Uint8Array, sha256: Buffer): Promise<{ offset: number; entry?: ManifestEntry }> {
    const res = await this.#send('PATCH', routes.upload(id), 'upload chunk', {
      body: chunk,
      headers: { 'content-type': mediaTypes.offsetOctets, [h.uploadOffset]: String(offset), [h.uploadChecksum]: `sha256 ${sha256.toString('base64')}` },
    });
    const reached = Number(res.headers[h.uploadOffset]);
    if (!Number.isSafeInteger(reached)) throw new ScannerError('PROTOCOL', 'PATCH of an upload session gave no Upload-Offset');
    if (res.statusCode === 200) return { offset: reached, entry: await this.#json<ManifestEntry>(res, 'upload commit') };
    await res.body.dump();
    return { offset: reached };
  }

  /** Abandons session `id`; a session already gone is fine. */
  async deleteUpload(id: string): Promise<void> {
    try {
      const res = await this.#send('DELETE', routes.upload(id), 'abandoning an upload session');
      await res.body.dump();
    } catch (err) {
      if (!(err instanceof ScannerError && err.status === 404)) throw err;
    }
  }

  /** The signature of the server's current version, with that version's hash (ETag). */
  async signature(path: string): Promise<{ bytes: Uint8Array; hash?: string }> {
    const res = await this.#send('GET', routes.signature(path), `signature of ${path}`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.body.arrayBuffer());
    } catch (err) {
      throw networkError(err, `signature of ${path}`);
    }
    const hash = parseEtag(res.headers[h.etag]);
    return hash === undefined ? { bytes } : { bytes, hash };
  }

  /** Resolves to the journal revision of the delete. */
  async deleteFile(path: string, ifMatch?: string): Promise<number | undefined> {
    const res = await this.#send('DELETE', routes.file(path), `delete of ${path}`, {
      headers: ifMatch === undefined ? {} : { [h.ifMatch]: formatEtag(ifMatch) },
    });
    await res.body.dump();
    return revisionOf(res);
  }

  async makeDir(path: string): Promise<ManifestEntry | undefined> {
    const res = await this.#send('PUT', routes.dir(path), `mkdir of ${path}`);
    const text = await res.body.text();
    return text ? (JSON.parse(text) as ManifestEntry) : undefined;
  }

  /** Resolves to the journal revision of the removal. */
  async removeDir(path: string, recursive: boolean): Promise<number | undefined> {
    const res = await this.#send('DELETE', `${routes.dir(path)}${recursive ? '?recursive=1' : ''}`, `rmdir of ${path}`);
    await res.body.dump();
    return revisionOf(res);
  }

  async move(req: MoveRequest): Promise<ManifestEntry> {
    const res = await this.#send('POST', routes.moves, `move of ${req.from} to ${req.to}`, {
      body: Buffer.from(JSON.stringify(req)),
      headers: { 'content-type': 'application/json' },
    });
    return this.#json<ManifestEntry>(res, `move of ${req.from}`);
  }

  /**
   * Uploads many small files in one request; each part succeeds or fails on its own. The body is the frames
   * encoding; a server that refuses it as an unsupported media type (an older one: 400 BAD_REQUEST, or 415 from
   * a proxy; nothing was committed) gets the batch again as multipart, and so does every later batch of this
   * client. It asks for the compact answer (a revision per good file) and rebuilds each entry from what it sent;
   * a server that answers plain JSON is read as before.
   */
  async batch(parts: readonly BatchPart[]): Promise<BatchResponse> {
    const edits = parts.some((p) => p.meta.ifMatch !== undefined);
    if (edits && !this.batchesEdits) throw new ScannerError('PROTOCOL', 'this server takes no edited files in a batch');
    if (this.#batchEncoding === 'frames') {
      try {
        return await this.#sendBatch(parts, buildFramesBody(parts));
      } catch (err) {
        if (!refusesMediaType(err)) throw err;
        if (edits) {
          // An older server refuses the parts' ifMatch and delta flags with the whole body (nothing committed):
          // the caller sends the edits alone, and later batches carry new files only.
          this.#batchEdits = false;
          throw new ScannerError('PROTOCOL', 'the server refused edited files in a batch', { cause: err });
        }
        this.#batchEncoding = 'multipart';
      }
    }
    return this.#sendBatch(parts, buildMultipartBody(parts));
  }

  /**
   * True while edited files (a part with `ifMatch`, a delta part) may go in a batch: until a server refused a
   * batch carrying them, and only in the frames encoding (a server that takes no frames predates them).
   */
  get batchesEdits(): boolean {
    return this.#batchEdits && this.#batchEncoding === 'frames';
  }

  async #sendBatch(parts: readonly BatchPart[], body: BatchBody): Promise<BatchResponse> {
    // The parts' bytes are not copied into one buffer (up to 8 MiB a batch): small ones are joined into writes
    // of at least 64 KiB, large ones go as they are.
    const length = body.chunks.reduce((n, c) => n + c.length, 0);
    const res = await this.#send('POST', routes.batch, `batch of ${parts.length} files`, {
      body: coalesced(body.chunks, 64 * 1024),
      headers: { 'content-type': body.contentType, 'content-length': String(length), accept: `${mediaTypes.batchCompact}, application/json;q=0.5` },
    });
    if (!String(res.headers['content-type'] ?? '').startsWith(mediaTypes.batchCompact)) return this.#json<BatchResponse>(res, 'batch');
    return expandCompactBatch(parts, await this.#json<CompactBatchResponse>(res, 'batch'));
  }
}

/** `chunks` in order, runs of small ones joined until they reach `atLeast` bytes (few writes, no large copy). */
export function* coalesced(chunks: readonly Uint8Array[], atLeast: number): Generator<Uint8Array> {
  let run: Uint8Array[] = [];
  let runBytes = 0;
  for (const chunk of chunks) {
    if (chunk.length >= atLeast) {
      if (run.length > 0) yield Buffer.concat(run);
      run = [];
      runBytes = 0;
      yield chunk;
      continue;
    }
    run.push(chunk);
    runBytes += chunk.length;
    if (runBytes >= atLeast) {
      yield Buffer.concat(run);
      run = [];
      runBytes = 0;
    }
  }
  if (run.length > 0) yield Buffer.concat(run);
}

/** True when a batch was refused for its body's media type: a 415, or the 400 BAD_REQUEST an older server gives. */
function refusesMediaType(err: unknown): boolean {
  if (!(err instanceof ScannerError) || err.code !== 'HTTP') return false;
  return err.status === 415 || (err.status === 400 && err.apiCode === 'BAD_REQUEST');
}

/**
 * Rebuilds the per-file results of a compact batch answer: a good part's entry is what was sent (mtime to
 * whole milliseconds, as the server keeps it) with the revision the server gave it.
 * @throws ScannerError PROTOCOL when the answer does not account for every part
 */
export function expandCompactBatch(parts: readonly BatchPart[], compact: CompactBatchResponse): BatchResponse {
  const failed = new Map((compact.failed ?? []).map((f) => [f.index, f]));
  const revisions = expandRevisions(compact.revisions ?? []);
  if (revisions.length + failed.size !== parts.length) {
    throw new ScannerError('PROTOCOL', `batch answer has ${revisions.length} revisions and ${failed.size} failures for ${parts.length} files`);
  }
  let k = 0;
  const results = parts.map(({ meta, fileSize }, index): BatchResult => {
    const f = failed.get(index);
    if (f !== undefined) return { path: f.path, ok: false, error: f.error };
    const entry = { path: meta.path, type: 'file' as const, size: fileSize ?? meta.size, mtimeMs: Math.trunc(meta.mtimeMs), hash: meta.hash, executable: meta.executable ?? false, revision: revisions[k++]! };
    return { path: meta.path, ok: true, entry };
  });
  return { results };
}
