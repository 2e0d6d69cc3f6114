/**
 * Builds the Fastify app for a served folder: opens state, sweeps stale staged files, reconciles the
 * index with the disk, installs auth, the error handler and the routes. Does not listen.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { toApiError, ApiError } from './api-error.js';
import { trackRecorded } from './recorded.js';
import { drainBody } from './body-drain.js';
import { registerAuth } from './auth/authenticate.js';
import { TokenStore } from './auth/token-store.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import { Mirror } from './mirror.js';
import { reconcile } from './reconcile.js';
import { scheduleVerification } from './verify-schedule.js';
import { OneLinePerRequest, loggerOptions } from './request-log.js';
import { assertNotInClientFolder } from './state/client-folder-guard.js';
import { openStateDb, resolveServedFolder } from './state/database.js';
import { FileIndex } from './state/file-index.js';
import { ensureFolderId } from './state/folder-identity.js';
import { Journal } from './state/journal.js';
import { lockServedFolder } from './state/server-lock.js';
import { LocalStorage } from './storage/local-storage.js';
import type { Storage } from './storage/storage.js';
import { batchRoutes } from './routes/batch.js';
import { changeRoutes } from './routes/changes.js';
import { rawBodyRoutes } from './routes/files.js';
import { folderRoutes } from './routes/folder.js';
import { healthRoutes } from './routes/health.js';
import { manifestRoutes } from './routes/manifest.js';
import { moveRoutes } from './routes/moves.js';
import { signatureRoutes } from './routes/signatures.js';
import { deltaRoutes } from './routes/deltas.js';
import { historyRoutes } from './routes/history.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from './history/retention.js';
import { DEFAULT_PRUNER, Pruner, type PrunerOptions } from './history/pruner.js';
import { uploadRoutes } from './routes/uploads.js';

export interface ServerOptions {
  /** Served folder; created if missing; state in sdir/.deltabox/. */
  sdir: string;
  /** Pino options passed to Fastify (true: info level); default false. */
  logger?: boolean | object;
  /** Serve HTTPS with this certificate and key. */
  https?: { cert: Buffer | string; key: Buffer | string };
  /** Overrides of the defaults in limits.ts. */
  limits?: Partial<ServerLimits>;
  /** Version retention; unset fields take DEFAULT_RETENTION's (history/retention.ts). */
  retention?: Partial<RetentionPolicy>;
}

/** Seams for tests and embedders; not part of ServerOptions. */
export interface AppOverrides {
  /** Builds the storage backend for the (real) root; default LocalStorage. */
  storage?: (root: string) => Storage;
  /** Clock of journal and history times (fake clocks in tests); default Date.now. */
  clock?: () => number;
  /** Pruner timing (period, delay after writes, rows per run); default DEFAULT_PRUNER. */
  pruner?: Partial<Omit<PrunerOptions, 'policy'>>;
  /** Receives the mirror and the pruner once built (tests run prunes by hand). */
  inspect?: (parts: { mirror: Mirror; pruner: Pruner }) => void;
  /** Clock of upload-session expiry; default Date.now. */
  now?: () => number;
}

/** Longest accepted wildcard path in a URL: 4096 path bytes, each possibly percent-encoded (x3). */
const MAX_URL_PATH = 3 * 4096 + 64;

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (bad framing, header overflow): answered
 * with a catalogue body too, then the socket is closed.
 */
