/**
 * The one place where errors become exit codes and one-line messages (no stack traces for expected
 * failures). Errors are recognised by their `code` (and `name`), not by class, so this file imports nothing:
 * every command, even `--version`, loads it, and it must not pull in commander, the scanner or the server.
 */

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  badInput: 3,
  unreachable: 4,
  auth: 5,
  /** A second Ctrl-C: quit at once (128 + SIGINT, the shell's convention). */
  interrupted: 130,
} as const;

/** An error the CLI expects (bad flag, missing file): printed as one line, exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/**
 * Error codes -> exit codes: node:fs and undici codes, the core's and the protocol's codes, and the
 * scanner's ScannerError codes (UNREACHABLE, UNAUTHORIZED, FORBIDDEN, RATE_LIMITED, BAD_CONFIG).
 */
const EXIT_BY_CODE: Readonly<Record<string, number>> = {
  ENOENT: EXIT.badInput,
  EACCES: EXIT.badInput,
  EISDIR: EXIT.badInput,
  ENOTDIR: EXIT.badInput,
  BAD_PATH: EXIT.badInput,
  ECONNREFUSED: EXIT.unreachable,
  UND_ERR_CONNECT_TIMEOUT: EXIT.unreachable,
  UNREACHABLE: EXIT.unreachable,
  UNAUTHORIZED: EXIT.auth,
  FORBIDDEN: EXIT.auth,
  RATE_LIMITED: EXIT.auth,
  BAD_CONFIG: EXIT.usage,
};

/** Code prefixes of the core's error family (malformed deltas, signatures, formats). */
const BAD_INPUT_PREFIXES = ['DELTA_', 'FORMAT_'];

/** OpenSSL's verdicts on a server certificate this client does not trust (fixed by --ca). */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

interface Coded {
  name?: unknown;
  code?: unknown;
  apiCode?: unknown;
  status?: unknown;
  exitCode?: unknown;
  cause?: unknown;
}

/** The first `code` in the error's cause chain that OpenSSL uses for an untrusted certificate. */
function untrustedCertCode(err: unknown): string | undefined {
  for (let e = err as Coded | undefined, depth = 0; e && depth < 8; e = e.cause as Coded | undefined, depth++) {
    if (typeof e.code === 'string' && UNTRUSTED_CERT_CODES.has(e.code)) return e.code;
  }
  return undefined;
}

/** Commander's own errors (bad flag, --help, --version) carry a `commander.*` code and their exit code. */
function isCommanderError(err: Coded): boolean {
  return typeof err.code === 'string' && err.code.startsWith('commander.');
}

/** The exit code for any error. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  const e = (err ?? {}) as Coded;
  if (isCommanderError(e)) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (untrustedCertCode(err)) return EXIT.unreachable;
  // A 429 from a bad-token storm is an authentication failure, whatever the scanner calls it.
  if (e.apiCode === 'RATE_LIMITED' || e.status === 429) return EXIT.auth;
  if (typeof e.code !== 'string') return EXIT.failure;
  const code = e.code;
  return EXIT_BY_CODE[code] ?? (BAD_INPUT_PREFIXES.some((p) => code.startsWith(p)) ? EXIT.badInput : EXIT.failure);
}

/** The one-line message for any error ('' when commander already printed its own). */
export function messageFor(err: unknown): string {
  if (isCommanderError((err ?? {}) as Coded)) return '';
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}

/** Prints the one-line message of `err` (if any) on stderr and returns its exit code: the end of every failed command. */
export function reportError(err: unknown): number {
  const message = messageFor(err);
  if (message) process.stderr.write(`deltabox: ${message}\n`);
  return exitCodeFor(err);
}

/**
 * An error met while talking to `server`, as a CliError that names the server and says what to do, with the
 * exit code from exitCodeFor. CliErrors and errors without a code pass through unchanged.
 */
export function toCliError(err: unknown, server: string): unknown {
  if (err instanceof CliError || !(err instanceof Error)) return err;
  const exitCode = exitCodeFor(err);
  const cert = untrustedCertCode(err);
  let message = messageFor(err);
  if (cert) {
    message = `${server}: the server's TLS certificate is not trusted (${cert}); ` +
      'pass --ca FILE with that certificate, or the CA that signed it, in PEM';
  } else if (exitCode === EXIT.unreachable) {
    message = `cannot reach ${server}: ${message}`;
  } else if (exitCode === EXIT.auth) {
    message = `${server}: ${message}`;
  } else if ((err as Coded).name !== 'ScannerError') {
    return err;
  }
  return new CliError(message, exitCode, { cause: err });
}
