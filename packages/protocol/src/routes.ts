/** Route table of the v1 API (docs/API.md is the prose for each). Paths are relative POSIX paths. */
import { encodePathForUrl } from './paths.js';

export const API_PREFIX = '/v1';

export const routes = {
  health: `${API_PREFIX}/health`,
  /** GET (token): the identity of the server's folder (FolderIdentityResponse), for the nesting guard. */
  folder: `${API_PREFIX}/folder`,
  /** GET: NDJSON manifest of every file and folder. */
  manifest: `${API_PREFIX}/files`,
  /** GET (download, Range), PUT (full upload), PATCH (delta), DELETE. */
  file: (path: string) => `${API_PREFIX}/files/${encodePathForUrl(path)}`,
  /** GET: binary signature (FORMAT.md §Signature) of the current version. */
  signature: (path: string) => `${API_PREFIX}/signatures/${encodePathForUrl(path)}`,
  /**
   * GET `?from=<sha256>`: a byte-exact delta (FORMAT.md §Delta) from content `from` to the current version;
   * POST with a signature body: a delta from that signature's basis to the current version.
   */
  delta: (path: string) => `${API_PREFIX}/deltas/${encodePathForUrl(path)}`,
  /** PUT: create folder (and parents); DELETE: remove folder (`?recursive=1` for non-empty). */
  dir: (path: string) => `${API_PREFIX}/dirs/${encodePathForUrl(path)}`,
  /** POST multipart/form-data or mediaTypes.batchFrames: many small files in one request. */
  batch: `${API_PREFIX}/batch`,
  /** POST JSON MoveRequest. */
  moves: `${API_PREFIX}/moves`,
  /** GET `?since=N&waitMs=M&limit=L`: the change journal after N, waiting up to M ms, at most L records (≤ 1000). */
  changes: `${API_PREFIX}/changes`,
  /** GET (token): HistoryResponse of a path, current or deleted. */
  history: (path: string) => `${API_PREFIX}/history/${encodePathForUrl(path)}`,
  /** GET (token): TrashResponse. */
  trash: `${API_PREFIX}/trash`,
  /** GET (token): the bytes of a past version (Range). */
  version: (id: number) => `${API_PREFIX}/versions/${id}`,
  /** POST JSON RestoreRequest (read-write token): RestoreResponse. */
  restore: `${API_PREFIX}/restore`,
  /** POST JSON UploadCreateRequest: opens a resumable upload session (docs/API.md §Resumable uploads). */
  uploads: `${API_PREFIX}/uploads`,
  /** HEAD: the acknowledged offset; PATCH: bytes at that offset; DELETE: abandon the session. */
  upload: (id: string) => `${API_PREFIX}/uploads/${encodeURIComponent(id)}`,
} as const;

/** Media types used on the wire. */
export const mediaTypes = {
  delta: 'application/vnd.deltabox.delta',
  signature: 'application/vnd.deltabox.signature',
  ndjson: 'application/x-ndjson',
  octets: 'application/octet-stream',
  /** Body of a PATCH to a resumable upload (tus 1.0). */
  offsetOctets: 'application/offset+octet-stream',
  /** The compact answer of POST /v1/batch (batch-compact.ts): a client asks for it in `Accept`. */
  batchCompact: 'application/vnd.deltabox.batch-compact+json',
  /** The frames body of POST /v1/batch (batch-frames.ts): a client sends it as `Content-Type`. */
  batchFrames: 'application/vnd.deltabox.batch-frames',
} as const;
