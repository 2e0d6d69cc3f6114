/**
 * Waiting without sleeping to synchronise: poll a condition until it holds or a deadline passes, then fail
 * with a message that says what was awaited and the last thing seen.
 */

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Called on timeout to add the last observed state to the message. */
  detail?: () => string | Promise<string>;
}

export async function waitFor(check: () => boolean | Promise<boolean>, message: string, options: PollOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      const detail = options.detail ? `; ${await options.detail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${message}${detail}`);
    }
    await delay(intervalMs);
  }
}

/** A pause used only to pace fault injection and edits (never to wait for a result). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
