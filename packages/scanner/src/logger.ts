/** The logging seam: pino's call shape (`log.warn(details, message)`), so a pino logger fits as is. */
import pino from 'pino';

export interface Logger {
  debug(details: object, message?: string): void;
  info(details: object, message?: string): void;
  warn(details: object, message?: string): void;
  error(details: object, message?: string): void;
}

/** Logs nothing (the default for library use and tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** pino JSON lines (for `--json`), on stdout unless another destination is given. */
export function jsonLogger(component = 'scanner', destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ base: { component } }, destination) as unknown as Logger;
}