function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  // A parse error in a body that follows an answer already sent (e.g. a bad chunk after a refused
  // request): a second answer would garble the first, so just close, as Node itself does.
  const answered = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
  if (!socket.writable || answered) {
    socket.end(); // flushes the answer already written, if any
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const apiError = tooLarge ? new ApiError('PAYLOAD_TOO_LARGE', 'request headers are too large') : new ApiError('BAD_REQUEST', 'malformed HTTP request');
  const body = JSON.stringify(apiError.toBody());
  const reason = tooLarge ? 'Payload Too Large' : 'Bad Request';
  socket.end(`HTTP/1.1 ${apiError.statusCode} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** An `Expect` other than 100-continue: Node would send a bare 417; answer with a catalogue body instead. */
function refuseExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(new ApiError('BAD_REQUEST', 'unsupported Expect header (only 100-continue)').toBody());
  // No `connection: close`: Node drains the unread body and keeps the socket, so the client is not reset
  // before it has read this answer.
  response.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

async function sendError(reply: FastifyReply, err: unknown, drainBytes: number): Promise<FastifyReply> {
  const apiError = toApiError(err);
  if (apiError.code === 'INTERNAL') reply.log.error({ err }, 'internal error');
  // An error decided before the body was read (a refused precondition) waits for the client to finish
  // sending, so it reads the answer instead of a broken pipe. An error in the middle of a body (507 on a
  // full disk, 413, a bad delta), or a body too large to wait for, leaves the rest unread: keeping the
  // connection alive would leave the client's next request stuck behind it until the keep-alive timeout.
  // Close it after the answer instead.
  // Only for a valid token: an unauthenticated sender is not owed our bandwidth.
  const worthDraining = apiError.code !== 'PAYLOAD_TOO_LARGE' && reply.request.auth?.ok === true;
  if (!reply.request.raw.complete && !(worthDraining && (await drainBody(reply.request.raw, drainBytes)))) reply.header('connection', 'close');
  return reply.code(apiError.statusCode).type('application/json').send(apiError.toBody());
}

/**
 * Checks and opens `sdir`: refuses a folder nested with a client folder, takes the one-server lock, opens
 * state and storage, sweeps staged leftovers and reconciles the index with the disk. `release` closes both.
 */
async function openMirror(
  options: ServerOptions,
  limits: ServerLimits,
  overrides: AppOverrides,
): Promise<{ root: string; folderId: string; mirror: Mirror; pruner: Pruner; release: () => void }> {
  assertNotInClientFolder(options.sdir); // before anything is created
  const root = resolveServedFolder(options.sdir, true);
  const db = openStateDb(root);
  let unlock = (): void => {};
  const release = (): void => {
    db.close();
    unlock();
  };
  try {
    unlock = lockServedFolder(root);
    const storage = overrides.storage?.(root) ?? new LocalStorage(root);
    const mirror = new Mirror(storage, db, new FileIndex(db), new Journal(db), limits);
    if (overrides.clock) mirror.now = overrides.clock;
    const pruner = new Pruner(mirror, { ...DEFAULT_PRUNER, ...overrides.pruner, policy: { ...DEFAULT_RETENTION, ...options.retention } });
    const folderId = ensureFolderId(root);
    await storage.sweepStaged();
    await reconcile(mirror, root);
    await pruner.sweepOrphans();
    return { root, folderId, mirror, pruner, release };
  } catch (err) {
    release();
    throw err;
  }
}

/** Fastify with the server's transport, limits, logging and catalogue-shaped framework errors. */
function createFastify(options: ServerOptions, limits: ServerLimits): FastifyInstance {
  // requireHostHeader off: Node would answer a Host-less HTTP/1.1 request with a bare 400 no route sees;
  // the hook in buildApp refuses it with a catalogue body instead (RFC 9112 §3.2 still says 400).
  const nodeOptions = { maxHeaderSize: limits.maxHeaderBytes, requireHostHeader: false };
  const transport = options.https
    ? { https: { cert: options.https.cert, key: options.https.key, ...nodeOptions } }
    : { http: nodeOptions };
  const app = Fastify({
    ...transport,
    logger: loggerOptions(options.logger),
    logController: new OneLinePerRequest(),
    bodyLimit: limits.maxJsonBytes,
    routerOptions: { maxParamLength: MAX_URL_PATH },
    forceCloseConnections: 'idle',
    // Requests that arrive while closing are still answered (quickly: long-polls return at once), so
    // every response keeps a catalogue body instead of Fastify's bare 503.
    return503OnClosing: false,
    clientErrorHandler,
    frameworkErrors: (err, _request, reply) => {
      void sendError(reply, (err as { code?: string }).code === 'FST_ERR_BAD_URL' ? new ApiError('BAD_PATH', err.message) : err, 0);
    },
  }) as unknown as FastifyInstance;
  app.setErrorHandler((err, _request, reply) => sendError(reply, err, limits.drainBeforeErrorBytes));
  app.server.on('checkExpectation', refuseExpectation);
  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new ApiError('BAD_REQUEST', 'HTTP/1.1 requests need a Host header');
    }
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new ApiError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`), limits.drainBeforeErrorBytes));
  return app;
}

/**
 * The app for `options.sdir`, ready to `listen()` or `inject()`; closing it closes SQLite and releases the
 * folder's server lock.
 * @throws ServerFolderError NOT_A_FOLDER, CLIENT_FOLDER_NESTED, FOLDER_IN_USE; Error when the state folder
 * cannot be opened (e.g. it is a symlink).
 */
export async function buildApp(options: ServerOptions, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const limits = resolveLimits(options.limits);
  const { root, folderId, mirror, pruner, release } = await openMirror(options, limits, overrides);
  const app = createFastify(options, limits);
  app.addHook('preClose', async () => mirror.journal.close()); // long-polls return now instead of holding close()
  scheduleVerification(app, mirror, root, limits.verifyIntervalMs);
  app.addHook('onClose', async () => {
    pruner.stop();
    await pruner.idle();
    release();
  });
  pruner.start();
  overrides.inspect?.({ mirror, pruner });

  trackRecorded(app); // before the routes: it wraps the handlers of write routes
  await registerAuth(app, new TokenStore(mirror.db), limits);
  await app.register(healthRoutes, { journal: mirror.journal });
  await app.register(folderRoutes, { root, folderId });
  await app.register(manifestRoutes, { sdir: root });
  await app.register(signatureRoutes, { mirror });
  await app.register(deltaRoutes, { mirror });
  await app.register(changeRoutes, { mirror });
  await app.register(moveRoutes, { mirror });
  await app.register(rawBodyRoutes, { mirror });
  await app.register(batchRoutes, { mirror });
  await app.register(historyRoutes, { mirror });
  await app.register(uploadRoutes, { mirror, root, ...(overrides.now === undefined ? {} : { now: overrides.now }) });
  return app;
}

/**
 * The app serving `options.sdir` (created if missing), not listening. Closing it closes SQLite.
 * @throws ServerFolderError (see buildApp); Error when the state folder cannot be opened.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  return buildApp(options);
}
