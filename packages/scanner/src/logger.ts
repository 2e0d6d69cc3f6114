/** The logging seam: pino's call shape (`log.warn(details, message)`), so a pino logger fits as is. */
import pino from 'pino';

export interface Logger {
  debug(details: object, message?: string): void;
  info(details: object, message?: string): void;
  warn(details: object, message?: string): void;
  error(details: object, message?: string): void;
  /** pino's: whether `level` is logged, so work done only for a debug line can be skipped. Absent: not logged. */
  isLevelEnabled?(level: string): boolean;
}

/** Logs nothing (the default for library use and tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * pino JSON lines (for `--json`), on stdout unless another destination is given, from `level` up: by default
 * `info`, or the environment's DELTABOX_LOG_LEVEL (`debug` shows each merge action and queue step).
 * @throws Error when the level is not one of pino's
 */
export function jsonLogger(component = 'scanner', destination: NodeJS.WritableStream = process.stdout, level = process.env.DELTABOX_LOG_LEVEL || 'info'): Logger {
  if (!LEVELS.includes(level)) throw new Error(`DELTABOX_LOG_LEVEL: expected one of ${LEVELS.join(', ')}, got '${level}'`);
  return pino({ base: { component }, level }, destination) as unknown as Logger;
}
