/**
 * Reads and discards the unread rest of a request body, so an error decided before the body was read (a
 * refused precondition, a basis that is gone) reaches a client that is still sending: closing the socket
 * under it would show the client a broken pipe instead of the answer. Bounded in bytes and time.
 */
import type { IncomingMessage } from 'node:http';

/** Longest wait for the rest of a body before giving up and closing. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Resolves true once the body has been read to its end, false when it cannot be (already consumed in part
 * and destroyed, more than `maxBytes` left, too slow): the caller then closes the connection.
 */
export function drainBody(raw: IncomingMessage, maxBytes: number): Promise<boolean> {
  if (raw.complete) return Promise.resolve(true);
  const declared = Number(raw.headers['content-length']);
  // Only an untouched body can be drained: a half-read one was consumed (and destroyed) by a failed upload.
  if (raw.destroyed || raw.readableDidRead || declared > maxBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', onEnd).off('error', onFail).off('close', onFail);
      if (!ok) raw.pause();
      resolve(ok);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onFail = (): void => finish(raw.complete);
    const timer = setTimeout(() => finish(false), DRAIN_TIMEOUT_MS);
    raw.on('data', onData).on('end', onEnd).on('error', onFail).on('close', onFail);
    // A consumer that gave up (a multipart parser refusing the body) may have left the stream paused: a
    // 'data' listener alone does not restart it.
    raw.resume();
  });
}
