/**
 * /v1/uploads: resumable uploads of whole files and of deltas, tus 1.0 core + checksum extension (docs/API.md
 * §Resumable uploads). POST opens a session, HEAD answers the acknowledged offset, PATCH appends at that
 * offset, DELETE abandons. The PATCH that completes the bytes commits them through the mirror's normal write
 * path: a file as a PUT does (putFile), a delta as a delta PATCH does (patchFile against the base its
 * If-Match named, whose content is pinned while the session lives), so every rule of those applies. Thin:
 * the sessions and their bytes live in storage/upload-store.ts.
 */
import { open } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX, headers, mediaTypes, routes, type UploadCreateRequest, type UploadCreateResponse } from '@deltabox/protocol';
import { ApiError, toApiError } from '../api-error.js';
import { patchFile } from '../delta-ops.js';
import type { ServerLimits } from '../limits.js';
import type { Mirror, WriteOptions } from '../mirror.js';
import { UploadStore, tokenHashOf, type UploadSession } from '../storage/upload-store.js';
import { setEntryHeaders } from './entry-headers.js';
import { checkedHash, checkedMtime, checkedPath, deviceOf } from './request-parts.js';

export interface UploadRouteOptions {
  mirror: Mirror;
  /** Served folder's real path (staging lives in its state folder). */
  root: string;
  /** Clock of session expiry (tests pass a fake one). */
  now?: () => number;
}

/** Codes after which the staged bytes can never be committed: the session is removed. */
const FINAL_CODES = new Set([
  'HASH_MISMATCH', 'BASE_MISMATCH', 'ALREADY_EXISTS', 'TYPE_CONFLICT', 'BAD_PATH', 'PAYLOAD_TOO_LARGE', 'DELTA_MALFORMED', 'TRUNCATED_UPLOAD',
]);

