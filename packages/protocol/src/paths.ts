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
  let problem = wholePathProblem(path);
  if (problem === undefined) for (const seg of path.split('/')) if ((problem = segmentProblem(seg)) !== undefined) break;
  if (problem !== undefined) throw new PathError(problem, input);
  if (path.split('/', 1)[0]!.toLowerCase() === STATE_DIR) throw new PathError('the state folder is not reachable', input);
  return path;
}

/** What is wrong with an NFC path as a whole (length, characters, absolute or drive-letter form), if anything. */
function wholePathProblem(path: string): string | undefined {
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `path longer than ${MAX_PATH_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'control character or NUL in path';
  if (path.includes('\\')) return 'backslash in path';
  if (path.startsWith('/')) return 'absolute path';
  if (/^[a-zA-Z]:/.test(path)) return 'drive-letter path';
  return undefined;
}

/** What is wrong with one segment of a path, if anything. */
function segmentProblem(seg: string): string | undefined {
  if (seg === '') return 'empty segment (leading, trailing or double slash)';
  if (seg === '.' || seg === '..') return `'${seg}' segment`;
  if (Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) return `segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  if (WINDOWS_DEVICE.test(seg)) return `reserved device name '${seg}'`;
  return undefined;
}

/**
 * isValidRelativePath(path) for an NFC `path` that is `parent/name` (or `name` when `parent` is ''), where
 * `parent` is valid itself (or '') and `name` holds no '/': what a tree walk asks for every entry, checking the
 * new segment and the whole path's form, not every segment again.
 */
export function isValidChildPath(parent: string, path: string): boolean {
  const name = parent === '' ? path : path.slice(parent.length + 1);
  if (name.includes('/') || wholePathProblem(path) !== undefined || segmentProblem(name) !== undefined) return false;
  return parent !== '' || name.toLowerCase() !== STATE_DIR;
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
