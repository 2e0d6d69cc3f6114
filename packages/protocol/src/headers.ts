/** Header names of the v1 API. Lower-case, as Node presents them. */
export const headers = {
  authorization: 'authorization',
  /**
   * File mtime in milliseconds since the epoch, negative before 1970: on uploads a decimal (`-86400000.25`,
   * no exponent; the fraction is applied on disk), in responses whole milliseconds (toward zero).
   */
  mtimeMs: 'x-deltabox-mtime-ms',
  /** `1` when the file is executable (mode & 0o111), `0` otherwise. */
  executable: 'x-deltabox-executable',
  /** SHA-256 hex of the whole file: on PUT the server verifies the body against it (422 when it differs). */
  contentHash: 'x-deltabox-content-hash',
  /** `"<sha256hex>"`: the base version a PATCH, PUT or DELETE was computed against (412 BASE_MISMATCH when it moved on). */
  ifMatch: 'if-match',
  /** `*` on PUT: create only, fail with 412 BASE_MISMATCH when the path holds other content. */
  ifNoneMatch: 'if-none-match',
  /**
   * Journal revision the device's view of the tree is from (writes: PUT/PATCH files, POST moves, PUT dirs):
   * when a folder on the way to the path was moved or removed after it, 412 PARENT_CHANGED and nothing changes.
   */
  since: 'x-deltabox-since',
  /** Journal revision of the change (responses) or of the manifest snapshot (GET /v1/files). */
  revision: 'x-deltabox-revision',
  /**
   * On every answer to a write: the journal revisions this request recorded (`12-15,18`, or `none`;
   * revision-ranges.ts). An answer's `x-deltabox-revision` may be another device's record (the content was
   * already there); this says which records are the request's own.
   */
  recorded: 'x-deltabox-recorded',
  etag: 'etag',
  /** Resumable uploads (tus 1.0): bytes the server holds durably (HEAD, PATCH answers) or the PATCH's start. */
  uploadOffset: 'upload-offset',
  /** Resumable uploads: the whole file's length (HEAD answer). */
  uploadLength: 'upload-length',
  /** Resumable uploads (tus checksum extension): `sha256 <base64 of the PATCH body's SHA-256>`. */
  uploadChecksum: 'upload-checksum',
} as const;

/** Quotes a content hash as an entity tag. */
export function formatEtag(hash: string): string {
  return `"${hash}"`;
}

/** Reads an entity tag (quoted or bare, optional W/ prefix) back to a hash; undefined when absent. */
export function parseEtag(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  return v.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}
