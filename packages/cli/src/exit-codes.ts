/** Maps any error to an exit code and a one-line message (no stack traces for expected failures). */
import { CommanderError } from 'commander';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  badInput: 3,
  unreachable: 4,
  auth: 5,
} as const;

/** An error the CLI expects (bad flag, missing file): printed as one line, exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.usage;
  if (err instanceof CliError) return err.exitCode;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return EXIT.badInput;
    if (code.startsWith('DELTA_') || code.startsWith('FORMAT_') || code === 'BAD_PATH') return EXIT.badInput;
    if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT') return EXIT.unreachable;
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') return EXIT.auth;
  }
  return EXIT.failure;
}

export function messageFor(err: unknown): string {
  // Commander already printed its own usage message.
  if (err instanceof CommanderError) return '';
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