function one(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The parsed POST body. @throws ApiError BAD_REQUEST, BAD_PATH, PAYLOAD_TOO_LARGE */
function createRequestOf(body: unknown, limits: ServerLimits): UploadCreateRequest & { kind: 'file' | 'delta' } {
  if (typeof body !== 'object' || body === null) throw new ApiError('BAD_REQUEST', 'POST /v1/uploads needs a JSON object body');
  const b = body as Record<string, unknown>;
  const kind = b.kind ?? 'file';
  if (kind !== 'file' && kind !== 'delta') throw new ApiError('BAD_REQUEST', 'kind must be "file" or "delta"');
  const size = b.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ApiError('BAD_REQUEST', 'size must be a non-negative integer');
  const maxBytes = kind === 'delta' ? limits.maxDeltaBytes : limits.maxFileBytes;
  if (size > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `${kind} of ${size} bytes is over the ${maxBytes}-byte limit`);
  if (b.executable !== undefined && typeof b.executable !== 'boolean') throw new ApiError('BAD_REQUEST', 'executable must be a boolean');
  if (b.ifNoneMatch !== undefined && typeof b.ifNoneMatch !== 'boolean') throw new ApiError('BAD_REQUEST', 'ifNoneMatch must be a boolean');
  const req: UploadCreateRequest & { kind: 'file' | 'delta' } = {
    path: checkedPath(b.path, 'path'),
    kind,
    size,
    hash: checkedHash(b.hash, 'hash'),
    mtimeMs: checkedMtime(b.mtimeMs, 'mtimeMs'),
    executable: b.executable === true,
    ifNoneMatch: b.ifNoneMatch === true,
  };
  if (b.ifMatch !== undefined) req.ifMatch = checkedHash(b.ifMatch, 'ifMatch');
  if (kind === 'delta' && (req.ifMatch === undefined || req.ifNoneMatch)) {
    throw new ApiError('BAD_REQUEST', 'a delta session needs ifMatch, the hash of its base, and no ifNoneMatch');
  }
  return req;
}

/** The session's write options; `device` is the committing token's name (sessions are bound to one token). */
function writeOptionsOfSession(s: UploadSession, device: string | undefined): WriteOptions {
  const opts: WriteOptions = { mtimeMs: s.mtimeMs, executable: s.executable, expectedHash: s.hash };
  if (device !== undefined) opts.device = device;
  if (s.ifMatch !== undefined) opts.ifMatch = s.ifMatch;
  if (s.ifNoneMatch) opts.ifNoneMatch = true;
  return opts;
}

/** `Upload-Checksum: sha256 <base64>` as the 32 digest bytes; undefined when absent. @throws ApiError BAD_REQUEST */
function checksumOf(request: FastifyRequest): Buffer | undefined {
  const value = one(request, headers.uploadChecksum);
  if (value === undefined) return undefined;
  const match = /^sha256 ([A-Za-z0-9+/]{43}=)$/.exec(value.trim());
  if (!match) throw new ApiError('BAD_REQUEST', 'Upload-Checksum must be "sha256 <base64 of 32 bytes>" (the only algorithm supported)');
  return Buffer.from(match[1]!, 'base64');
}

function offsetOf(request: FastifyRequest): number {
  const value = one(request, headers.uploadOffset);
  if (value === undefined || !/^\d{1,16}$/.test(value)) throw new ApiError('BAD_REQUEST', 'PATCH needs Upload-Offset, a non-negative integer');
  return Number(value);
}

export async function uploadRoutes(app: FastifyInstance, { mirror, root, now = Date.now }: UploadRouteOptions): Promise<void> {
  const limits = mirror.limits;
  const store = new UploadStore(mirror.db, root, {
    maxSessionsPerToken: limits.uploadMaxSessionsPerToken,
    maxStagedBytes: limits.uploadMaxStagedBytes,
    expiryMs: limits.uploadExpiryMs,
  }, now);
  // A delta session's base stays pinned for the session's life, across restarts: pruning never removes it.
  const basePins = new Map<string, () => void>();
  const pinBase = (s: UploadSession): void => {
    if (s.kind === 'delta' && s.ifMatch !== undefined && !basePins.has(s.id)) basePins.set(s.id, mirror.keeper.pin(s.ifMatch));
  };
  store.onRemoved = (s) => {
    basePins.get(s.id)?.();
    basePins.delete(s.id);
  };
  store.liveDeltas().forEach(pinBase);
  await store.sweep();
  const sweep = (): void => {
    store.sweep().catch((err: unknown) => app.log.error({ err }, 'sweeping upload sessions failed'));
  };
  const timer = setInterval(sweep, limits.uploadSweepIntervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  // PATCH bodies are read from request.raw by the handler; no parser buffers them.
  app.addContentTypeParser(mediaTypes.offsetOctets, (_request, _payload, done) => done(null));

  const sessionOf = (request: FastifyRequest): UploadSession => {
    const id = (request.params as { id: string }).id;
    const session = store.get(id, tokenHashOf(request.headers.authorization));
    if (!session) throw new ApiError('NOT_FOUND', `no upload session '${id}' (finished, expired, abandoned or another token's)`);
    return session;
  };

  app.post(routes.uploads, { config: { write: true } }, async (request, reply) => {
    const req = createRequestOf(request.body, limits);
    const opts: WriteOptions = req.ifMatch === undefined ? { expectedHash: req.hash } : { ifMatch: req.ifMatch, expectedHash: req.hash };
    if (req.ifNoneMatch) opts.ifNoneMatch = true;
    mirror.checkWritable(req.path, opts);
    const { ifMatch, ...rest } = req;
    const session = await store.create({
      ...rest, executable: req.executable === true, ifNoneMatch: req.ifNoneMatch === true,
      ...(ifMatch === undefined ? {} : { ifMatch }), tokenHash: tokenHashOf(request.headers.authorization),
    });
    pinBase(session);
    const body: UploadCreateResponse = { id: session.id, offset: 0, expiresAt: store.expiresAt(session) };
    return reply.code(201).header('location', routes.upload(session.id)).header(headers.uploadOffset, '0').send(body);
  });

  app.head(`${API_PREFIX}/uploads/:id`, async (request, reply) => {
    const session = sessionOf(request);
    return reply
      .header('cache-control', 'no-store')
      .header(headers.uploadOffset, String(session.offset))
      .header(headers.uploadLength, String(session.size))
      .code(200)
      .send();
  });

  app.patch(`${API_PREFIX}/uploads/:id`, { config: { write: true } }, async (request, reply) => {
    const type = request.headers['content-type']?.split(';')[0]?.trim();
    if (type !== mediaTypes.offsetOctets) throw new ApiError('BAD_REQUEST', `PATCH body must be ${mediaTypes.offsetOctets}`);
    const offset = offsetOf(request);
    const checksum = checksumOf(request);
    const declared = one(request, 'content-length');
    if (declared !== undefined && Number(declared) > limits.uploadMaxChunkBytes) {
      throw new ApiError('PAYLOAD_TOO_LARGE', `a PATCH body may hold at most ${limits.uploadMaxChunkBytes} bytes`);
    }
    const session = sessionOf(request);
    return store.exclusive(session.id, async () => {
      const current = sessionOf(request); // re-read inside the lock: another PATCH may just have moved it
      if (offset !== current.offset) {
        throw new ApiError('UPLOAD_OFFSET_MISMATCH', `the upload is at offset ${current.offset}, not ${offset}`);
      }
      const reached = await store.append(current, request.raw, limits.uploadMaxChunkBytes, checksum);
      reply.header(headers.uploadOffset, String(reached));
      if (reached < current.size) return reply.code(204).send();
      return commit(reply, { ...current, offset: reached }, deviceOf(request));
    });
  });

  /** Commits a complete session through the normal write path; removes it unless the error is transient. */
  async function commit(reply: FastifyReply, session: UploadSession, device: string | undefined): Promise<FastifyReply> {
    // Opened before the commit starts: a commit that needs no bytes (the content is already there) removes the
    // session at once, and a stream still opening the file by name then failed with ENOENT, uncaught.
    const bytes = (await open(store.filePath(session.id), 'r')).createReadStream();
    try {
      const opts = writeOptionsOfSession(session, device);
      const entry = session.kind === 'delta'
        ? await patchFile(mirror, session.path, bytes, { ...opts, ifMatch: session.ifMatch! })
        : await mirror.putFile(session.path, bytes, opts);
      await store.remove(session.id);
      setEntryHeaders(reply, entry);
      return reply.code(200).send(entry);
    } catch (err) {
      // A full disk or an I/O fault leaves the session: a PATCH with an empty body at the end retries.
      if (FINAL_CODES.has(toApiError(err).code)) await store.remove(session.id); // core delta errors map to DELTA_MALFORMED
      throw err;
    } finally {
      bytes.destroy(); // unread when the content was already there, or a precondition failed before the first read
    }
  }

  app.delete(`${API_PREFIX}/uploads/:id`, { config: { write: true } }, async (request, reply) => {
    const session = sessionOf(request);
    await store.exclusive(session.id, () => store.remove(session.id));
    return reply.code(204).send();
  });
}
