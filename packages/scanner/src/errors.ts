/**
 * The scanner's error family. Callers branch on `code`; HTTP failures keep the API's error code in
 * `apiCode` and the status in `status`. The CLI maps codes to exit codes; nothing here prints. Messages
 * never carry raw control characters: a file name with a newline or an escape sequence is escaped.
 */
import { escapeName } from './detect/escape-name.js';

export type ScannerErrorCode =
  | 'UNREACHABLE' // the server could not be reached (connection refused, reset, timeout, 502-504)
  | 'UNAUTHORIZED' // 401: missing, unknown, revoked or expired token
  | 'FORBIDDEN' // 403: read-only token
  | 'RATE_LIMITED' // 429: the server refuses this address after repeated failed authentications (a bad token)
  | 'HTTP' // any other API error; see apiCode/status
  | 'UPLOAD_CUT' // the server closed the connection during an upload but still answers: the entry's own failure
  | 'PROTOCOL' // the server answered something this client does not understand
  | 'FILE_CHANGED' // the file changed while it was being read: retried, never sent torn
  | 'SYNC_INCOMPLETE' // --once could not make the server mirror the folder
  | 'UNSAFE_FOLDER' // the client folder is, holds or lies in the server's folder, or is not the folder its state belongs to
  | 'MASS_DELETE' // a pass would delete more than the allowed share of the server's files
  | 'REMOTE_CHANGED' // two-way: the server changed this path since the last merge; merge before sending
  | 'BAD_CONFIG'; // bad option or unusable folder

export class ScannerError extends Error {
  readonly code: ScannerErrorCode;
  readonly status?: number;
  readonly apiCode?: string;
  /** For BASE_MISMATCH: the hash the server holds now. */
  readonly currentHash?: string;
  /** For MOVED_ELSEWHERE: where the server holds the file now. */
  readonly currentPath?: string;
  /** For REMOTE_CHANGED: keep the queue entry (retried after the merge) instead of dropping it. */
  readonly holdEntry?: boolean;

  constructor(
    code: ScannerErrorCode,
    message: string,
    details: { status?: number; apiCode?: string; currentHash?: string; currentPath?: string; holdEntry?: boolean; cause?: unknown } = {},
  ) {
    super(escapeName(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ScannerError';
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.apiCode !== undefined) this.apiCode = details.apiCode;
    if (details.currentHash !== undefined) this.currentHash = details.currentHash;
    if (details.currentPath !== undefined) this.currentPath = details.currentPath;
    if (details.holdEntry === true) this.holdEntry = true;
  }
}

/** True for failures that say nothing about the entry: the server or the network is down. */
export function isConnectivityError(err: unknown): boolean {
  return err instanceof ScannerError && err.code === 'UNREACHABLE';
}

/**
 * True for failures no retry can fix without the user: a bad or read-only token, and the data-loss guards
 * (a nested or swapped client folder, a mass delete not confirmed).
 */
export function isFatalError(err: unknown): boolean {
  return (
    err instanceof ScannerError &&
    (err.code === 'UNAUTHORIZED' ||
      err.code === 'FORBIDDEN' ||
      err.code === 'RATE_LIMITED' ||
      err.code === 'UNSAFE_FOLDER' ||
      err.code === 'MASS_DELETE')
  );
}
