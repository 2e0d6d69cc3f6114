/**
 * The one path rule shared by server and scanner (docs/API.md §Paths). A path is relative and POSIX,
 * segments joined by '/', stored and compared in Unicode NFC. This module validates strings; it never
 * touches the filesystem (symlink checks are the server's storage job).
 */

/** The state folder at the root of both client and server trees; never synced, listed or writable. */
export const STATE_DIR = '.deltabox';
export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;

/** Windows reserved device names, rejected so a tree stays portable and cannot alias a device. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

export class PathError extends Error {
  readonly code = 'BAD_PATH';
  constructor(message: string, readonly path: string) {
    super(message);
    this.name = 'PathError';
  }
}

/**
 * Validates a relative path and returns its NFC form.
 * @throws PathError (code BAD_PATH) naming the rule broken.
 */
export function normalizeRelativePath(input: string): string {
  if (typeof input !== 'string' || input.length === 0) throw new PathError('empty path', String(input));
  const path = input.normalize('NFC');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new PathError(`path longer than ${MAX_PATH_BYTES} bytes`, input);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new PathError('control character or NUL in path', input);
  if (path.includes('\\')) throw new PathError('backslash in path', input);
  if (path.startsWith('/')) throw new PathError('absolute path', input);
  if (/^[a-zA-Z]:/.test(path)) throw new PathError('drive-letter path', input);
  const segments = path.split('/');
  for (const seg of segments) {
    if (seg === '') throw new PathError('empty segment (leading, trailing or double slash)', input);
    if (seg === '.' || seg === '..') throw new PathError(`'${seg}' segment`, input);
    if (Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) throw new PathError(`segment longer than ${MAX_SEGMENT_BYTES} bytes`, input);
    if (WINDOWS_DEVICE.test(seg)) throw new PathError(`reserved device name '${seg}'`, input);
  }
  if (segments[0]!.normalize('NFC').toLowerCase() === STATE_DIR) throw new PathError('the state folder is not reachable', input);
  return path;
}

/** True when `path` is valid under {@link normalizeRelativePath}. */
export function isValidRelativePath(path: string): boolean {
  try {
    normalizeRelativePath(path);
    return true;
  } catch {
    return false;
  }
}

/** URL-encodes a relative path segment by segment (slashes stay as separators). */
export function encodePathForUrl(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Decodes the wildcard part of a URL back to a path; the result still needs {@link normalizeRelativePath}.
 * An encoded slash (%2F) inside a segment is refused: it would smuggle a separator past the route.
 * @throws PathError on malformed percent-encoding or an encoded separator.
 */
export function decodePathFromUrl(encoded: string): string {
  const segments = encoded.split('/');
  return segments
    .map((seg) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        throw new PathError('malformed percent-encoding', encoded);
      }
      if (decoded.includes('/')) throw new PathError('encoded slash in a segment', encoded);
      return decoded;
    })
    .join('/');
}
