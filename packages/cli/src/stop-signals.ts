/**
 * Ctrl-C and SIGTERM for long-running commands. The first signal asks for a clean stop (in-flight transfers
 * finish or are parked; the command then exits 0); a second one quits at once with 130. Quitting at once
 * is safe: the client and server state are SQLite transactions, and staged temp files are swept at the
 * next start.
 */
import { EXIT } from './exit-codes.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Calls `onFirst` on the first SIGINT or SIGTERM and exits the process with 130 on the next one.
 * @returns a function that removes the handlers (call it once the command is done)
 */
export function onStopSignal(onFirst: (signal: string) => void): () => void {
  let received = false;
  const handler = (signal: string): void => {
    if (received) {
      process.stderr.write(`\ndeltabox: ${signal} again: quitting at once\n`);
      process.exit(EXIT.interrupted);
    }
    received = true;
    onFirst(signal);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}

/**
 * Resolves with the first SIGINT or SIGTERM. The handlers stay installed until `release` is called, so
 * a second signal during the clean stop quits at once.
 */
export function untilStopSignal(): { signal: Promise<string>; release: () => void } {
  let release = (): void => {};
  const signal = new Promise<string>((resolve) => {
    release = onStopSignal(resolve);
  });
  return { signal, release };
}
